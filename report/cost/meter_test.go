package cost

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// TestMeterWeighs: a pod's first sample weighs nothing, a gap counts at
// most twice the median of the pod's previous steps, the periods are
// [start, end) and a sample keeps its whole weight at a period's start,
// a sample not after its pod's newest is left out, and a pod of two
// containers counts once.
func TestMeterWeighs(t *testing.T) {
	end := t0.Add(24 * time.Hour)
	m := NewMeter(end, 12*time.Hour, nil)
	req := workload.Settings{Requests: workload.Resources{CPU: 1000, Memory: gi}}
	k := workload.ContainerKey{Workload: web, Container: "app"}
	side := workload.ContainerKey{Workload: web, Container: "sidecar"}
	at := func(min int) workload.Sample {
		return workload.Sample{Time: t0.Add(time.Duration(min) * time.Minute), Pod: "web-1", CPU: 0.5, HasCPU: true, Settings: req}
	}
	// Hourly from 10 h, a 10 h gap from 13 h, hourly again.
	for _, min := range []int{600, 660, 720, 780, 1380, 1440 - 1} {
		m.Add(k, at(min))
	}
	m.Add(k, at(660))  // before the newest: left out
	m.Add(k, at(1439)) // a repeat: left out
	m.Add(side, at(1380))
	tl := m.tallies[k]
	// 10 h and 11 h fall in the previous period [0 h, 12 h): 0 + 1 h.
	assert.InDelta(t, 1, tl.previous.PodHours, 1e-9)
	// 12 h: 1 h; 13 h: 1 h; 23 h: capped at 2 h; 23:59: 59 min.
	assert.InDelta(t, 1+1+2+59.0/60, tl.period.PodHours, 1e-9)
	assert.InDelta(t, 0.5*(1+1+2+59.0/60), float64(tl.period.CPU.Used), 1e-9)
	assert.Zero(t, m.tallies[side].period.PodHours, "a pod container's first sample weighs nothing")
	assert.Len(t, m.inPeriod, 1, "one pod")
	assert.Len(t, m.inPrevious, 1)
	first, last := m.Span()
	assert.Equal(t, t0.Add(10*time.Hour), first)
	assert.Equal(t, t0.Add(1439*time.Minute), last)
}

// TestMeterFallback: samples that recorded no settings take the pod
// template's.
func TestMeterFallback(t *testing.T) {
	end := t0.Add(24 * time.Hour)
	specs := map[workload.Key]workload.Spec{api: {Containers: []workload.ContainerSpec{{Name: "api", Settings: apiS}}}}
	m := NewMeter(end, 24*time.Hour, SpecFallback(specs))
	k := workload.ContainerKey{Workload: api, Container: "api"}
	for h := range 3 {
		m.Add(k, workload.Sample{Time: t0.Add(time.Duration(h) * time.Hour), Pod: "api-1", CPU: 0.6, HasCPU: true})
	}
	assert.InDelta(t, 2*0.5, float64(m.tallies[k].period.CPU.Requested), 1e-9)
	assert.InDelta(t, 2, m.tallies[k].risk.cpuAbove, 1e-9, "two hours of 0.6 cores above a 500m request")
	assert.Nil(t, SpecFallback(nil))
}

// TestMeterOrder: the samples in time order across pods, as a reading
// into sketches passes them, are metered as the store's pod by pod.
func TestMeterOrder(t *testing.T) {
	in := scenario(t)
	st, end := in.Store, in.End
	want := MeterStore(st, end, 24*time.Hour, nil)
	type keyed struct {
		k   workload.ContainerKey
		smp workload.Sample
	}
	var all []keyed
	for _, k := range st.Containers() {
		for _, s := range st.Series(k) {
			for i := range s.Len() {
				all = append(all, keyed{k, s.At(i)})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return a.smp.Time.Compare(b.smp.Time) })
	got := NewMeter(end, 24*time.Hour, nil)
	for _, x := range all {
		got.Add(x.k, x.smp)
	}
	require.Equal(t, want.containers(), got.containers())
	for _, k := range want.containers() {
		w, g := want.tallies[k], got.tallies[k]
		assert.InDelta(t, w.period.PodHours, g.period.PodHours, 1e-9, "%v", k)
		assert.InDelta(t, float64(w.period.CPU.Idle), float64(g.period.CPU.Idle), 1e-9, "%v", k)
		assert.InDelta(t, w.previous.PodHours, g.previous.PodHours, 1e-9, "%v", k)
		assert.Equal(t, w.risk.ooms, g.risk.ooms)
		for d := range w.days {
			assert.InDelta(t, float64(w.days[d].Memory.Used), float64(g.days[d].Memory.Used), 1e-9)
		}
	}
	assert.Equal(t, want.inPeriod, got.inPeriod)
	assert.Equal(t, want.inPrevious, got.inPrevious)
}

// TestBuildRefusesAnotherPeriod: a meter made for other dates is not read
// as this period's.
func TestBuildRefusesAnotherPeriod(t *testing.T) {
	in := scenario(t)
	in.Meter = MeterStore(in.Store, in.End.Add(time.Hour), in.Period, nil)
	_, err := Build(in)
	assert.ErrorContains(t, err, "not the report period")
}

// TestMeterExtremeTimes: samples centuries apart weigh a positive,
// finite time.
func TestMeterExtremeTimes(t *testing.T) {
	early, late := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMeter(late.Add(time.Hour), 24*time.Hour, nil)
	k := workload.ContainerKey{Workload: web, Container: "app"}
	m.Add(k, workload.Sample{Time: early, Pod: "p", CPU: 1, HasCPU: true})
	m.Add(k, workload.Sample{Time: late, Pod: "p", CPU: 1, HasCPU: true})
	h := m.tallies[k].period.PodHours
	assert.Positive(t, h)
	assert.False(t, math.IsInf(h, 0) || math.IsNaN(h))
}
