package sketch

import (
	"math/rand/v2"
	"testing"
	"time"
)

var sinkFloat float64

func benchValues(n int) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = r.ExpFloat64() * 2 // cores
	}
	return vs
}

func BenchmarkAdd(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs := benchValues(1 << 16)
	times := make([]time.Time, len(vs))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range times {
		times[i] = t0.Add(time.Duration(i) * 15 * time.Second)
	}
	mask := len(vs) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := i & mask
		h.Add(vs[j], 1, times[j])
	}
}

func BenchmarkAddSameTime(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs := benchValues(1 << 16)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mask := len(vs) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h.Add(vs[i&mask], 1, t0)
	}
}

func BenchmarkQuantile(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs := benchValues(1 << 16)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range vs {
		h.Add(v, 1, t0.Add(time.Duration(i)*15*time.Second))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sinkFloat = h.Quantile(0.9)
	}
}

func BenchmarkMarshal(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs := benchValues(1 << 16)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range vs {
		h.Add(v, 1, t0.Add(time.Duration(i)*15*time.Second))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := h.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	h := MustNew(VPACPUOptions())
	vs := benchValues(1 << 16)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range vs {
		h.Add(v, 1, t0.Add(time.Duration(i)*15*time.Second))
	}
	enc, err := h.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	var dst Histogram
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := dst.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}
