package v1alpha1

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

// recommendationsOf publishes a plan as the controller does: one
// Recommendation per workload, sent through JSON as the apiserver stores
// it.
func recommendationsOf(t testing.TB, plan workload.Plan) []Recommendation {
	t.Helper()
	var recs []Recommendation
	for _, wp := range plan.Workloads {
		r := FromPlan(wp, plan)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var back Recommendation
		require.NoError(t, json.Unmarshal(b, &back))
		recs = append(recs, back)
	}
	return recs
}

func writePlan(t testing.TB, plan workload.Plan, f report.Format) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, report.WritePlan(&buf, plan, f))
	return buf.String()
}

// demoPlans are the demo data's plans under every profile.
func demoPlans(t *testing.T) map[string]workload.Plan {
	t.Helper()
	ctx := context.Background()
	d, err := (&recommender.Pipeline{Source: demo.Source{Options: usagecsv.DefaultOptions()}}).Load(ctx)
	require.NoError(t, err)
	plans := map[string]workload.Plan{}
	for _, name := range policy.Names() {
		p, err := policy.ByName(name)
		require.NoError(t, err)
		plan, err := (&recommender.Pipeline{Recommender: recommender.Recommender{Profile: p}}).Plan(ctx, d, time.Time{})
		require.NoError(t, err)
		plans["demo "+name] = plan
	}
	return plans
}

var (
	rtKey = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	rtGen = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
)

func rtRes(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
	return workload.Resources{CPU: cpu, Memory: mem}
}

