package controller

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

const crdFile = "../deploy/controller/crd/rightsize.dev_recommendations.yaml"

// TestIntegrationApply runs the controller against the real control plane
// with three Deployments that use a fifth of their requests: opted
// (annotation auto), plain (no opt-in) and optout (annotation off), in
// every position of --apply. Dry run says what it would write and writes
// nothing; on, the resources the test's client owns are a conflict,
// reported and left; with --force-conflicts opted is written once, within
// the step's bounds, with its record, and a new leader does not write it
// again; plain is written only once its namespace opts in, optout never.
func TestIntegrationApply(t *testing.T) {
	kubetest.Kubeconfig(t)
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	kubetest.ApplyCRD(t, cfg, crdFile)
	ns := kubetest.Namespace(t, cs, "apply")
	system := kubetest.Namespace(t, cs, "apply-system")
	ctx := context.Background()
	for _, d := range []*appsv1.Deployment{
		kubetest.Deployment("opted", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "auto"}),
		kubetest.Deployment("plain", 2, "500m", "512Mi", "100m", "100Mi", nil),
		kubetest.Deployment("optout", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "off"}),
		kubetest.Deployment("inplace", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "in-place-only"}),
	} {
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	kubetest.WaitForPodMetrics(t, cfg, ns, 8)
	for _, name := range []string{"opted", "plain", "optout", "inplace"} {
		waitAvailable(t, cs, ns, name)
	}

	run := func(t *testing.T, id string, sw apply.Switch, force bool, until func(*Controller) (bool, error)) *Controller {
		t.Helper()
		return runUntil(t, applyTestController(t, cfg, ns, system, id, sw, force), id+": "+string(sw), until)
	}
	applies := appliesOf
	untouched := func(t *testing.T, names ...string) {
		t.Helper()
		for _, name := range names {
			d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, int64(1), d.Generation, "%s written", name)
			assert.NotContains(t, d.Annotations, apply.RecordKey, name)
			for _, m := range d.ManagedFields {
				assert.NotEqual(t, ApplyFieldManager, m.Manager, "%s: fields owned by the controller", name)
			}
			assert.Equal(t, "500m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(), name)
		}
	}

	podCPU := func(t *testing.T, name, want string) { t.Helper(); podCPUIn(t, cs, ns, name, want) }
	dc := dynamic.NewForConfigOrDie(cfg)
	// applied is the Applied condition of the workload's Recommendation.
	applied := func(name string) (metav1.Condition, error) {
		u, err := dc.Resource(v1alpha1.GroupVersionResource).Namespace(ns).Get(ctx, v1alpha1.Name(workload.Key{Namespace: ns, Kind: workload.Deployment, Name: name}), metav1.GetOptions{})
		if err != nil {
			return metav1.Condition{}, err
		}
		var rec v1alpha1.Recommendation
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &rec); err != nil {
			return metav1.Condition{}, err
		}
		for _, c := range rec.Status.Conditions {
			if c.Type == ConditionApplied {
				return c, nil
			}
		}
		return metav1.Condition{}, fmt.Errorf("%s: no %s condition in %+v", name, ConditionApplied, rec.Status.Conditions)
	}

	t.Run("off", func(t *testing.T) {
		c := run(t, "off", apply.SwitchOff, true, func(c *Controller) (bool, error) {
			// A cycle done: the Recommendations are there.
			_, err := dc.Resource(v1alpha1.GroupVersionResource).Namespace(ns).Get(ctx, v1alpha1.Name(workload.Key{Namespace: ns, Kind: workload.Deployment, Name: "opted"}), metav1.GetOptions{})
			return err == nil, err
		})
		assert.Zero(t, testutil.CollectAndCount(c.applies), "off decides nothing")
		untouched(t, "opted", "plain", "optout", "inplace")
		podCPU(t, "inplace", "500m")
		for _, name := range []string{"opted", "plain", "optout", "inplace"} {
			for _, r := range []string{EventWouldApply, EventNotApplied, EventApplied} {
				assert.False(t, hasEvent(cs, ns, name, r, ""), "%s: an Event %s with --apply=off", name, r)
			}
		}
	})
	t.Run("dry run", func(t *testing.T) {
		c := run(t, "dry", apply.SwitchDryRun, false, func(c *Controller) (bool, error) {
			n := applies(c, "dry-run", apply.ReasonApply)
			return n > 0 && hasEvent(cs, ns, "opted", EventWouldApply, "cpu request 500m → 350m"), fmt.Errorf("%v dry runs", n)
		})
		assert.Positive(t, applies(c, "skipped", apply.ReasonNotOptedIn))
		untouched(t, "opted", "plain", "optout", "inplace")
		podCPU(t, "inplace", "500m")
		assert.True(t, hasEvent(cs, ns, "inplace", EventWouldApply, "dry run, would resize 2 pods in place: app: cpu request 500m → 350m"))
		for _, r := range []string{EventWouldApply, EventNotApplied, EventApplied} {
			assert.False(t, hasEvent(cs, ns, "plain", r, ""), "an Event %s on a workload that did not opt in", r)
		}
	})
	t.Run("on, owned by another manager", func(t *testing.T) {
		run(t, "conflict", apply.SwitchOn, false, func(c *Controller) (bool, error) {
			n := applies(c, "failed", reasonConflict)
			// In place, nothing the test's client owns is written: the
			// pods' resize and the record annotation.
			m := applies(c, "applied", apply.ReasonApply)
			return n > 0 && m > 0 && hasEvent(cs, ns, "opted", EventNotApplied, "another field manager owns the resources"), fmt.Errorf("%v conflicts, %v applies", n, m)
		})
		untouched(t, "opted", "plain", "optout")
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "inplace", metav1.GetOptions{})
		require.NoError(t, err)
		rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=inplace"})
		require.NoError(t, err)
		assert.Len(t, rss.Items, 1, "in place: no rollout")
		assert.Equal(t, "500m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(), "in place: the template stays")
		_, err = apply.ParseRecord(d.Annotations[apply.RecordKey])
		require.NoError(t, err, "in place: the record")
		podCPU(t, "inplace", "350m")
		assert.True(t, hasEvent(cs, ns, "inplace", EventApplied, "resized 2 of 2 pods in place: app: cpu request 500m → 350m"))
	})
	t.Run("in place: a new pod takes the last apply's values", func(t *testing.T) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=inplace"})
		require.NoError(t, err)
		require.NoError(t, cs.CoreV1().Pods(ns).Delete(ctx, pods.Items[0].Name, metav1.DeleteOptions{}))
		waitAvailable(t, cs, ns, "inplace")
		run(t, "newpod", apply.SwitchOn, false, func(c *Controller) (bool, error) {
			n := applies(c, "applied", reasonInPlace)
			return n > 0, fmt.Errorf("%v pods resized", n)
		})
		podCPU(t, "inplace", "350m")
	})
	t.Run("in place: the kubelet's answer", func(t *testing.T) {
		// What the kubelet reports: first that one pod's resize cannot
		// be done on its node, then that every pod runs the new values.
		pod := runningPods(t, cs, ns, "inplace")[0]
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonInfeasible, Message: "Node didn't have enough capacity: cpu"})
		_, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, &pod, metav1.UpdateOptions{})
		require.NoError(t, err)
		run(t, "pending", apply.SwitchOn, false, func(c *Controller) (bool, error) {
			n := applies(c, "skipped", reasonResizePending)
			return n > 0, fmt.Errorf("%v pending", n)
		})
		assert.True(t, hasEvent(cs, ns, "inplace", EventNotApplied, "pod "+pod.Name+": resize infeasible: Node didn't have enough capacity: cpu"))

		actuate(t, cs, ns, "inplace")
		c := run(t, "resized", apply.SwitchOn, false, func(c *Controller) (bool, error) {
			n := applies(c, "resized", reasonInPlace)
			return n > 0 && applies(c, "skipped", apply.ReasonCooldown) > 0, fmt.Errorf("%v told resized", n)
		})
		assert.Equal(t, 1.0, applies(c, "resized", reasonInPlace), "told once")
		assert.True(t, hasEvent(cs, ns, "inplace", EventResized, "resized in place: the kubelet runs the applied values in 2 of 2 pods"))
		cond, err := applied("inplace")
		require.NoError(t, err)
		assert.Equal(t, metav1.ConditionTrue, cond.Status)
		assert.Equal(t, "Resized", cond.Reason)
	})
	t.Run("on, forced", func(t *testing.T) {
		c := run(t, "on", apply.SwitchOn, true, func(c *Controller) (bool, error) {
			n := applies(c, "applied", apply.ReasonApply)
			// A cycle after the apply: the cooldown holds it.
			return n > 0 && applies(c, "skipped", apply.ReasonCooldown) > 0, fmt.Errorf("%v applies", n)
		})
		assert.Equal(t, 1.0, applies(c, "applied", apply.ReasonApply))
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "opted", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int64(2), d.Generation)
		res := d.Spec.Template.Spec.Containers[0].Resources
		// 100m used of 500m: at most 30 % down in one step.
		assert.Equal(t, "350m", res.Requests.Cpu().String())
		assert.Equal(t, "359Mi", res.Requests.Memory().String(), "512Mi less 30 %, up to a whole MiB")
		rec, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
		require.NoError(t, err)
		require.Len(t, rec.Containers, 1)
		assert.Equal(t, "app", rec.Containers[0].Name)
		assert.EqualValues(t, 500, rec.Containers[0].From.Requests.CPU)
		assert.EqualValues(t, 350, rec.Containers[0].To.Requests.CPU)
		owners := map[string]bool{}
		for _, m := range d.ManagedFields {
			owners[m.Manager] = true
		}
		assert.True(t, owners[ApplyFieldManager], "managers %v", owners)
		assert.True(t, hasEvent(cs, ns, "opted", EventApplied, "app: cpu request 500m → 350m"))
		cond, err := applied("opted")
		require.NoError(t, err)
		assert.Equal(t, metav1.ConditionTrue, cond.Status)
		assert.Equal(t, "Applied", cond.Reason)
		assert.Contains(t, cond.Message, "app: cpu request 500m → 350m")
		untouched(t, "plain", "optout")
	})
	t.Run("a new leader does not apply again", func(t *testing.T) {
		c := run(t, "again", apply.SwitchOn, true, func(c *Controller) (bool, error) {
			n := applies(c, "skipped", apply.ReasonCooldown)
			return n > 0, fmt.Errorf("%v cooldowns", n)
		})
		assert.Zero(t, applies(c, "applied", apply.ReasonApply))
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "opted", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int64(2), d.Generation)
	})
	t.Run("an OOM kill after the apply rolls the memory back", func(t *testing.T) {
		waitAvailable(t, cs, ns, "opted")
		// The kill must come after the apply, and a status time has whole
		// seconds: wait for the second after the apply's.
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "opted", metav1.GetOptions{})
		require.NoError(t, err)
		before, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
		require.NoError(t, err)
		time.Sleep(time.Until(before.At.Truncate(time.Second).Add(time.Second)))
		pod := runningPod(t, cs, ns, "opted")
		// What the kubelet reports after an OOM kill, kwok's pod status
		// written as it would be.
		st := &pod.Status.ContainerStatuses[0]
		st.RestartCount++
		st.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.NewTime(time.Now().Add(-time.Minute)), FinishedAt: metav1.Now()}}
		_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		require.NoError(t, err)
		c := run(t, "oom", apply.SwitchOn, true, func(c *Controller) (bool, error) {
			n := applies(c, "rolled-back", apply.ReasonOOMKill)
			// The cycle's conditions are written at its end.
			cond, err := applied("opted")
			return n > 0 && cond.Reason == "RolledBack", fmt.Errorf("%v rollbacks, condition %+v (%v)", n, cond, err)
		})
		assert.Equal(t, 1.0, applies(c, "rolled-back", apply.ReasonOOMKill))
		d, err = cs.AppsV1().Deployments(ns).Get(ctx, "opted", metav1.GetOptions{})
		require.NoError(t, err)
		res := d.Spec.Template.Spec.Containers[0].Resources
		assert.Equal(t, "512Mi", res.Requests.Memory().String(), "memory back")
		assert.Equal(t, "350m", res.Requests.Cpu().String(), "the CPU step stays")
		rec, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
		require.NoError(t, err)
		assert.False(t, rec.RolledBack.IsZero())
		assert.Contains(t, rec.Why, "container app of pod "+pod.Name+" was OOM killed")
		assert.True(t, hasEvent(cs, ns, "opted", EventRolledBack, "rolled back: container app of pod "+pod.Name))
		cond, err := applied("opted")
		require.NoError(t, err)
		assert.Equal(t, metav1.ConditionFalse, cond.Status)
		assert.Equal(t, "RolledBack", cond.Reason)
		assert.Contains(t, cond.Message, "was OOM killed")
	})
	t.Run("the namespace opts in", func(t *testing.T) {
		n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		require.NoError(t, err)
		n.Labels[apply.Key] = "auto"
		_, err = cs.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{})
		require.NoError(t, err)
		waitAvailable(t, cs, ns, "opted")
		run(t, "label", apply.SwitchOn, true, func(c *Controller) (bool, error) {
			n := applies(c, "applied", apply.ReasonApply)
			return n > 0, fmt.Errorf("%v applies", n)
		})
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "plain", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "350m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String())
		untouched(t, "optout")
	})
	t.Run("a restart loop after the apply rolls everything back", func(t *testing.T) {
		waitAvailable(t, cs, ns, "plain")
		pod := runningPod(t, cs, ns, "plain")
		st := &pod.Status.ContainerStatuses[0]
		st.RestartCount += 5
		st.Ready = false
		st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container"}}
		_, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		require.NoError(t, err)
		run(t, "loop", apply.SwitchOn, true, func(c *Controller) (bool, error) {
			n := applies(c, "rolled-back", apply.ReasonRestartLoop)
			return n > 0, fmt.Errorf("%v rollbacks", n)
		})
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "plain", metav1.GetOptions{})
		require.NoError(t, err)
		res := d.Spec.Template.Spec.Containers[0].Resources
		assert.Equal(t, "500m", res.Requests.Cpu().String(), "cpu back")
		assert.Equal(t, "512Mi", res.Requests.Memory().String(), "memory back")
		rec, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
		require.NoError(t, err)
		assert.Contains(t, rec.Why, "restarts in a loop")
	})
}

