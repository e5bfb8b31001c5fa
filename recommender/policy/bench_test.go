package policy

import (
	"math"
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// BenchmarkApply applies each built-in profile to a week of daily cycles.
func BenchmarkApply(b *testing.B) {
	for _, name := range Names() {
		p, err := ByName(name)
		if err != nil {
			b.Fatal(err)
		}
		st := history.NewStore()
		for i := range 7 * 288 {
			day := 2 * math.Pi * float64(i%288) / 288
			st.Add(key, workload.Sample{
				Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: "p",
				CPU: workload.Cores(0.3 + 0.2*math.Sin(day)), HasCPU: true,
				Memory: workload.Bytes(float64(500*workload.MiB) * (1.2 + 0.2*math.Cos(day))), HasMemory: true,
			})
		}
		st.Finalize()
		_, last := st.Span()
		s, err := history.Summarize(key, st.Series(key), nil, last.Add(time.Millisecond), p.History)
		if err != nil {
			b.Fatal(err)
		}
		in := Input{Current: workload.Settings{Requests: res(250, 512*workload.MiB), Limits: res(500, workload.GiB)}, ContainersInPod: 1}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				Apply(p, s, in)
			}
		})
	}
}
