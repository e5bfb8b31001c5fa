package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"rightsize.dev/rightsize/recommender/workload"
)

// vpaServedResources is what discovery answers when the VPA CRD exists.
var vpaServedResources = []*metav1.APIResourceList{{GroupVersion: "autoscaling.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "verticalpodautoscalers", Namespaced: true, Kind: "VerticalPodAutoscaler"}}}}

// fakeCluster returns a fake clientset holding the fixture's typed
// objects, with the VPA API served, and a dynamic client holding its VPA.
func fakeCluster() (*fake.Clientset, *dynamicfake.FakeDynamicClient) {
	l := fixture()
	var objs []runtime.Object
	for _, o := range l.deployments {
		objs = append(objs, o)
	}
	for _, o := range l.statefulsets {
		objs = append(objs, o)
	}
	for _, o := range l.daemonsets {
		objs = append(objs, o)
	}
	for _, o := range l.replicasets {
		objs = append(objs, o)
	}
	for _, o := range l.jobs {
		objs = append(objs, o)
	}
	for _, o := range l.cronjobs {
		objs = append(objs, o)
	}
	for _, o := range fixturePods() {
		objs = append(objs, o)
	}
	for _, o := range l.hpas {
		objs = append(objs, o)
	}
	for _, o := range l.limitranges {
		objs = append(objs, o)
	}
	for _, o := range l.quotas {
		objs = append(objs, o)
	}
	cs := fake.NewClientset(objs...)
	cs.Resources = vpaServedResources
	vpa := l.vpas[0]
	vpa.SetAPIVersion("autoscaling.k8s.io/v1")
	vpa.SetKind("VerticalPodAutoscaler")
	dc := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{VPAResource: "VerticalPodAutoscalerList"}, vpa)
	return cs, dc
}

// refuse makes the clientset answer every list of resource with err.
func refuse(cs *fake.Clientset, resource string, err error) {
	cs.PrependReactor("list", resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, err
	})
}

