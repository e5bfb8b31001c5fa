package hpa

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// stepLoad is a load at 15 s points: level[i] for counts[i] points each.
func stepLoad(levels []float64, counts []int) Load {
	l := Load{Start: 0, Step: 15 * time.Second}
	for i, v := range levels {
		for range counts[i] {
			l.CPU = append(l.CPU, v)
			l.Pods = append(l.Pods, 1)
		}
	}
	return l
}

func cpuHPA(min, max, target int, b workload.Behavior) workload.HPA {
	return workload.HPA{MinReplicas: min, MaxReplicas: max, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: target}}, Behavior: b}
}

func TestReplayFlat(t *testing.T) {
	l := stepLoad([]float64{1}, []int{240}) // an hour at 1 core
	f, ok := Replay(l, 0.1, cpuHPA(1, 100, 50, R11()), DefaultReplay)
	require.True(t, ok)
	assert.Equal(t, 0, f.Events, "a flat load needs no scaling after the start")
	assert.Equal(t, 20, f.PeakReplicas, "1 core at 50 % of 100m pods")
	assert.InDelta(t, 20.0, f.ReplicaHours, 1e-9)
	assert.InDelta(t, 2.0, f.CoreHours, 1e-9)
	assert.Zero(t, f.Saturated)
	assert.Zero(t, f.AboveTarget)
}

// TestReplayScaleUpAndDown follows one rise and one fall through R11's
// behavior by hand: 100 % per 30 s or 5 pods per 60 s up, pods ready after
// 60 s; 300 s stabilization and 50 % per 60 s down.
func TestReplayScaleUpAndDown(t *testing.T) {
	// 10 min at 1 core, 20 min at 3 cores, 20 min at 1 core.
	l := stepLoad([]float64{1, 3, 1}, []int{40, 80, 80})
	f, ok := Replay(l, 0.1, cpuHPA(1, 100, 50, R11()), DefaultReplay)
	require.True(t, ok)
	// Up: 20 → 40 at once (100 %), 40 → 60 30 s later (100 % of the 40
	// at the period's start, desired 60). Capacity reaches 3 cores when 40
	// pods are ready, 60 s after the rise: saturated for 4 syncs.
	// Down: the last recommendation of 60 is the sync before the fall
	// (1785 s); 300 s later 60 → 30 (50 %), 60 s later 30 → 20.
	assert.Equal(t, 4, f.Events)
	assert.Equal(t, 60, f.PeakReplicas)
	assert.InDelta(t, 60.0/3000, f.Saturated, 1e-9, "60 s of 3000 s")
	// Above target: the rise until 60 pods are ready (90 s: 40 ready at
	// 60 s run at 75 % > 55 %, 60 ready at 90 s).
	assert.InDelta(t, 90.0/3000, f.AboveTarget, 1e-9)
	// Replica-seconds: 20 until 600 s, 40 until 630 s, 60 until 2085 s,
	// 30 until 2145 s, 20 to the end.
	want := (600*20 + 30*40 + (2085-630)*60 + 60*30 + (3000-2145)*20) / 3600.0
	assert.InDelta(t, want, f.ReplicaHours, 1e-9)
}

func TestReplayRatePoliciesAndBounds(t *testing.T) {
	l := stepLoad([]float64{1, 10}, []int{40, 200})
	slow := workload.Behavior{ScaleUp: &workload.ScalingRules{Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 2, Period: time.Minute}}}}
	f, ok := Replay(l, 0.1, cpuHPA(1, 30, 50, slow), DefaultReplay)
	require.True(t, ok)
	assert.Equal(t, 30, f.PeakReplicas, "max bounds the count")
	// 2 pods a minute from 20 to 30: 5 events.
	assert.Equal(t, 5, f.Events)
	assert.Greater(t, f.Saturated, 0.8, "30 pods of 100m never cover 10 cores")

	disabled := workload.Behavior{ScaleUp: &workload.ScalingRules{Select: workload.SelectDisabled}}
	f, _ = Replay(l, 0.1, cpuHPA(1, 30, 50, disabled), DefaultReplay)
	assert.Equal(t, 0, f.Events, "scale-up disabled")
}

func TestReplayRefuses(t *testing.T) {
	l := stepLoad([]float64{1}, []int{10})
	for name, tc := range map[string]struct {
		l   Load
		req workload.Cores
		h   workload.HPA
	}{
		"no CPU target": {l, 0.1, workload.HPA{MinReplicas: 1, MaxReplicas: 3, Metrics: []workload.MetricTarget{{Resource: "rps", AverageValue: "1k"}}}},
		"no request":    {l, 0, cpuHPA(1, 3, 70, workload.Behavior{})},
		"NaN request":   {l, workload.Cores(math.NaN()), cpuHPA(1, 3, 70, workload.Behavior{})},
		"no load":       {Load{Step: time.Minute, CPU: []float64{math.NaN()}}, 0.1, cpuHPA(1, 3, 70, workload.Behavior{})},
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := Replay(tc.l, tc.req, tc.h, DefaultReplay)
			assert.False(t, ok)
		})
	}
}

