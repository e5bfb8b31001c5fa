package backtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// hpaStore holds a workload whose pods together carry load(t) cores, spread
// over pods pods, with a CPU request per pod, at 5-minute steps for days.
func hpaStore(k workload.Key, pods int, request workload.Millicores, days int, load func(h float64) float64) *history.Store {
	st := history.NewStore()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range days * 24 * 12 {
		t := start.Add(time.Duration(i) * 5 * time.Minute)
		v := load(float64(i) / 12)
		for p := range pods {
			st.Add(workload.ContainerKey{Workload: k, Container: "app"}, workload.Sample{
				Time: t, Pod: fmt.Sprintf("%s-%d", k.Name, p), CPU: workload.Cores(v / float64(pods)), HasCPU: true,
				Memory: 256 * workload.MiB, HasMemory: true,
				Settings: workload.Settings{Requests: workload.Resources{CPU: request, Memory: 512 * workload.MiB}},
			})
		}
	}
	st.Finalize()
	return st
}

// diurnal swings between 1 and 9 cores over a day.
func diurnal(h float64) float64 { return 5 - 4*math.Cos(2*math.Pi*h/24) }

func TestHPABacktestDiurnal(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	st := hpaStore(k, 4, 2000, 8, diurnal)
	rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Workloads, 1)
	w := rep.Workloads[0]
	assert.Equal(t, backtest.ClassDiurnal, w.Class)
	assert.True(t, w.HPARecommended, w.Note)
	var setups []string
	for _, s := range w.Setups {
		setups = append(setups, s.Setup)
		assert.InDelta(t, 96, s.Hours, 0.5, s.Setup) // the second half: 4 days
		assert.Greater(t, s.ReplicaHours, 0.0, s.Setup)
	}
	assert.Equal(t, []string{"current", "defaults", "recommended"}, setups)
	cur := w.Setups[0]
	assert.Equal(t, 4, cur.Replicas, "current: the observed pod count")
	assert.Equal(t, int64(2000), cur.PodCPUMillicores)
	assert.InDelta(t, 4*96, cur.ReplicaHours, 2)
	// The HPAs follow the day: fewer replica-hours than 4 fixed 2-core pods'
	// core-hours, and hardly ever saturated on a smooth load.
	for _, s := range w.Setups[1:] {
		assert.Less(t, s.CoreHours, cur.CoreHours, s.Setup)
		assert.Less(t, s.Saturated, 0.01, s.Setup)
		assert.Positive(t, s.Events, s.Setup)
	}
	// Totals: one workload, so "all", its class and the first key half
	// repeat its figures.
	for _, tot := range rep.Totals {
		if tot.Group == "all" || tot.Group == backtest.ClassDiurnal || tot.Group == "keys 1/2" {
			assert.Equal(t, 1, tot.Workloads)
		}
	}
	assert.Len(t, rep.Totals, 9)
}

func TestHPABacktestStatefulSetFixed(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}
	st := hpaStore(k, 1, 4000, 8, diurnal)
	rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{})
	require.NoError(t, err)
	w := rep.Workloads[0]
	assert.False(t, w.HPARecommended)
	assert.Equal(t, "no HPA recommended", w.Note)
	require.Len(t, w.Setups, 3)
	assert.Equal(t, []string{"current", "defaults", "fixed"}, []string{w.Setups[0].Setup, w.Setups[1].Setup, w.Setups[2].Setup})
	// p99 of the first half ≈ 9 cores at 70 % of 4 cores: 4 pods.
	assert.Equal(t, 4, w.Setups[2].Replicas)
	// The defaults beside it at the request the fixed count keeps.
	def := w.Setups[1]
	assert.Equal(t, int64(4000), def.PodCPUMillicores)
	assert.Equal(t, 70, def.CPUTarget)
	assert.Equal(t, 3, def.MinReplicas)
	assert.Equal(t, 20, def.MaxReplicas)
	assert.Equal(t, "5m0s", def.ScaleDownWindow)
	assert.Zero(t, def.Replicas)
}

