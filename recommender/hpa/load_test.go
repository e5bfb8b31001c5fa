package hpa

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestAggregate(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	app := workload.ContainerKey{Workload: k, Container: "app"}
	side := workload.ContainerKey{Workload: k, Container: "proxy"}
	t0 := time.Unix(1_700_000_000, 0)
	st := history.NewStore()
	add := func(ck workload.ContainerKey, pod string, min int, cpu float64, mem workload.Bytes) {
		st.Add(ck, workload.Sample{Time: t0.Add(time.Duration(min) * time.Minute), Pod: pod, CPU: workload.Cores(cpu), HasCPU: true, Memory: mem, HasMemory: mem > 0})
	}
	for m := range 20 {
		add(app, "a", m, 1+float64(m%4), workload.Bytes(100+10*(m%4))<<20) // memory follows CPU
		add(side, "a", m, 0.1, 0)
		if m >= 10 {
			add(app, "b", m, 2, 110<<20) // a second pod from minute 10
		}
	}
	st.Finalize()
	// Minute 5 has no sample at all: a gap.
	st2 := history.NewStore()
	for _, ck := range st.Containers() {
		for _, s := range st.Series(ck) {
			for i := range s.Len() {
				if smp := s.At(i); !smp.Time.Equal(t0.Add(5 * time.Minute)) {
					st2.Add(ck, smp)
				}
			}
		}
	}
	st2.Finalize()

	l := Aggregate(st2, []workload.ContainerKey{app, side}, t0, t0.Add(time.Hour))
	require.Len(t, l.CPU, 20)
	assert.Equal(t, time.Minute, l.Step)
	assert.Equal(t, t0.UnixMilli(), l.Start)
	assert.InDelta(t, 1.1, l.CPU[0], 1e-6, "both containers of pod a")
	assert.True(t, math.IsNaN(l.CPU[5]), "no pod reported at minute 5")
	assert.InDelta(t, 1+2+0.1+2, l.CPU[10], 1e-6, "pods a and b")
	assert.Equal(t, 2, l.Pods[10])
	assert.Equal(t, 20*time.Minute, l.Duration())
	assert.Greater(t, l.MemoryCorrelation, 0.5, "memory rises with CPU")
	assert.Greater(t, l.MemoryVariation, 0.05)

	f := l.filled()
	assert.InDelta(t, (l.CPU[4]+l.CPU[6])/2, f[5], 1e-6, "a gap is interpolated")

	// A window without samples gives an empty load; a far-off pair of
	// samples a bounded grid.
	assert.Empty(t, Aggregate(st2, []workload.ContainerKey{app}, t0.Add(2*time.Hour), t0.Add(3*time.Hour)).CPU)
	far := history.NewStore()
	far.Add(app, workload.Sample{Time: t0, Pod: "a", CPU: 1, HasCPU: true})
	far.Add(app, workload.Sample{Time: t0.Add(time.Second), Pod: "a", CPU: 1, HasCPU: true})
	far.Add(app, workload.Sample{Time: t0.Add(100 * 365 * 24 * time.Hour), Pod: "a", CPU: 1, HasCPU: true})
	far.Finalize()
	assert.LessOrEqual(t, len(Aggregate(far, []workload.ContainerKey{app}, t0, t0.Add(200*365*24*time.Hour)).CPU), maxPoints)
}
