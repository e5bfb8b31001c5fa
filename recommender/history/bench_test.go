package history

import (
	"math"
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// benchStore holds three pods of 14 days at 5-minute steps: daily cycles of
// CPU and memory, throttling, and an OOM kill.
func benchStore() *Store {
	st := NewStore()
	for p, pod := range []string{"a", "b", "c"} {
		for i := range 14 * 288 {
			day := 2 * math.Pi * float64(i%288) / 288
			smp := workload.Sample{
				Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: pod,
				CPU: workload.Cores(0.3 + 0.2*math.Sin(day) + 0.01*float64(p)), HasCPU: true,
				Memory: workload.Bytes(float64(500*workload.MiB) * (1.2 + 0.2*math.Cos(day))), HasMemory: true,
				Throttled: 0.02, HasThrottled: true, OOMKilled: p == 1 && i == 3000,
				Settings: workload.Settings{Limits: workload.Resources{CPU: 1000, Memory: workload.GiB}},
			}
			st.Add(key, smp)
		}
	}
	st.Finalize()
	return st
}

func BenchmarkSummarize(b *testing.B) {
	st := benchStore()
	series := st.Series(key)
	_, last := st.Span()
	until := last.Add(time.Millisecond)
	ooms := OOMsFromSeries(series, until)
	o := DefaultOptions()
	b.ReportAllocs()
	for range b.N {
		if _, err := Summarize(key, series, ooms, until, o); err != nil {
			b.Fatal(err)
		}
	}
}
