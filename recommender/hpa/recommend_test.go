package hpa

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// synth is a load of days at 1-minute points: f(minute) cores.
func synth(days int, f func(i int) float64) Load {
	l := Load{Step: time.Minute, MemoryCorrelation: math.NaN()}
	for i := range days * 24 * 60 {
		l.CPU = append(l.CPU, f(i))
		l.Pods = append(l.Pods, 1)
	}
	return l
}

func diurnal(i int) float64 { return 3 + 2*math.Sin(2*math.Pi*float64(i)/1440) }

// spiky is a diurnal load with a jump to 3 × every 97 minutes for 5
// minutes: it rises far within the HPA's reaction time.
func spiky(i int) float64 {
	if i%97 < 5 {
		return 3 * diurnal(i)
	}
	return diurnal(i)
}

// rareBursts is 2 cores but for a climb to 5 within 6 minutes once a
// day, held 6 minutes: under 1 % of the time, so above the p99, and
// slow enough for an HPA.
func rareBursts(i int) float64 {
	switch m := i % 1440; {
	case m >= 600 && m < 606:
		return 2 + 3*float64(m-600)/6
	case m >= 606 && m < 612:
		return 5
	}
	return 2
}

func joined(a workload.Autoscaling) string { return strings.Join(a.Reasons, "\n") }

