package hpa

import (
	"slices"
	"testing"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestReview(t *testing.T) {
	cpu := func(p int) workload.MetricTarget {
		return workload.MetricTarget{Resource: "cpu", AverageUtilization: p}
	}
	mem := func(p int) workload.MetricTarget {
		return workload.MetricTarget{Resource: "memory", AverageUtilization: p}
	}
	for _, tc := range []struct {
		name     string
		h        workload.HPA
		critical bool
		want     []string
	}{
		{"as the rules say", workload.HPA{MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{cpu(70), mem(80)}}, false, nil},
		{"critical needs 5 (R9)", workload.HPA{MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{cpu(70)}}, true,
			[]string{"minReplicas 3, R9/R10 ask for at least 5"}},
		{"max below min", workload.HPA{MinReplicas: 4, MaxReplicas: 2, Metrics: []workload.MetricTarget{cpu(70)}}, false,
			[]string{"maxReplicas 2 is below minReplicas 4"}},
		{"no CPU target", workload.HPA{MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{{Resource: "rps", AverageValue: "1k"}}}, false,
			[]string{"no CPU target (R10: averageUtilization 70)"}},
		{"other targets (R10)", workload.HPA{MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{cpu(50), mem(90)}}, false,
			[]string{"CPU target 50 %, R10 says 70 %", "memory target 90 %, R10 says 80 %"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Review(tc.h, tc.critical); !slices.Equal(got, tc.want) {
				t.Errorf("Review = %q, want %q", got, tc.want)
			}
		})
	}
}
