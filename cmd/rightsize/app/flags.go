package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/recommender/workload"
)

// durationValue is a pflag.Value that also accepts days ("14d", "1d12h").
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string { return formatDuration(*v.d) }
func (v durationValue) Type() string   { return "duration" }
func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

const day = 24 * time.Hour

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		// A count of days past what a Duration holds would wrap around
		// to a negative or a small duration.
		if n > int64(math.MaxInt64/day) || n < int64(math.MinInt64/day) {
			return 0, fmt.Errorf("invalid duration %q: more than %d days", s, int64(math.MaxInt64/day))
		}
		days = time.Duration(n) * day
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30m, 24h, 7d)", s)
	}
	if days > 0 && d > math.MaxInt64-days || days < 0 && d < math.MinInt64-days {
		return 0, fmt.Errorf("invalid duration %q: more than %d days", s, int64(math.MaxInt64/day))
	}
	return days + d, nil
}

func formatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// timeValue is a pflag.Value for an RFC 3339 instant; empty = unset.
type timeValue struct{ t *time.Time }

func (v timeValue) String() string {
	if v.t.IsZero() {
		return ""
	}
	// With the fraction, so that what is shown reads back as the same
	// instant.
	return v.t.Format(time.RFC3339Nano)
}
func (v timeValue) Type() string { return "time" }
func (v timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("invalid time %q (want RFC 3339, e.g. 2026-11-01T00:00:00Z)", s)
	}
	*v.t = t
	return nil
}

// parseQuantity parses a positive Kubernetes quantity ("500m", "2",
// "1.5Gi", "1e3") as a float.
func parseQuantity(s string) (float64, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid quantity %q (use e.g. 500m, 64, 1Ti)", s)
	}
	f := q.AsApproximateFloat64()
	if !(f > 0) {
		return 0, fmt.Errorf("invalid quantity %q: must be positive", s)
	}
	return f, nil
}

// coresValue is a pflag.Value for CPU cores, as a number or a quantity.
type coresValue struct{ c *workload.Cores }

func (v coresValue) String() string { return strconv.FormatFloat(float64(*v.c), 'f', -1, 64) }
func (v coresValue) Type() string   { return "cores" }
func (v coresValue) Set(s string) error {
	f, err := parseQuantity(s)
	if err != nil {
		return err
	}
	*v.c = workload.Cores(f)
	return nil
}

// bytesValue is a pflag.Value for memory in bytes, as a number or a
// quantity ("1Pi").
type bytesValue struct{ b *workload.Bytes }

func (v bytesValue) String() string { return v.b.String() }
func (v bytesValue) Type() string   { return "bytes" }
func (v bytesValue) Set(s string) error {
	f, err := parseQuantity(s)
	if err != nil {
		return err
	}
	if f >= math.MaxInt64 {
		return fmt.Errorf("invalid quantity %q: more bytes than fit in 64 bits", s)
	}
	*v.b = workload.BytesOf(f)
	return nil
}
