package controller

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestJointHPA(t *testing.T) {
	cpu := func(name string, min, max, target int) *workload.HPA {
		return &workload.HPA{Name: name, MinReplicas: min, MaxReplicas: max, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: target}}}
	}
	wp := func(a *workload.Autoscaling) workload.WorkloadPlan { return workload.WorkloadPlan{Autoscaling: a} }
	h, ok, _ := jointHPA(wp(&workload.Autoscaling{Current: cpu("web", 0, 10, 70), Recommended: cpu("", 3, 8, 60), PodCPU: 400}))
	require.True(t, ok)
	assert.Equal(t, apply.RecordedHPA{Name: "web", From: apply.HPASettings{MinReplicas: 1, MaxReplicas: 10, CPUUtilization: 70}, To: apply.HPASettings{MinReplicas: 3, MaxReplicas: 8, CPUUtilization: 60}}, h, "minReplicas 0 is 1")
	two := cpu("web", 2, 10, 70)
	two.Metrics = append(two.Metrics, workload.MetricTarget{Resource: "requests_per_second", AverageValue: "1k"})
	for _, tc := range []struct {
		a   *workload.Autoscaling
		why string
	}{
		{nil, "no HPA recommended"},
		{&workload.Autoscaling{Current: cpu("web", 2, 10, 70)}, "no HPA recommended"},
		{&workload.Autoscaling{Current: cpu("web", 2, 10, 70), Recommended: cpu("", 3, 8, 60)}, "not sized with the HPA"},
		{&workload.Autoscaling{Current: two, Recommended: cpu("", 3, 8, 60), PodCPU: 400}, "more than CPU utilization"},
	} {
		_, ok, why := jointHPA(wp(tc.a))
		assert.False(t, ok)
		assert.Contains(t, why, tc.why)
	}
}

// TestApplyWithHPA: a CPU request an HPA scales on is written together with
// the HPA recommended with it (R10), the HPA first; the record keeps both,
// and a rollback puts both back.
func TestApplyWithHPA(t *testing.T) {
	replicas := int32(3)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3},
	}
	hpa := webHPA()
	cs := fake.NewClientset(dep, hpa, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})
	a, counter := forcingApplier(t, cs)

	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	cur := &workload.HPA{Name: "web", Target: k, MinReplicas: 1, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}}
	rec := &workload.HPA{Target: k, MinReplicas: 3, MaxReplicas: 8, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}}
	set := func(cpu workload.Millicores) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu}}
	}
	plan := workload.Plan{Workloads: []workload.WorkloadPlan{{Key: k, Replicas: 3,
		Containers:  []workload.ContainerPlan{{Name: "app", Current: set(500), Recommendation: workload.Recommendation{HasCPU: true, Target: set(400), Confidence: 1}}},
		Autoscaling: &workload.Autoscaling{Current: cur, Recommended: rec, PodCPU: 400}}}}
	inv := &kube.Inventory{Specs: map[workload.Key]workload.Spec{k: {Key: k, Annotations: map[string]string{apply.Key: "auto"}}}, HPAs: []workload.HPA{*cur}}

	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	a.run(context.Background(), plan, inv, now)
	assert.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("applied", apply.ReasonApply)))
	ctx := context.Background()
	h, err := cs.AutoscalingV2().HorizontalPodAutoscalers("shop").Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotNil(t, h.Spec.MinReplicas)
	assert.Equal(t, int32(3), *h.Spec.MinReplicas)
	assert.Equal(t, int32(8), h.Spec.MaxReplicas)
	assert.Equal(t, int32(60), *h.Spec.Metrics[0].Resource.Target.AverageUtilization)
	d, err := cs.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "400m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String())
	r, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
	require.NoError(t, err)
	require.NotNil(t, r.HPA)
	assert.Equal(t, apply.HPASettings{MinReplicas: 1, MaxReplicas: 10, CPUUtilization: 70}, r.HPA.From)

	// Fewer ready than desired once rolled out: both go back.
	d.Status.ReadyReplicas = 1
	d.Status.ObservedGeneration = d.Generation
	_, err = cs.AppsV1().Deployments("shop").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	a.run(ctx, plan, inv, now.Add(10*time.Minute))
	assert.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("rolled-back", apply.ReasonNotReady)))
	h, err = cs.AutoscalingV2().HorizontalPodAutoscalers("shop").Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), *h.Spec.MinReplicas)
	assert.Equal(t, int32(10), h.Spec.MaxReplicas)
	assert.Equal(t, int32(70), *h.Spec.Metrics[0].Resource.Target.AverageUtilization)
	d, err = cs.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "500m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String())
}

