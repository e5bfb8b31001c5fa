package app

import (
	"context"
	"io"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// paceMemory keeps the heap within a quarter again what is live until ctx ends
// (the command returns), with a soft memory limit that follows the live
// heap, so that the runtime collects and hands freed memory back to the
// system early. A run keeps every sample it reads, in pointer-free columns
// that cost the collector little to mark, so its memory is the history's
// plus garbage: by default Go lets garbage grow as large as the history
// and keeps freed pages, which doubles the peak. GOGC or GOMEMLIMIT in the
// environment turn this off.
func paceMemory(ctx context.Context, getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	go func() {
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
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
				debug.SetMemoryLimit(int64(live[0].Value.Uint64())*5/4 + 48<<20)
			}
		}
	}()
}

// writerIsTerminal reports whether w is a terminal.
func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
