package kube

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

const ns = "shop"

func meta(name string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name), OwnerReferences: owner}
}

func ctrl(kind, name string) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{Kind: kind, Name: name, UID: types.UID(name), Controller: &yes}
}

func rl(cpu, mem string) corev1.ResourceList {
	out := corev1.ResourceList{}
	if cpu != "" {
		out[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		out[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return out
}

func tmpl(containers ...corev1.Container) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}}
}

func ctr(name, reqCPU, reqMem, limCPU, limMem string) corev1.Container {
	return corev1.Container{Name: name, Image: name + ":1", Resources: corev1.ResourceRequirements{Requests: rl(reqCPU, reqMem), Limits: rl(limCPU, limMem)}}
}

func pod(name string, labels map[string]string, owner ...metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta(name, owner...), Spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app", "100m", "64Mi", "", "")}}}
	p.Labels = labels
	return p
}

func ptr[T any](v T) *T { return &v }

// fixture is one namespace with every kind rightsize resolves.
func fixture() *listing {
	always := corev1.ContainerRestartPolicyAlways
	web := tmpl(ctr("app", "500m", "512Mi", "", "1Gi"), ctr("log", "50m", "32Mi", "100m", "64Mi"))
	web.Spec.InitContainers = []corev1.Container{ctr("migrate", "1", "256Mi", "", ""), ctr("proxy", "100m", "64Mi", "", "128Mi")}
	web.Spec.InitContainers[1].RestartPolicy = &always
	web.Spec.PriorityClassName = "high"
	jvm := tmpl(ctr("app", "1", "2Gi", "", "2Gi"))
	jvm.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "JAVA_TOOL_OPTIONS", Value: "-XX:MaxRAMPercentage=75"}}
	critical := meta("db")
	critical.Labels = map[string]string{workload.TierKey: workload.TierCritical}
	ignored := meta("agent")
	ignored.Annotations = map[string]string{workload.IgnoreKey: "true"}
	return &listing{
		failed: map[string]bool{},
		deployments: []*appsv1.Deployment{
			{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](3), Template: web}},
			{ObjectMeta: meta("billing"), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](2), Template: jvm}},
		},
		replicasets: []*appsv1.ReplicaSet{
			{ObjectMeta: meta("web-5d9c8", ctrl("Deployment", "web")), Spec: appsv1.ReplicaSetSpec{Template: web}},
			{ObjectMeta: meta("legacy"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr[int32](1), Template: tmpl(ctr("app", "200m", "", "", ""))}},
		},
		statefulsets: []*appsv1.StatefulSet{{ObjectMeta: critical, Spec: appsv1.StatefulSetSpec{Replicas: ptr[int32](1), Template: tmpl(ctr("postgres", "1", "1Gi", "1", "1Gi"))}}},
		daemonsets:   []*appsv1.DaemonSet{{ObjectMeta: ignored, Spec: appsv1.DaemonSetSpec{Template: tmpl(ctr("agent", "10m", "16Mi", "", ""))}, Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2}}},
		cronjobs:     []*batchv1.CronJob{{ObjectMeta: meta("report"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl(ctr("report", "250m", "128Mi", "", ""))}}}}},
		jobs: []*batchv1.Job{
			{ObjectMeta: meta("report-29000000", ctrl("CronJob", "report")), Spec: batchv1.JobSpec{Template: tmpl(ctr("report", "250m", "128Mi", "", ""))}},
			{ObjectMeta: meta("backfill"), Spec: batchv1.JobSpec{Parallelism: ptr[int32](4), Template: tmpl(ctr("backfill", "2", "1Gi", "", ""))}},
		},
		pods: podInfos(fixturePods()),
		hpas: []*autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: meta("web"), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MinReplicas: ptr[int32](3), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](70)}}}},
		}}},
		limitranges: []*corev1.LimitRange{{ObjectMeta: meta("limits"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
			{Type: corev1.LimitTypeContainer, Min: rl("100m", "128Mi"), Max: rl("1", "1Gi"), Default: rl("500m", "512Mi"), DefaultRequest: rl("250m", "256Mi"), MaxLimitRequestRatio: rl("4", "")},
			{Type: corev1.LimitTypePersistentVolumeClaim, Max: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
		}}}},
		quotas: []*corev1.ResourceQuota{{ObjectMeta: meta("compute"),
			Spec:   corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "limits.cpu": resource.MustParse("8"), "pods": resource.MustParse("20")}},
			Status: corev1.ResourceQuotaStatus{Used: corev1.ResourceList{"requests.cpu": resource.MustParse("2500m")}}}},
		vpas: []*unstructured.Unstructured{{Object: map[string]any{
			"metadata": map[string]any{"namespace": ns, "name": "db"},
			"spec": map[string]any{
				"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
				"resourcePolicy": map[string]any{"containerPolicies": []any{
					map[string]any{"containerName": "*", "minAllowed": map[string]any{"cpu": "100m", "memory": "128Mi"}, "maxAllowed": map[string]any{"cpu": int64(2), "memory": "2Gi"}},
					map[string]any{"containerName": "sidecar", "mode": "Off"},
				}},
			},
		}}},
	}
}

