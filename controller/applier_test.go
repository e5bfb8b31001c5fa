package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestSetAmounts(t *testing.T) {
	list := func(kv ...string) *corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return &l
	}
	r := func(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
		return workload.Resources{CPU: cpu, Memory: mem}
	}
	for _, tc := range []struct {
		name     string
		owned    *corev1.ResourceList
		from, to workload.Resources
		want     map[string]string
	}{
		{"only what changes is claimed", nil, r(500, workload.GiB), r(350, workload.GiB), map[string]string{"cpu": "350m"}},
		{"what is owned is kept, at its new value", list("memory", "1Gi"), r(500, workload.GiB), r(350, workload.GiB), map[string]string{"cpu": "350m", "memory": "1Gi"}},
		{"nothing changes, nothing owned", nil, r(500, workload.GiB), r(500, workload.GiB), nil},
		{"zero says nothing: the owners' value stands", list("cpu", "1"), r(1000, 0), r(0, 0), nil},
		{"set where none was", nil, r(0, 0), r(250, 300*workload.MiB), map[string]string{"cpu": "250m", "memory": "300Mi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := setAmounts(tc.owned, tc.from, tc.to)
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			m := map[string]string{}
			for k, v := range *got {
				m[string(k)] = v.String()
			}
			assert.Equal(t, tc.want, m)
		})
	}
}

func TestWithChanges(t *testing.T) {
	// Owned already: app's memory request; proxy (a sidecar) is new.
	owned := corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(
		corev1ac.Container().WithName("app").WithResources(corev1ac.ResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}))))
	set := func(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}
	}
	got := withChanges(owned, []apply.Change{
		{Container: "app", From: set(500, workload.GiB), To: set(350, 800*workload.MiB)},
		{Container: "proxy", Sidecar: true, From: set(100, 64*workload.MiB), To: set(50, 64*workload.MiB)},
	})
	require.Len(t, got.Spec.Containers, 1)
	app := got.Spec.Containers[0]
	assert.Equal(t, "app", *app.Name)
	assert.Equal(t, "350m", app.Resources.Requests.Cpu().String())
	assert.Equal(t, "800Mi", app.Resources.Requests.Memory().String())
	require.Len(t, got.Spec.InitContainers, 1)
	proxy := got.Spec.InitContainers[0]
	assert.Equal(t, "proxy", *proxy.Name)
	assert.Equal(t, corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(50, resource.DecimalSI)}, *proxy.Resources.Requests)
	assert.Nil(t, proxy.Resources.Limits)

	assert.NotNil(t, withChanges(nil, nil).Spec, "a template from nothing")
}

func TestHeadroom(t *testing.T) {
	q := func(ns string, scoped bool, hardCPU, usedCPU int64) constraints.ResourceQuota {
		return constraints.ResourceQuota{Namespace: ns, Scoped: scoped,
			Hard: map[constraints.QuotaResource]int64{constraints.RequestsCPU: hardCPU}, Used: map[constraints.QuotaResource]int64{constraints.RequestsCPU: usedCPU}}
	}
	assert.Nil(t, headroom(nil, "shop"))
	assert.Nil(t, headroom([]constraints.ResourceQuota{q("other", false, 1000, 0), q("shop", true, 1000, 900)}, "shop"), "other namespaces and scoped quotas do not count")
	h := headroom([]constraints.ResourceQuota{q("shop", false, 2000, 500), q("shop", false, 4000, 3800)}, "shop")
	require.NotNil(t, h)
	assert.EqualValues(t, 200, h.CPU, "the tightest quota")
	assert.EqualValues(t, maxQuota, h.Memory, "memory uncapped")
}

func TestInPlaceHelpers(t *testing.T) {
	set := func(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
			ResizePolicy: []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceMemory, RestartPolicy: corev1.RestartContainer}}},
		{Name: "cache", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}}},
	}}
	spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}
	keep, held := restartFree([]apply.Change{
		{Container: "app", From: set(500, workload.GiB), To: set(350, 800*workload.MiB)},
		{Container: "mem-only", From: set(0, workload.GiB), To: set(0, 800*workload.MiB)},
		{Container: "proxy", Sidecar: true, From: set(100, 0), To: set(50, 0)},
	}, spec)
	require.Len(t, keep, 2)
	assert.Equal(t, set(350, workload.GiB), keep[0].To, "app's memory restarts the container: left")
	assert.Equal(t, "proxy", keep[1].Container, "a sidecar resizes in place")
	assert.Equal(t, []string{"app: memory resize restarts the container (resizePolicy), left"}, held)

	want := []apply.RecordedContainer{{Name: "app", To: set(350, workload.GiB)}, {Name: "cache", To: set(200, 0)}, {Name: "gone", To: set(1, 1)},
		{Name: "proxy", Sidecar: true, To: set(50, 0)}}
	assert.JSONEq(t, `{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"350m"}}}],"initContainers":[{"name":"proxy","resources":{"requests":{"cpu":"50m"}}}]}}`,
		string(resizePatch(spec, want)), "app's cpu moves (a strategic merge keeps its memory), cache is there, gone is not in the pod, the sidecar among the init containers")
	assert.Nil(t, resizePatch(spec, []apply.RecordedContainer{{Name: "cache", To: set(200, 0)}}), "at the values already")
}

