// Package vparef is the reference the `vpa` profile is pinned to: the real
// Kubernetes VPA recommender (k8s.io/autoscaler/vertical-pod-autoscaler
// v1.8.1, pkg/recommender/model and logic) replayed as an external policy of
// rightsize's backtest. It lives in its own module so the recommender's
// Kubernetes versions never reach rightsize's build.
package vparef

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"k8s.io/autoscaler/vertical-pod-autoscaler/pkg/recommender/config"
	"k8s.io/autoscaler/vertical-pod-autoscaler/pkg/recommender/logic"
	"k8s.io/autoscaler/vertical-pod-autoscaler/pkg/recommender/model"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Name is the reference's name in backtest results.
const Name = "vpa-v1.8.1"

// recommender is the real one with the recommender binary's defaults.
var recommender = func() logic.PodResourceRecommender {
	c := config.DefaultRecommenderConfig()
	return logic.CreatePodResourceRecommender(logic.RecommendationConfig{
		SafetyMarginFraction:       c.SafetyMarginFraction,
		PodMinCPUMillicores:        c.PodMinCPUMillicores,
		PodMinMemoryMb:             c.PodMinMemoryMb,
		TargetCPUPercentile:        c.TargetCPUPercentile,
		LowerBoundCPUPercentile:    c.LowerBoundCPUPercentile,
		UpperBoundCPUPercentile:    c.UpperBoundCPUPercentile,
		ConfidenceIntervalCPU:      c.ConfidenceIntervalCPU,
		TargetMemoryPercentile:     c.TargetMemoryPercentile,
		LowerBoundMemoryPercentile: c.LowerBoundMemoryPercentile,
		UpperBoundMemoryPercentile: c.UpperBoundMemoryPercentile,
		ConfidenceIntervalMemory:   c.ConfidenceIntervalMemory,
	})
}()

// External returns the reference as a policy of the replay.
func External() backtest.External {
	return backtest.External{Name: Name, New: func(k workload.ContainerKey) backtest.Replayer {
		return &replayer{container: k.Container, agg: model.NewAggregateContainerState(), pods: map[string]*model.ContainerState{}}
	}}
}

// replayer is one workload container as the recommender's cluster state
// holds it: one aggregate over its pods, a ContainerState per pod fed
// samples and OOMs in time order, as the metrics feed and the OOM
// observer would have delivered them.
type replayer struct {
	container string
	agg       *model.AggregateContainerState
	pods      map[string]*model.ContainerState
	fed       []int // per series: samples already fed
	oomsFed   int
	hasCPU    bool
	hasMemory bool
}

// event is a sample or an OOM, fed in time order.
type event struct {
	t      int64
	series int
	i      int              // sample index, or -1 for an OOM
	oom    history.OOMEvent // when i < 0
}

func (r *replayer) state(pod string) *model.ContainerState {
	cs, ok := r.pods[pod]
	if !ok {
		cs = model.NewContainerState(model.Resources{}, r.agg)
		r.pods[pod] = cs
	}
	return cs
}

// Decide feeds what happened before tk and asks the real recommender.
func (r *replayer) Decide(v backtest.View, tk, _ time.Time) workload.Recommendation {
	for len(r.fed) < len(v.Series) {
		r.fed = append(r.fed, 0)
	}
	end := tk.UnixMilli()
	var evs []event
	for si, s := range v.Series {
		hi := s.Search(end)
		for i := r.fed[si]; i < hi; i++ {
			evs = append(evs, event{t: s.Time[i], series: si, i: i})
		}
		r.fed[si] = hi
	}
	for _, o := range v.OOMs[r.oomsFed:] {
		evs = append(evs, event{t: o.Time.UnixMilli(), i: -1, oom: o})
	}
	r.oomsFed = len(v.OOMs)
	// At one instant the usage sample comes before the kill it shows.
	slices.SortStableFunc(evs, func(a, b event) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(b.i, a.i)
	})
	for _, e := range evs {
		at := time.UnixMilli(e.t).UTC()
		if e.i < 0 {
			// An OOM too old for the recommender is dropped by it, as in a
			// cluster; the error says only that.
			_ = r.state(e.oom.Pod).RecordOOM(at, model.MemoryAmountFromBytes(float64(e.oom.Limit)))
			continue
		}
		s := v.Series[e.series]
		cs := r.state(s.Pod)
		if u := s.CPU[e.i]; u == u {
			r.hasCPU = cs.AddSample(&model.ContainerUsageSample{MeasureStart: at, Usage: model.CPUAmountFromCores(float64(u)), Resource: model.ResourceCPU}) || r.hasCPU
		}
		if u := s.Memory[e.i]; u == u {
			r.hasMemory = cs.AddSample(&model.ContainerUsageSample{MeasureStart: at, Usage: model.MemoryAmountFromBytes(float64(u)), Resource: model.ResourceMemory}) || r.hasMemory
		}
	}
	var rec workload.Recommendation
	if !r.hasCPU && !r.hasMemory {
		return rec
	}
	got, ok := recommender.GetRecommendedPodResources(model.ContainerNameToAggregateStateMap{r.container: r.agg})[r.container]
	if !ok {
		panic(fmt.Sprintf("vparef: no recommendation for %s", r.container))
	}
	cur := current(v.Series, end)
	if r.hasCPU {
		rec.HasCPU = true
		req := workload.Millicores(got.Target[model.ResourceCPU])
		rec.Target.Requests.CPU = req
		if cur.Requests.CPU > 0 && cur.Limits.CPU > 0 {
			rec.Target.Limits.CPU = workload.Millicores(float64(req) * float64(cur.Limits.CPU) / float64(cur.Requests.CPU))
		}
	}
	if r.hasMemory {
		rec.HasMemory = true
		req := workload.Bytes(got.Target[model.ResourceMemory])
		rec.Target.Requests.Memory, rec.Target.Limits.Memory = req, req
		if cur.Requests.Memory > 0 && cur.Limits.Memory > 0 {
			rec.Target.Limits.Memory = workload.Bytes(float64(req) * float64(cur.Limits.Memory) / float64(cur.Requests.Memory))
		}
	}
	return rec
}

// current returns the settings recorded with the newest sample before end:
// the limit:request ratio the recommendation keeps.
func current(series []*history.Series, end int64) workload.Settings {
	var set workload.Settings
	newest := int64(0)
	for _, s := range series {
		if i := s.Search(end) - 1; i >= 0 && (newest == 0 || s.Time[i] > newest) {
			newest, set = s.Time[i], s.SettingsAt(i)
		}
	}
	return set
}
