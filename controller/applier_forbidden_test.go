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
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/workload"
)

type noWatcher struct{}

func (noWatcher) Start(context.Context) error                  { return nil }
func (noWatcher) Inventory() (*kube.Inventory, []kube.Warning) { return &kube.Inventory{}, nil }
func (noWatcher) OOMKills() []kube.OOMKill                     { return nil }

// applySetup is a leader's applier over a fake clientset holding the
// Deployment shop/web (two ready replicas, app at 500m), and a plan that
// cuts app to 400m; every patch of a Deployment is refused (403) and
// counted in patches.
type applySetup struct {
	a       *applier
	counter *prometheus.CounterVec
	events  *record.FakeRecorder
	plan    workload.Plan
	inv     *kube.Inventory
	patches *int
}

func newApplySetup(t *testing.T, annotations map[string]string, objects ...runtime.Object) applySetup {
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2},
	}
	cs := fake.NewClientset(append(objects, dep, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})...)
	patches := 0
	cs.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		patches++
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", nil)
	})
	counter, err := newApplyCounter(prometheus.NewRegistry())
	require.NoError(t, err)
	events := record.NewFakeRecorder(10)
	guards := apply.DefaultGuards
	guards.MinConfidence = 0
	c := &Controller{kube: cs, dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), recorder: events, applies: counter,
		o: Options{Apply: ApplyOptions{Switch: apply.SwitchOn, Guards: guards, Rate: 100, RatePer: time.Hour}}}
	l := &leader{c: c, log: slog.New(slog.DiscardHandler), watcher: noWatcher{}}
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	set := func(cpu workload.Millicores) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu}}
	}
	return applySetup{
		a: &applier{l: l, told: map[workload.Key]string{}, budget: apply.Budget{N: 100, Per: time.Hour}}, counter: counter, events: events,
		plan: workload.Plan{Workloads: []workload.WorkloadPlan{{Key: k, Replicas: 2, Containers: []workload.ContainerPlan{{
			Name: "app", Current: set(500), Recommendation: workload.Recommendation{HasCPU: true, Target: set(400), Confidence: 1}}}}}},
		inv:     &kube.Inventory{Specs: map[workload.Key]workload.Spec{k: {Key: k, Annotations: annotations}}},
		patches: &patches,
	}
}

// TestApplyForbidden: without the apply role every write is refused (403).
// The controller says so once per workload, counts every refusal, and goes
// on with the next cycle: no crash, no Event storm.
func TestApplyForbidden(t *testing.T) {
	s := newApplySetup(t, map[string]string{apply.Key: "auto"})
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	for i := range 3 {
		s.a.run(context.Background(), s.plan, s.inv, now.Add(time.Duration(i)*time.Minute))
	}
	assert.Equal(t, 3, *s.patches, "tried each cycle")
	assert.Equal(t, 3.0, testutil.ToFloat64(s.counter.WithLabelValues("failed", reasonForbidden)))
	assert.Zero(t, testutil.ToFloat64(s.counter.WithLabelValues("applied", apply.ReasonApply)))
	require.Len(t, s.events.Events, 1, "one Event for the three refusals")
	ev := <-s.events.Events
	assert.Contains(t, ev, "Warning "+EventNotApplied)
	assert.Contains(t, ev, "is the apply role bound (deploy/controller/overlays/apply)?")
}

// TestApplyIgnoredOrGone: rightsize.dev/ignore wins over an opt-in (no
// read, no write, no count), and what was told of a workload is forgotten
// once it leaves the plan.
func TestApplyIgnoredOrGone(t *testing.T) {
	s := newApplySetup(t, map[string]string{apply.Key: "auto"})
	k := s.plan.Workloads[0].Key
	spec := s.inv.Specs[k]
	spec.Ignore = true
	s.inv.Specs[k] = spec
	s.a.run(context.Background(), s.plan, s.inv, time.Now())
	assert.Zero(t, *s.patches)
	assert.Zero(t, testutil.CollectAndCount(s.counter))
	assert.Empty(t, s.events.Events)

	spec.Ignore = false
	s.inv.Specs[k] = spec
	s.a.run(context.Background(), s.plan, s.inv, time.Now())
	assert.Contains(t, s.a.told, k)
	s.a.run(context.Background(), workload.Plan{}, s.inv, time.Now())
	assert.NotContains(t, s.a.told, k, "forgotten once not planned")
}

// TestApplyWaitsForDisruptionBudget: a PodDisruptionBudget that selects
// the workload's pods and allows no disruption now holds the rollout (a
// rolling update does not ask it); one that selects other pods does not.
func TestApplyWaitsForDisruptionBudget(t *testing.T) {
	pdb := func(name, app string, allowed int32) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Spec:   policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed, CurrentHealthy: 2, DesiredHealthy: 2, ExpectedPods: 2}}
	}
	s := newApplySetup(t, map[string]string{apply.Key: "auto"}, pdb("web", "web", 0), pdb("db", "db", 0))
	s.a.run(context.Background(), s.plan, s.inv, time.Now())
	assert.Zero(t, *s.patches, "held")
	assert.Equal(t, 1.0, testutil.ToFloat64(s.counter.WithLabelValues("skipped", reasonPDB)))
	require.Len(t, s.events.Events, 1)
	assert.Contains(t, <-s.events.Events, "PodDisruptionBudget web allows no disruption now (2 of 2 pods healthy, 2 desired)")

	s = newApplySetup(t, map[string]string{apply.Key: "auto"}, pdb("web", "web", 1))
	s.a.run(context.Background(), s.plan, s.inv, time.Now())
	assert.Equal(t, 1, *s.patches, "a budget with room lets the write go (refused here by the fake's 403)")
}