// handPlans cover what the demo does not: a recommendation for one
// resource only, one that keeps the settings, a removed limit, a pod with
// nothing set, bounds without recommended settings, an HPA with a Pods
// metric and rules in one direction, names a terminal would act on, no
// time.
func handPlans() map[string]workload.Plan {
	mi := workload.MiB
	one := func(wp workload.WorkloadPlan) workload.Plan {
		return workload.Plan{Profile: "documents", Source: "usage.csv", Generated: rtGen, Workloads: []workload.WorkloadPlan{wp}}
	}
	scaleDown := &workload.ScalingRules{StabilizationWindow: time.Hour, Select: workload.SelectDisabled,
		Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 1, Period: 30 * time.Minute}}}
	return map[string]workload.Plan{
		"memory only, cpu kept": one(workload.WorkloadPlan{Key: rtKey, Replicas: 2, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
			Containers: []workload.ContainerPlan{{Name: "app", Samples: 10,
				Current: workload.Settings{Requests: rtRes(500, 512*mi), Limits: rtRes(1000, 0)},
				Recommendation: workload.Recommendation{HasMemory: true, Target: workload.Settings{Requests: rtRes(0, 300*mi), Limits: rtRes(0, 600*mi)},
					LowerBound: rtRes(0, 200*mi), UpperBound: rtRes(0, 400*mi), Confidence: 0.5, Reasons: []string{"memory: p95 (R1)", "cpu: no recommendation: throttled"}}}}}),
		"cpu limit removed, memory unbounded": one(workload.WorkloadPlan{Key: rtKey, Replicas: 1, QoSCurrent: workload.Guaranteed, QoSRecommended: workload.Burstable,
			Notes: []string{"QoS Guaranteed → Burstable (R4)"},
			Containers: []workload.ContainerPlan{{Name: "app", Samples: 1,
				Current:        workload.Settings{Requests: rtRes(1000, workload.GiB), Limits: rtRes(1000, workload.GiB)},
				Recommendation: workload.Recommendation{HasCPU: true, Target: workload.Settings{Requests: rtRes(250, 0)}, LowerBound: rtRes(200, 0), Confidence: 0.01}}}}),
		"keeps the settings, no bounds": one(workload.WorkloadPlan{Key: rtKey, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
			Containers: []workload.ContainerPlan{{Name: "app",
				Current:        workload.Settings{Requests: rtRes(100, 100*mi)},
				Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: workload.Settings{Requests: rtRes(100, 100*mi)}, Confidence: 1}}}}),
		"nothing set, bounds only": one(workload.WorkloadPlan{Key: rtKey, QoSCurrent: workload.BestEffort, QoSRecommended: workload.BestEffort,
			Containers: []workload.ContainerPlan{{Name: "app", Recommendation: workload.Recommendation{HasCPU: true, LowerBound: rtRes(1, 0), UpperBound: rtRes(3, 0), Confidence: 0.25}}}}),
		"init, sidecar, odd amounts": one(workload.WorkloadPlan{Key: workload.Key{Namespace: "batch", Kind: workload.CronJob, Name: "nightly"}, Critical: true, Profile: "krr",
			QoSCurrent: workload.Burstable, QoSRecommended: workload.Guaranteed,
			Containers: []workload.ContainerPlan{
				{Name: "schema", Init: true, Current: workload.Settings{Requests: rtRes(1, 1)}, Recommendation: workload.Recommendation{Reasons: []string{"init: too few samples"}}},
				{Name: "proxy", Init: true, Sidecar: true, Samples: 7, Current: workload.Settings{Requests: rtRes(10, 32*mi)},
					Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: workload.Settings{Requests: rtRes(1234567, 123456789), Limits: rtRes(1234567, 123456789)},
						LowerBound: rtRes(999, 1000), UpperBound: rtRes(workload.MaxCPU, workload.MaxMemory), Confidence: 0.875}},
			}}),
		"HPA with a Pods metric and one direction": one(workload.WorkloadPlan{Key: rtKey, Replicas: 3, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
			Containers: []workload.ContainerPlan{{Name: "app", Current: workload.Settings{Requests: rtRes(500, 0)}}},
			Autoscaling: &workload.Autoscaling{
				Current: &workload.HPA{Name: "web", Target: rtKey, MinReplicas: 2, MaxReplicas: 10,
					Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}, {Resource: "requests_per_second", AverageValue: "1k"}, {Resource: "memory", AverageValue: "1536Mi"}}},
				Recommended: &workload.HPA{Target: rtKey, MinReplicas: 3, MaxReplicas: 9,
					Metrics:  []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}},
					Behavior: workload.Behavior{ScaleDown: scaleDown}},
				Reasons: []string{"HPA: cpu 70 % (R10)"},
				PodCPU:  750,
				Load:    workload.AggregateLoad{Trough: 0.123, Median: 1.5, Peak: 4.25, Rise: 1.125, Reaction: 75 * time.Second, Samples: 2016},
				Replays: []workload.Replay{
					{Setup: "current", PodCPU: 500, ReplayFigures: workload.ReplayFigures{Duration: 168 * time.Hour, ReplicaHours: 700.4, CoreHours: 350.2, Saturated: 0.0123, AboveTarget: 0.5, Events: 40, PeakReplicas: 10}},
					{Setup: "recommended", PodCPU: 750, ReplayFigures: workload.ReplayFigures{Duration: 168 * time.Hour, ReplicaHours: 500, CoreHours: 375, Events: 12, PeakReplicas: 9}},
				},
			}}),
		"names a terminal would act on": one(workload.WorkloadPlan{Key: workload.Key{Namespace: "n\x1b[2Js", Kind: workload.Pod, Name: "dé\u202ebug\n"}, Profile: "bal\aanced",
			Notes:      []string{"note \x1b]0;title\a"},
			Containers: []workload.ContainerPlan{{Name: "\x1b[31mred", Recommendation: workload.Recommendation{Reasons: []string{"\r\nforged"}}}}}),
		"no time, no workloads' containers": {Profile: "vpa", Source: "prometheus http://p:9090",
			Workloads: []workload.WorkloadPlan{{Key: rtKey}, {Key: workload.Key{Namespace: "a", Kind: workload.Job, Name: "j"}, Replicas: 1}}},
	}
}

// TestToPlanRoundTrip: a plan published as Recommendations and read back
// with PlanOf writes the same JSON and YAML documents as the plan itself,
// for the demo data under every profile and for the hand-made plans. The
// other formats show figures the document rounds (a replay's core-hours
// there: the demo worker's 855.456 core-hours are 855.5 in the document,
// 855 in the table before and 856 after) and may differ in a last digit.
func TestToPlanRoundTrip(t *testing.T) {
	plans := handPlans()
	for name, p := range demoPlans(t) {
		plans[name] = p
	}
	for name, plan := range plans {
		t.Run(name, func(t *testing.T) {
			back, warnings := PlanOf(recommendationsOf(t, plan))
			assert.Empty(t, warnings)
			// The fleet's price belongs to the run, not to a workload: the
			// Recommendations carry it only in their reasons.
			plan.CPUPrices = nil
			for _, f := range []report.Format{report.JSON, report.YAML} {
				assert.Equal(t, writePlan(t, plan, f), writePlan(t, back, f), "%s", f)
			}
		})
	}
}