// TestIntegrationResizeSidecar sends the patch the in-place path makes
// through pods/resize for a pod with a native sidecar: the apiserver takes
// a restartable init container's new resources as a container's.
// (kwok's emulated kubelet reports no usage of init containers, so the
// controller's own run cannot recommend one here.)
func TestIntegrationResizeSidecar(t *testing.T) {
	kubetest.Kubeconfig(t)
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := kubetest.Namespace(t, cs, "sidecar")
	ctx := context.Background()
	d := kubetest.Deployment("sidecar", 1, "500m", "512Mi", "100m", "100Mi", nil)
	d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: d.Spec.Template.Spec.Containers[0].Image,
		RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		Resources:     corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")}}}}
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	require.NoError(t, err)
	waitAvailable(t, cs, ns, "sidecar")
	pod := runningPods(t, cs, ns, "sidecar")[0]
	set := func(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}
	}
	patch := resizePatch(pod.Spec, []apply.RecordedContainer{{Name: "app", To: set(350, 512*workload.MiB)}, {Name: "proxy", Sidecar: true, To: set(140, 90*workload.MiB)}})
	require.NotNil(t, patch)
	_, err = cs.CoreV1().Pods(ns).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: ApplyFieldManager}, "resize")
	require.NoError(t, err)
	got, err := cs.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "350m", got.Spec.Containers[0].Resources.Requests.Cpu().String())
	assert.Equal(t, "512Mi", got.Spec.Containers[0].Resources.Requests.Memory().String())
	assert.Equal(t, "140m", got.Spec.InitContainers[0].Resources.Requests.Cpu().String())
	assert.Equal(t, "90Mi", got.Spec.InitContainers[0].Resources.Requests.Memory().String())
	assert.Nil(t, resizePatch(got.Spec, []apply.RecordedContainer{{Name: "proxy", Sidecar: true, To: set(140, 90*workload.MiB)}}), "at the values: nothing to send")
}