func TestRecommend(t *testing.T) {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	db := workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}
	rps := workload.HPA{Name: "web", Target: web, MinReplicas: 1, MaxReplicas: 8,
		Metrics: []workload.MetricTarget{{Resource: "http_requests_per_second", AverageValue: "1k"}}}
	withMemory := synth(3, diurnal)
	withMemory.MemoryCorrelation, withMemory.MemoryVariation = 0.9, 0.3

	for _, tc := range []struct {
		name string
		in   Input
		// check looks at the result; the reasons are printed on failure.
		check func(t *testing.T, a workload.Autoscaling)
	}{
		{"diurnal without an HPA gets one", Input{Key: web, Known: true, Load: synth(3, diurnal), PodMemory: 256 * workload.MiB},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Equal(t, MinReplicas, a.Recommended.MinReplicas, "R9 floor")
				assert.GreaterOrEqual(t, a.Recommended.MaxReplicas, MaxReplicas, "R10")
				assert.GreaterOrEqual(t, a.Recommended.Utilization("cpu"), CPUUtilization, "a slow load allows R10's target or more")
				assert.Zero(t, a.Recommended.Utilization("memory"), "no memory history: no memory target")
				assert.Positive(t, a.PodCPU)
				rec, fixed := a.Replay("recommended"), a.Replay("fixed")
				require.NotNil(t, rec)
				require.NotNil(t, fixed)
				assert.Less(t, rec.ReplicaHours, 0.8*fixed.ReplicaHours)
				assert.Contains(t, joined(a), "recommend an HPA")
				assert.Contains(t, joined(a), "R11")
			}},
		{"bursts: never more saturated or dearer than the defaults", Input{Key: web, Known: true, Load: synth(3, spiky)},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Greater(t, a.Load.Rise, 1.5)
				rec, def := a.Replay("recommended"), a.Replay("defaults")
				assert.LessOrEqual(t, rec.Saturated, def.Saturated)
				assert.LessOrEqual(t, rec.ReplicaHours, def.ReplicaHours)
			}},
		{"a slow load affords more than R10's target", Input{Key: web, Known: true, Load: synth(3, diurnal)},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Greater(t, a.Recommended.Utilization("cpu"), CPUUtilization)
				assert.Contains(t, joined(a), "the cheapest on the history with no more saturated time than R10/R11's")
				rec, def := a.Replay("recommended"), a.Replay("defaults")
				assert.LessOrEqual(t, rec.Saturated, def.Saturated)
				assert.Less(t, rec.ReplicaHours, def.ReplicaHours)
			}},
		{"one steep rise a day keeps R10's target", Input{Key: web, Known: true, Load: synth(3, func(i int) float64 {
			if i%1440 == 700 {
				return 1.3 * diurnal(i)
			}
			return diurnal(i)
		})},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Greater(t, a.Load.Steepest, 1/(0.75*1.1), "the jump is steeper than a 75 % target leaves room for")
				assert.LessOrEqual(t, a.Recommended.Utilization("cpu"), CPUUtilization)
				assert.Contains(t, joined(a), "no target above 70 % (R10) considered: the steepest rise within the 1m30s, +")
			}},
		{"flat load keeps a fixed count", Input{Key: web, Known: true, Load: synth(1, func(int) float64 { return 2 }), Replicas: 4, PlanPodCPU: 600},
			func(t *testing.T, a workload.Autoscaling) {
				assert.Nil(t, a.Recommended)
				require.Len(t, a.Replays, 1)
				assert.Equal(t, workload.Replay{Setup: "fixed", PodCPU: 600, ReplayFigures: ReplayFixed(synth(1, func(int) float64 { return 2 }), 0.6, 4)}, a.Replays[0], "today's count at the plan's request")
				assert.Zero(t, a.PodCPU, "requests stay with the per-container policy")
				assert.Contains(t, joined(a), "no HPA: scaling does not pay on the history: peak 1.00 × trough")
			}},
		{"no new HPA for a StatefulSet, with the numbers", Input{Key: db, Known: true, Load: synth(3, diurnal)},
			func(t *testing.T, a workload.Autoscaling) {
				assert.Nil(t, a.Recommended)
				assert.Contains(t, joined(a), "no HPA: a StatefulSet's pods keep their identity and storage, scaling them out is the owner's call; peak 4.88 × trough (p99 : p5)")
				assert.Contains(t, joined(a), "an HPA saves")
			}},
		{"an existing StatefulSet HPA is tuned", Input{Key: db, Known: true, Load: synth(3, diurnal), Critical: true, PodCPU: 500,
			Current: &workload.HPA{Name: "db", Target: db, MinReplicas: 2, MaxReplicas: 6, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}}},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Equal(t, "db", a.Recommended.Name)
				assert.Equal(t, CriticalMin, a.Recommended.MinReplicas, "critical: R9's 5")
				assert.NotNil(t, a.Replay("current"))
				assert.Contains(t, joined(a), "current HPA db: minReplicas 2")
			}},
		{"what the current HPA's object held and an HPA here cannot is said", Input{Key: web, Known: true, Load: synth(3, diurnal), PodCPU: 500,
			Current: &workload.HPA{Name: "web", Target: web, MinReplicas: 3, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}},
				Unread: []string{"spec.metrics[0]: the cpu target of container \"app\" is read as one on the pod"}}},
			func(t *testing.T, a workload.Autoscaling) {
				assert.Contains(t, a.Reasons, "current HPA web, not seen by the replay and the recommendation: spec.metrics[0]: the cpu target of container \"app\" is read as one on the pod")
			}},
		{"an HPA on other metrics keeps them", Input{Key: web, Known: true, Load: synth(3, diurnal), Current: &rps},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Equal(t, rps.Metrics, a.Recommended.Metrics)
				assert.Equal(t, MinReplicas, a.Recommended.MinReplicas)
				assert.NotNil(t, a.Recommended.Behavior.ScaleDown, "R11 where unset")
				assert.Zero(t, a.PodCPU)
			}},
		{"memory that follows load gets a target", Input{Key: web, Known: true, Load: withMemory},
			func(t *testing.T, a workload.Autoscaling) {
				require.NotNil(t, a.Recommended)
				assert.Equal(t, MemoryUtilization, a.Recommended.Utilization("memory"))
			}},
		{"too little history", Input{Key: web, Known: true, Load: synth(1, diurnal).window(0, 60)},
			func(t *testing.T, a workload.Autoscaling) {
				assert.Nil(t, a.Recommended)
				assert.Contains(t, joined(a), "needed: no HPA recommendation")
			}},
		{"unknown HPAs are said to be unknown", Input{Key: web, Load: synth(3, diurnal)},
			func(t *testing.T, a workload.Autoscaling) {
				assert.Contains(t, joined(a), "the source does not say which HPAs exist")
			}},
		{"hostile load", Input{Key: web, Known: true, Load: synth(1, func(i int) float64 {
			return []float64{math.NaN(), math.Inf(1), 1e308, -5, 0}[i%5]
		})},
			func(t *testing.T, a workload.Autoscaling) {
				if a.Recommended != nil {
					assert.Less(t, a.Recommended.MaxReplicas, math.MaxInt32)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Recommend(tc.in, DefaultOptions)
			tc.check(t, a)
			if t.Failed() {
				t.Log(joined(a))
			}
		})
	}
}

// window cuts the load to points [i, j).
func (l Load) window(i, j int) Load {
	l.CPU, l.Pods = l.CPU[i:j], l.Pods[i:j]
	return l
}