// TestToPlanGoldenDocument: the report package's golden plan document,
// published workload by workload as its Recommendations' status, reads
// back into a plan whose every format is that package's golden file.
func TestToPlanGoldenDocument(t *testing.T) {
	b, err := os.ReadFile("../../testdata/plan.json")
	require.NoError(t, err)
	var doc report.PlanDocument
	require.NoError(t, json.Unmarshal(b, &doc))
	gen, err := time.Parse(time.RFC3339, doc.Generated)
	require.NoError(t, err)
	var recs []Recommendation
	for _, w := range doc.Workloads {
		j, err := json.Marshal(w)
		require.NoError(t, err)
		var r Recommendation
		require.NoError(t, json.Unmarshal(j, &r.Status.Workload))
		r.Namespace, r.Name = w.Namespace, strings.ToLower(w.Kind)+"-"+w.Name
		r.Status.Profile, r.Status.Source, r.Status.Generated = doc.Profile, doc.Source, &metav1.Time{Time: gen}
		recs = append(recs, r)
	}
	plan, warnings := PlanOf(recs)
	assert.Empty(t, warnings)
	for f, file := range map[report.Format]string{report.JSON: "plan.json", report.YAML: "plan.yaml", report.Table: "plan.txt", report.CSV: "plan.csv", report.Markdown: "plan.md"} {
		want, err := os.ReadFile("../../testdata/" + file)
		require.NoError(t, err)
		assert.Equal(t, string(want), writePlan(t, plan, f), "%s", f)
	}
}

// TestToPlanResources: which resources a container's recommendation is
// for comes back from the bounds and from the settings that change.
func TestToPlanResources(t *testing.T) {
	plans := handPlans()
	for _, tc := range []struct {
		plan        string
		cpu, memory bool
	}{
		{"memory only, cpu kept", false, true},
		{"cpu limit removed, memory unbounded", true, false},
		{"keeps the settings, no bounds", true, true},
		{"nothing set, bounds only", true, false},
	} {
		t.Run(tc.plan, func(t *testing.T) {
			wp, warnings, err := ToPlan(&recommendationsOf(t, plans[tc.plan])[0])
			require.NoError(t, err)
			assert.Empty(t, warnings)
			r := wp.Containers[0].Recommendation
			assert.Equal(t, tc.cpu, r.HasCPU, "cpu")
			assert.Equal(t, tc.memory, r.HasMemory, "memory")
		})
	}
}

// TestToPlanHPA: the HPA specs come back as workload.HPAs, the current
// one named, the recommended one not yet.
func TestToPlanHPA(t *testing.T) {
	plan := handPlans()["HPA with a Pods metric and one direction"]
	wp, warnings, err := ToPlan(&recommendationsOf(t, plan)[0])
	require.NoError(t, err)
	assert.Empty(t, warnings)
	want := plan.Workloads[0].Autoscaling
	got := wp.Autoscaling
	require.NotNil(t, got)
	assert.Equal(t, want.Current, got.Current)
	assert.Equal(t, want.Recommended, got.Recommended)
	assert.Equal(t, want.Load, got.Load)
	assert.Equal(t, want.Replays, got.Replays)
	assert.Equal(t, want.PodCPU, got.PodCPU)
	assert.Equal(t, want.Reasons, got.Reasons)
}

// webRecommendation is a Recommendation for shop/Deployment/web with one
// container that has a recommendation, and an HPA section.
func webRecommendation(t *testing.T) Recommendation {
	t.Helper()
	wp := workload.WorkloadPlan{Key: rtKey, Replicas: 2, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
		Containers: []workload.ContainerPlan{{Name: "app", Samples: 50,
			Current: workload.Settings{Requests: rtRes(500, 512*workload.MiB), Limits: rtRes(1000, workload.GiB)},
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true,
				Target:     workload.Settings{Requests: rtRes(250, 256*workload.MiB), Limits: rtRes(0, 512*workload.MiB)},
				LowerBound: rtRes(200, 200*workload.MiB), UpperBound: rtRes(300, 300*workload.MiB), Confidence: 0.9}}},
		Autoscaling: &workload.Autoscaling{PodCPU: 250, Load: workload.AggregateLoad{Peak: 1, Reaction: time.Minute},
			Replays: []workload.Replay{{Setup: "fixed", PodCPU: 250, ReplayFigures: workload.ReplayFigures{Duration: time.Hour, ReplicaHours: 2}}}},
	}
	return recommendationsOf(t, workload.Plan{Profile: "balanced", Source: "demo", Generated: rtGen, Workloads: []workload.WorkloadPlan{wp}})[0]
}