// applyTestController is a controller of the apply tests: ns's workloads
// on cfg's apiserver, its lease in system, cycles of a second, the vpa
// profile and every guard rail but confidence (the history is minutes
// long), --apply sw.
func applyTestController(t *testing.T, cfg *rest.Config, ns, system, id string, sw apply.Switch, force bool) *Controller {
	t.Helper()
	profile, err := policy.ByName("vpa")
	require.NoError(t, err)
	guards := apply.DefaultGuards
	guards.MinConfidence = 0
	c, err := New(Options{Cluster: cluster.Config{REST: rest.CopyConfig(cfg), Namespace: ns}, Registry: prometheus.NewRegistry(),
		Namespace: system, Identity: id, LeaseDuration: 6 * time.Second, RenewDeadline: 4 * time.Second, RetryPeriod: time.Second,
		Interval: time.Second, Recommend: 2 * time.Second, Checkpoint: 2 * time.Second,
		Recommender: recommender.Recommender{Profile: profile}, Log: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Apply: ApplyOptions{Switch: sw, Guards: guards, Rate: 10, RatePer: time.Hour, ForceConflicts: force, Watch: time.Hour}})
	require.NoError(t, err)
	return c
}

// runUntil runs c until until holds (90 s at most), then stops it: Run
// ends without an error.
func runUntil(t *testing.T, c *Controller, what string, until func(*Controller) (bool, error)) *Controller {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		assert.NoError(t, <-done)
	}()
	kubetest.Eventually(t, 90*time.Second, what, func(context.Context) (bool, error) { return until(c) })
	return c
}

