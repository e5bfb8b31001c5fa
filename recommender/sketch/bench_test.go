package sketch

import (
	"math/rand/v2"
	"testing"
	"time"
)

var sinkFloat float64

// benchSamples returns CPU-like values and timestamps 15 s apart, prepared
// before timing.
func benchSamples() ([]float64, []time.Time) {
	r := rand.New(rand.NewPCG(1, 2))
	vs := make([]float64, 1<<16)
	ts := make([]time.Time, len(vs))
	for i := range vs {
		vs[i] = r.ExpFloat64() * 2 // cores
		ts[i] = t0.Add(time.Duration(i) * 15 * time.Second)
	}
	return vs, ts
}

func filledHistogram() *Histogram {
	h := MustNew(VPACPUOptions())
	vs, ts := benchSamples()
	for i, v := range vs {
		h.Add(v, 1, ts[i])
	}
	return h
}

// BenchmarkAdd gives every sample its own timestamp, so each Add computes
// a decay factor: the worst case.
func BenchmarkAdd(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs, ts := benchSamples()
	mask := len(vs) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & mask
		h.Add(vs[j], 1, ts[j])
	}
}

// BenchmarkAddSameTime adds every sample at one timestamp, as when many
// series are sampled together: the decay factor comes from the cache.
func BenchmarkAddSameTime(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs, _ := benchSamples()
	mask := len(vs) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Add(vs[i&mask], 1, t0)
	}
}

func BenchmarkQuantile(b *testing.B) {
	h := filledHistogram()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkFloat = h.Quantile(0.9)
	}
}

func BenchmarkMarshal(b *testing.B) {
	h := filledHistogram()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := h.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	h := filledHistogram()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var err error
		if buf, err = h.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	enc, err := filledHistogram().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	dst := MustNew(VPACPUOptions())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := dst.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}
