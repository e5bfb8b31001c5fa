package usagecsv

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// The defaults of Options: the bounds of what a usage file may sensibly hold.
const (
	// DefaultFuture is how far past the reader's clock a timestamp may lie:
	// a day covers clock skew and time zones written as UTC by mistake.
	DefaultFuture = 24 * time.Hour
	// DefaultMaxCPU is more than the largest machine a container runs on.
	DefaultMaxCPU workload.Cores = 10_000
	// DefaultMaxMemory is likewise more than any node holds.
	DefaultMaxMemory workload.Bytes = 1 << 50 // 1 PiB
)

// DefaultSince is the oldest timestamp accepted by default: container
// metrics are younger, and a zero or garbled timestamp is older.
var DefaultSince = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Options bound what a Reader accepts. A row outside them cannot be real
// usage: it is skipped and counted, never passed on, so that one garbled row
// can neither stretch the history over millennia (the decision instant is the
// newest sample) nor overflow the arithmetic of the recommendations.
type Options struct {
	// Since is the oldest timestamp accepted.
	Since time.Time
	// Future is how far after Now a timestamp may lie.
	Future time.Duration
	// Now is the reader's clock, read once when the Reader is made; nil
	// means time.Now.
	Now func() time.Time
	// MaxCPU bounds cpu_cores and the CPU request and limit, per container.
	MaxCPU workload.Cores
	// MaxMemory bounds memory_bytes and the memory request and limit, per
	// container.
	MaxMemory workload.Bytes
	// Strict makes any row that would be skipped an error naming its line
	// and reason (but a row of a cluster not asked for: Clusters).
	Strict bool
	// Clusters, when set, are the only clusters whose rows are read (the
	// cluster column); the others are skipped as SkipOtherCluster. A row of
	// no named cluster is read when "" is among them.
	Clusters []string
}

// DefaultOptions returns the bounds NewReader and Load use.
func DefaultOptions() Options {
	return Options{Since: DefaultSince, Future: DefaultFuture, MaxCPU: DefaultMaxCPU, MaxMemory: DefaultMaxMemory}
}

// Validate reports options that would accept nothing or make no sense.
func (o Options) Validate() error {
	var errs []error
	if o.Future < 0 {
		errs = append(errs, fmt.Errorf("accepted future %v is negative", o.Future))
	}
	if !(o.MaxCPU > 0) {
		errs = append(errs, fmt.Errorf("CPU bound %v cores is not positive", float64(o.MaxCPU)))
	}
	if o.MaxMemory <= 0 {
		errs = append(errs, fmt.Errorf("memory bound %d bytes is not positive", int64(o.MaxMemory)))
	}
	if len(errs) == 0 && !o.Since.Before(o.now().Add(o.Future)) {
		errs = append(errs, fmt.Errorf("oldest accepted timestamp %s is not before now+%s", o.Since.Format(time.RFC3339), formatSpan(o.Future)))
	}
	return errors.Join(errs...)
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// SkipTimestamp is the reason counted for rows whose timestamp is outside
// the accepted window, e.g. "timestamp outside 2000-01-01…now+24h".
func (o Options) SkipTimestamp() string {
	since := o.Since.UTC().Format(time.RFC3339)
	if o.Since.UTC().Truncate(24 * time.Hour).Equal(o.Since) {
		since = o.Since.UTC().Format(time.DateOnly)
	}
	return "timestamp outside " + since + "…now+" + formatSpan(o.Future)
}

// SkipCPU is the reason counted for rows with a CPU value above MaxCPU,
// e.g. "CPU above 10000 cores".
func (o Options) SkipCPU() string {
	return "CPU above " + strconv.FormatFloat(float64(o.MaxCPU), 'f', -1, 64) + " cores"
}

// SkipMemory is the reason counted for rows with a memory value above
// MaxMemory, e.g. "memory above 1Pi".
func (o Options) SkipMemory() string { return "memory above " + o.MaxMemory.String() }

// formatSpan writes a duration the way people write it: "24h", "90m", "7d".
func formatSpan(d time.Duration) string {
	switch {
	case d != 0 && d%(24*time.Hour) == 0 && d > 24*time.Hour:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