// startWatcher starts a Watcher whose informers run until the test ends.
func startWatcher(t *testing.T, c WatchClients, o Options) *Watcher {
	t.Helper()
	w, err := NewWatcher(c, o, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	require.NoError(t, w.Start(ctx))
	return w
}

// TestWatcherMatchesDiscover runs Discover and a Watcher on the same fake
// cluster: the inventories and the warnings must be the same, and a kind
// that cannot be listed must not be watched.
func TestWatcherMatchesDiscover(t *testing.T) {
	forbidden := func(resource string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("RBAC"))
	}
	tests := []struct {
		name      string
		noDynamic bool
		setup     func(*fake.Clientset)
		// unreadable are the kinds warned about.
		unreadable []string
		check      func(*testing.T, *Inventory)
	}{
		{name: "every kind readable", check: func(t *testing.T, inv *Inventory) {
			assert.Equal(t, key(workload.Deployment, "web"), inv.Pods[PodRef{ns, "web-5d9c8-aaaaa"}], "Deployment → ReplicaSet → pod")
			assert.Equal(t, key(workload.CronJob, "report"), inv.Pods[PodRef{ns, "report-29000000-eeeee"}], "CronJob → Job → pod")
			assert.Len(t, inv.Specs, 10)
			assert.Len(t, inv.HPAs, 1)
			assert.Len(t, inv.VPAs, 1)
			assert.Len(t, inv.LimitRanges, 1)
			assert.Len(t, inv.Quotas, 1)
		}},
		{name: "limitranges forbidden", setup: func(cs *fake.Clientset) { refuse(cs, "limitranges", forbidden("limitranges")) },
			unreadable: []string{"limitranges"}, check: func(t *testing.T, inv *Inventory) {
				assert.Empty(t, inv.LimitRanges)
				assert.Len(t, inv.Specs, 10)
			}},
		{name: "replicasets forbidden", setup: func(cs *fake.Clientset) { refuse(cs, "replicasets", forbidden("replicasets")) },
			unreadable: []string{"replicasets"}, check: func(t *testing.T, inv *Inventory) {
				assert.Equal(t, key(workload.Deployment, "web"), inv.Pods[PodRef{ns, "web-5d9c8-aaaaa"}], "by pod-template-hash")
			}},
		{name: "cronjobs not served", setup: func(cs *fake.Clientset) {
			refuse(cs, "cronjobs", apierrors.NewNotFound(schema.GroupResource{Group: "batch", Resource: "cronjobs"}, ""))
		}, unreadable: []string{"cronjobs"}},
		{name: "pods and quotas forbidden", setup: func(cs *fake.Clientset) {
			refuse(cs, "pods", forbidden("pods"))
			refuse(cs, "resourcequotas", forbidden("resourcequotas"))
		}, unreadable: []string{"pods", "resourcequotas"}, check: func(t *testing.T, inv *Inventory) {
			assert.Empty(t, inv.Pods)
		}},
		{name: "VPA CRD not installed", setup: func(cs *fake.Clientset) { cs.Resources = nil },
			unreadable: []string{"verticalpodautoscalers"}, check: func(t *testing.T, inv *Inventory) {
				assert.Empty(t, inv.VPAs)
			}},
		{name: "no dynamic client", noDynamic: true, check: func(t *testing.T, inv *Inventory) {
			assert.Empty(t, inv.VPAs)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, dc := fakeCluster()
			if tt.setup != nil {
				tt.setup(cs)
			}
			var dyn dynamic.Interface
			if !tt.noDynamic {
				dyn = dc
			}
			want, wantWarnings, err := Discover(context.Background(), Clients{Kube: cs, Dynamic: dyn}, Options{Namespace: ns}, nil)
			require.NoError(t, err)

			w := startWatcher(t, WatchClients{Kube: cs, Dynamic: dyn}, Options{Namespace: ns})
			got, warnings := w.Inventory()
			require.Equal(t, wantWarnings, warnings)
			require.Equal(t, want, got)

			var warned []string
			for _, w := range warnings {
				warned = append(warned, w.Resource)
			}
			assert.Equal(t, tt.unreadable, warned)
			for _, a := range cs.Actions() {
				if a.GetVerb() == "watch" {
					assert.NotContains(t, tt.unreadable, a.GetResource().Resource, "a kind that cannot be listed is not watched")
				}
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestWatcherForbiddenWarning pins the wording: the same line Discover
// prints.
func TestWatcherForbiddenWarning(t *testing.T) {
	cs, _ := fakeCluster()
	refuse(cs, "limitranges", apierrors.NewForbidden(schema.GroupResource{Resource: "limitranges"}, "", nil))
	w := startWatcher(t, WatchClients{Kube: cs}, Options{Namespace: ns})
	_, warnings := w.Inventory()
	require.Len(t, warnings, 1)
	assert.Equal(t, "cannot list limitranges in namespace shop: forbidden (RBAC); LimitRange clamping (R13) is not applied", warnings[0].String())
}

// watches records the resources whose watch the fake tracker has opened:
// an object created before its watch is open never reaches the cache, as
// the fake does not replay from a resource version.
func watches(cs *fake.Clientset) func(resource string) bool {
	var mu sync.Mutex
	open := map[string]bool{}
	cs.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := a.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		w, err := cs.Tracker().Watch(a.GetResource(), a.GetNamespace(), opts)
		if err == nil {
			mu.Lock()
			open[a.GetResource().Resource] = true
			mu.Unlock()
		}
		return true, w, err
	})
	return func(resource string) bool {
		mu.Lock()
		defer mu.Unlock()
		return open[resource]
	}
}

// TestWatcherFollowsChanges creates and deletes a Deployment after Start:
// the next inventories follow.
func TestWatcherFollowsChanges(t *testing.T) {
	cs, _ := fakeCluster()
	open := watches(cs)
	w := startWatcher(t, WatchClients{Kube: cs}, Options{Namespace: ns})
	require.Eventually(t, func() bool { return open("pods") && open("replicasets") && open("deployments") }, 10*time.Second, 10*time.Millisecond)

	api := key(workload.Deployment, "api")
	apiPod := PodRef{ns, "api-6f7d8-xxxxx"}
	objects := []runtime.Object{
		&appsv1.Deployment{ObjectMeta: meta("api"), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](1), Template: tmpl(ctr("api", "250m", "256Mi", "", ""))}},
		&appsv1.ReplicaSet{ObjectMeta: meta("api-6f7d8", ctrl("Deployment", "api")), Spec: appsv1.ReplicaSetSpec{Template: tmpl(ctr("api", "250m", "256Mi", "", ""))}},
		pod(apiPod.Name, map[string]string{"pod-template-hash": "6f7d8"}, ctrl("ReplicaSet", "api-6f7d8")),
	}
	ctx := context.Background()
	_, err := cs.AppsV1().Deployments(ns).Create(ctx, objects[0].(*appsv1.Deployment), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.AppsV1().ReplicaSets(ns).Create(ctx, objects[1].(*appsv1.ReplicaSet), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().Pods(ns).Create(ctx, objects[2].(*corev1.Pod), metav1.CreateOptions{})
	require.NoError(t, err)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		inv, _ := w.Inventory()
		assert.Equal(c, api, inv.Pods[apiPod])
		s := inv.Specs[api]
		assert.Equal(c, 1, s.Replicas)
		if assert.Len(c, s.Containers, 1) {
			assert.Equal(c, workload.Millicores(250), s.Containers[0].Settings.Requests.CPU)
		}
	}, 10*time.Second, 10*time.Millisecond, "the new Deployment and its pod")

	// An OOM kill in the pod's status shows in OOMKills; other
	// terminations do not.
	assert.Empty(t, w.OOMKills())
	p, err := cs.CoreV1().Pods(ns).Get(ctx, apiPod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	at := metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	p.Status.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "api", RestartCount: 3, Ready: true, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, FinishedAt: at}}},
		{Name: "sidecar", RestartCount: 1, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}}},
	}
	_, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []OOMKill{{Namespace: ns, Pod: apiPod.Name, Container: "api", Restarts: 3, At: at.Time}}, w.OOMKills())
	}, 10*time.Second, 10*time.Millisecond, "the OOM kill")

	require.NoError(t, cs.CoreV1().Pods(ns).Delete(ctx, apiPod.Name, metav1.DeleteOptions{}))
	require.NoError(t, cs.AppsV1().ReplicaSets(ns).Delete(ctx, "api-6f7d8", metav1.DeleteOptions{}))
	require.NoError(t, cs.AppsV1().Deployments(ns).Delete(ctx, "api", metav1.DeleteOptions{}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		inv, _ := w.Inventory()
		assert.NotContains(c, inv.Specs, api)
		assert.NotContains(c, inv.Pods, apiPod)
		assert.Contains(c, inv.Specs, key(workload.Deployment, "web"))
	}, 10*time.Second, 10*time.Millisecond, "the Deployment gone")
}