// TestApplyInPlaceWithHPA: in place too, the HPA moves with the CPU
// request it scales on (R10), before the pods are resized, and a rollback
// puts both back; the template stays.
func TestApplyInPlaceWithHPA(t *testing.T) {
	replicas := int32(2)
	res := func(cpu string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
	}
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Generation: 1, Annotations: map[string]string{apply.Key: "in-place-only"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: res("500m")}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2},
	}
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: res("500m")}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app",
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, Resources: ptr.To(res("500m"))}}}}
	}
	hpa := webHPA()
	cs := fake.NewClientset(dep, hpa, pod("web-a"), pod("web-b"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})
	cs.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "pods"}, {Name: "pods/resize"}}}}
	a, counter := forcingApplier(t, cs)

	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	cur := &workload.HPA{Name: "web", Target: k, MinReplicas: 1, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}}
	rec := &workload.HPA{Target: k, MinReplicas: 3, MaxReplicas: 8, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}}
	set := func(cpu workload.Millicores) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu}}
	}
	plan := workload.Plan{Workloads: []workload.WorkloadPlan{{Key: k, Replicas: 2,
		Containers:  []workload.ContainerPlan{{Name: "app", Current: set(500), Recommendation: workload.Recommendation{HasCPU: true, Target: set(400), Confidence: 1}}},
		Autoscaling: &workload.Autoscaling{Current: cur, Recommended: rec, PodCPU: 400}}}}
	inv := &kube.Inventory{Specs: map[workload.Key]workload.Spec{k: {Key: k, Annotations: dep.Annotations}}, HPAs: []workload.HPA{*cur},
		Pods: map[kube.PodRef]workload.Key{{Namespace: "shop", Name: "web-a"}: k, {Namespace: "shop", Name: "web-b"}: k}}
	ctx := context.Background()
	podCPU := func(want string) {
		t.Helper()
		for _, name := range []string{"web-a", "web-b"} {
			p, err := cs.CoreV1().Pods("shop").Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, want, p.Spec.Containers[0].Resources.Requests.Cpu().String(), name)
		}
	}
	hpaIs := func(min, max, target int32) {
		t.Helper()
		h, err := cs.AutoscalingV2().HorizontalPodAutoscalers("shop").Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.NotNil(t, h.Spec.MinReplicas)
		assert.Equal(t, []int32{min, max, target}, []int32{*h.Spec.MinReplicas, h.Spec.MaxReplicas, *h.Spec.Metrics[0].Resource.Target.AverageUtilization})
	}

	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	a.run(ctx, plan, inv, now)
	assert.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("applied", apply.ReasonApply)))
	hpaIs(3, 8, 60)
	podCPU("400m")
	d, err := cs.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "500m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(), "in place: the template stays")
	r, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
	require.NoError(t, err)
	require.NotNil(t, r.HPA)
	assert.Equal(t, apply.HPASettings{MinReplicas: 3, MaxReplicas: 8, CPUUtilization: 60}, r.HPA.To)

	// Fewer ready than desired: the pods and the HPA go back.
	d.Status.ReadyReplicas = 1
	_, err = cs.AppsV1().Deployments("shop").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	a.run(ctx, plan, inv, now.Add(10*time.Minute))
	assert.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("rolled-back", apply.ReasonNotReady)))
	hpaIs(1, 10, 70)
	podCPU("500m")
}

// webHPA is shop's HPA of the Deployment web on CPU at 70 %, up to 10.
func webHPA() *autoscalingv2.HorizontalPodAutoscaler {
	target := int32(70)
	return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}}
}

// forcingApplier is an applier on cs with --apply=on and every guard rail
// but confidence (the plans are made up), taking the resources over from
// another manager: the objects the fake makes are owned by one, as
// kubectl's would be.
func forcingApplier(t *testing.T, cs kubernetes.Interface) (*applier, *prometheus.CounterVec) {
	t.Helper()
	counter, err := newApplyCounter(prometheus.NewRegistry())
	require.NoError(t, err)
	guards := apply.DefaultGuards
	guards.MinConfidence = 0
	c := &Controller{kube: cs, dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), recorder: record.NewFakeRecorder(20), applies: counter,
		o: Options{Apply: ApplyOptions{Switch: apply.SwitchOn, Guards: guards, Rate: 10, RatePer: time.Hour, Watch: time.Hour, ForceConflicts: true}}}
	return &applier{l: &leader{c: c, log: slog.New(slog.DiscardHandler), watcher: noWatcher{}}, told: map[workload.Key]string{}, budget: apply.Budget{N: 10, Per: time.Hour}}, counter
}