// TestHPABacktestFlatNoRequest: a flat load with no CPU request (as in a
// trace that records none) gets no HPA, and is replayed at the pod size the
// recommendation models — a fixed count and the R10/R11 defaults at that
// same request — so the flat class has totals of both.
func TestHPABacktestFlatNoRequest(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "cache"}
	st := hpaStore(k, 2, 0, 8, func(h float64) float64 { return 2 + 0.2*math.Sin(2*math.Pi*h/24) })
	rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{})
	require.NoError(t, err)
	w := rep.Workloads[0]
	assert.Equal(t, backtest.ClassFlat, w.Class)
	assert.False(t, w.HPARecommended)
	assert.Equal(t, "no HPA recommended", w.Note)
	require.Len(t, w.Setups, 2, "no current setup without a request")
	def, fixed := w.Setups[0], w.Setups[1]
	assert.Equal(t, backtest.SetupDefaults, def.Setup)
	assert.Equal(t, backtest.SetupFixed, fixed.Setup)
	assert.Positive(t, def.PodCPUMillicores)
	assert.Equal(t, def.PodCPUMillicores, fixed.PodCPUMillicores)
	assert.Equal(t, 70, def.CPUTarget)
	assert.Equal(t, 3, def.MinReplicas)
	// p99 of the first half ≈ 2.2 cores at 70 % of the pod request.
	assert.Equal(t, int(math.Ceil(2.2/(0.7*float64(fixed.PodCPUMillicores)/1000)-0.01)), fixed.Replicas)
	for _, s := range w.Setups {
		assert.InDelta(t, 96, s.Hours, 0.5, s.Setup)
		assert.Positive(t, s.ReplicaHours, s.Setup)
		assert.InDelta(t, s.ReplicaHours*float64(s.PodCPUMillicores)/1000, s.CoreHours, 1e-6, s.Setup)
	}
	assert.Zero(t, fixed.Events)

	var flat []string
	for _, tot := range rep.Totals {
		if tot.Group == backtest.ClassFlat {
			flat = append(flat, tot.Setup)
			assert.Equal(t, 1, tot.Workloads)
		}
	}
	assert.Equal(t, []string{"defaults", "fixed"}, flat)
}

func TestHPABacktestCurrentHPA(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	st := hpaStore(k, 4, 1000, 8, diurnal)
	cur := workload.HPA{Name: "web", Target: k, MinReplicas: 2, MaxReplicas: 30,
		Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}}
	split := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{HPAs: []workload.HPA{cur}, Known: true, Split: split})
	require.NoError(t, err)
	w := rep.Workloads[0]
	assert.Equal(t, "2026-01-03T00:00:00Z", w.Split)
	require.NotEmpty(t, w.Setups)
	c := w.Setups[0]
	assert.Equal(t, "current", c.Setup)
	assert.Equal(t, 60, c.CPUTarget)
	assert.Equal(t, 2, c.MinReplicas)
	assert.InDelta(t, 6*24, c.Hours, 0.5)
}

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		l    workload.AggregateLoad
		want string
	}{
		{workload.AggregateLoad{Samples: 10, Trough: 1, Median: 1.1, Peak: 1.4, Rise: 1.3}, backtest.ClassFlat},
		{workload.AggregateLoad{Samples: 10, Trough: 0, Median: 0, Peak: 0, Rise: 1}, backtest.ClassFlat},
		{workload.AggregateLoad{Samples: 10, Trough: 1, Median: 3, Peak: 5, Rise: 1.1}, backtest.ClassDiurnal},
		{workload.AggregateLoad{Samples: 10, Trough: 1, Median: 3, Peak: 5, Rise: 1.25}, backtest.ClassBursty},
		{workload.AggregateLoad{Samples: 10, Trough: 0, Median: 1, Peak: 3, Rise: 1}, backtest.ClassBursty},
		{workload.AggregateLoad{Samples: 10, Trough: 1, Median: 3, Peak: workload.Cores(math.NaN()), Rise: 1}, backtest.ClassUnknown},
		{workload.AggregateLoad{Samples: 10, Trough: 1, Median: 3, Peak: workload.Cores(math.Inf(1)), Rise: 1}, backtest.ClassUnknown},
		{workload.AggregateLoad{}, backtest.ClassUnknown},
	} {
		assert.Equal(t, tc.want, backtest.Class(tc.l), "%+v", tc.l)
	}
}

// TestHPABacktestHostile: empty stores, lone samples, huge values and
// samples centuries apart give notes, never a panic.
func TestHPABacktestHostile(t *testing.T) {
	k := workload.Key{Namespace: "x", Kind: workload.Deployment, Name: "w"}
	ck := workload.ContainerKey{Workload: k, Container: "c"}
	add := func(st *history.Store, ts time.Time, cpu float64, req workload.Millicores) {
		st.Add(ck, workload.Sample{Time: ts, Pod: "p", CPU: workload.Cores(cpu), HasCPU: !math.IsNaN(cpu),
			Settings: workload.Settings{Requests: workload.Resources{CPU: req}}})
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]func(*history.Store){
		"empty": func(*history.Store) {},
		"one sample": func(st *history.Store) {
			add(st, t0, 1, 100)
		},
		"huge": func(st *history.Store) {
			for i := range 24 * 12 {
				add(st, t0.Add(time.Duration(i)*5*time.Minute), 1e300*float64(i%3), math.MaxInt64)
			}
		},
		"no cpu": func(st *history.Store) {
			for i := range 24 * 12 {
				add(st, t0.Add(time.Duration(i)*5*time.Minute), math.NaN(), 0)
			}
		},
		"centuries apart": func(st *history.Store) {
			add(st, time.UnixMilli(math.MinInt64/2), 1, 100)
			add(st, time.UnixMilli(math.MaxInt64/2), 1, 100)
			add(st, time.UnixMilli(math.MaxInt64), 2, 100)
		},
		"zeros": func(st *history.Store) {
			for i := range 24 * 12 {
				add(st, t0.Add(time.Duration(i)*5*time.Minute), 0, 0)
			}
		},
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			st := history.NewStore()
			fill(st)
			st.Finalize()
			rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{})
			require.NoError(t, err)
			var b strings.Builder
			require.NoError(t, backtest.WriteHPATable(&b, rep))
			require.NoError(t, backtest.WriteHPACSV(&b, rep))
			_, err = json.Marshal(rep)
			require.NoError(t, err, "every figure must be finite")
			for _, w := range rep.Workloads {
				for _, s := range w.Setups {
					for _, v := range []float64{s.Hours, s.ReplicaHours, s.CoreHours, s.Saturated, s.AboveTarget} {
						assert.False(t, math.IsNaN(v), "%s %s", w.Name, s.Setup)
					}
				}
			}
		})
	}
}

