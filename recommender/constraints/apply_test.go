package constraints

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

var key = workload.Key{Namespace: "team", Kind: workload.Deployment, Name: "api"}

func res(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
	return workload.Resources{CPU: cpu, Memory: mem}
}

// onePlan is a plan with one workload of one container "app".
func onePlan(cur, rec workload.Settings, replicas int) workload.Plan {
	return workload.Plan{Workloads: []workload.WorkloadPlan{{
		Key: key, Replicas: replicas, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
		Containers: []workload.ContainerPlan{{
			Name: "app", Current: cur,
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: rec},
		}},
	}}}
}

func reasons(p workload.Plan) string {
	return strings.Join(p.Workloads[0].Containers[0].Recommendation.Reasons, "\n")
}

func notes(p workload.Plan) string { return strings.Join(p.Workloads[0].Notes, "\n") }

func TestLimitRange(t *testing.T) {
	lr := func(items ...LimitItem) []LimitRange {
		return []LimitRange{{Namespace: "team", Name: "limits", Items: items}}
	}
	cur := workload.Settings{Requests: res(500, 512*workload.MiB), Limits: res(1000, workload.GiB)}
	tests := []struct {
		name    string
		rec     workload.Settings
		lrs     []LimitRange
		want    workload.Settings
		reasons []string
	}{
		{
			name: "max clamps limit and request",
			rec:  workload.Settings{Requests: res(1500, 3*workload.GiB), Limits: res(3000, 4*workload.GiB)},
			lrs:  lr(LimitItem{Type: LimitContainer, Max: res(1000, 2*workload.GiB)}),
			want: workload.Settings{Requests: res(1000, 2*workload.GiB), Limits: res(1000, 2*workload.GiB)},
			reasons: []string{
				"cpu limit: clamped to LimitRange team/limits max 1 (R13)",
				"cpu request: clamped to LimitRange team/limits max 1 (R13)",
				"memory limit: clamped to LimitRange team/limits max 2Gi (R13)",
				"memory request: clamped to LimitRange team/limits max 2Gi (R13)",
			},
		},
		{
			name:    "max requires a limit",
			rec:     workload.Settings{Requests: res(200, 256*workload.MiB), Limits: res(0, 512*workload.MiB)},
			lrs:     lr(LimitItem{Type: LimitContainer, Max: res(1000, 0)}),
			want:    workload.Settings{Requests: res(200, 256*workload.MiB), Limits: res(1000, 512*workload.MiB)},
			reasons: []string{"cpu limit: set to LimitRange team/limits max 1, which requires a limit (R13)"},
		},
		{
			name: "min raises request and limit",
			rec:  workload.Settings{Requests: res(20, 64*workload.MiB), Limits: res(50, 100*workload.MiB)},
			lrs:  lr(LimitItem{Type: LimitContainer, Min: res(100, 128*workload.MiB)}),
			want: workload.Settings{Requests: res(100, 128*workload.MiB), Limits: res(100, 128*workload.MiB)},
			reasons: []string{
				"cpu request: raised to LimitRange team/limits min 100m (R13)",
				"cpu limit: raised to LimitRange team/limits min 100m (R13)",
				"memory request: raised to LimitRange team/limits min 128Mi (R13)",
				"memory limit: raised to LimitRange team/limits min 128Mi (R13)",
			},
		},
		{
			name:    "default limit applies where none is recommended",
			rec:     workload.Settings{Requests: res(250, 256*workload.MiB), Limits: res(0, 512*workload.MiB)},
			lrs:     lr(LimitItem{Type: LimitContainer, Default: res(500, 512*workload.MiB)}),
			want:    workload.Settings{Requests: res(250, 256*workload.MiB), Limits: res(500, 512*workload.MiB)},
			reasons: []string{"cpu limit: none recommended; LimitRange team/limits default 500m applies at admission (R13)"},
		},
		{
			name:    "default limit below the request is raised",
			rec:     workload.Settings{Requests: res(800, 256*workload.MiB), Limits: res(0, 512*workload.MiB)},
			lrs:     lr(LimitItem{Type: LimitContainer, Default: res(500, 0)}),
			want:    workload.Settings{Requests: res(800, 256*workload.MiB), Limits: res(800, 512*workload.MiB)},
			reasons: []string{"cpu limit: none recommended; LimitRange team/limits default 500m is below the request, set to 800m (R13)"},
		},
		{
			name:    "ratio raises the request",
			rec:     workload.Settings{Requests: res(100, 256*workload.MiB), Limits: res(1000, 512*workload.MiB)},
			lrs:     lr(LimitItem{Type: LimitContainer, MaxLimitRequestRatio: Ratios{CPU: 4}}),
			want:    workload.Settings{Requests: res(250, 256*workload.MiB), Limits: res(1000, 512*workload.MiB)},
			reasons: []string{"cpu request: raised to 250m by LimitRange team/limits maxLimitRequestRatio 4 (R13)"},
		},
		{
			name: "every item counts: a ratio, then a lower max",
			rec:  workload.Settings{Requests: res(100, 256*workload.MiB), Limits: res(1000, 512*workload.MiB)},
			lrs:  lr(LimitItem{Type: LimitContainer, Max: res(1000, 0), MaxLimitRequestRatio: Ratios{CPU: 2}}, LimitItem{Type: LimitContainer, Max: res(400, 0)}),
			want: workload.Settings{Requests: res(400, 256*workload.MiB), Limits: res(400, 512*workload.MiB)},
			reasons: []string{
				"cpu request: raised to 500m by LimitRange team/limits maxLimitRequestRatio 2 (R13)",
				"cpu limit: clamped to LimitRange team/limits max 400m (R13)",
				"cpu request: clamped to LimitRange team/limits max 400m (R13)",
			},
		},
		{
			name: "inside the range nothing changes",
			rec:  workload.Settings{Requests: res(200, 256*workload.MiB), Limits: res(400, 512*workload.MiB)},
			lrs:  lr(LimitItem{Type: LimitContainer, Min: res(100, 128*workload.MiB), Max: res(1000, workload.GiB), MaxLimitRequestRatio: Ratios{CPU: 4, Memory: 2}}),
			want: workload.Settings{Requests: res(200, 256*workload.MiB), Limits: res(400, 512*workload.MiB)},
		},
		{
			name: "other namespaces do not count",
			rec:  workload.Settings{Requests: res(1500, 256*workload.MiB), Limits: res(3000, 512*workload.MiB)},
			lrs:  []LimitRange{{Namespace: "other", Name: "limits", Items: []LimitItem{{Type: LimitContainer, Max: res(1000, 0)}}}},
			want: workload.Settings{Requests: res(1500, 256*workload.MiB), Limits: res(3000, 512*workload.MiB)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := onePlan(cur, tt.rec, 1)
			out := Apply(in, Input{LimitRanges: tt.lrs})
			assert.Equal(t, tt.want, out.Workloads[0].Containers[0].Recommendation.Target)
			assert.Equal(t, tt.reasons, out.Workloads[0].Containers[0].Recommendation.Reasons)
			assert.Equal(t, tt.rec, in.Workloads[0].Containers[0].Recommendation.Target, "input plan unchanged")
		})
	}
}