// TestToPlanHostileFields: a field that cannot be read is left out with a
// warning naming the object and the field, a recommended amount stays at
// its current setting, and the rest of the workload is read.
func TestToPlanHostileFields(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	c0 := "status.workload.containers[0]"
	for _, tc := range []struct {
		name  string
		set   func(r *Recommendation)
		field string
		warn  string
		check func(t *testing.T, wp workload.WorkloadPlan)
	}{
		{"not a quantity", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Requests.CPU = "abc" },
			c0 + ".current.requests.cpu", `"abc" is not a quantity: left out`,
			func(t *testing.T, wp workload.WorkloadPlan) { assert.Zero(t, wp.Containers[0].Current.Requests.CPU) }},
		{"NaN", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Requests.Memory = "NaN" },
			c0 + ".current.requests.memory", `"NaN" is not a quantity: left out`,
			func(t *testing.T, wp workload.WorkloadPlan) { assert.Zero(t, wp.Containers[0].Current.Requests.Memory) }},
		{"Inf", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Limits.Memory = "+Inf" },
			c0 + ".current.limits.memory", `"+Inf" is not a quantity: left out`,
			func(t *testing.T, wp workload.WorkloadPlan) { assert.Zero(t, wp.Containers[0].Current.Limits.Memory) }},
		{"negative recommendation", func(r *Recommendation) { r.Status.Workload.Containers[0].Recommended.Requests.CPU = "-5" },
			c0 + ".recommended.requests.cpu", `"-5" is negative: read as the current setting, 500m`,
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Equal(t, workload.Millicores(500), wp.Containers[0].Recommended().Requests.CPU)
				assert.Equal(t, 256*workload.MiB, wp.Containers[0].Recommended().Requests.Memory, "the rest is read")
			}},
		{"beyond int64", func(r *Recommendation) { r.Status.Workload.Containers[0].Recommended.Requests.Memory = "1e400" },
			c0 + ".recommended.requests.memory", `"1e400" is more bytes than an int64 holds: read as 9223372036854775807`,
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Equal(t, workload.Bytes(math.MaxInt64), wp.Containers[0].Recommended().Requests.Memory)
			}},
		{"beyond int64 millicores", func(r *Recommendation) { r.Status.Workload.Containers[0].UpperBound.CPU = "9223372036854776" },
			c0 + ".upperBound.cpu", `"9223372036854776" is more millicores than an int64 holds: read as 9223372036854775807m`,
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Equal(t, workload.Millicores(math.MaxInt64), wp.Containers[0].Recommendation.UpperBound.CPU)
			}},
		{"exponent that would take seconds to scale", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Requests.CPU = "1e-40000000" },
			c0 + ".current.requests.cpu", `"1e-40000000" has an exponent beyond ±1000: left out`, nil},
		{"exponent beyond an int", func(r *Recommendation) {
			r.Status.Workload.Containers[0].Current.Requests.Memory = "1E99999999999999999999"
		},
			c0 + ".current.requests.memory", `"1E99999999999999999999" has an exponent beyond ±1000: left out`, nil},
		{"exa", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Limits.Memory = "10E" },
			c0 + ".current.limits.memory", `"10E" is more bytes than an int64 holds: read as 9223372036854775807`, nil},
		{"enormous string", func(r *Recommendation) { r.Status.Workload.Containers[0].LowerBound.Memory = huge },
			c0 + ".lowerBound.memory", `"9999999999999999"… (1048576 bytes) is 1048576 bytes long, more than the 64 a quantity takes: left out`,
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Zero(t, wp.Containers[0].Recommendation.LowerBound.Memory)
			}},
		{"control characters", func(r *Recommendation) { r.Status.Workload.Containers[0].Current.Limits.CPU = "1\x1b[2J" },
			c0 + ".current.limits.cpu", `"1\x1b[2J" is not a quantity: left out`, nil},
		{"confidence above 1", func(r *Recommendation) { r.Status.Workload.Containers[0].Confidence = 1.5 },
			c0 + ".confidence", "1.5 is outside [0, 1]: read as 0",
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Zero(t, wp.Containers[0].Recommendation.Confidence)
			}},
		{"confidence NaN", func(r *Recommendation) { r.Status.Workload.Containers[0].Confidence = math.NaN() },
			c0 + ".confidence", "NaN is outside [0, 1]: read as 0", nil},
		{"negative samples", func(r *Recommendation) { r.Status.Workload.Containers[0].Samples = -1 },
			c0 + ".samples", "-1 is negative: read as 0", nil},
		{"negative replicas", func(r *Recommendation) { r.Status.Workload.Replicas = -3 },
			"status.workload.replicas", "-3 is negative: read as 0",
			func(t *testing.T, wp workload.WorkloadPlan) { assert.Zero(t, wp.Replicas) }},
		{"pod cpu", func(r *Recommendation) { r.Status.Workload.HPA.PodCPU = "0x10" },
			"status.workload.hpa.podCPU", `"0x10" is not a quantity: left out`,
			func(t *testing.T, wp workload.WorkloadPlan) { assert.Zero(t, wp.Autoscaling.PodCPU) }},
		{"negative load", func(r *Recommendation) { r.Status.Workload.HPA.Load.Peak = -1 },
			"status.workload.hpa.load.peak", "-1 is not a number of 0 or more: read as 0", nil},
		{"reaction beyond a duration", func(r *Recommendation) { r.Status.Workload.HPA.Load.ReactionSeconds = math.MaxInt64 },
			"status.workload.hpa.load.reactionSeconds", "is longer than a duration holds: read as 2562047h47m16.854775807s",
			func(t *testing.T, wp workload.WorkloadPlan) {
				assert.Equal(t, time.Duration(math.MaxInt64), wp.Autoscaling.Load.Reaction)
			}},
		{"replay hours", func(r *Recommendation) { r.Status.Workload.HPA.Replays[0].Hours = 1e300 },
			"status.workload.hpa.replays[0].hours", "1e+300 is longer than a duration holds", nil},
		{"replay share", func(r *Recommendation) { r.Status.Workload.HPA.Replays[0].Saturated = 2 },
			"status.workload.hpa.replays[0].saturated", "2 is outside [0, 1]: read as 0", nil},
		{"replay events", func(r *Recommendation) { r.Status.Workload.HPA.Replays[0].Events = -2 },
			"status.workload.hpa.replays[0].events", "-2 is negative: read as 0", nil},
		{"a metric the HPA cannot hold", func(r *Recommendation) {
			r.Status.Workload.HPA.Current = &HPASpecDocument{Name: "web", MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{{Type: "Bogus\x1b"}}}
		}, "status.workload.hpa.current.metrics[0]:", `metric type "Bogus\x1b" is not kept`,
			func(t *testing.T, wp workload.WorkloadPlan) {
				require.NotNil(t, wp.Autoscaling.Current)
				assert.Equal(t, 3, wp.Autoscaling.Current.MaxReplicas)
				assert.Empty(t, wp.Autoscaling.Current.Metrics)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := webRecommendation(t)
			tc.set(&r)
			wp, warnings, err := ToPlan(&r)
			require.NoError(t, err)
			require.Len(t, warnings, 1, "%q", warnings)
			assert.Equal(t, "Recommendation shop/deployment-web: "+tc.field, warnings[0][:len("Recommendation shop/deployment-web: ")+len(tc.field)])
			assert.Contains(t, warnings[0], tc.warn)
			assert.Less(t, len(warnings[0]), 500, "a warning cites, it does not copy")
			assert.NotContains(t, warnings[0], "\x1b")
			assert.Equal(t, rtKey, wp.Key, "the rest is read")
			assert.Len(t, wp.Containers, 1)
			if tc.check != nil {
				tc.check(t, wp)
			}
			var buf bytes.Buffer
			assert.NoError(t, report.WritePlan(&buf, workload.Plan{Workloads: []workload.WorkloadPlan{wp}}, report.JSON), "printable")
		})
	}
}

