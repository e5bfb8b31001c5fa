package cost

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// hpa lays out what recommender/hpa says about the plan's workloads (R9–R11):
// coverage, the existing HPAs with their review notes, and the suggestions,
// the most expensive candidates first.
func (b *builder) hpa() HPASection {
	sec := HPASection{}
	if b.in.HPASource != "" {
		sec.Note = "no HorizontalPodAutoscalers known (" + b.in.HPASource + ")"
	}
	results, scalable := hpa.Evaluate(workload.Plan{Workloads: sortedPlans(b.in.Plan)}, b.in.HPAs, b.burst)
	sec.Scalable = scalable
	for _, r := range results {
		switch {
		case r.Existing != nil:
			if !r.NoHistory {
				sec.Covered++
			}
			sec.Existing = append(sec.Existing, HPAReview{HPA: *r.Existing, Notes: r.Notes})
		case r.Suggested != nil:
			sec.Suggested = append(sec.Suggested, HPASuggestion{Workload: r.Workload, Replicas: r.Replicas,
				Why: strings.Join(r.Reasons, ", "), HPA: *r.Suggested})
		}
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
