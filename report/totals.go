package report

import (
	"slices"

	"rightsize.dev/rightsize/recommender/workload"
)

// planTotals counts a plan's containers and sums its pods' requests.
type planTotals struct {
	workloads, containers   int
	recommended, without    int
	changed, qosChanges     int
	current, recommendedReq workload.Resources
}

func totalsOf(p workload.Plan) planTotals {
	var t planTotals
	for _, wp := range p.Workloads {
		t.workloads++
		if qosChanged(wp) {
			t.qosChanges++
		}
		for _, c := range wp.Containers {
			t.containers++
			if hasRecommendation(c) {
				t.recommended++
			} else {
				t.without++
			}
			if c.Changed() {
				t.changed++
			}
		}
		// Totals saturate at math.MaxInt64 rather than wrap negative.
		n := int64(max(wp.Replicas, 0))
		cur := workload.PodRequests(wp.Containers, func(c workload.ContainerPlan) workload.Settings { return c.Current })
		rec := workload.PodRequests(wp.Containers, workload.ContainerPlan.Recommended)
		t.current.CPU = workload.AddSat(t.current.CPU, workload.MulSat(cur.CPU, n))
		t.current.Memory = workload.AddSat(t.current.Memory, workload.MulSat(cur.Memory, n))
		t.recommendedReq.CPU = workload.AddSat(t.recommendedReq.CPU, workload.MulSat(rec.CPU, n))
		t.recommendedReq.Memory = workload.AddSat(t.recommendedReq.Memory, workload.MulSat(rec.Memory, n))
	}
	return t
}

// hasRecommendation reports whether the policy recommended anything for c.
func hasRecommendation(c workload.ContainerPlan) bool {
	return c.Recommendation.HasCPU || c.Recommendation.HasMemory
}

// qosChanged reports whether the plan moves the pod to another QoS class.
func qosChanged(wp workload.WorkloadPlan) bool {
	return wp.QoSRecommended != "" && wp.QoSRecommended != wp.QoSCurrent
}

// sortedWorkloads returns the plan's workloads in key order, without
// touching the plan.
func sortedWorkloads(p workload.Plan) []workload.WorkloadPlan {
	ws := slices.Clone(p.Workloads)
	slices.SortStableFunc(ws, func(a, b workload.WorkloadPlan) int {
		switch {
		case a.Key.Less(b.Key):
			return -1
		case b.Key.Less(a.Key):
			return 1
		}
		return 0
	})
	return ws
}
