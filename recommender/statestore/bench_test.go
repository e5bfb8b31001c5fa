package statestore

import (
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

var benchKey = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}

// BenchmarkAdd is the controller's ingest: one CPU and memory sample of a
// container's pod into the state, samples 30 s apart, with the controller's
// hour of raw samples and a compaction at each checkpoint (5 min), whose
// cost is spread over the samples.
func BenchmarkAdd(b *testing.B) {
	c := &clock{t0}
	s := NewMemory(Options{Now: c.now, RawRetention: time.Hour})
	smp := workload.Sample{Pod: "web-7d9f8-abcde", CPU: 0.25, HasCPU: true, Memory: 300 << 20, HasMemory: true}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		smp.Time = t0.Add(time.Duration(i) * 30 * time.Second)
		s.Add(benchKey, smp)
		if i%10 == 9 {
			c.t = smp.Time
			s.compact()
		}
	}
}

// BenchmarkEncode14Days encodes the state of one container with one pod
// sampled every 30 s for 14 days, and reports its size.
func BenchmarkEncode14Days(b *testing.B) {
	for _, pods := range []int{1, 3} {
		b.Run(map[int]string{1: "1pod", 3: "3pods"}[pods], func(b *testing.B) {
			c := &clock{t0}
			s := NewMemory(Options{Now: c.now, RawRetention: time.Hour})
			end := t0.Add(14 * 24 * time.Hour)
			i := 0
			for t := t0; t.Before(end); t = t.Add(30 * time.Second) {
				for p := range pods {
					s.Add(benchKey, workload.Sample{Time: t, Pod: "web-" + string(rune('a'+p)), CPU: workload.Cores(0.2 + 0.1*float64(i%7)),
						HasCPU: true, Memory: workload.Bytes(300<<20 + (i%13)<<20), HasMemory: true})
				}
				i++
				if i%120 == 0 {
					c.t = t
					s.compact()
				}
			}
			c.t = end
			var n int
			b.ReportAllocs()
			for b.Loop() {
				out, err := s.Encode()
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/container")
		})
	}
}