// TestToPlanIdentity: a Recommendation whose workload cannot be named is
// an error; one whose status disagrees with the object is read as the
// status says, with a warning.
func TestToPlanIdentity(t *testing.T) {
	_, _, err := ToPlan(nil)
	assert.EqualError(t, err, "no Recommendation")
	for _, tc := range []struct {
		name string
		set  func(r *Recommendation)
		err  string
	}{
		{"no status", func(r *Recommendation) { r.Status = RecommendationStatus{} }, "Recommendation shop/deployment-web: no status.workload: the controller has not written the status yet"},
		{"no namespace", func(r *Recommendation) { r.Status.Workload.Namespace = "" }, "Recommendation shop/deployment-web: status.workload.namespace is empty"},
		{"no name", func(r *Recommendation) { r.Status.Workload.Name = "" }, "Recommendation shop/deployment-web: status.workload.name is empty"},
		{"unknown kind", func(r *Recommendation) { r.Status.Workload.Kind = "Rollout\x1b" }, `Recommendation shop/deployment-web: status.workload.kind "Rollout\x1b" is not a workload kind rightsize knows`},
		{"no kind", func(r *Recommendation) { r.Status.Workload.Kind = "" }, `status.workload.kind "" is not a workload kind rightsize knows`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := webRecommendation(t)
			tc.set(&r)
			_, warnings, err := ToPlan(&r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			assert.Empty(t, warnings)
		})
	}

	r := webRecommendation(t)
	r.Namespace, r.Name = "other", "x\x1b"
	r.Spec.TargetRef.Name = "api"
	wp, warnings, err := ToPlan(&r)
	require.NoError(t, err)
	assert.Equal(t, rtKey, wp.Key)
	assert.Equal(t, []string{
		`Recommendation other/"x\x1b": status.workload.namespace "shop" is not the object's namespace "other": the status is read as it is`,
		`Recommendation other/"x\x1b": status.workload names "Deployment"/"web", spec.targetRef "Deployment"/"api": the status is read as it is`,
	}, warnings)
}

