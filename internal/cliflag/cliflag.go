// Package cliflag holds the command line's values in rightsize's units:
// durations with days, RFC 3339 instants, CPU cores and bytes as Kubernetes
// quantities, and workload keys. Each parses strictly and names what it
// wanted, so a typo is a usage error rather than a surprising run.
package cliflag

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/untrusted"
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

// parseDuration reads Prometheus's duration syntax (model.ParseDuration:
// 14d, 2w, 1d12h, 90s, 500ms, as written in PromQL), negative ones too, and
// Go's (1.5h, 2m0s), in which defaults are shown.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := model.ParseDurationAllowNegative(s)
	if err == nil {
		return time.Duration(d), nil
	}
	if strings.Contains(err.Error(), "out of range") {
		// A count past what a Duration holds must not wrap around.
		return 0, fmt.Errorf("invalid duration %q: more than %d days", s, int64(math.MaxInt64/day))
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("invalid duration %q (use e.g. 30m, 24h, 7d)", s)
}

// FormatDuration writes d as the duration flags read it: whole days as
// "7d", anything else as time.Duration does.
func FormatDuration(d time.Duration) string { return formatDuration(d) }

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

// Duration is a flag value for d that also accepts days ("14d", "1d12h").
func Duration(d *time.Duration) pflag.Value { return durationValue{d} }

// Time is a flag value for t, an RFC 3339 instant; empty means unset.
func Time(t *time.Time) pflag.Value { return timeValue{t} }

// Cores is a flag value for CPU cores, as a number or a quantity ("500m").
func Cores(c *workload.Cores) pflag.Value { return coresValue{c} }

// Bytes is a flag value for memory, as a number or a quantity ("1Pi").
func Bytes(b *workload.Bytes) pflag.Value { return bytesValue{b} }

// ByteSize is a flag value for a size in bytes that may be left to a
// default: "auto" or 0 (a quantity otherwise: 64Mi, 100M, 1048576).
func ByteSize(b *workload.Bytes) pflag.Value { return byteSizeValue{b} }

// byteSizeValue is ByteSize's value.
type byteSizeValue struct{ b *workload.Bytes }

func (v byteSizeValue) String() string {
	if *v.b == 0 {
		return "auto"
	}
	return v.b.String()
}

func (v byteSizeValue) Type() string { return "bytes" }

func (v byteSizeValue) Set(s string) error {
	if strings.TrimSpace(s) == "auto" {
		*v.b = 0
		return nil
	}
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil || q.Sign() < 0 {
		return fmt.Errorf("invalid size %q (use e.g. 64Mi, 100M or auto)", s)
	}
	n, ok := q.AsInt64()
	if !ok {
		return fmt.Errorf("invalid size %q: not a whole number of bytes below 8Ei", s)
	}
	*v.b = workload.Bytes(n)
	return nil
}

// WorkloadKey parses NAMESPACE/KIND/NAME, and NAMESPACE/KIND/NAME@CLUSTER
// for a workload of one of several clusters (as plans write it). The
// namespace must be a DNS-1123 label and the name a DNS-1123 subdomain, as
// Kubernetes requires: no workload has another name, so a key that is not
// valid is a mistake. No such name holds an @, so the first one starts the
// cluster, whose name may hold anything printable (an EKS ARN has / and :).
func WorkloadKey(s string) (workload.Key, error) {
	cluster := ""
	if key, c, ok := strings.Cut(s, "@"); ok {
		if c == "" || len(c) > 253 || !untrusted.Printable(c) {
			return workload.Key{}, fmt.Errorf("%s: invalid cluster name after @", untrusted.Quote(s, untrusted.MaxQuoted))
		}
		s, cluster = key, c
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return workload.Key{}, fmt.Errorf("%s is not NAMESPACE/KIND/NAME", untrusted.Quote(s, untrusted.MaxQuoted))
	}
	kind, ok := workload.ParseKind(parts[1])
	if !ok {
		return workload.Key{}, fmt.Errorf("%s: unknown kind %s", untrusted.Quote(s, untrusted.MaxQuoted), untrusted.Quote(parts[1], untrusted.MaxQuoted))
	}
	if errs := validation.IsDNS1123Label(parts[0]); len(errs) > 0 {
		return workload.Key{}, fmt.Errorf("%s: invalid namespace: %s", untrusted.Quote(s, untrusted.MaxQuoted), strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(parts[2]); len(errs) > 0 {
		return workload.Key{}, fmt.Errorf("%s: invalid name: %s", untrusted.Quote(s, untrusted.MaxQuoted), strings.Join(errs, "; "))
	}
	return workload.Key{Namespace: parts[0], Kind: kind, Name: parts[2], Cluster: cluster}, nil
}

// WorkloadKeys parses each of keys (--critical) into a set; the errors
// name flag.
func WorkloadKeys(flag string, keys []string) (map[workload.Key]bool, error) {
	out := map[workload.Key]bool{}
	var errs []error
	for _, s := range keys {
		k, err := WorkloadKey(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", flag, err))
			continue
		}
		out[k] = true
	}
	return out, errors.Join(errs...)
}
