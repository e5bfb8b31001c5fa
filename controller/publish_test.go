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

// TestFingerprintIgnoresWhatDrifts: what moves every cycle as samples come
// in is no change worth a write; the settings, the QoS class, the notes
// and the confidence kubectl shows are.
func TestFingerprintIgnoresWhatDrifts(t *testing.T) {
	base := func() workload.WorkloadPlan {
		return workload.WorkloadPlan{Key: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "web"}, Replicas: 2,
			Containers: []workload.ContainerPlan{{Name: "app", Samples: 1000, Recommendation: workload.Recommendation{HasCPU: true,
				Target: workload.Settings{Requests: workload.Resources{CPU: 100}}, Confidence: 0.95,
				LowerBound: workload.Resources{CPU: 80}, Reasons: []string{"p90 of 1000 samples"}}}}}
	}
	plan := workload.Plan{Profile: "balanced", Generated: t0}
	a := fingerprint(v1alpha1.FromPlan(base(), plan))
	for _, tc := range []struct {
		name   string
		change func(*workload.WorkloadPlan, *workload.Plan)
		same   bool
	}{
		{"a new time", func(_ *workload.WorkloadPlan, p *workload.Plan) { p.Generated = t0.Add(time.Hour) }, true},
		{"more samples", func(wp *workload.WorkloadPlan, _ *workload.Plan) { wp.Containers[0].Samples = 1010 }, true},
		{"the reasons' figures", func(wp *workload.WorkloadPlan, _ *workload.Plan) {
			wp.Containers[0].Recommendation.Reasons = []string{"p90 of 1010 samples"}
		}, true},
		{"a bound", func(wp *workload.WorkloadPlan, _ *workload.Plan) { wp.Containers[0].Recommendation.LowerBound.CPU = 81 }, true},
		{"the replicas", func(wp *workload.WorkloadPlan, _ *workload.Plan) { wp.Replicas = 3 }, true},
		{"the confidence within its percent", func(wp *workload.WorkloadPlan, _ *workload.Plan) { wp.Containers[0].Recommendation.Confidence = 0.951 }, true},
		{"the recommended request", func(wp *workload.WorkloadPlan, _ *workload.Plan) {
			wp.Containers[0].Recommendation.Target.Requests.CPU = 101
		}, false},
		{"the confidence shown", func(wp *workload.WorkloadPlan, _ *workload.Plan) { wp.Containers[0].Recommendation.Confidence = 0.4 }, false},
		{"a note", func(wp *workload.WorkloadPlan, _ *workload.Plan) {
			wp.Notes = []string{"container app sets no requests (R5)"}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wp, p := base(), plan
			tc.change(&wp, &p)
			got := fingerprint(v1alpha1.FromPlan(wp, p))
			if tc.same {
				assert.Equal(t, a, got)
			} else {
				assert.NotEqual(t, a, got)
			}
		})
	}
}