// TestNoSpiral closes the loop a VPA and an HPA on one metric turn into a
// spiral: replay the workload under an HPA, turn the replay into the
// per-pod usage the pods would report (the load split over the ready
// pods), recommend from that history, apply the recommendation and replay
// again — five rounds. The request and the replica-hours must settle
// within 2 % from the second round on, not drift down.
func TestNoSpiral(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := synth(4, func(i int) float64 { return diurnal(i) * (1 + 0.1*rng.NormFloat64()) })
	for i, v := range l.CPU {
		l.CPU[i] = max(0.1, v)
	}
	l.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	ck := workload.ContainerKey{Workload: k, Container: "app"}

	// Round 0: what the team runs today.
	h := workload.HPA{Name: "web", Target: k, MinReplicas: 2, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}, Behavior: R11()}
	req := workload.Millicores(1000)
	var requests []workload.Millicores
	var hours []float64
	for round := range 5 {
		st := history.NewStore()
		var f Figures
		f, ok := replay(l, req.Cores(), h, DefaultReplay, func(t int64, ready, _ int) {
			if (t-l.Start)%time.Minute.Milliseconds() != 0 || ready == 0 {
				return
			}
			i := int((t - l.Start) / time.Minute.Milliseconds())
			per := l.CPU[i] / float64(ready)
			for p := range ready {
				st.Add(ck, workload.Sample{Time: time.UnixMilli(t), Pod: fmt.Sprintf("web-%d", p), CPU: workload.Cores(per), HasCPU: true,
					Memory: 200 * workload.MiB, HasMemory: true})
			}
		})
		require.True(t, ok)
		st.Finalize()
		in := Input{Key: k, Known: true, Current: &h, PodCPU: req, PodMemory: 256 * workload.MiB,
			Load: Aggregate(st, []workload.ContainerKey{ck}, time.Time{}, time.UnixMilli(l.Start).Add(l.Duration()))}
		a := Recommend(in, DefaultOptions)
		require.NotNil(t, a.Recommended, joined(a))
		h, req = *a.Recommended, a.PodCPU
		requests = append(requests, req)
		hours = append(hours, f.ReplicaHours)
		t.Logf("round %d: replayed %.1f replica-hours with the HPA before; recommends %s a pod, cpu %d %%, %d–%d pods",
			round, f.ReplicaHours, req, h.Utilization("cpu"), h.MinReplicas, h.MaxReplicas)
	}
	for r := 2; r < len(requests); r++ {
		assert.InEpsilon(t, float64(requests[1]), float64(requests[r]), 0.02, "request, round %d", r)
		assert.InEpsilon(t, hours[1], hours[r], 0.02, "replica-hours, round %d", r)
	}
	assert.GreaterOrEqual(t, float64(requests[4]), 0.98*float64(requests[1]), "no drift down")
}