func TestNewWatcherErrors(t *testing.T) {
	tests := []struct {
		name string
		c    WatchClients
		o    Options
		want string
	}{
		{"invalid selector", WatchClients{Kube: fake.NewClientset()}, Options{Selector: "a in (b"}, `invalid selector "a in (b"`},
		{"no client", WatchClients{}, Options{}, "needs a Kubernetes client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWatcher(tt.c, tt.o, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestWatcherStartErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		setup func(*fake.Clientset)
		want  string
	}{
		{"cancelled", cancelled, nil, "context canceled"},
		{"server error", context.Background(), func(cs *fake.Clientset) { refuse(cs, "pods", apierrors.NewInternalError(errors.New("etcd down"))) },
			"listing pods in namespace shop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, _ := fakeCluster()
			if tt.setup != nil {
				tt.setup(cs)
			}
			w, err := NewWatcher(WatchClients{Kube: cs}, Options{Namespace: ns}, nil)
			require.NoError(t, err)
			err = w.Start(tt.ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			inv, warnings := w.Inventory()
			assert.Empty(t, inv.Specs, "nothing is published by a failed Start")
			assert.Empty(t, warnings)
		})
	}
}

func TestWatcherStartsOnce(t *testing.T) {
	cs, _ := fakeCluster()
	w := startWatcher(t, WatchClients{Kube: cs}, Options{Namespace: ns})
	require.Error(t, w.Start(t.Context()))
}

// TestWatcherInventoryIsTheCallers checks that editing an inventory's
// labels leaves the cache, and so the next inventory, alone.
func TestWatcherInventoryIsTheCallers(t *testing.T) {
	cs, _ := fakeCluster()
	w := startWatcher(t, WatchClients{Kube: cs}, Options{Namespace: ns})
	db := key(workload.StatefulSet, "db")
	inv, _ := w.Inventory()
	inv.Specs[db].Labels[workload.TierKey] = "edited"
	inv, _ = w.Inventory()
	assert.Equal(t, workload.TierCritical, inv.Specs[db].Labels[workload.TierKey])
}

// TestWatcherSelector: the selector narrows the workloads, as in Discover.
func TestWatcherSelector(t *testing.T) {
	cs, _ := fakeCluster()
	w := startWatcher(t, WatchClients{Kube: cs}, Options{Namespace: ns, Selector: "team=ops"})
	inv, _ := w.Inventory()
	assert.Equal(t, []workload.Key{key(workload.Pod, "debug")}, sortedKeys(inv.Specs))
}

// junk adds to an object what the API serves and resolve never reads.
func junk(m *metav1.ObjectMeta, spec *corev1.PodSpec) {
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate}}
	// The UID is read (Events name their object by it): junk keeps it.
	m.ResourceVersion, m.Generation, m.Finalizers = "42", 3, []string{"example.com/keep"}
	if spec == nil {
		return
	}
	spec.Volumes = []corev1.Volume{{Name: "data"}}
	spec.Tolerations = []corev1.Toleration{{Key: "spot"}}
	spec.Affinity = &corev1.Affinity{}
	spec.NodeName, spec.ServiceAccountName, spec.NodeSelector = "node-1", "default", map[string]string{"pool": "a"}
	for _, c := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range c {
			c[i].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
			c[i].ReadinessProbe = &corev1.Probe{PeriodSeconds: 5}
			c[i].Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
			c[i].Env = append(c[i].Env, corev1.EnvVar{Name: "LOG_LEVEL", Value: "debug"},
				corev1.EnvVar{Name: "CATALINA_OPTS", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "opts"}}})
			c[i].TerminationMessagePath, c[i].ImagePullPolicy = "/dev/termination-log", corev1.PullIfNotPresent
		}
	}
}