func key(kind workload.Kind, name string) workload.Key {
	return workload.Key{Namespace: ns, Kind: kind, Name: name}
}

func TestResolveOwners(t *testing.T) {
	inv := resolve(fixture(), labels.Everything(), ns)
	want := map[string]workload.Key{
		"web-5d9c8-aaaaa":       key(workload.Deployment, "web"),
		"web-5d9c8-bbbbb":       key(workload.Deployment, "web"),
		"legacy-ccccc":          key(workload.ReplicaSet, "legacy"),
		"db-0":                  key(workload.StatefulSet, "db"),
		"report-29000000-eeeee": key(workload.CronJob, "report"),
		"backfill-fffff":        key(workload.Job, "backfill"),
		"debug":                 key(workload.Pod, "debug"),
		"etcd-node-1":           key(workload.Pod, "etcd-node-1"),
		"rollout-ggggg":         key("Rollout", "rollout"),
	}
	got := map[string]workload.Key{}
	for ref, k := range inv.Pods {
		got[ref.Name] = k
	}
	assert.Equal(t, want, got, "the ignored DaemonSet's pod is not mapped")
	assert.True(t, inv.Specs[key(workload.DaemonSet, "agent")].Ignore)
	assert.Len(t, inv.Specs, 10)
}

func TestResolveGolden(t *testing.T) {
	inv := resolve(fixture(), labels.Everything(), ns)
	type out struct {
		Specs       []workload.Spec
		HPAs        []workload.HPA
		VPAs        []constraints.VPA
		LimitRanges []constraints.LimitRange
		Quotas      []constraints.ResourceQuota
	}
	o := out{HPAs: inv.HPAs, VPAs: inv.VPAs, LimitRanges: inv.LimitRanges, Quotas: inv.Quotas}
	for _, k := range sortedKeys(inv.Specs) {
		o.Specs = append(o.Specs, inv.Specs[k])
	}
	got, err := json.MarshalIndent(o, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, filepath.Join("testdata", "inventory.json"), append(got, '\n'))
}