// TestRecommendReasonsGiveTheNumbers: every departure from R9–R11 and the
// choice of an HPA where there is none come with the measured numbers
// behind them, the figures the replays report.
func TestRecommendReasonsGiveTheNumbers(t *testing.T) {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	follows := synth(3, diurnal)
	follows.MemoryCorrelation, follows.MemoryVariation = 0.9, 0.3
	flatMemory := synth(3, diurnal)
	flatMemory.MemoryCorrelation, flatMemory.MemoryVariation = 0.3, 0.05
	for _, tc := range []struct {
		name string
		in   Input
		// memory is the reason about the memory target.
		memory string
	}{
		{"memory follows the load", Input{Key: web, Known: true, Load: follows}, "memory target 80 % (R10): per-pod memory follows the load (correlation 0.90, variation 30 %)"},
		{"memory does not follow the load", Input{Key: web, Known: true, Load: flatMemory}, "no memory target: per-pod memory does not follow the load (correlation 0.30, variation 5 %), a memory target would only ever scale out (R10 departs)"},
		{"no memory history", Input{Key: web, Known: true, Load: synth(3, diurnal)}, "no memory target: too little memory history"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Recommend(tc.in, DefaultOptions)
			defer func() {
				if t.Failed() {
					t.Log(joined(a))
				}
			}()
			require.NotNil(t, a.Recommended)
			h := a.Recommended
			why := joined(a)
			assert.Contains(t, why, tc.memory)

			rec, def, fixed := a.Replay("recommended"), a.Replay("defaults"), a.Replay("fixed")
			require.NotNil(t, rec)
			require.NotNil(t, def)
			require.NotNil(t, fixed)
			// A new HPA: the load's peak : trough and the replica-hours the
			// defaults save against the fixed count.
			assert.Contains(t, why, fmt.Sprintf("recommend an HPA: scaling pays on the history: peak %.2f × trough (p99 : p5); at %s a pod the R10/R11 defaults (CPU 70 %%) run %.1f replica-hours, saturated %.3f %% of the time, against %.1f for %d fixed pods",
				float64(a.Load.Peak/a.Load.Trough), a.PodCPU, def.ReplicaHours, 100*def.Saturated, fixed.ReplicaHours, fixed.PeakReplicas))
			assert.Contains(t, why, fmt.Sprintf(": an HPA saves %.1f replica-hours, %.1f %% (an HPA is recommended from 5 %% saved)",
				fixed.ReplicaHours-def.ReplicaHours, 100*(1-def.ReplicaHours/fixed.ReplicaHours)))
			// The slow load departs from R10's 70 % and says by how much it
			// saves against the defaults at no more saturation.
			require.NotEqual(t, CPUUtilization, h.Utilization("cpu"), "the case must depart from R10")
			assert.Contains(t, why, fmt.Sprintf("CPU target %d %% (R10: 70 %%), scale-down stabilization %s (R11: 5m0s): the cheapest on the history with no more saturated time than R10/R11's — %.1f replica-hours against %.1f, saturated %.2f %% against %.2f %%",
				h.Utilization("cpu"), h.Behavior.Down().StabilizationWindow, rec.ReplicaHours, def.ReplicaHours, 100*rec.Saturated, 100*def.Saturated))
			assert.Contains(t, why, fmt.Sprintf("minReplicas %d (R9), maxReplicas %d:", h.MinReplicas, h.MaxReplicas))
			assert.Contains(t, why, fmt.Sprintf("pod CPU request %s with the HPA", a.PodCPU))
		})
	}
}

// TestMemoryTargetMeasured: from samples, through Aggregate, a memory
// target only where each pod's memory rises and falls with its CPU; not
// where it stays put, nor where it varies without following the load.
func TestMemoryTargetMeasured(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	ck := workload.ContainerKey{Workload: k, Container: "app"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		memory func(rng *rand.Rand, perPodCPU float64) workload.Bytes
		target bool
	}{
		{"follows the load", func(rng *rand.Rand, c float64) workload.Bytes {
			return workload.Bytes((200 + 150*c + 5*rng.NormFloat64()) * float64(workload.MiB))
		}, true},
		{"stays put", func(rng *rand.Rand, _ float64) workload.Bytes {
			return workload.Bytes((300 + 2*rng.NormFloat64()) * float64(workload.MiB))
		}, false},
		{"varies without the load", func(rng *rand.Rand, _ float64) workload.Bytes {
			return workload.Bytes((300 + 100*rng.NormFloat64()) * float64(workload.MiB))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			st := history.NewStore()
			l := synth(2, diurnal)
			for i := 0; i < len(l.CPU); i += 5 {
				for p := range 3 {
					c := l.CPU[i] / 3
					st.Add(ck, workload.Sample{Time: t0.Add(time.Duration(i) * time.Minute), Pod: fmt.Sprintf("web-%d", p),
						CPU: workload.Cores(c), HasCPU: true, Memory: tc.memory(rng, c), HasMemory: true})
				}
			}
			st.Finalize()
			load := Aggregate(st, []workload.ContainerKey{ck}, time.Time{}, t0.Add(48*time.Hour))
			a := Recommend(Input{Key: k, Known: true, Load: load, PodMemory: 512 * workload.MiB}, DefaultOptions)
			require.NotNil(t, a.Recommended, joined(a))
			t.Logf("correlation %.2f, variation %.2f", load.MemoryCorrelation, load.MemoryVariation)
			if tc.target {
				assert.Equal(t, MemoryUtilization, a.Recommended.Utilization("memory"), joined(a))
				assert.Contains(t, joined(a), "per-pod memory follows the load")
			} else {
				assert.Zero(t, a.Recommended.Utilization("memory"), joined(a))
				assert.Contains(t, joined(a), "no memory target: per-pod memory does not follow the load")
			}
		})
	}
}

