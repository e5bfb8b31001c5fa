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

func TestEvaluate(t *testing.T) {
	key := func(kind workload.Kind, name string) workload.Key {
		return workload.Key{Namespace: "ns", Kind: kind, Name: name}
	}
	covered, busy, bursty, quiet, job, gone := key(workload.Deployment, "covered"), key(workload.Deployment, "busy"),
		key(workload.StatefulSet, "bursty"), key(workload.Deployment, "quiet"), key(workload.Job, "job"), key(workload.Deployment, "gone")
	plan := workload.Plan{Workloads: []workload.WorkloadPlan{
		{Key: covered, Replicas: 3, Critical: true},
		{Key: busy, Replicas: 4},
		{Key: bursty, Replicas: 1},
		{Key: quiet, Replicas: 1},
		{Key: job, Replicas: 9},
	}}
	existing := []workload.HPA{
		{Target: covered, MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}},
		{Target: gone, MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}},
	}
	results, scalable := Evaluate(plan, existing, map[workload.Key]float64{bursty: 2.5, quiet: 1.5})
	if scalable != 4 {
		t.Errorf("scalable = %d, want 4 (a Job cannot be scaled)", scalable)
	}
	type row struct {
		key       workload.Key
		existing  bool
		notes     []string
		reasons   []string
		suggested int // minReplicas of the suggestion
	}
	want := []row{
		{key: covered, existing: true, notes: []string{"minReplicas 3, R9/R10 ask for at least 5"}},
		{key: busy, reasons: []string{"4 replicas"}, suggested: MinReplicas},
		{key: bursty, reasons: []string{"bursty CPU: p95 2.5 × median"}, suggested: MinReplicas},
		{key: gone, existing: true, notes: []string{"its workload has no usage history"}},
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(results), len(want), results)
	}
	for i, w := range want {
		r := results[i]
		if r.Workload != w.key || r.Covered() != w.existing || !slices.Equal(r.Notes, w.notes) || !slices.Equal(r.Reasons, w.reasons) {
			t.Errorf("result %d = %+v, want %+v", i, r, w)
		}
		if w.suggested != 0 && (r.Suggested == nil || r.Suggested.MinReplicas != w.suggested || r.Suggested.MaxReplicas != MaxReplicas) {
			t.Errorf("result %d suggests %+v, want min %d max %d", i, r.Suggested, w.suggested, MaxReplicas)
		}
	}
}

func TestBurstiness(t *testing.T) {
	flat := slices.Repeat([]float64{1}, 20)
	spiky := append(slices.Repeat([]float64{1}, 18), 5, 5)
	for _, tc := range []struct {
		name string
		v    []float64
		want float64
	}{
		{"too few samples", []float64{1, 9}, 0},
		{"flat", flat, 1},
		{"spiky", spiky, 5},
		{"zero median", make([]float64, 20), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Burstiness(tc.v); got != tc.want {
				t.Errorf("Burstiness = %v, want %v", got, tc.want)
			}
		})
	}
}