func TestResolveSpecs(t *testing.T) {
	inv := resolve(fixture(), labels.Everything(), ns)
	web := inv.Specs[key(workload.Deployment, "web")]
	assert.Equal(t, 3, web.Replicas)
	assert.Equal(t, "high", web.PriorityClassName)
	require.Len(t, web.Containers, 4)
	assert.Equal(t, workload.ContainerSpec{Name: "migrate", Init: true, Settings: workload.Settings{Requests: workload.Resources{CPU: 1000, Memory: 256 * workload.MiB}}}, web.Containers[0])
	assert.Equal(t, workload.ContainerSpec{Name: "proxy", Init: true, Sidecar: true, Settings: workload.Settings{
		Requests: workload.Resources{CPU: 100, Memory: 64 * workload.MiB}, Limits: workload.Resources{Memory: 128 * workload.MiB}}}, web.Containers[1])
	assert.Equal(t, "app", web.Containers[2].Name)
	assert.Equal(t, &workload.JVM{MaxRAMPercentage: 75}, inv.Specs[key(workload.Deployment, "billing")].Containers[0].JVM)
	assert.True(t, inv.Specs[key(workload.StatefulSet, "db")].Critical)
	assert.Equal(t, 2, inv.Specs[key(workload.DaemonSet, "agent")].Replicas)
	assert.Equal(t, 4, inv.Specs[key(workload.Job, "backfill")].Replicas)
	assert.Equal(t, 1, inv.Specs[key("Rollout", "rollout")].Replicas, "counted from its pods")
}

func TestResolveSelector(t *testing.T) {
	l := fixture()
	l.deployments[0].Labels = map[string]string{"team": "ops"}
	sel, err := labels.Parse("team=ops")
	require.NoError(t, err)
	inv := resolve(l, sel, ns)
	assert.Equal(t, []workload.Key{key(workload.Deployment, "web"), key(workload.Pod, "debug")}, sortedKeys(inv.Specs))
	assert.Len(t, inv.Pods, 3)
}

func TestResolveByNameWhenOwnersAreUnreadable(t *testing.T) {
	l := fixture()
	l.replicasets, l.jobs = nil, nil
	l.failed["replicasets"], l.failed["jobs"] = true, true
	inv := resolve(l, labels.Everything(), ns)
	assert.Equal(t, key(workload.Deployment, "web"), inv.Pods[PodRef{ns, "web-5d9c8-aaaaa"}], "by pod-template-hash")
	assert.Equal(t, key(workload.CronJob, "report"), inv.Pods[PodRef{ns, "report-29000000-eeeee"}], "by the scheduled-time suffix")
	assert.Equal(t, key(workload.Job, "backfill"), inv.Pods[PodRef{ns, "backfill-fffff"}])
	assert.Equal(t, key(workload.ReplicaSet, "legacy"), inv.Pods[PodRef{ns, "legacy-ccccc"}])
}

func TestInventoryWorkloadForNewPods(t *testing.T) {
	inv := resolve(fixture(), labels.Everything(), ns)
	tests := map[string]workload.Key{
		"web-5d9c8-zzzzz":       key(workload.Deployment, "web"),    // known ReplicaSet
		"web-7f8e9-zzzzz":       key(workload.Deployment, "web"),    // new ReplicaSet of a rollout
		"report-29000060-zzzzz": key(workload.CronJob, "report"),    // new Job
		"db-1":                  key(workload.StatefulSet, "db"),    // scaled up
		"legacy-zzzzz":          key(workload.ReplicaSet, "legacy"), // standalone ReplicaSet
	}
	for pod, want := range tests {
		got, ok := inv.Workload(ns, pod)
		assert.True(t, ok, pod)
		assert.Equal(t, want, got, pod)
	}
	for _, pod := range []string{"web", "unknown-zzzzz", "db"} {
		_, ok := inv.Workload(ns, pod)
		assert.False(t, ok, pod)
	}
	_, ok := inv.Workload("other", "web-5d9c8-zzzzz")
	assert.False(t, ok, "namespaces do not mix")
}

// fixturePods are the fixture's pods as the API serves them.
func fixturePods() []*corev1.Pod {
	return []*corev1.Pod{
		pod("web-5d9c8-aaaaa", map[string]string{"pod-template-hash": "5d9c8"}, ctrl("ReplicaSet", "web-5d9c8")),
		pod("web-5d9c8-bbbbb", map[string]string{"pod-template-hash": "5d9c8"}, ctrl("ReplicaSet", "web-5d9c8")),
		pod("legacy-ccccc", nil, ctrl("ReplicaSet", "legacy")),
		pod("db-0", nil, ctrl("StatefulSet", "db")),
		pod("agent-ddddd", nil, ctrl("DaemonSet", "agent")),
		pod("report-29000000-eeeee", nil, ctrl("Job", "report-29000000")),
		pod("backfill-fffff", nil, ctrl("Job", "backfill")),
		pod("debug", map[string]string{"team": "ops"}),
		pod("etcd-node-1", nil, ctrl("Node", "node-1")),
		pod("rollout-ggggg", nil, ctrl("Rollout", "rollout")),
	}
}