func TestLimitRangeSkipsResourcesWithoutRecommendation(t *testing.T) {
	p := onePlan(workload.Settings{}, workload.Settings{Requests: res(2000, 0)}, 1)
	p.Workloads[0].Containers[0].Recommendation.HasMemory = false
	out := Apply(p, Input{LimitRanges: []LimitRange{{Namespace: "team", Name: "l", Items: []LimitItem{{Type: LimitContainer, Max: res(1000, workload.GiB)}}}}})
	got := out.Workloads[0].Containers[0].Recommendation.Target
	assert.Equal(t, res(1000, 0), got.Requests)
	assert.Equal(t, res(1000, 0), got.Limits)
	assert.NotContains(t, reasons(out), "memory")
}

func TestPodLimitRangeNotes(t *testing.T) {
	p := onePlan(workload.Settings{}, workload.Settings{Requests: res(1500, 256*workload.MiB), Limits: res(3000, 512*workload.MiB)}, 1)
	out := Apply(p, Input{LimitRanges: []LimitRange{{Namespace: "team", Name: "pods", Items: []LimitItem{{Type: LimitPod, Max: res(2000, 0)}}}}})
	assert.Equal(t, "pod cpu limit 3 exceeds LimitRange team/pods pod max 2: admission would reject the pod (R13)", notes(out))
}