func TestPodResize(t *testing.T) {
	res := func(cpu, mem string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	pod := func(spec, status *corev1.ResourceRequirements, conds ...corev1.PodCondition) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1"}}
		p.Spec.Containers = []corev1.Container{{Name: "app", Resources: *spec}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: running, Resources: status}}
		p.Status.Conditions = conds
		return p
	}
	r := func(cpu, mem string) *corev1.ResourceRequirements { x := res(cpu, mem); return &x }
	for _, tc := range []struct {
		name string
		pod  corev1.Pod
		want resizeProgress
		why  string
	}{
		{"actuated", pod(r("350m", "359Mi"), r("350m", "359Mi")), resizeDone, ""},
		{"rounded by the runtime", pod(r("350m", "359Mi"), r("351m", "359Mi")), resizeDone, ""},
		{"not yet", pod(r("350m", "359Mi"), r("500m", "359Mi")), resizeInProgress, ""},
		{"memory not yet", pod(r("350m", "359Mi"), r("350m", "512Mi")), resizeInProgress, ""},
		{"no status resources", pod(r("350m", "359Mi"), nil), resizeUnknown, ""},
		{"in progress", pod(r("350m", "359Mi"), r("350m", "359Mi"), corev1.PodCondition{Type: corev1.PodResizeInProgress, Status: corev1.ConditionTrue}), resizeInProgress, ""},
		{"infeasible", pod(r("350m", "359Mi"), r("500m", "359Mi"), corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonInfeasible, Message: "Node didn't have enough capacity: cpu"}), resizePending, "pod web-1: resize infeasible: Node didn't have enough capacity: cpu"},
		{"deferred", pod(r("350m", "359Mi"), r("500m", "359Mi"), corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonDeferred, Message: "not now"}), resizePending, "pod web-1: resize deferred: not now"},
		{"error", pod(r("350m", "359Mi"), r("500m", "359Mi"), corev1.PodCondition{Type: corev1.PodResizeInProgress, Status: corev1.ConditionTrue,
			Reason: corev1.PodReasonError, Message: "runtime refused"}), resizeFailed, "pod web-1: the kubelet failed to resize: runtime refused"},
		{"a condition no longer true", pod(r("350m", "359Mi"), r("350m", "359Mi"), corev1.PodCondition{Type: corev1.PodResizePending, Status: corev1.ConditionFalse}), resizeDone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := podResize(tc.pod)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.why, why)
		})
	}
	t.Run("a sidecar not yet resized", func(t *testing.T) {
		p := pod(r("350m", "359Mi"), r("350m", "359Mi"))
		p.Spec.InitContainers = []corev1.Container{{Name: "proxy", Resources: res("50m", "64Mi")}}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "proxy", State: running, Resources: r("100m", "64Mi")}}
		got, _ := podResize(p)
		assert.Equal(t, resizeInProgress, got)
		p.Status.InitContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}
		got, _ = podResize(p)
		assert.Equal(t, resizeDone, got, "an init container that ran to its end is not resized")
	})
}

func TestContainerRange(t *testing.T) {
	item := func(typ constraints.LimitType, minCPU, maxCPU workload.Millicores, maxMem workload.Bytes) constraints.LimitItem {
		return constraints.LimitItem{Type: typ, Min: workload.Resources{CPU: minCPU}, Max: workload.Resources{CPU: maxCPU, Memory: maxMem}}
	}
	lrs := []constraints.LimitRange{
		{Namespace: "shop", Items: []constraints.LimitItem{item(constraints.LimitContainer, 10, 2000, 0), item(constraints.LimitPod, 500, 100, workload.MiB)}},
		{Namespace: "shop", Items: []constraints.LimitItem{item(constraints.LimitContainer, 50, 4000, 2*workload.GiB)}},
		{Namespace: "other", Items: []constraints.LimitItem{item(constraints.LimitContainer, 900, 1000, workload.MiB)}},
	}
	assert.Equal(t, apply.Range{Min: workload.Resources{CPU: 50}, Max: workload.Resources{CPU: 2000, Memory: 2 * workload.GiB}}, containerRange(lrs, "shop"),
		"the tightest Container bounds of the namespace; Pod items and other namespaces aside")
	assert.Equal(t, apply.Range{}, containerRange(lrs, "empty"))
}

func TestVPAOf(t *testing.T) {
	k := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	wp := workload.WorkloadPlan{Key: k, Containers: []workload.ContainerPlan{{Name: "app"}, {Name: "proxy"}, {Name: "log"}}}
	vpas := []constraints.VPA{
		{Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "db"}, UpdateMode: "Auto"},
		{Target: k, UpdateMode: "Off", Policies: []constraints.VPAContainerPolicy{
			{Container: "*", MinAllowed: workload.Resources{CPU: 100}},
			{Container: "app", MaxAllowed: workload.Resources{Memory: workload.GiB}},
			{Container: "log", Off: true},
		}},
	}
	mode, ranges := vpaOf(vpas, wp)
	assert.Equal(t, "Off", mode)
	assert.Equal(t, map[string]apply.Range{
		"app":   {Max: workload.Resources{Memory: workload.GiB}},
		"proxy": {Min: workload.Resources{CPU: 100}},
	}, ranges, "the container's own policy over *; a container the VPA leaves alone is unbounded")
	mode, ranges = vpaOf(vpas[:1], wp)
	assert.Empty(t, mode)
	assert.Nil(t, ranges)
}
