package hpa

import (
	"fmt"

	"rightsize.dev/rightsize/recommender/workload"
)

// Result is what the rules say about one workload's horizontal scaling.
// Exactly one of Existing and Suggested is set.
type Result struct {
	Workload workload.Key
	// Replicas is the plan's replica count (0 for an HPA whose workload
	// has no usage history).
	Replicas int
	// Existing is the workload's HPA and Notes where it departs from
	// R9–R10; NoHistory is set when the workload is not in the plan.
	Existing  *HPA
	Notes     []string
	NoHistory bool
	// Suggested is the HPA R9–R11 would give a workload without one, and
	// Reasons what makes it a candidate: its replica count, bursty CPU
	// usage, or both.
	Suggested *HPA
	Reasons   []string
}

// Evaluate reviews the existing HPAs against R9–R10 and suggests one for
// every scalable workload of the plan without an HPA that runs at least
// MinReplicas replicas or whose CPU burstiness (see Burstiness) reaches
// BurstyRatio. Workloads that need nothing are left out. Results follow the
// plan's workload order, then the first HPA of each workload not in the plan, in
// their given order; scalable counts the plan's workloads an HPA could
// scale.
func Evaluate(plan workload.Plan, existing []HPA, burst map[workload.Key]float64) (results []Result, scalable int) {
	have := map[workload.Key]HPA{}
	for _, h := range existing {
		have[h.Workload] = h
	}
	reviewed := map[workload.Key]bool{}
	for _, wp := range plan.Workloads {
		if !Scalable(wp.Key.Kind) {
			continue
		}
		scalable++
		if h, ok := have[wp.Key]; ok {
			reviewed[wp.Key] = true
			results = append(results, Result{Workload: wp.Key, Replicas: wp.Replicas, Existing: &h, Notes: Review(h, wp.Critical)})
			continue
		}
		var reasons []string
		if wp.Replicas >= MinReplicas {
			reasons = append(reasons, fmt.Sprintf("%d replicas", wp.Replicas))
		}
		if r := burst[wp.Key]; r >= BurstyRatio {
			reasons = append(reasons, fmt.Sprintf("bursty CPU: p95 %.1f × median", r))
		}
		if len(reasons) == 0 {
			continue
		}
		s := Recommended(wp.Key, wp.Critical)
		results = append(results, Result{Workload: wp.Key, Replicas: wp.Replicas, Suggested: &s, Reasons: reasons})
	}
	// HPAs whose workload is not in the plan are still coverage facts.
	for _, h := range existing {
		if reviewed[h.Workload] {
			continue
		}
		reviewed[h.Workload] = true
		notes := append([]string{"its workload has no usage history"}, Review(h, false)...)
		results = append(results, Result{Workload: h.Workload, Existing: &h, Notes: notes, NoHistory: true})
	}
	return results, scalable
}

// Covered reports whether the result is about an existing HPA.
func (r Result) Covered() bool { return r.Existing != nil }
