package hpa

import (
	"fmt"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// The HPA the rules recommend by default.
const (
	CPUUtilization    = 70 // R10: averageUtilization for CPU
	MemoryUtilization = 80 // R10: averageUtilization for memory
	MinReplicas       = 3  // R9/R10: production survives one failure
	CriticalMin       = 5  // R9: critical services run at least 5
	MaxReplicas       = 20 // R10
)

// R11 is the behavior of RULES.md R11.
func R11() workload.Behavior {
	return workload.Behavior{
		ScaleUp: &workload.ScalingRules{Select: workload.SelectMax, Policies: []workload.ScalingPolicy{
			{Type: workload.PercentPolicy, Value: 100, Period: 30 * time.Second},
			{Type: workload.PodsPolicy, Value: 5, Period: 60 * time.Second},
		}},
		ScaleDown: &workload.ScalingRules{StabilizationWindow: 300 * time.Second, Select: workload.SelectMax, Policies: []workload.ScalingPolicy{
			{Type: workload.PercentPolicy, Value: 50, Period: 60 * time.Second},
		}},
	}
}

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

// Defaults is the HPA R9–R11 give a workload: bounds by criticality, the
// CPU and memory utilization targets of R10, the behavior of R11.
func Defaults(k workload.Key, critical bool) workload.HPA {
	return workload.HPA{Target: k, MinReplicas: minimum(critical), MaxReplicas: MaxReplicas, Metrics: []workload.MetricTarget{
		{Resource: "cpu", AverageUtilization: CPUUtilization},
		{Resource: "memory", AverageUtilization: MemoryUtilization},
	}, Behavior: R11()}
}

// Review says where an existing HPA departs from R9–R10, one note each.
func Review(h workload.HPA, critical bool) []string {
	var notes []string
	if want := minimum(critical); h.MinReplicas < want {
		notes = append(notes, fmt.Sprintf("minReplicas %d, R9/R10 ask for at least %d", h.MinReplicas, want))
	}
	if h.MaxReplicas < h.MinReplicas {
		notes = append(notes, fmt.Sprintf("maxReplicas %d is below minReplicas %d", h.MaxReplicas, h.MinReplicas))
	}
	cpu, mem := h.Metric("cpu"), h.Metric("memory")
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
