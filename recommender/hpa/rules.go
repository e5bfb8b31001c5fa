package hpa

import (
	"fmt"
	"slices"

	"rightsize.dev/rightsize/recommender/workload"
)

// The HPA the rules recommend.
const (
	CPUUtilization    = 70 // R10: averageUtilization for CPU
	MemoryUtilization = 80 // R10: averageUtilization for memory
	MinReplicas       = 3  // R9/R10: production survives one failure
	CriticalMin       = 5  // R9: critical services run at least 5
	MaxReplicas       = 20 // R10
	// BurstyRatio is the CPU p95 : median ratio from which a workload's
	// usage counts as bursty enough to scale horizontally.
	BurstyRatio = 2.0
)

// Behavior is the scaling behavior R11 asks for, in words.
const Behavior = "scale down after a 300 s stabilization window, at most 50 % per 60 s; scale up at once, at most 100 % per 30 s and 5 pods per 60 s (R11)"

// Scalable reports whether an HPA can scale the kind.
func Scalable(k workload.Kind) bool {
	return k == workload.Deployment || k == workload.StatefulSet || k == workload.ReplicaSet
}

// minimum is the least minReplicas R9 allows.
func minimum(critical bool) int {
	if critical {
		return CriticalMin
	}
	return MinReplicas
}

// Recommended is the HPA R9 and R10 give a workload: bounds by criticality,
// CPU and memory utilization targets.
func Recommended(k workload.Key, critical bool) HPA {
	return HPA{Workload: k, Min: minimum(critical), Max: MaxReplicas, Targets: []Target{
		{Resource: "cpu", AverageUtilization: CPUUtilization},
		{Resource: "memory", AverageUtilization: MemoryUtilization},
	}}
}

// Review says where an existing HPA departs from R9–R10, one note each.
func Review(h HPA, critical bool) []string {
	var notes []string
	if want := minimum(critical); h.Min < want {
		notes = append(notes, fmt.Sprintf("minReplicas %d, R9/R10 ask for at least %d", h.Min, want))
	}
	if h.Max < h.Min {
		notes = append(notes, fmt.Sprintf("maxReplicas %d is below minReplicas %d", h.Max, h.Min))
	}
	cpu, mem := h.target("cpu"), h.target("memory")
	switch {
	case cpu == nil:
		notes = append(notes, fmt.Sprintf("no CPU target (R10: averageUtilization %d)", CPUUtilization))
	case cpu.AverageUtilization != 0 && cpu.AverageUtilization != CPUUtilization:
		notes = append(notes, fmt.Sprintf("CPU target %d %%, R10 says %d %%", cpu.AverageUtilization, CPUUtilization))
	}
	if mem != nil && mem.AverageUtilization != 0 && mem.AverageUtilization != MemoryUtilization {
		notes = append(notes, fmt.Sprintf("memory target %d %%, R10 says %d %%", mem.AverageUtilization, MemoryUtilization))
	}
	return notes
}

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
