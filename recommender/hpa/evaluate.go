package hpa

import (
	"fmt"
	"slices"

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
	Existing  *workload.HPA
	Notes     []string
	NoHistory bool
	// Suggested is the HPA R9–R11 would give a workload without one, and
	// Reasons what makes it a candidate: its replica count, bursty CPU
	// usage, or both.
	Suggested *workload.HPA
	Reasons   []string
}

// Evaluate reviews the existing HPAs against R9–R10 and suggests one for
// every scalable workload of the plan without an HPA that runs at least
// MinReplicas replicas or whose CPU burstiness (see Burstiness) reaches
// BurstyRatio. Workloads that need nothing are left out. Results follow the
// plan's workload order, then the first HPA of each workload not in the plan, in
// their given order; scalable counts the plan's workloads an HPA could
// scale.
func Evaluate(plan workload.Plan, existing []workload.HPA, burst map[workload.Key]float64) (results []Result, scalable int) {
	have := map[workload.Key]workload.HPA{}
	for _, h := range existing {
		have[h.Target] = h
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
		s := Defaults(wp.Key, wp.Critical)
		results = append(results, Result{Workload: wp.Key, Replicas: wp.Replicas, Suggested: &s, Reasons: reasons})
	}
	// HPAs whose workload is not in the plan are still coverage facts.
	for _, h := range existing {
		if reviewed[h.Target] {
			continue
		}
		reviewed[h.Target] = true
		notes := append([]string{"its workload has no usage history"}, Review(h, false)...)
		results = append(results, Result{Workload: h.Target, Existing: &h, Notes: notes, NoHistory: true})
	}
	return results, scalable
}

// Covered reports whether the result is about an existing HPA.
func (r Result) Covered() bool { return r.Existing != nil }

// BurstyRatio is the CPU p95 : median ratio from which a workload's usage
// counts as bursty enough to scale horizontally.
const BurstyRatio = 2.0

// Burstiness returns the ratio of the 95th percentile to the median of a
// container's CPU samples; 0 with too few samples (an hour at 5-minute
// steps) or a zero median. At BurstyRatio or more the workload is a
// candidate for an HPA.
func Burstiness(v []float64) float64 {
	if len(v) < 12 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	med := v[len(v)/2]
	if med <= 0 {
		return 0
	}
	return v[int(0.95*float64(len(v)-1))] / med
}
