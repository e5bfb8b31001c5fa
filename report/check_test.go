package report

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"

	"rightsize.dev/rightsize/recommender/workload"
)

// TestRefusesInvalidNumbers: a plan holding a negative amount, a negative
// count or a confidence that is not a number in [0, 1] is refused by every
// format, naming the workload, container and field, and nothing is written.
// Before, each format printed such values (e.g. "-5m", "NaN") with success.
func TestRefusesInvalidNumbers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(wp *workload.WorkloadPlan)
		want  string
	}{
		{"negative current cpu request", func(wp *workload.WorkloadPlan) { wp.Containers[1].Current.Requests.CPU = -5 },
			"shop/StatefulSet/db: container postgres: current request cpu -5m"},
		{"negative recommended memory limit", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.Target.Limits.Memory = -1 },
			"shop/StatefulSet/db: container postgres: recommended limit memory -1 bytes"},
		{"negative recommended cpu request", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.Target.Requests.CPU = math.MinInt64 },
			"shop/StatefulSet/db: container postgres: recommended request cpu -9223372036854775808m"},
		{"negative lower bound", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.LowerBound.CPU = -1 },
			"shop/StatefulSet/db: container postgres: lower bound cpu -1m"},
		{"negative upper bound", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.UpperBound.Memory = -1 },
			"shop/StatefulSet/db: container postgres: upper bound memory -1 bytes"},
		{"NaN confidence", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.Confidence = math.NaN() },
			"shop/StatefulSet/db: container postgres: confidence NaN outside [0, 1]"},
		{"-Inf confidence", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.Confidence = math.Inf(-1) },
			"shop/StatefulSet/db: container postgres: confidence -Inf outside [0, 1]"},
		{"+Inf confidence without a recommendation", func(wp *workload.WorkloadPlan) { wp.Containers[0].Recommendation.Confidence = math.Inf(1) },
			"shop/StatefulSet/db: container init-schema: confidence +Inf outside [0, 1]"},
		{"confidence above 1", func(wp *workload.WorkloadPlan) { wp.Containers[1].Recommendation.Confidence = 1.5 },
			"shop/StatefulSet/db: container postgres: confidence 1.5 outside [0, 1]"},
		{"negative replicas", func(wp *workload.WorkloadPlan) { wp.Replicas = -2 },
			"shop/StatefulSet/db: replicas -2 is negative"},
		{"negative samples", func(wp *workload.WorkloadPlan) { wp.Containers[1].Samples = -1 },
			"shop/StatefulSet/db: container postgres: samples -1"},
		{"a hostile container name is escaped in the error", func(wp *workload.WorkloadPlan) {
			wp.Containers[1].Name = "\x1b[2Jpg"
			wp.Containers[1].Current.Limits.CPU = -1
		}, `shop/StatefulSet/db: container "\x1b[2Jpg": current limit cpu -1m`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan()
			tc.spoil(&p.Workloads[0])
			for _, f := range PlanFormats {
				var buf bytes.Buffer
				err := WritePlan(&buf, p, f)
				if err == nil {
					t.Fatalf("%s: written without an error:\n%s", f, buf.String())
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %q does not say %q", f, err, tc.want)
				}
				if buf.Len() > 0 {
					t.Errorf("%s: %d bytes written before the error", f, buf.Len())
				}
			}
		})
	}
}

// TestTotalsSaturate: replicas × requests summed over workloads once
// wrapped around to negative totals.
func TestTotalsSaturate(t *testing.T) {
	const top = math.MaxInt64 - 1
	p := testPlan()
	for i := range p.Workloads {
		p.Workloads[i].Replicas = math.MaxInt32
		for j := range p.Workloads[i].Containers {
			c := &p.Workloads[i].Containers[j]
			c.Current.Requests = workload.Resources{CPU: top, Memory: top}
			c.Recommendation.Target.Requests = workload.Resources{CPU: top / 3, Memory: 1 << 62}
		}
	}
	tot := totalsOf(p)
	for what, v := range map[string]int64{
		"current cpu": int64(tot.current.CPU), "current memory": int64(tot.current.Memory),
		"recommended cpu": int64(tot.recommendedReq.CPU), "recommended memory": int64(tot.recommendedReq.Memory),
	} {
		if v != math.MaxInt64 {
			t.Errorf("%s total = %d, want it held at %d", what, v, int64(math.MaxInt64))
		}
	}
	negative := regexp.MustCompile(`(^|[\s":,→])-\d`)
	for _, f := range PlanFormats {
		var buf bytes.Buffer
		if err := WritePlan(&buf, p, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m := negative.FindString(buf.String()); m != "" {
			t.Errorf("%s prints a negative number (%q):\n%s", f, m, buf.String())
		}
	}
}