func TestVPA(t *testing.T) {
	vpa := func(pols ...VPAContainerPolicy) []VPA {
		return []VPA{{Namespace: "team", Name: "api-vpa", Target: key, UpdateMode: "Off", Policies: pols}}
	}
	tests := []struct {
		name    string
		rec     workload.Settings
		vpas    []VPA
		want    workload.Settings
		reasons []string
	}{
		{
			name: "minAllowed raises, limit follows",
			rec:  workload.Settings{Requests: res(50, 100*workload.MiB), Limits: res(80, 100*workload.MiB)},
			vpas: vpa(VPAContainerPolicy{Container: "*", MinAllowed: res(100, 128*workload.MiB)}),
			want: workload.Settings{Requests: res(100, 128*workload.MiB), Limits: res(100, 128*workload.MiB)},
			reasons: []string{
				"cpu request: raised to VPA team/api-vpa minAllowed 100m (R15)",
				"memory request: raised to VPA team/api-vpa minAllowed 128Mi (R15)",
			},
		},
		{
			name:    "maxAllowed lowers the request, own policy wins over *",
			rec:     workload.Settings{Requests: res(3000, workload.GiB), Limits: res(6000, 2*workload.GiB)},
			vpas:    vpa(VPAContainerPolicy{Container: "*", MaxAllowed: res(500, 0)}, VPAContainerPolicy{Container: "app", MaxAllowed: res(2000, 0)}),
			want:    workload.Settings{Requests: res(2000, workload.GiB), Limits: res(6000, 2*workload.GiB)},
			reasons: []string{"cpu request: lowered to VPA team/api-vpa maxAllowed 2 (R15)"},
		},
		{
			name: "mode Off leaves the container alone",
			rec:  workload.Settings{Requests: res(3000, workload.GiB)},
			vpas: vpa(VPAContainerPolicy{Container: "app", Off: true, MaxAllowed: res(500, 0)}),
			want: workload.Settings{Requests: res(3000, workload.GiB)},
		},
		{
			name: "other workloads' VPAs do not count",
			rec:  workload.Settings{Requests: res(3000, workload.GiB)},
			vpas: []VPA{{Namespace: "team", Name: "x", Target: workload.Key{Namespace: "team", Kind: workload.Deployment, Name: "web"}, Policies: []VPAContainerPolicy{{Container: "*", MaxAllowed: res(500, 0)}}}},
			want: workload.Settings{Requests: res(3000, workload.GiB)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Apply(onePlan(workload.Settings{}, tt.rec, 1), Input{VPAs: tt.vpas})
			assert.Equal(t, tt.want, out.Workloads[0].Containers[0].Recommendation.Target)
			assert.Equal(t, tt.reasons, out.Workloads[0].Containers[0].Recommendation.Reasons)
		})
	}
}

func TestVPANoteWhenActive(t *testing.T) {
	out := Apply(onePlan(workload.Settings{}, workload.Settings{Requests: res(100, workload.GiB)}, 1),
		Input{VPAs: []VPA{{Namespace: "team", Name: "api-vpa", Target: key, UpdateMode: "Auto"}}})
	assert.Equal(t, "VPA team/api-vpa (updateMode Auto) also sets this workload's requests: apply one of the two (R15)", notes(out))
}

