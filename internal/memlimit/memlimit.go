// Package memlimit paces the Go runtime's memory for runs that hold much
// live data at once: a soft memory limit that follows the live heap, so
// that the runtime collects and hands freed memory back to the system
// early instead of letting garbage grow as large as what is live.
package memlimit

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Headroom is how far above the live heap the soft memory limit is: a
// share of it (1/Divisor) and a floor.
type Headroom struct {
	Divisor int64
	Floor   int64 // bytes
}

var (
	// Default is a quarter and 48 MiB: garbage collected early at a small
	// cost in CPU.
	Default = Headroom{Divisor: 4, Floor: 48 << 20}
	// Tight is a sixteenth and 16 MiB, for runs whose point is little
	// memory (a usage file read into sketches, which allocates little
	// while it reads): on a 20-million-row file a floor of 16 MiB took
	// 16 MB less than 32 MiB for 0.2 s more of the collector's CPU (0.5 s
	// in all), and 8 MiB 5 MB less again for 1.7 s more; a sixteenth
	// took 2–4 MB less than an eighth, for no CPU that could be measured.
	Tight = Headroom{Divisor: 16, Floor: 16 << 20}
)

// FollowLiveHeap keeps the heap within h of what is live until ctx ends
// (the command returns), with a soft memory limit that follows the live
// heap up (not down: see limit). A run keeps every sample it reads, in
// pointer-free columns that cost the collector little to mark, so its
// memory is the history's plus garbage: by default Go lets garbage grow as
// large as the history and keeps freed pages, which doubles the peak. GOGC
// or GOMEMLIMIT in the environment (read with getenv) turn this off; it
// reports whether it started.
func FollowLiveHeap(ctx context.Context, getenv func(string) string, h Headroom) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	go func() {
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var top int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				debug.SetMemoryLimit(math.MaxInt64)
				return
			case <-tick.C:
			}
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 {
				top = h.limit(top, int64(live[0].Value.Uint64()))
				debug.SetMemoryLimit(top)
			}
		}
	}()
	return true
}

// limit is the memory limit for live bytes in use after a limit of top:
// the live heap and the headroom, never lower than top. The limit counts
// the freed pages not yet handed back too; when the live heap shrinks
// (a plan letting go of its history), a limit following it down would
// only make the collector run back to back, while the run's peak is
// behind it already.
func (h Headroom) limit(top, live int64) int64 {
	return max(top, live+live/max(h.Divisor, 1)+h.Floor)
}
