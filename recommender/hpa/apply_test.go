package hpa

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestSetPodCPU(t *testing.T) {
	rec := func(req, lim workload.Millicores) workload.Recommendation {
		return workload.Recommendation{HasCPU: true, Target: workload.Settings{Requests: workload.Resources{CPU: req}, Limits: workload.Resources{CPU: lim}},
			LowerBound: workload.Resources{CPU: req / 2}, UpperBound: workload.Resources{CPU: req * 2}}
	}
	for _, tc := range []struct {
		name       string
		containers []workload.ContainerPlan
		pod        workload.Millicores
		want       []workload.Settings
	}{
		{"split as the policy recommended, init containers alone",
			[]workload.ContainerPlan{
				{Name: "init", Init: true, Recommendation: rec(100, 0)},
				{Name: "app", Recommendation: rec(300, 600)},
				{Name: "proxy", Init: true, Sidecar: true, Recommendation: rec(100, 100)},
			}, 800,
			[]workload.Settings{
				{Requests: workload.Resources{CPU: 100}},
				{Requests: workload.Resources{CPU: 600}, Limits: workload.Resources{CPU: 600}},
				{Requests: workload.Resources{CPU: 200}, Limits: workload.Resources{CPU: 200}}, // Guaranteed stays so
			}},
		{"split as today without a recommendation",
			[]workload.ContainerPlan{
				{Name: "a", Current: workload.Settings{Requests: workload.Resources{CPU: 100}}},
				{Name: "b", Current: workload.Settings{Requests: workload.Resources{CPU: 300}}},
			}, 200,
			[]workload.Settings{{Requests: workload.Resources{CPU: 50}}, {Requests: workload.Resources{CPU: 150}}}},
		{"nothing set: all on the first",
			[]workload.ContainerPlan{{Name: "a"}, {Name: "b"}}, 200,
			[]workload.Settings{{Requests: workload.Resources{CPU: 200}}, {Requests: workload.Resources{CPU: 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wp := workload.WorkloadPlan{Containers: tc.containers}
			got := SetPodCPU(wp, tc.pod, "why")
			require.Len(t, got.Containers, len(tc.want))
			for i, c := range got.Containers {
				assert.Equal(t, tc.want[i].Requests.CPU, c.Recommended().Requests.CPU, c.Name)
				assert.Equal(t, tc.want[i].Limits.CPU, c.Recommended().Limits.CPU, c.Name)
			}
			assert.Equal(t, tc.containers, wp.Containers, "the input plan is not changed")
		})
	}
}

// TestApply: the pipeline step gives a Deployment with a diurnal load an
// HPA and sizes its request with it; a CronJob gets no Autoscaling.
func TestApply(t *testing.T) {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	job := workload.Key{Namespace: "shop", Kind: workload.CronJob, Name: "nightly"}
	st := history.NewStore()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	l := synth(2, diurnal)
	for i, v := range l.CPU {
		at := t0.Add(time.Duration(i) * time.Minute)
		for p := range 2 {
			st.Add(workload.ContainerKey{Workload: web, Container: "app"}, workload.Sample{Time: at, Pod: []string{"a", "b"}[p], CPU: workload.Cores(v / 2), HasCPU: true})
		}
		st.Add(workload.ContainerKey{Workload: job, Container: "run"}, workload.Sample{Time: at, Pod: "j", CPU: 1, HasCPU: true})
	}
	st.Finalize()
	plan := workload.Plan{Generated: t0.Add(l.Duration() - time.Minute), Workloads: []workload.WorkloadPlan{
		{Key: job, Containers: []workload.ContainerPlan{{Name: "run"}}},
		{Key: web, Replicas: 2, Containers: []workload.ContainerPlan{{Name: "app", Current: workload.Settings{Requests: workload.Resources{CPU: 1000}}}}},
	}}
	out := Apply(plan, StoreLoads(st), []workload.HPA{{Name: "web", Target: web, MinReplicas: 2, MaxReplicas: 8, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}}}, true, DefaultOptions)
	assert.Nil(t, out.Workloads[0].Autoscaling)
	a := out.Workloads[1].Autoscaling
	require.NotNil(t, a)
	require.NotNil(t, a.Current)
	require.NotNil(t, a.Recommended)
	assert.InDelta(t, 2*24*60, a.Load.Samples, 1)
	assert.InDelta(t, 5, float64(a.Load.Peak), 0.05, "the pods' sum")
	assert.Equal(t, a.PodCPU, out.Workloads[1].Containers[0].Recommended().Requests.CPU)
	assert.Contains(t, out.Workloads[1].Containers[0].Recommendation.Reasons[0], "chosen with the HPA")
	assert.Nil(t, plan.Workloads[1].Autoscaling, "the input plan is not changed")
}

// TestApplyKeepsCPUOfUnsizedHPA: with too little aggregate load to size
// the pod and the HPA together, a workload whose HPA scales on CPU keeps
// its CPU requests (a request from per-pod usage would move the HPA's
// scaling point); one whose HPA scales on another metric, or that has
// none, keeps the per-container policy's.
func TestApplyKeepsCPUOfUnsizedHPA(t *testing.T) {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	ck := workload.ContainerKey{Workload: web, Container: "app"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	st := history.NewStore()
	for i := range 120 { // two hours: below MinHistory
		st.Add(ck, workload.Sample{Time: t0.Add(time.Duration(i) * time.Minute), Pod: "a", CPU: 0.3, HasCPU: true})
	}
	st.Finalize()
	container := func() workload.ContainerPlan {
		return workload.ContainerPlan{Name: "app",
			Current: workload.Settings{Requests: workload.Resources{CPU: 1000}, Limits: workload.Resources{CPU: 1000}},
			Recommendation: workload.Recommendation{HasCPU: true, Target: workload.Settings{Requests: workload.Resources{CPU: 300}, Limits: workload.Resources{CPU: 300}},
				LowerBound: workload.Resources{CPU: 200}, UpperBound: workload.Resources{CPU: 600}}}
	}
	onCPU := workload.HPA{Name: "web", Target: web, MinReplicas: 3, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}}
	onRPS := workload.HPA{Name: "web", Target: web, MinReplicas: 3, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "rps", AverageValue: "1k"}}}
	for _, tc := range []struct {
		name      string
		hpas      []workload.HPA
		wantCPU   workload.Millicores
		wantLimit workload.Millicores
		kept      bool
		// why is in the HPA's reasons.
		why string
	}{
		{"HPA on CPU: kept", []workload.HPA{onCPU}, 1000, 1000, true, "needed: no HPA recommendation"},
		{"HPA on another metric: the policy's", []workload.HPA{onRPS}, 300, 300, false, "the CPU requests stay with the per-container policy"},
		{"no HPA: the policy's", nil, 300, 300, false, "needed: no HPA recommendation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := workload.Plan{Generated: t0.Add(2 * time.Hour), Workloads: []workload.WorkloadPlan{
				{Key: web, Replicas: 3, Containers: []workload.ContainerPlan{container()}}}}
			out := Apply(plan, StoreLoads(st), tc.hpas, true, DefaultOptions)
			wp := out.Workloads[0]
			require.NotNil(t, wp.Autoscaling)
			assert.Zero(t, wp.Autoscaling.PodCPU, "the model sized no pod")
			got := wp.Containers[0].Recommended()
			assert.Equal(t, tc.wantCPU, got.Requests.CPU)
			assert.Equal(t, tc.wantLimit, got.Limits.CPU, "Guaranteed stays so")
			reasons := strings.Join(wp.Containers[0].Recommendation.Reasons, "\n")
			hpaReasons := joined(*wp.Autoscaling)
			if tc.kept {
				assert.Contains(t, reasons, "cpu request 300m → 1: kept at the current request: HPA web scales on CPU at 50 %")
				assert.Contains(t, hpaReasons, "the containers' CPU requests stay as they are")
				assert.Equal(t, workload.Millicores(2000), wp.Containers[0].Recommendation.UpperBound.CPU, "bounds scale with the request")
			} else {
				assert.NotContains(t, reasons, "kept at the current request")
				assert.NotContains(t, hpaReasons, "stay as they are")
			}
			assert.Contains(t, hpaReasons, tc.why)
		})
	}

	// A container the policy could not recommend for stays without a
	// recommendation: keeping a request is not recommending one.
	none := container()
	none.Recommendation = workload.Recommendation{Reasons: []string{"no recommendation: too little history"}}
	plan := workload.Plan{Generated: t0.Add(2 * time.Hour), Workloads: []workload.WorkloadPlan{
		{Key: web, Replicas: 3, Containers: []workload.ContainerPlan{none}}}}
	out := Apply(plan, StoreLoads(st), []workload.HPA{onCPU}, true, DefaultOptions)
	c := out.Workloads[0].Containers[0]
	assert.False(t, c.Recommendation.HasCPU)
	assert.Equal(t, []string{"no recommendation: too little history"}, c.Recommendation.Reasons)
	assert.NotContains(t, joined(*out.Workloads[0].Autoscaling), "stay as they are")
}