// appliesOf is c's rightsize_apply_total of result and reason.
func appliesOf(c *Controller, result, reason string) float64 {
	return testutil.ToFloat64(c.applies.WithLabelValues(result, reason))
}

// runningPods are the running pods of the Deployment name.
func runningPods(t *testing.T, cs kubernetes.Interface, ns, name string) []corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	require.NotEmpty(t, out, "running pods of %s", name)
	return out
}

// actuate writes into each running pod of the Deployment what a kubelet
// reports once it resized the pod: every container's resources in the
// status as its spec has them, no resize condition.
func actuate(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	for _, p := range runningPods(t, cs, ns, name) {
		for i, c := range p.Spec.Containers {
			p.Status.ContainerStatuses[i].Resources = c.Resources.DeepCopy()
		}
		for i, c := range p.Spec.InitContainers {
			p.Status.InitContainerStatuses[i].Resources = c.Resources.DeepCopy()
		}
		p.Status.Conditions = slices.DeleteFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.PodResizePending || c.Type == corev1.PodResizeInProgress
		})
		_, err := cs.CoreV1().Pods(ns).UpdateStatus(context.Background(), &p, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
}

// runningPod is a running pod of the Deployment name.
func runningPod(t *testing.T, cs kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 {
			return p
		}
	}
	t.Fatalf("no running pod of %s", name)
	return nil
}

