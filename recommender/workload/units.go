package workload

import (
	"math"
	"strconv"
)

// Cores is a CPU amount in cores (0.25 = 250m), used for observed usage.
type Cores float64

// Millicores is a CPU setting in whole millicores, as a pod spec holds it.
// Zero means "not set".
type Millicores int64

// Bytes is a memory amount in bytes. As a setting, zero means "not set".
type Bytes int64

// Common binary sizes.
const (
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
	PiB Bytes = 1 << 50
)

// MaxCPU and MaxMemory are the most one container can be given: far above
// any node there is (the largest offer under a thousand cores and a few
// dozen TiB), so a recommendation beyond them can only come from broken
// usage data and is withheld rather than printed.
const (
	MaxCPU    Millicores = 10_000 * 1000
	MaxMemory Bytes      = PiB
)

// MillicoresOf rounds a CPU amount in cores up to whole millicores, so that a
// rounded recommendation never falls below the statistic it came from.
// Negative and NaN become zero; amounts beyond the int64 range saturate at
// math.MaxInt64 millicores rather than wrap around.
func MillicoresOf(c Cores) Millicores {
	if c <= 0 || math.IsNaN(float64(c)) {
		return 0
	}
	m := math.Ceil(float64(c)*1000 - 1e-9)
	// float64(math.MaxInt64) is 2^63, itself out of range: compare as floats.
	if m >= math.MaxInt64 {
		return Millicores(math.MaxInt64)
	}
	return Millicores(m)
}

// AddSat returns a + b, held at math.MaxInt64 or math.MinInt64 where the sum
// would wrap around: totals over many containers and replicas must never
// turn negative.
func AddSat[A ~int64](a, b A) A {
	s := a + b
	if (s > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// MulSat returns a × n, held at math.MaxInt64 or math.MinInt64 where the
// product would wrap around.
func MulSat[A ~int64](a A, n int64) A {
	if a == 0 || n == 0 {
		return 0
	}
	p := int64(a) * n
	if p/n == int64(a) && !(n == -1 && int64(a) == math.MinInt64) {
		return A(p)
	}
	if (a > 0) == (n > 0) {
		return math.MaxInt64
	}
	return math.MinInt64
}

// Cores converts a setting back to cores.
func (m Millicores) Cores() Cores { return Cores(float64(m) / 1000) }

// IsSet reports whether the setting is present.
func (m Millicores) IsSet() bool { return m > 0 }

// String renders the amount as a Kubernetes quantity string: "250m", or "2" for
// whole cores.
func (m Millicores) String() string {
	if m%1000 == 0 {
		return strconv.FormatInt(int64(m)/1000, 10)
	}
	return strconv.FormatInt(int64(m), 10) + "m"
}

// IsSet reports whether the setting is present.
func (b Bytes) IsSet() bool { return b > 0 }

// GiB returns the amount in gibibytes.
func (b Bytes) GiB() float64 { return float64(b) / float64(GiB) }

// MiB returns the amount in mebibytes.
func (b Bytes) MiB() float64 { return float64(b) / float64(MiB) }

// BytesOf rounds a float byte count to the nearest byte; negative and NaN
// become zero, amounts beyond the int64 range saturate at math.MaxInt64.
func BytesOf(f float64) Bytes {
	if f <= 0 || math.IsNaN(f) {
		return 0
	}
	if f >= math.MaxInt64 {
		return Bytes(math.MaxInt64)
	}
	return Bytes(math.Round(f))
}

// String renders the amount as a Kubernetes quantity string in the largest
// binary unit that divides it exactly ("512Mi", "1Gi"), else in bytes.
func (b Bytes) String() string {
	for _, u := range []struct {
		size   Bytes
		suffix string
	}{{PiB, "Pi"}, {1 << 40, "Ti"}, {GiB, "Gi"}, {MiB, "Mi"}, {KiB, "Ki"}} {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}
