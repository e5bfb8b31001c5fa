package constraints

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

// negative finds a printed negative amount in a note or reason.
var negative = regexp.MustCompile(`(^|\s)-\d`)

// TestConstraintsSaturate: near the int64 range, clamps and totals once
// wrapped around to negative amounts (a ratio near zero, a huge -Xmx,
// replicas × requests, sums over containers); now they saturate.
func TestConstraintsSaturate(t *testing.T) {
	const top = math.MaxInt64 - 1
	huge := workload.Settings{Requests: res(top, top), Limits: res(top, top)}
	twoHuge := func(replicas int) workload.Plan {
		p := onePlan(huge, huge, replicas)
		p.Workloads[0].Containers = append(p.Workloads[0].Containers, workload.ContainerPlan{
			Name: "second", Current: huge,
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: huge},
		})
		return p
	}
	hard := map[QuotaResource]int64{RequestsCPU: 1000, RequestsMemory: 1000, LimitsCPU: 1000, LimitsMemory: 1000}
	ck := workload.ContainerKey{Workload: key, Container: "app"}
	jvm := workload.JVM{MaxHeap: math.MaxInt64 - workload.MiB}
	for _, tc := range []struct {
		name string
		plan workload.Plan
		in   Input
	}{
		{"a LimitRange ratio near zero", onePlan(workload.Settings{}, workload.Settings{Requests: res(100, workload.MiB), Limits: res(1000, workload.GiB)}, 1),
			Input{LimitRanges: []LimitRange{{Namespace: "team", Name: "l", Items: []LimitItem{{Type: LimitContainer, MaxLimitRequestRatio: Ratios{CPU: 1e-300, Memory: 1e-300}}}}}}},
		{"pod totals over a LimitRange's pod max", twoHuge(1),
			Input{LimitRanges: []LimitRange{{Namespace: "team", Name: "l", Items: []LimitItem{{Type: LimitPod, Max: res(1000, workload.GiB)}}}}}},
		{"a quota with replicas × requests past int64", onePlan(workload.Settings{}, huge, math.MaxInt32),
			Input{Quotas: []ResourceQuota{{Namespace: "team", Name: "q", Hard: hard, Used: map[QuotaResource]int64{RequestsCPU: 5}}}}},
		{"a quota over two huge containers", twoHuge(3), Input{Quotas: []ResourceQuota{{Namespace: "team", Name: "q", Hard: hard}}}},
		{"an HPA over two huge containers", func() workload.Plan {
			p := twoHuge(1)
			for i := range p.Workloads[0].Containers {
				p.Workloads[0].Containers[i].Current = workload.Settings{}
			}
			return p
		}(), Input{HPAs: []workload.HPA{{Name: "h", Target: key, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}, {Resource: "memory", AverageUtilization: 50}}}}}},
		{"-Xmx at the int64 limit", onePlan(workload.Settings{Limits: res(0, workload.GiB)}, workload.Settings{Requests: res(100, workload.GiB), Limits: res(0, workload.GiB)}, 1),
			Input{Specs: map[workload.Key]workload.Spec{key: {Key: key, Containers: []workload.ContainerSpec{{Name: "app", JVM: &jvm}}}},
				MemoryPeaks: map[workload.ContainerKey]workload.Bytes{ck: math.MaxInt64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Apply(tc.plan, tc.in)
			for _, w := range out.Workloads {
				for _, n := range w.Notes {
					assert.NotRegexp(t, negative, n)
				}
				for _, c := range w.Containers {
					tg := c.Recommendation.Target
					for _, v := range []int64{int64(tg.Requests.CPU), int64(tg.Limits.CPU), int64(tg.Requests.Memory), int64(tg.Limits.Memory)} {
						assert.GreaterOrEqual(t, v, int64(0), "container %s: %+v", c.Name, tg)
					}
					assert.NotRegexp(t, negative, strings.Join(c.Recommendation.Reasons, "\n"))
				}
			}
		})
	}
}

func TestRoundMiBAndCeilSat(t *testing.T) {
	for _, tc := range []struct{ in, want workload.Bytes }{
		{0, 0}, {1, workload.MiB}, {workload.MiB, workload.MiB}, {workload.MiB + 1, 2 * workload.MiB},
		{math.MaxInt64, math.MaxInt64}, {math.MaxInt64 - workload.MiB, math.MaxInt64 - workload.MiB + 1}, {math.MaxInt64 - 5, math.MaxInt64 - 5},
	} {
		assert.Equal(t, tc.want, roundMiB(tc.in), "roundMiB(%d)", tc.in)
	}
	for _, tc := range []struct {
		in   float64
		want int64
	}{
		{1.2, 2}, {-1.5, -1}, {math.NaN(), 0}, {math.Inf(1), math.MaxInt64}, {1e300, math.MaxInt64}, {-1e300, math.MinInt64},
	} {
		assert.Equal(t, tc.want, ceilSat(tc.in), "ceilSat(%v)", tc.in)
	}
}

// TestJVMNeedBeyondTheMaximum: a broken memory sample made the JVM rule
// raise the limit to 8 EiB; now the memory recommendation is withheld.
func TestJVMNeedBeyondTheMaximum(t *testing.T) {
	ck := workload.ContainerKey{Workload: key, Container: "app"}
	for _, tc := range []struct {
		name string
		jvm  workload.JVM
		peak workload.Bytes
	}{
		{"-Xmx", workload.JVM{MaxHeap: workload.GiB}, math.MaxInt64},
		{"MaxRAMPercentage", workload.JVM{MaxRAMPercentage: 75}, 2 * workload.PiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jvm := tc.jvm
			rec := workload.Settings{Requests: res(100, workload.GiB), Limits: res(0, workload.GiB)}
			out := Apply(onePlan(workload.Settings{Limits: res(0, workload.GiB)}, rec, 1), Input{
				Specs:       map[workload.Key]workload.Spec{key: {Key: key, Containers: []workload.ContainerSpec{{Name: "app", JVM: &jvm}}}},
				MemoryPeaks: map[workload.ContainerKey]workload.Bytes{ck: tc.peak},
			})
			c := out.Workloads[0].Containers[0]
			assert.False(t, c.Recommendation.HasMemory, "memory withheld")
			assert.True(t, c.Recommendation.HasCPU, "cpu unaffected")
			assert.Equal(t, workload.GiB, c.Recommended().Limits.Memory, "the current limit stays")
			assert.Contains(t, reasons(out), "memory: no recommendation: the JVM would need a limit above 1Pi")
		})
	}
}
