package cost

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// hpa lays out what the plan says about the workloads' horizontal scaling
// (their Autoscaling, R9–R11): coverage, each existing HPA with the one
// recommended instead, and the workloads without one the plan recommends
// an HPA for, the most expensive first. HPAs whose workload has no plan
// are still listed, as coverage facts.
func (b *builder) hpa() HPASection {
	sec := HPASection{}
	if b.in.HPASource != "" {
		sec.Note = "no HorizontalPodAutoscalers known (" + b.in.HPASource + ")"
	}
	have := map[workload.Key]workload.HPA{}
	for _, h := range b.in.HPAs {
		if _, dup := have[h.Target]; !dup {
			have[h.Target] = h
		}
	}
	listed := map[workload.Key]bool{}
	for _, wp := range sortedPlans(b.in.Plan) {
		if !hpa.Scalable(wp.Key.Kind) {
			continue
		}
		sec.Scalable++
		a := wp.Autoscaling
		cur, ok := have[wp.Key]
		if a != nil && a.Current != nil {
			cur, ok = *a.Current, true
		}
		if ok {
			listed[wp.Key] = true
			sec.Covered++
			sec.Existing = append(sec.Existing, HPAReview{HPA: cur, Plan: hpaPlan(a)})
			continue
		}
		if a == nil || a.Recommended == nil {
			continue
		}
		p := hpaPlan(a)
		sec.Suggested = append(sec.Suggested, HPASuggestion{Workload: wp.Key, Replicas: wp.Replicas,
			Why: why(a.Load, p.Replays), HPA: *a.Recommended, Plan: p})
	}
	for _, h := range b.in.HPAs {
		if listed[h.Target] {
			continue
		}
		listed[h.Target] = true
		sec.Existing = append(sec.Existing, HPAReview{HPA: h, NoHistory: true})
	}
	slices.SortStableFunc(sec.Existing, func(a, b HPAReview) int { return cmpKey(a.Target, b.Target) })
	// The most expensive candidates first: they gain the most from scaling
	// in when idle.
	requested := map[workload.Key]float64{}
	for _, w := range b.r.Workloads {
		requested[w.Key] = float64(w.Requested)
	}
	slices.SortStableFunc(sec.Suggested, func(a, b HPASuggestion) int {
		return cmp.Compare(requested[b.Workload], requested[a.Workload])
	})
	return sec
}

// hpaPlan is the plan's Autoscaling as the report keeps it; zero for nil.
func hpaPlan(a *workload.Autoscaling) HPAPlan {
	if a == nil {
		return HPAPlan{}
	}
	return HPAPlan{Recommended: a.Recommended, Reasons: a.Reasons, PodCPU: a.PodCPU, Replays: HPAReplays{
		Current: a.Replay("current"), Defaults: a.Replay("defaults"), Recommended: a.Replay("recommended"), Fixed: a.Replay("fixed"),
	}}
}

// why sums up a suggestion: "peak 9.7 × trough, 50 % fewer
// replica-hours than a fixed count sized for the peak".
func why(l workload.AggregateLoad, r HPAReplays) string {
	var parts []string
	if l.Trough > 0 {
		parts = append(parts, fmt.Sprintf("peak %.1f × trough", float64(l.Peak/l.Trough)))
	}
	if f, rec := r.Fixed, r.Recommended; f != nil && rec != nil && f.ReplicaHours > 0 {
		if d := 100 * (1 - rec.ReplicaHours/f.ReplicaHours); d >= 0.5 {
			parts = append(parts, fmt.Sprintf("%.0f %% fewer replica-hours than a fixed count sized for the peak", d))
		} else {
			parts = append(parts, fmt.Sprintf("%.0f %% more replica-hours than a fixed count sized for the peak", -d))
		}
	}
	return strings.Join(parts, ", ")
}

// wholeHours renders replica- or core-hours, whole.
func wholeHours(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// describeHPA renders an HPA's bounds and targets in one line.
func describeHPA(h workload.HPA) string {
	var ts []string
	for _, t := range h.Metrics {
		switch {
		case t.AverageUtilization != 0:
			ts = append(ts, fmt.Sprintf("%s %d %%", t.Resource, t.AverageUtilization))
		case t.AverageValue != "":
			ts = append(ts, fmt.Sprintf("%s %s", t.Resource, t.AverageValue))
		default:
			ts = append(ts, t.Resource)
		}
	}
	targets := "no targets"
	if len(ts) > 0 {
		targets = strings.Join(ts, ", ")
	}
	return fmt.Sprintf("min %d, max %d; %s", h.MinReplicas, h.MaxReplicas, targets)
}
