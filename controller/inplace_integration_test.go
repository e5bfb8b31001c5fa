package controller

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
)

// TestIntegrationApplyInPlaceOnDelete: a StatefulSet that updates its pods
// on delete takes an in-place apply in its template too, without a
// rollout: the running pods are resized (same pods), the template carries
// the new values, the old revision's pods are not a rollout under way,
// and a pod started later starts at the new values, with nothing to
// resize.
func TestIntegrationApplyInPlaceOnDelete(t *testing.T) {
	kubetest.Kubeconfig(t)
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	kubetest.ApplyCRD(t, cfg, crdFile)
	ns := kubetest.Namespace(t, cs, "ondelete")
	system := kubetest.Namespace(t, cs, "ondelete-system")
	ctx := context.Background()
	d := kubetest.Deployment("db", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "in-place-only"})
	sts := &appsv1.StatefulSet{ObjectMeta: d.ObjectMeta, Spec: appsv1.StatefulSetSpec{Replicas: d.Spec.Replicas, ServiceName: "db",
		Selector: d.Spec.Selector, Template: d.Spec.Template, PodManagementPolicy: appsv1.ParallelPodManagement,
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}}}
	_, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
	require.NoError(t, err)
	kubetest.WaitForPodMetrics(t, cfg, ns, 2)
	before := map[string]string{}
	for _, p := range runningPods(t, cs, ns, "db") {
		before[p.Name] = string(p.UID)
	}
	require.Len(t, before, 2)

	run := func(id string, until func(*Controller) bool) *Controller {
		return runUntil(t, applyTestController(t, cfg, ns, system, id, apply.SwitchOn, true), id,
			func(c *Controller) (bool, error) { return until(c), nil })
	}
	applies := appliesOf

	c := run("apply", func(c *Controller) bool {
		// A cycle after the apply: resizing (kwok does not actuate),
		// not a rollout under way.
		return applies(c, "applied", apply.ReasonApply) > 0 && applies(c, "skipped", reasonResizing) > 0
	})
	assert.Zero(t, applies(c, "skipped", apply.ReasonRolling), "pods of the old revision are no rollout on delete")
	got, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "350m", got.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(), "the template carries the values")
	_, err = apply.ParseRecord(got.Annotations[apply.RecordKey])
	require.NoError(t, err)
	after := runningPods(t, cs, ns, "db")
	require.Len(t, after, 2)
	for _, p := range after {
		assert.Equal(t, before[p.Name], string(p.UID), "pod %s: the same pod, resized", p.Name)
		assert.Equal(t, "350m", p.Spec.Containers[0].Resources.Requests.Cpu().String(), p.Name)
	}

	// A pod started later comes from the new template.
	require.NoError(t, cs.CoreV1().Pods(ns).Delete(ctx, after[0].Name, metav1.DeleteOptions{}))
	kubetest.Eventually(t, 90*time.Second, "the pod back", func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, after[0].Name, metav1.GetOptions{})
		return err == nil && string(p.UID) != before[p.Name] && p.Status.Phase == "Running", err
	})
	podCPUIn(t, cs, ns, "db", "350m")
	c = run("later", func(c *Controller) bool { return applies(c, "skipped", reasonResizing) > 0 })
	assert.Zero(t, applies(c, "applied", reasonInPlace), "nothing to resize: the new pod started at the values")
}