// junkFixture is the fixture with what the API serves and resolve never
// reads added to every object.
func junkFixture() *listing {
	full := fixture()
	for _, d := range full.deployments {
		junk(&d.ObjectMeta, &d.Spec.Template.Spec)
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": d.Name}}
		d.Status = appsv1.DeploymentStatus{Replicas: 9, ReadyReplicas: 9}
	}
	for _, s := range full.statefulsets {
		junk(&s.ObjectMeta, &s.Spec.Template.Spec)
		s.Spec.ServiceName = "db"
	}
	for _, d := range full.daemonsets {
		junk(&d.ObjectMeta, &d.Spec.Template.Spec)
		d.Status.NumberReady = 1
	}
	for _, rs := range full.replicasets {
		junk(&rs.ObjectMeta, &rs.Spec.Template.Spec)
		rs.Status.Replicas = 3
	}
	for _, j := range full.jobs {
		junk(&j.ObjectMeta, &j.Spec.Template.Spec)
		j.Status.Succeeded = 1
	}
	for _, c := range full.cronjobs {
		junk(&c.ObjectMeta, &c.Spec.JobTemplate.Spec.Template.Spec)
		c.Spec.Schedule = "@hourly"
	}
	for _, h := range full.hpas {
		junk(&h.ObjectMeta, nil)
	}
	full.vpas[0].SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "kubectl"}})
	var pods []*corev1.Pod
	for _, p := range fixturePods() {
		junk(&p.ObjectMeta, &p.Spec)
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true}}}
		pods = append(pods, p)
	}
	full.pods = podInfos(pods)
	return full
}

