package controller

import (
	"time"

	"testing"

	"rightsize.dev/rightsize/report/crd/v1alpha1"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestChanged(t *testing.T) {
	plan := func(cpu workload.Millicores, mem workload.Bytes, hasCPU bool) workload.WorkloadPlan {
		return workload.WorkloadPlan{Containers: []workload.ContainerPlan{{Name: "app", Recommendation: workload.Recommendation{
			HasCPU: hasCPU, HasMemory: true, Target: workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}}}}}
	}
	for _, tc := range []struct {
		name      string
		prev, cur workload.WorkloadPlan
		want      string
	}{
		{"same", plan(100, 100*workload.MiB, true), plan(100, 100*workload.MiB, true), ""},
		{"within the threshold", plan(100, 100*workload.MiB, true), plan(110, 91*workload.MiB, true), ""},
		{"cpu up", plan(100, 100*workload.MiB, true), plan(111, 100*workload.MiB, true), "recommendation changed: app cpu request 100m → 111m (+11%)"},
		{"memory down", plan(100, 100*workload.MiB, true), plan(100, 80*workload.MiB, true), "recommendation changed: app memory request 100Mi → 80Mi (-20%)"},
		{"from zero", plan(0, 100*workload.MiB, true), plan(5, 100*workload.MiB, true), "recommendation changed: app cpu request 0 → 5m (new)"},
		{"cpu no longer recommended", plan(100, 100*workload.MiB, true), plan(300, 100*workload.MiB, false), ""},
		{"a new container", workload.WorkloadPlan{}, plan(300, 100*workload.MiB, true), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, changed(tc.prev, tc.cur, 0.1))
		})
	}
}

func TestFingerprintIgnoresTimesOnly(t *testing.T) {
	wp := workload.WorkloadPlan{Key: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "web"}, Replicas: 2,
		Containers: []workload.ContainerPlan{{Name: "app", Recommendation: workload.Recommendation{HasCPU: true,
			Target: workload.Settings{Requests: workload.Resources{CPU: 100}}, Confidence: 0.5}}}}
	plan := workload.Plan{Profile: "balanced", Generated: t0}
	a := fingerprint(v1alpha1.FromPlan(wp, plan))
	plan.Generated = t0.Add(time.Hour)
	assert.Equal(t, a, fingerprint(v1alpha1.FromPlan(wp, plan)), "a new time alone is no change")
	wp.Containers[0].Recommendation.Target.Requests.CPU = 101
	assert.NotEqual(t, a, fingerprint(v1alpha1.FromPlan(wp, plan)))
}