// TestNewHPAWhereScalingPays: a workload without an HPA gets one where the
// R10/R11 defaults save at least 5 % of the replica-hours of the fixed
// count they would replace on the history — however small its peak :
// trough — and none where they do not; either way the reason gives the
// ratio, both replica-hours and the share saved.
func TestNewHPAWhereScalingPays(t *testing.T) {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	for _, tc := range []struct {
		name string
		load func(i int) float64
		// pays is the decision; compared the fixed count it is compared
		// with: "sized" for the peak at 70 % (as saturated as the
		// defaults), "fewer" pods where the defaults are the more
		// saturated, "more" where the sized count is: the fewest pods
		// saturated no more than the defaults.
		pays     bool
		compared string
		why      string
	}{
		{"constant: an HPA only costs", func(int) float64 { return 2 }, false, "sized", "no HPA: scaling does not pay on the history: peak 1.00 × trough (p99 : p5)"},
		{"a swing within ±3 %: inside the controller's tolerance", func(i int) float64 { return 2 + 0.06*math.Sin(2*math.Pi*float64(i)/1440) }, false, "sized", "no HPA: scaling does not pay on the history: peak 1.06 × trough"},
		{"flat by peak : trough, but small pods follow it", func(i int) float64 { return 2 + 0.3*math.Sin(2*math.Pi*float64(i)/1440) }, true, "sized", "recommend an HPA: scaling pays on the history: peak 1.35 × trough"},
		{"diurnal", diurnal, true, "sized", "recommend an HPA: scaling pays on the history: peak 4.88 × trough"},
		{"bursts the defaults cannot follow: compared at equal saturation", spiky, true, "fewer", "the fewest saturated no more than the HPA"},
		// Flat at 2 cores but for a 6-minute climb to 2.5× once a day: the
		// count sized for the p99 is saturated during it, the HPA follows.
		{"rare bursts a fixed count sized for the p99 cannot hold: compared at equal saturation", rareBursts, true, "more", "the fewest saturated no more than the HPA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := synth(3, tc.load)
			a := Recommend(Input{Key: web, Known: true, Load: l, Replicas: 4, PlanPodCPU: 600}, DefaultOptions)
			why := joined(a)
			defer func() {
				if t.Failed() {
					t.Log(why)
				}
			}()
			assert.Contains(t, why, tc.why)
			// The decision, recomputed from its replays.
			vals := l.filled()
			rc := float64(a.PodCPU.Cores())
			if !tc.pays {
				assert.Nil(t, a.Recommended)
				assert.Zero(t, a.PodCPU)
				// The reason gives the replays the decision made: recompute
				// them at the pod size it names.
				var pod workload.Millicores
				_, err := fmt.Sscanf(why[strings.Index(why, "at ")+3:], "%dm a pod", &pod)
				require.NoError(t, err)
				rc = float64(pod.Cores())
			} else {
				require.NotNil(t, a.Recommended)
				assert.Positive(t, a.PodCPU)
			}
			def := Defaults(web, false)
			def.Metrics = def.Metrics[:1]
			def.MaxReplicas = maxFor(slices.Max(vals), 0.7, rc, MinReplicas)
			fDef, ok := Replay(l, workload.Cores(rc), def, DefaultReplay)
			require.True(t, ok)
			st := loadStats(vals, slices.Sorted(slices.Values(vals)), l.Step, 0, new([]float64))
			sizedPods := max(MinReplicas, ceilInt(float64(st.Peak)/(0.7*rc)))
			sized := ReplayFixed(l, workload.Cores(rc), sizedPods)
			fixed, pods := sized, sizedPods
			switch tc.compared {
			case "fewer", "more":
				if tc.compared == "fewer" {
					require.Greater(t, fDef.Saturated, sized.Saturated, "the defaults are the more saturated")
				} else {
					require.Less(t, fDef.Saturated, sized.Saturated, "the sized count is the more saturated")
				}
				// The fewest pods no more saturated than the defaults, by
				// brute force.
				for pods = MinReplicas; ReplayFixed(l, workload.Cores(rc), pods).Saturated > fDef.Saturated; pods++ {
				}
				fixed = ReplayFixed(l, workload.Cores(rc), pods)
				if tc.compared == "fewer" {
					assert.Less(t, pods, sizedPods)
				} else {
					assert.Greater(t, pods, sizedPods)
				}
			default:
				assert.Equal(t, fDef.Saturated, sized.Saturated, "the defaults as saturated as the sized count")
			}
			saving := 1 - fDef.ReplicaHours/fixed.ReplicaHours
			assert.Equal(t, tc.pays, saving >= 0.05, "saving %.1f %%", 100*saving)
			verb := "saves"
			if saving < 0 {
				verb = "costs"
			}
			assert.Contains(t, why, fmt.Sprintf("the R10/R11 defaults (CPU 70 %%) run %.1f replica-hours, saturated %.3f %% of the time, against %.1f for %d fixed pods",
				fDef.ReplicaHours, 100*fDef.Saturated, fixed.ReplicaHours, pods))
			assert.Contains(t, why, fmt.Sprintf(": an HPA %s %.1f replica-hours, %.1f %% (an HPA is recommended from 5 %% saved)",
				verb, math.Abs(fixed.ReplicaHours-fDef.ReplicaHours), 100*math.Abs(saving)))
			if tc.pays {
				assert.Equal(t, sized, a.Replay("fixed").ReplayFigures, "the replay shown: the count sized for the peak")
				assert.Equal(t, fDef, a.Replay("defaults").ReplayFigures)
			}
		})
	}
}