// TestSlimKeepsWhatResolveReads resolves the fixture with its objects as
// the API serves them, fields resolve does not read included, and as the
// caches keep them: the inventories must not differ.
func TestSlimKeepsWhatResolveReads(t *testing.T) {
	full := junkFixture()
	slimmed := junkFixture()
	slimAll := func(objs any) {
		switch s := objs.(type) {
		case []*appsv1.Deployment:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*appsv1.Deployment)
			}
		case []*appsv1.StatefulSet:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*appsv1.StatefulSet)
			}
		case []*appsv1.DaemonSet:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*appsv1.DaemonSet)
			}
		case []*appsv1.ReplicaSet:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*appsv1.ReplicaSet)
			}
		case []*batchv1.Job:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*batchv1.Job)
			}
		case []*batchv1.CronJob:
			for i, o := range s {
				s[i] = slimmed1(t, o).(*batchv1.CronJob)
			}
		}
	}
	for _, objs := range []any{slimmed.deployments, slimmed.statefulsets, slimmed.daemonsets, slimmed.replicasets, slimmed.jobs, slimmed.cronjobs} {
		slimAll(objs)
	}
	want := resolve(full, labels.Everything(), ns)
	// The full objects' junk metadata is not in a spec; their UIDs are,
	// kept by the slimmed ones.
	assert.Equal(t, want, resolve(slimmed, labels.Everything(), ns))
	assert.Equal(t, resolve(fixture(), labels.Everything(), ns), want)

	// A ReplicaSet or Job with a controller keeps only its reference;
	// DaemonSets keep their desired count; the small kinds lose only
	// their managedFields.
	rs := slimmed.replicasets[0]
	assert.Equal(t, corev1.PodTemplateSpec{}, rs.Spec.Template)
	assert.Equal(t, "web", metav1.GetControllerOf(rs).Name)
	assert.Equal(t, int32(2), slimmed.daemonsets[0].Status.DesiredNumberScheduled)
	h := full.hpas[0]
	_, _ = slim(h)
	assert.Nil(t, h.ManagedFields)
	assert.Equal(t, int32(10), h.Spec.MaxReplicas)
	vpa := full.vpas[0]
	_, _ = slim(vpa)
	assert.Nil(t, vpa.GetManagedFields())
	assert.Equal(t, fixture().vpas[0].Object["spec"], vpa.Object["spec"])
}

// slimmed1 slims an object twice, as a streamed initial list does, and
// checks that the second time changes nothing.
func slimmed1(t *testing.T, obj any) any {
	t.Helper()
	once, err := slim(obj)
	require.NoError(t, err)
	twice, err := slim(once)
	require.NoError(t, err)
	require.Equal(t, once, twice)
	return twice
}