func podInfos(pods []*corev1.Pod) []*podInfo {
	out := make([]*podInfo, len(pods))
	for i, p := range pods {
		out[i] = podInfoOf(p)
	}
	return out
}

func TestInventoryContainerKeysSkipIgnored(t *testing.T) {
	inv := resolve(fixture(), labels.Everything(), ns)
	for _, k := range inv.ContainerKeys() {
		assert.NotEqual(t, "agent", k.Workload.Name)
	}
}

// TestDiscoverForbidden runs Discover on a fake clientset that refuses
// ReplicaSets: one warning, and the pods still reach their Deployment.
func TestDiscoverForbidden(t *testing.T) {
	l := fixture()
	var objs []runtime.Object
	for _, d := range l.deployments {
		objs = append(objs, d)
	}
	for _, p := range fixturePods()[:2] {
		objs = append(objs, p)
	}
	cs := fake.NewClientset(objs...)
	cs.PrependReactor("list", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "", nil)
	})
	inv, warnings, err := Discover(context.Background(), Clients{Kube: cs}, Options{Namespace: ns}, nil)
	require.NoError(t, err)
	require.Len(t, warnings, 1)
	assert.Equal(t, "cannot list replicasets in namespace shop: forbidden (RBAC); pods of Deployments are attributed by name", warnings[0].String())
	assert.Equal(t, key(workload.Deployment, "web"), inv.Pods[PodRef{ns, "web-5d9c8-aaaaa"}])
	assert.Contains(t, inv.Specs, key(workload.Deployment, "billing"))
}

func TestDiscoverRejectsBadSelector(t *testing.T) {
	_, _, err := Discover(context.Background(), Clients{Kube: fake.NewClientset()}, Options{Selector: "a in (b"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `invalid selector "a in (b"`)
}

func TestDiscoverVPA(t *testing.T) {
	vpa := fixture().vpas[0]
	vpa.SetAPIVersion("autoscaling.k8s.io/v1")
	vpa.SetKind("VerticalPodAutoscaler")
	scheme := runtime.NewScheme()
	newDynamic := func() *dynamicfake.FakeDynamicClient {
		return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
			map[schema.GroupVersionResource]string{VPAResource: "VerticalPodAutoscalerList"}, vpa.DeepCopy())
	}

	t.Run("CRD missing", func(t *testing.T) {
		inv, warnings, err := Discover(context.Background(), Clients{Kube: fake.NewClientset(), Dynamic: newDynamic()}, Options{Namespace: ns}, nil)
		require.NoError(t, err)
		require.Len(t, warnings, 1)
		assert.Equal(t, "cannot list verticalpodautoscalers in namespace shop: the VerticalPodAutoscaler CRD is not installed; VPA bounds (R15) are not applied", warnings[0].String())
		assert.Empty(t, inv.VPAs)
	})
	t.Run("CRD served", func(t *testing.T) {
		cs := fake.NewClientset()
		cs.Resources = []*metav1.APIResourceList{{GroupVersion: "autoscaling.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "verticalpodautoscalers", Namespaced: true, Kind: "VerticalPodAutoscaler"}}}}
		inv, warnings, err := Discover(context.Background(), Clients{Kube: cs, Dynamic: newDynamic()}, Options{Namespace: ns}, nil)
		require.NoError(t, err)
		assert.Empty(t, warnings)
		require.Len(t, inv.VPAs, 1)
		assert.Equal(t, key(workload.StatefulSet, "db"), inv.VPAs[0].Target)
	})
}
