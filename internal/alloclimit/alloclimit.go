// Package alloclimit bounds what one call may allocate. Fuzz targets of the
// parsers of outside data use it, so that an input making a parser allocate
// far more than its own size is reported as a finding instead of ending as an
// out-of-memory kill of the fuzzer (or of a user's run).
package alloclimit

import (
	"runtime/metrics"
	"testing"
)

const allocsMetric = "/gc/heap/allocs:bytes"

// Allocated returns the bytes f allocated on the heap. Other goroutines'
// allocations during f count too, so callers bound generously.
func Allocated(f func()) uint64 {
	s := []metrics.Sample{{Name: allocsMetric}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Check runs f and fails t when f allocated more than limit bytes.
func Check(t testing.TB, limit uint64, f func()) {
	t.Helper()
	if n := Allocated(f); n > limit {
		t.Fatalf("allocated %d bytes, more than the bound of %d", n, limit)
	}
}

// Bound is the usual limit for a parser given n bytes of input: a fixed
// allowance for buffers and tables plus a multiple of the input's size.
func Bound(n int) uint64 { return 64<<20 + 64*uint64(n) }