// TestPlanOf: workloads in key order whatever the list's; the newest
// status names the plan's profile, source and time; what cannot be read
// is left out with a warning, and so is the older of two Recommendations
// for one workload.
func TestPlanOf(t *testing.T) {
	mk := func(ns, name string, gen time.Time, profile, source string) Recommendation {
		wp := workload.WorkloadPlan{Key: workload.Key{Namespace: ns, Kind: workload.Deployment, Name: name}, Replicas: 1, Profile: profile}
		r := FromPlan(wp, workload.Plan{Profile: profile, Source: source, Generated: gen})
		return r
	}
	t0 := rtGen
	recs := []Recommendation{
		mk("b", "web", t0, "balanced", "demo"),
		mk("a", "web", t0.Add(time.Hour), "krr", "demo"),
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "fresh"}},
		mk("a", "api", t0.Add(-time.Hour), "balanced", "metrics-server at https://k"),
	}
	older := mk("b", "web", t0.Add(-time.Minute), "balanced", "demo")
	older.Name = "deployment-web-copy"
	older.Status.Workload.Replicas = 7
	recs = append(recs, older)

	plan, warnings := PlanOf(recs)
	var keys []string
	for _, wp := range plan.Workloads {
		keys = append(keys, wp.Key.String())
	}
	assert.Equal(t, []string{"a/Deployment/api", "a/Deployment/web", "b/Deployment/web"}, keys)
	assert.Equal(t, 1, plan.Workloads[2].Replicas, "the newer of the two")
	assert.Equal(t, "krr", plan.Profile)
	assert.Equal(t, "demo", plan.Source)
	assert.Equal(t, t0.Add(time.Hour), plan.Generated)
	assert.Equal(t, "krr", plan.Workloads[1].Profile)
	assert.Equal(t, "balanced", plan.Workloads[0].Profile)
	assert.Equal(t, []string{
		"Recommendation a/fresh: no status.workload: the controller has not written the status yet: left out",
		"b/deployment-web and b/deployment-web-copy are both for b/Deployment/web: the older, b/deployment-web-copy, is left out",
		`the Recommendations were made with different profiles ("balanced": 2, "krr": 1): the plan names the newest's, each workload its own`,
		`the Recommendations were made from different sources ("demo": 2, "metrics-server at https://k": 1): the plan names the newest's`,
	}, warnings)

	// The newer second: the first is left out.
	recs = []Recommendation{older, mk("b", "web", t0, "balanced", "demo")}
	plan, warnings = PlanOf(recs)
	require.Len(t, plan.Workloads, 1)
	assert.Equal(t, 1, plan.Workloads[0].Replicas)
	assert.Equal(t, []string{"b/deployment-web-copy and b/deployment-web are both for b/Deployment/web: the older, b/deployment-web-copy, is left out"}, warnings)

	plan, warnings = PlanOf(nil)
	assert.Empty(t, plan.Workloads)
	assert.Empty(t, warnings)
	assert.True(t, plan.Generated.IsZero())
}