func TestJVM(t *testing.T) {
	ck := workload.ContainerKey{Workload: key, Container: "app"}
	tests := []struct {
		name    string
		jvm     workload.JVM
		cur     workload.Settings
		rec     workload.Settings
		peak    workload.Bytes
		want    workload.Settings
		reasons []string
	}{
		{
			name: "MaxRAMPercentage: the limit keeps the heap it used",
			jvm:  workload.JVM{MaxRAMPercentage: 75},
			cur:  workload.Settings{Limits: res(0, 2*workload.GiB)},
			// The working set (1.7Gi) tracks the 2Gi limit: 1.5Gi heap +
			// 200Mi non-heap; a 1.7Gi×1.2 limit would leave 1.53Gi heap.
			rec:     workload.Settings{Requests: res(100, 1700*workload.MiB), Limits: res(0, 1800*workload.MiB)},
			peak:    1700 * workload.MiB,
			want:    workload.Settings{Requests: res(100, 1700*workload.MiB), Limits: res(0, 2*workload.GiB)},
			reasons: []string{"memory limit: raised to 2Gi for the JVM: MaxRAMPercentage 75 gives the heap 75% of the limit; the observed heap 1536Mi and 164Mi non-heap need 2Gi (R16)"},
		},
		{
			name:    "MaxRAMPercentage: a generous limit is kept",
			jvm:     workload.JVM{MaxRAMPercentage: 50},
			cur:     workload.Settings{Limits: res(0, workload.GiB)},
			rec:     workload.Settings{Requests: res(100, 400*workload.MiB), Limits: res(0, 1200*workload.MiB)},
			peak:    400 * workload.MiB,
			want:    workload.Settings{Requests: res(100, 400*workload.MiB), Limits: res(0, 1200*workload.MiB)},
			reasons: []string{"memory limit: 1200Mi covers the JVM (MaxRAMPercentage 50 gives the heap 50% of the limit; the observed heap 400Mi and 64Mi non-heap need 800Mi) (R16)"},
		},
		{
			name:    "-Xmx: heap plus the observed non-heap, Guaranteed kept",
			jvm:     workload.JVM{MaxHeap: workload.GiB},
			cur:     workload.Settings{Requests: res(500, 1500*workload.MiB), Limits: res(500, 1500*workload.MiB)},
			rec:     workload.Settings{Requests: res(300, 1100*workload.MiB), Limits: res(300, 1100*workload.MiB)},
			peak:    1300 * workload.MiB,
			want:    workload.Settings{Requests: res(300, 1300*workload.MiB), Limits: res(300, 1300*workload.MiB)},
			reasons: []string{"memory limit: raised to 1300Mi for the JVM: -Xmx1Gi heap + 276Mi non-heap (R16)"},
		},
		{
			name:    "-Xmx: at least the minimum non-heap",
			jvm:     workload.JVM{MaxHeap: 512 * workload.MiB},
			rec:     workload.Settings{Requests: res(100, 300*workload.MiB), Limits: res(0, 400*workload.MiB)},
			peak:    300 * workload.MiB,
			want:    workload.Settings{Requests: res(100, 300*workload.MiB), Limits: res(0, 576*workload.MiB)},
			reasons: []string{"memory limit: raised to 576Mi for the JVM: -Xmx512Mi heap + 64Mi non-heap (R16)"},
		},
		{
			name:    "no limit: said, not changed",
			jvm:     workload.JVM{},
			rec:     workload.Settings{Requests: res(100, 300*workload.MiB)},
			peak:    300 * workload.MiB,
			want:    workload.Settings{Requests: res(100, 300*workload.MiB)},
			reasons: []string{"memory limit: none; the JVM then sizes its heap from the node's memory, set -Xmx or a limit (R16)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jvm := tt.jvm
			spec := workload.Spec{Key: key, Containers: []workload.ContainerSpec{{Name: "app", JVM: &jvm}}}
			out := Apply(onePlan(tt.cur, tt.rec, 1), Input{
				Specs:       map[workload.Key]workload.Spec{key: spec},
				MemoryPeaks: map[workload.ContainerKey]workload.Bytes{ck: tt.peak},
			})
			assert.Equal(t, tt.want, out.Workloads[0].Containers[0].Recommendation.Target)
			assert.Equal(t, tt.reasons, out.Workloads[0].Containers[0].Recommendation.Reasons)
		})
	}
}

func TestQuota(t *testing.T) {
	cur := workload.Settings{Requests: res(500, 512*workload.MiB), Limits: res(1000, workload.GiB)}
	grow := workload.Settings{Requests: res(1000, 512*workload.MiB), Limits: res(1000, workload.GiB)}
	tests := []struct {
		name  string
		rec   workload.Settings
		quota ResourceQuota
		want  string
	}{
		{
			name:  "growth past hard is reported",
			rec:   grow,
			quota: ResourceQuota{Namespace: "team", Name: "compute", Hard: map[QuotaResource]int64{RequestsCPU: 4000}, Used: map[QuotaResource]int64{RequestsCPU: 2000}},
			// used 2 - current 3×500m + recommended 3×1 = 3.5 ≤ 4: fine.
			want: "",
		},
		{
			name:  "other pods count through used",
			rec:   grow,
			quota: ResourceQuota{Namespace: "team", Name: "compute", Hard: map[QuotaResource]int64{RequestsCPU: 4000}, Used: map[QuotaResource]int64{RequestsCPU: 3000}},
			want:  "ResourceQuota team/compute: requests.cpu would total 4500m of hard 4 in namespace team; this workload adds 1500m (R14)",
		},
		{
			name:  "without used the recommended total counts",
			rec:   grow,
			quota: ResourceQuota{Namespace: "team", Name: "compute", Hard: map[QuotaResource]int64{RequestsCPU: 2000}},
			want:  "ResourceQuota team/compute: requests.cpu would total 3 of hard 2 in namespace team; this workload adds 1500m (R14)",
		},
		{
			name:  "shrinking is never reported",
			rec:   workload.Settings{Requests: res(100, 512*workload.MiB), Limits: res(1000, workload.GiB)},
			quota: ResourceQuota{Namespace: "team", Name: "compute", Hard: map[QuotaResource]int64{RequestsCPU: 100}},
			want:  "",
		},
		{
			name:  "scoped quotas are not checked",
			rec:   grow,
			quota: ResourceQuota{Namespace: "team", Name: "compute", Scoped: true, Hard: map[QuotaResource]int64{RequestsCPU: 100}},
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Apply(onePlan(cur, tt.rec, 3), Input{Quotas: []ResourceQuota{tt.quota}})
			assert.Equal(t, tt.want, notes(out))
		})
	}
}

