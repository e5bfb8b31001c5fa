package hpa

import (
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

// HPA is a HorizontalPodAutoscaler (autoscaling/v2) as far as the rules
// need it: the workload it scales, its bounds and its metric targets.
type HPA struct {
	Workload workload.Key
	Min, Max int
	Targets  []Target
}

// Target is one metric an HPA scales on.
type Target struct {
	// Resource is "cpu" or "memory" for resource metrics, else the
	// metric's name.
	Resource string
	// AverageUtilization is the target in percent of requests; 0 when the
	// target is a value (AverageValue, e.g. "1000" requests per second).
	AverageUtilization int
	AverageValue       string
}

// target returns the HPA's target on resource, nil when it has none.
func (h HPA) target(resource string) *Target {
	for i := range h.Targets {
		if h.Targets[i].Resource == resource {
			return &h.Targets[i]
		}
	}
	return nil
}

// FromConstraints converts the HPAs a collector reports for the constraints
// step: their resource utilization targets, CPU before memory.
func FromConstraints(hs []constraints.HPA) []HPA {
	if len(hs) == 0 {
		return nil
	}
	out := make([]HPA, 0, len(hs))
	for _, h := range hs {
		a := HPA{Workload: h.Target, Min: h.MinReplicas, Max: h.MaxReplicas}
		if h.CPUUtilization > 0 {
			a.Targets = append(a.Targets, Target{Resource: "cpu", AverageUtilization: h.CPUUtilization})
		}
		if h.MemoryUtilization > 0 {
			a.Targets = append(a.Targets, Target{Resource: "memory", AverageUtilization: h.MemoryUtilization})
		}
		out = append(out, a)
	}
	return out
}