// TestPodInfoKeepsWhatSpecOfReads: a pod's spec, as specOf reads it, is
// the same from the pod as the API serves it and from its podInfo; pods
// of one ReplicaSet share their spec's encoding; of the status only the
// OOM kills are kept.
func TestPodInfoKeepsWhatSpecOfReads(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	for _, p := range fixturePods() {
		p.Spec.InitContainers = []corev1.Container{ctr("init", "10m", "", "", ""), ctr("mesh", "50m", "64Mi", "", "128Mi")}
		p.Spec.InitContainers[1].RestartPolicy = &always
		p.Spec.InitContainers[1].Command, p.Spec.InitContainers[1].Args = []string{"java"}, []string{"-Xmx64m", "-jar", "mesh.jar"}
		p.Spec.PriorityClassName = "high"
		p.Annotations = map[string]string{workload.IgnoreKey: "false", "note": "kept for bare pods",
			corev1.LastAppliedConfigAnnotation: `{"kind":"Pod"}`}
		junk(&p.ObjectMeta, &p.Spec)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true}}
		info := podInfoOf(p)
		k := workload.Key{Namespace: ns, Kind: workload.Pod, Name: p.Name}
		bare := metav1.GetControllerOf(p) == nil || metav1.GetControllerOf(p).Kind == "Node"
		if bare {
			m := *p.ObjectMeta.DeepCopy()
			delete(m.Annotations, corev1.LastAppliedConfigAnnotation)
			want := specOf(k, m, corev1.PodTemplateSpec{ObjectMeta: m, Spec: p.Spec}, 1)
			assert.Equal(t, want, specOf(k, info.ObjectMeta, corev1.PodTemplateSpec{ObjectMeta: info.ObjectMeta, Spec: info.podSpec()}, 1), p.Name)
			assert.Equal(t, p.Labels, info.Labels, p.Name)
			assert.Equal(t, "kept for bare pods", info.Annotations["note"], p.Name)
			assert.Contains(t, p.Annotations, corev1.LastAppliedConfigAnnotation, "the pod's own map is left alone")
		} else {
			want := specOf(k, metav1.ObjectMeta{}, corev1.PodTemplateSpec{Spec: p.Spec}, 0)
			assert.Equal(t, want, specOf(k, metav1.ObjectMeta{}, corev1.PodTemplateSpec{Spec: info.podSpec()}, 0), p.Name)
			assert.Nil(t, info.Labels, p.Name)
			assert.Nil(t, info.Annotations, p.Name)
			assert.Equal(t, p.Labels["pod-template-hash"], info.templateHash, p.Name)
			assert.Equal(t, metav1.GetControllerOf(p).Name, metav1.GetControllerOf(info).Name, p.Name)
			assert.Equal(t, metav1.GetControllerOf(p).Kind, metav1.GetControllerOf(info).Kind, p.Name)
		}
		assert.Empty(t, info.ooms, p.Name)
		again, err := slimPod(info)
		require.NoError(t, err)
		assert.Same(t, info, again, "a podInfo is kept as it is")
	}

	pods := fixturePods()
	a, b := podInfoOf(pods[0]), podInfoOf(pods[1])
	assert.Equal(t, a.spec, b.spec, "one encoding for the pods of one ReplicaSet")

	at := metav1.NewTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	p := pods[0]
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 2, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", FinishedAt: at}}}}
	assert.Equal(t, []oomStatus{{container: "app", restarts: 2, at: at.Time}}, podInfoOf(p).ooms)
}

func TestCompareKeys(t *testing.T) {
	tests := []struct{ ans, an, bns, bn string }{
		{"shop", "a", "shop", "b"},
		{"shop", "b", "shop", "a"},
		{"shop", "a", "shop", "a"},
		{"a", "z", "b", "a"},
		{"a-b", "x", "a", "x"}, // '-' sorts before '/'
		{"a", "x", "ab", "x"},  // '/' sorts before 'b'
		{"ab", "x", "a", "x"},
	}
	sign := func(n int) int { return min(max(n, -1), 1) }
	for _, tt := range tests {
		want := strings.Compare(tt.ans+"/"+tt.an, tt.bns+"/"+tt.bn)
		assert.Equal(t, want, sign(compareKeys(tt.ans, tt.an, tt.bns, tt.bn)), "%+v", tt)
	}
}

// BenchmarkWatcherInventory resolves 10,000 pods of 1,000 Deployments from
// the caches, the controller's load every 30 s.
func BenchmarkWatcherInventory(b *testing.B) {
	var objs []runtime.Object
	for i := range 1000 {
		d := fmt.Sprintf("svc-%03d", i)
		rs := d + "-5d9c8"
		objs = append(objs,
			&appsv1.Deployment{ObjectMeta: meta(d), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](10), Template: tmpl(ctr("app", "100m", "128Mi", "", "256Mi"))}},
			&appsv1.ReplicaSet{ObjectMeta: meta(rs, ctrl("Deployment", d)), Spec: appsv1.ReplicaSetSpec{Template: tmpl(ctr("app", "100m", "128Mi", "", "256Mi"))}})
		for j := range 10 {
			objs = append(objs, pod(fmt.Sprintf("%s-%05d", rs, j), map[string]string{"pod-template-hash": "5d9c8"}, ctrl("ReplicaSet", rs)))
		}
	}
	w, err := NewWatcher(WatchClients{Kube: fake.NewClientset(objs...)}, Options{Namespace: ns}, nil)
	require.NoError(b, err)
	require.NoError(b, w.Start(b.Context()))
	b.ReportAllocs()
	for b.Loop() {
		inv, _ := w.Inventory()
		if len(inv.Pods) != 10000 {
			b.Fatalf("%d pods", len(inv.Pods))
		}
	}
}