func TestPodTotalsCountSidecarsAndInitContainers(t *testing.T) {
	s := func(cpu workload.Millicores) workload.Settings { return workload.Settings{Requests: res(cpu, 0)} }
	cs := []workload.ContainerPlan{
		{Name: "init", Init: true, Current: s(900)},
		{Name: "proxy", Init: true, Sidecar: true, Current: s(100)},
		{Name: "app", Current: s(500)},
	}
	cur := func(c workload.ContainerPlan) workload.Settings { return c.Current }
	assert.Equal(t, workload.Millicores(900), podTotals(cs, cur).Requests.CPU, "the init container alone needs more")
	cs[0].Current = s(300)
	assert.Equal(t, workload.Millicores(600), podTotals(cs, cur).Requests.CPU, "app + sidecar")
}

func TestHPANote(t *testing.T) {
	p := onePlan(workload.Settings{Requests: res(500, 0)}, workload.Settings{Requests: res(200, workload.GiB)}, 3)
	h := workload.HPA{Name: "api", Target: key, MinReplicas: 3, MaxReplicas: 10, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}}
	out := Apply(p, Input{HPAs: []workload.HPA{h}})
	assert.Equal(t, "HPA team/api scales on cpu at 70% of the request: the pod's cpu request 500m → 200m moves its scaling point (R10)", notes(out))

	// Sized with the recommended HPA: one change of two, not a warning.
	p = onePlan(workload.Settings{Requests: res(500, 0)}, workload.Settings{Requests: res(200, workload.GiB)}, 3)
	rec := h
	rec.Metrics = []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}
	p.Workloads[0].Autoscaling = &workload.Autoscaling{Current: &h, Recommended: &rec, PodCPU: 200}
	out = Apply(p, Input{HPAs: []workload.HPA{h}})
	assert.Equal(t, "HPA team/api scales on cpu at 70% of the request: the pod's cpu request 500m → 200m was chosen together with the recommended HPA (cpu target 60%): apply the two together (R10)", notes(out))
}

func TestQoSRecomputed(t *testing.T) {
	// Without a CPU limit the pod is Burstable; the LimitRange's default
	// limit equals the request, which makes it Guaranteed at admission.
	p := onePlan(workload.Settings{}, workload.Settings{Requests: res(200, 256*workload.MiB), Limits: res(0, 256*workload.MiB)}, 1)
	out := Apply(p, Input{LimitRanges: []LimitRange{{Namespace: "team", Name: "l", Items: []LimitItem{{Type: LimitContainer, Default: res(200, 0)}}}}})
	require.Len(t, out.Workloads, 1)
	assert.Equal(t, workload.Guaranteed, out.Workloads[0].QoSRecommended)
	assert.Contains(t, notes(out), "QoS class after the namespace constraints: Guaranteed (R7)")
}

func TestMemoryPeaks(t *testing.T) {
	st := history.NewStore()
	ck := workload.ContainerKey{Workload: key, Container: "app"}
	t0 := time.Unix(1700000000, 0)
	for i, m := range []workload.Bytes{100, 300, 200} {
		st.Add(ck, workload.Sample{Time: t0.Add(time.Duration(i) * time.Minute), Pod: "p", Memory: m * workload.MiB, HasMemory: true})
	}
	st.Add(ck, workload.Sample{Time: t0.Add(time.Hour), Pod: "q", CPU: 1, HasCPU: true})
	st.Finalize()
	assert.Equal(t, map[workload.ContainerKey]workload.Bytes{ck: 300 * workload.MiB}, MemoryPeaks(st))
}