func TestReplayFixed(t *testing.T) {
	l := stepLoad([]float64{1, 3}, []int{30, 10})
	f := ReplayFixed(l, 0.1, 25)
	assert.InDelta(t, 0.25, f.Saturated, 1e-9)
	assert.InDelta(t, 25*40*15/3600.0, f.ReplicaHours, 1e-9)
}

// BenchmarkReplayThirtyDays is one replay of 30 days of a spiky diurnal load at
// 5-minute points with Kubernetes' defaults (15 s syncs): what a
// recommendation repeats for every target and window it tries.
func BenchmarkReplayThirtyDays(b *testing.B) {
	l := synth(30, spiky)
	// 5-minute points, as usage files and Prometheus give them.
	five := Load{Step: 5 * time.Minute, MemoryCorrelation: math.NaN()}
	for i := 0; i < len(l.CPU); i += 5 {
		five.CPU, five.Pods = append(five.CPU, l.CPU[i]), append(five.Pods, 1)
	}
	h := workload.HPA{MinReplicas: 2, MaxReplicas: 40, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Replay(five, 0.5, h, DefaultReplay); !ok {
			b.Fatal("no replay")
		}
	}
}

// TestReplayQuietRunsMatchSyncBySync checks the replay's shortcut over
// syncs that change nothing against the syncs taken one by one (a trace
// turns it off): the same figures to the last bit, over loads flat, noisy,
// spiky and ramping, steps that the sync does and does not divide,
// behaviors with and without windows and policies, pods ready at once or
// after a while.
func TestReplayQuietRunsMatchSyncBySync(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	loads := map[string]func(i int) float64{
		"flat":    func(int) float64 { return 1.5 },
		"noisy":   func(int) float64 { return 1 + 0.2*rng.Float64() },
		"spiky":   func(i int) float64 { return 0.5 + 3*float64(i%97/90) + 0.1*rng.Float64() },
		"ramps":   func(i int) float64 { return 1 + math.Abs(float64(i%200-100))/20 },
		"diurnal": func(i int) float64 { return 2 + math.Sin(float64(i)/40)*1.5 + 0.3*rng.NormFloat64() },
		"zeros":   func(i int) float64 { return float64(i % 3 / 2) },
	}
	behaviors := map[string]workload.Behavior{
		"R11":      R11(),
		"defaults": {},
		"slow": {ScaleUp: &workload.ScalingRules{Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 1, Period: time.Minute}}},
			ScaleDown: &workload.ScalingRules{StabilizationWindow: 30 * time.Second, Policies: []workload.ScalingPolicy{{Type: workload.PercentPolicy, Value: 10, Period: 2 * time.Minute}}}},
	}
	steps := []time.Duration{5 * time.Minute, time.Minute, 47 * time.Second}
	syncs := []ReplayOptions{DefaultReplay, {Sync: 7 * time.Second, Tolerance: 0.1}, {Sync: 40 * time.Second, StartUp: 90 * time.Second, Tolerance: 0.05}}
	for ln, gen := range loads {
		for _, step := range steps {
			l := Load{Start: 1_700_000_000_123, Step: step, MemoryCorrelation: math.NaN()}
			for i := range 500 {
				l.CPU, l.Pods = append(l.CPU, gen(i)), append(l.Pods, 1)
			}
			for bn, b := range behaviors {
				for _, o := range syncs {
					for _, target := range []int{40, 70, 85, 100} {
						h := cpuHPA(2, 60, target, b)
						fast, ok := Replay(l, 0.25, h, o)
						require.True(t, ok)
						slow, _ := replay(l, 0.25, h, o, func(int64, int, int) {})
						require.Equal(t, slow, fast, "%s load, step %v, %s behavior, sync %v, target %d", ln, step, bn, o.Sync, target)
					}
				}
			}
		}
	}
}

// TestReplaysAlike: two HPAs replay alike when what Replay reads of them
// is the same, however it is spelled (a behavior left to the defaults or
// written out), and not when any of it differs.
func TestReplaysAlike(t *testing.T) {
	base := cpuHPA(2, 10, 70, workload.Behavior{})
	spelled := base
	spelled.Behavior = withDownWindow(workload.Behavior{}, workload.DefaultScaleDown.StabilizationWindow)
	spelled.Metrics = append(spelled.Metrics, workload.MetricTarget{Resource: "memory", AverageUtilization: 80})
	assert.True(t, replaysAlike(base, spelled))

	l := stepLoad([]float64{1, 3, 1}, []int{40, 80, 80})
	fa, _ := Replay(l, 0.1, base, DefaultReplay)
	fb, _ := Replay(l, 0.1, spelled, DefaultReplay)
	assert.Equal(t, fa, fb)

	for name, change := range map[string]func(h *workload.HPA){
		"target":      func(h *workload.HPA) { h.Metrics = []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 65}} },
		"min":         func(h *workload.HPA) { h.MinReplicas = 3 },
		"max":         func(h *workload.HPA) { h.MaxReplicas = 11 },
		"down window": func(h *workload.HPA) { h.Behavior = withDownWindow(h.Behavior, time.Minute) },
		"up policy": func(h *workload.HPA) {
			h.Behavior.ScaleUp = &workload.ScalingRules{Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 1, Period: time.Minute}}}
		},
	} {
		other := base
		other.Metrics = slices.Clone(base.Metrics)
		change(&other)
		assert.False(t, replaysAlike(base, other), name)
	}
}