func TestTargetCeiling(t *testing.T) {
	for _, tc := range []struct {
		steepest, tolerance float64
		want                int
	}{
		{1, 0.1, 85},    // no rise: the highest target searched
		{1.05, 0.1, 85}, // 100 / 1.155 = 86.6
		{1.1, 0.1, 80},  // 100 / 1.21 = 82.6
		{1.2, 0.1, 75},  // 100 / 1.32 = 75.8
		{1.25, 0.1, 70}, // 100 / 1.375 = 72.7: R10's
		{2, 0.1, 70},    // never below R10's: lower targets are the search's
		{1.25, 0, 80},   // exactly 80 fits without a tolerance
		{math.Inf(1), 0.1, 70},
	} {
		assert.Equal(t, tc.want, targetCeiling(tc.steepest, tc.tolerance), "steepest %v tolerance %v", tc.steepest, tc.tolerance)
	}
}

// TestFewestPods: the fewest pods whose fixed count is saturated no more
// than a share of the time, as ReplayFixed counts it, against a search of
// every count.
func TestFewestPods(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		l := synth(1, func(int) float64 { return rng.ExpFloat64() })
		rc := 0.05 + rng.Float64()
		sat := rng.Float64() * 0.2
		// most is the count sized for the peak: never below minReplicas.
		minR := 1 + rng.IntN(5)
		most := minR + rng.IntN(100)
		want := minR
		for want < most && ReplayFixed(l, workload.Cores(rc), want).Saturated > sat {
			want++
		}
		got := fewestPods(slices.Sorted(slices.Values(l.filled())), rc, sat, minR, most)
		require.Equal(t, want, got, "rc %.3f sat %.4f minR %d most %d", rc, sat, minR, most)
	}
}

// TestLargest: the kth largest is what a sort puts at len−k, duplicates
// and infinities included, for every k.
func TestLargest(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		vals := make([]float64, 1+rng.IntN(60))
		for i := range vals {
			switch rng.IntN(5) {
			case 0:
				vals[i] = float64(rng.IntN(3)) // duplicates
			case 1:
				vals[i] = math.Inf(1)
			default:
				vals[i] = rng.Float64()
			}
		}
		sorted := slices.Sorted(slices.Values(vals))
		for k := 1; k <= len(vals); k++ {
			require.Equal(t, sorted[len(vals)-k], largest(slices.Clone(vals), k), "%v k %d", vals, k)
		}
	}
}

// TestPodsOver: the galloping sum is the loop's, over loads flat, spread,
// with runs, zeros and loads past what a count holds, at pod sizes small
// and large.
func TestPodsOver(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for range 2000 {
		vals := make([]float64, rng.IntN(300))
		scale := []float64{0.01, 1, 100, 1e12}[rng.IntN(4)]
		for i := range vals {
			switch rng.IntN(4) {
			case 0:
				vals[i] = 0
			case 1:
				vals[i] = float64(rng.IntN(5)) * scale / 4 // runs of equal loads
			default:
				vals[i] = rng.Float64() * scale
			}
		}
		slices.Sort(vals)
		q := []float64{1e-3, 0.1, 0.7, 3}[rng.IntN(4)]
		minR := rng.IntN(6)
		want := 0
		for _, v := range vals {
			want += max(minR, ceilInt(v/q))
		}
		require.Equal(t, want, podsOver(vals, q, minR), "q %v minR %d %v", q, minR, vals)
	}
}