var longExponent = regexp.MustCompile(`[eE][+-]?[0-9]{5}`)

// FuzzToPlan: whatever a Recommendation holds, ToPlan does not panic, and
// what it returns holds no negative amount or count and no confidence
// outside [0, 1]: every plan format takes it.
func FuzzToPlan(f *testing.F) {
	for _, plan := range handPlans() {
		for _, r := range recommendationsOf(f, plan) {
			b, err := json.Marshal(r)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	// A demo workload with an HPA recommendation, from its golden file:
	// the demo's pipeline would hold up every fuzzing process's start.
	y, err := os.ReadFile("testdata/deployment-worker.yaml")
	require.NoError(f, err)
	b, err := yaml.YAMLToJSON(y)
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"status":{"workload":{"namespace":"a","kind":"Pod","name":"p","replicas":-1,"containers":[{"name":"c",` +
		`"current":{"requests":{"cpu":"1e400","memory":"-5"},"limits":{"cpu":"abc","memory":"NaN"}},"recommended":{"requests":{"cpu":"0.0000001m"}},` +
		`"lowerBound":{"cpu":"9223372036854775807"},"upperBound":{"memory":"8Ei"},"confidence":-0.5,"samples":-3}],` +
		`"hpa":{"current":{"maxReplicas":-1,"metrics":[{"type":"Object"},{"type":"Resource","resource":{"name":"cpu","target":{"type":"Value","value":"1e18"}}}]},` +
		`"podCPU":"-1","load":{"trough":-1,"reactionSeconds":-5},"replays":[{"setup":"x","hours":1e308,"saturated":3}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// An HPA metric's quantity is parsed as the JSON is decoded, and
		// resource.ParseQuantity takes seconds to scale an exponent such
		// as 1e-40000000: that is the decoder's time, not ToPlan's.
		if longExponent.Match(data) {
			return
		}
		var r Recommendation
		if json.Unmarshal(data, &r) != nil {
			return
		}
		wp, warnings, err := ToPlan(&r)
		if err != nil {
			return
		}
		for _, w := range warnings {
			if strings.ContainsAny(w, "\x1b\n\r") {
				t.Errorf("warning holds a control character: %q", w)
			}
		}
		if wp.Replicas < 0 {
			t.Errorf("replicas %d", wp.Replicas)
		}
		for _, c := range wp.Containers {
			r := c.Recommendation
			for _, res := range []workload.Resources{c.Current.Requests, c.Current.Limits, r.Target.Requests, r.Target.Limits, r.LowerBound, r.UpperBound} {
				if res.CPU < 0 || res.Memory < 0 {
					t.Errorf("container %q: negative amount %+v", c.Name, res)
				}
			}
			if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
				t.Errorf("container %q: confidence %v", c.Name, r.Confidence)
			}
			if c.Samples < 0 {
				t.Errorf("container %q: samples %d", c.Name, c.Samples)
			}
		}
		if a := wp.Autoscaling; a != nil {
			if a.PodCPU < 0 || a.Load.Trough < 0 || a.Load.Median < 0 || a.Load.Peak < 0 || a.Load.Reaction < 0 || a.Load.Samples < 0 {
				t.Errorf("negative HPA figure: %+v %+v", a.PodCPU, a.Load)
			}
			for _, rp := range a.Replays {
				if rp.PodCPU < 0 || rp.Duration < 0 || rp.ReplicaHours < 0 || rp.CoreHours < 0 || rp.Saturated < 0 || rp.Saturated > 1 ||
					rp.AboveTarget < 0 || rp.AboveTarget > 1 || rp.Events < 0 || rp.PeakReplicas < 0 {
					t.Errorf("replay out of bounds: %+v", rp)
				}
			}
		}
		plan, _ := PlanOf([]Recommendation{r})
		for _, f := range report.PlanFormats {
			var buf bytes.Buffer
			if err := report.WritePlan(&buf, plan, f); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	})
}