// podCPUIn checks the CPU request of app in every running pod of the
// Deployment.
func podCPUIn(t *testing.T, cs kubernetes.Interface, ns, name, want string) {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	require.NoError(t, err)
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		n++
		assert.Equal(t, want, p.Spec.Containers[0].Resources.Requests.Cpu().String(), "pod %s", p.Name)
	}
	assert.Positive(t, n, "running pods of %s", name)
}

// hasEvent says whether an Event of reason on the Deployment name says msg.
func hasEvent(cs kubernetes.Interface, ns, name, reason, msg string) bool {
	sel := fields.Set{"involvedObject.name": name, "involvedObject.kind": "Deployment", "reason": reason}
	l, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: sel.AsSelector().String()})
	if err != nil {
		return false
	}
	for _, e := range l.Items {
		if strings.Contains(e.Message, msg) && e.Source.Component == FieldManager {
			return true
		}
	}
	return false
}

// waitAvailable waits until the Deployment's rollout is done.
func waitAvailable(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	kubetest.Eventually(t, 90*time.Second, name+" rolled out", func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := d.Status
		return st.ObservedGeneration == d.Generation && st.UpdatedReplicas == *d.Spec.Replicas && st.ReadyReplicas == *d.Spec.Replicas &&
			st.Replicas == st.UpdatedReplicas, fmt.Errorf("status %+v", st)
	})
}