func TestHPABacktestCanceled(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	st := hpaStore(k, 1, 1000, 1, diurnal)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := backtest.HPABacktest(ctx, st, backtest.HPAOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

// TestHPATotals: the totals of each group and setup add up the
// workloads' figures — hours, replica-hours, core-hours and events summed,
// saturated and above_target weighted by the hours — over the workloads of
// the group: all, each class, each half of the keys.
func TestHPATotals(t *testing.T) {
	st := history.NewStore()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	loads := map[string]func(h float64) float64{
		"a-web":  diurnal,
		"b-flat": func(float64) float64 { return 2 },
		// A burst to 6 × for 10 minutes every 3 hours.
		"c-burst": func(h float64) float64 {
			if math.Mod(h, 3) < 1.0/6 {
				return 6
			}
			return 1
		},
	}
	for name, load := range loads {
		k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: name}
		for i := range 6 * 24 * 12 {
			v := load(float64(i) / 12)
			for p := range 2 {
				st.Add(workload.ContainerKey{Workload: k, Container: "app"}, workload.Sample{
					Time: start.Add(time.Duration(i) * 5 * time.Minute), Pod: fmt.Sprintf("%s-%d", name, p), CPU: workload.Cores(v / 2), HasCPU: true,
					Settings: workload.Settings{Requests: workload.Resources{CPU: 1000}},
				})
			}
		}
	}
	st.Finalize()
	rep, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Workloads, 3)
	var classes []string
	for _, w := range rep.Workloads {
		classes = append(classes, w.Class)
	}
	assert.Equal(t, []string{backtest.ClassDiurnal, backtest.ClassFlat, backtest.ClassBursty}, classes)

	type sum struct {
		n                                        int
		hours, replicaHours, coreHours, sat, abv float64
		events                                   int
	}
	want := map[[2]string]*sum{}
	for i, w := range rep.Workloads {
		half := "keys 1/2"
		if i >= 2 {
			half = "keys 2/2"
		}
		for _, s := range w.Setups {
			for _, g := range []string{"all", w.Class, half} {
				id := [2]string{g, s.Setup}
				if want[id] == nil {
					want[id] = &sum{}
				}
				a := want[id]
				a.n++
				a.hours += s.Hours
				a.replicaHours += s.ReplicaHours
				a.coreHours += s.CoreHours
				a.sat += s.Saturated * s.Hours
				a.abv += s.AboveTarget * s.Hours
				a.events += s.Events
			}
		}
	}
	require.Len(t, rep.Totals, len(want))
	for _, tot := range rep.Totals {
		a := want[[2]string{tot.Group, tot.Setup}]
		require.NotNil(t, a, "%s %s", tot.Group, tot.Setup)
		assert.Equal(t, a.n, tot.Workloads, "%s %s", tot.Group, tot.Setup)
		assert.InDelta(t, a.hours, tot.Hours, 1e-9)
		assert.InDelta(t, a.replicaHours, tot.ReplicaHours, 1e-9)
		assert.InDelta(t, a.coreHours, tot.CoreHours, 1e-9)
		assert.InDelta(t, a.sat/a.hours, tot.Saturated, 1e-12)
		assert.InDelta(t, a.abv/a.hours, tot.AboveTarget, 1e-12)
		assert.Equal(t, a.events, tot.Events)
	}
	// The bursty workload's scaling shows in the figures the docs define.
	var burst backtest.HPAWorkload
	for _, w := range rep.Workloads {
		if w.Class == backtest.ClassBursty {
			burst = w
		}
	}
	require.True(t, burst.HPARecommended, burst.Note)
	for _, s := range burst.Setups {
		if s.Setup == backtest.SetupRecommended || s.Setup == backtest.SetupDefaults {
			assert.Positive(t, s.Events, s.Setup)
			assert.Positive(t, s.AboveTarget, "%s: a 6 × jump outruns any HPA for a while", s.Setup)
		}
	}
}
