package cost

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

var (
	t0  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	web = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	api = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api"}
	etl = workload.Key{Namespace: "batch", Kind: workload.Job, Name: "etl"}
	// gone has an HPA and no history.
	gone = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "gone"}
	mi   = workload.MiB
	gi   = workload.GiB
	webS = workload.Settings{Requests: workload.Resources{CPU: 1000, Memory: gi}, Limits: workload.Resources{CPU: 2000, Memory: gi}}
	apiS = workload.Settings{Requests: workload.Resources{CPU: 500, Memory: 256 * mi}, Limits: workload.Resources{CPU: 500, Memory: 512 * mi}}
)

func ptr(f float64) *float64 { return &f }

// scenario is a small cluster with figures that can be worked out by hand:
//
//   - shop/Deployment/web: two pods sampled hourly for 48 h, requests 1
//     core and 1 GiB, using 0.25 cores and 0.5 GiB; on node pool "spot"
//     (memory 0.005 per GiB-hour), team storefront, critical, 3 replicas;
//     recommended 300m and 512Mi; an init container without samples;
//   - batch/Job/etl: one pod sampled hourly from 30 h to 35 h with no
//     requests (BestEffort), using 2 cores and 1 GiB, OOM-killed at 33 h;
//     namespace batch prices CPU at 0.02; recommended 2 cores and 1 GiB
//     with low confidence;
//   - shop/Deployment/api: one pod sampled hourly from 24 h to 47 h whose
//     samples record no settings (the spec has them), using 0.6 cores and
//     300Mi, throttled in 30 % of CFS periods; team platform; an HPA with
//     min 2 and a CPU target of 50 %.
//
// Default prices are 0.04 per core-hour and 0.01 per GiB-hour. The report
// ends at 48 h with a 24 h period.
func scenario(t *testing.T) Input {
	t.Helper()
	st := history.NewStore()
	add := func(k workload.Key, ctr, pod string, hour int, s workload.Settings, cpu float64, mem workload.Bytes, mut func(*workload.Sample)) {
		smp := workload.Sample{Time: t0.Add(time.Duration(hour) * time.Hour), Pod: pod, CPU: workload.Cores(cpu), HasCPU: true,
			Memory: mem, HasMemory: true, Settings: s}
		if mut != nil {
			mut(&smp)
		}
		st.Add(workload.ContainerKey{Workload: k, Container: ctr}, smp)
	}
	for h := 0; h < 48; h++ {
		add(web, "app", "web-a", h, webS, 0.25, gi/2, nil)
		add(web, "app", "web-b", h, webS, 0.25, gi/2, nil)
	}
	for h := 30; h <= 35; h++ {
		add(etl, "main", "etl-x", h, workload.Settings{}, 2, gi, func(s *workload.Sample) { s.OOMKilled = h == 33 })
	}
	for h := 24; h < 48; h++ {
		add(api, "api", "api-1", h, workload.Settings{}, 0.6, 300*mi, func(s *workload.Sample) { s.Throttled, s.HasThrottled = 0.3, true })
	}
	st.Finalize()

	rec := func(req, lim workload.Resources, conf float64) workload.Recommendation {
		return workload.Recommendation{HasCPU: true, HasMemory: true, Confidence: conf,
			Target: workload.Settings{Requests: req, Limits: lim}, Reasons: []string{"test"}}
	}
	plan := workload.Plan{Profile: "balanced", Workloads: []workload.WorkloadPlan{
		{Key: web, Replicas: 3, Critical: true, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable, Containers: []workload.ContainerPlan{
			{Name: "init-db", Init: true, Current: workload.Settings{Requests: workload.Resources{CPU: 100, Memory: 64 * mi}, Limits: workload.Resources{CPU: 100, Memory: 64 * mi}},
				Recommendation: workload.Recommendation{Reasons: []string{"no recommendation: no usage samples"}}},
			{Name: "app", Current: webS, Recommendation: rec(workload.Resources{CPU: 300, Memory: 512 * mi}, workload.Resources{CPU: 600, Memory: 600 * mi}, 0.9)},
		}},
		{Key: etl, Replicas: 1, QoSCurrent: workload.BestEffort, QoSRecommended: workload.Burstable, Containers: []workload.ContainerPlan{
			{Name: "main", Recommendation: rec(workload.Resources{CPU: 2000, Memory: gi}, workload.Resources{Memory: 2 * gi}, 0.3)},
		}},
		{Key: api, Replicas: 1, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable, Containers: []workload.ContainerPlan{
			{Name: "api", Current: apiS, Recommendation: rec(workload.Resources{CPU: 700, Memory: 384 * mi}, workload.Resources{CPU: 1400, Memory: 512 * mi}, 0.8)},
		}},
	}}
	// The pipeline's HPA step, by hand: web gets an HPA, api's is
	// reviewed, the Job has none.
	hpas := []workload.HPA{{Name: "api", Target: api, MinReplicas: 2, MaxReplicas: 5, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}}}
	replay := func(setup string, replicaHours, saturated float64) workload.Replay {
		return workload.Replay{Setup: setup, PodCPU: 300, ReplayFigures: workload.ReplayFigures{Duration: 48 * time.Hour, ReplicaHours: replicaHours, CoreHours: replicaHours * 0.3, Saturated: saturated}}
	}
	plan.Workloads[0].Autoscaling = &workload.Autoscaling{
		Recommended: &workload.HPA{Target: web, MinReplicas: 5, MaxReplicas: 20, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}, {Resource: "memory", AverageUtilization: 80}}},
		Reasons:     []string{"recommend an HPA: peak 3 × trough", "minReplicas 5: critical (R9)"},
		Load:        workload.AggregateLoad{Trough: 0.25, Median: 0.5, Peak: 0.75},
		PodCPU:      300,
		Replays:     []workload.Replay{replay("fixed", 240, 0), replay("defaults", 200, 0.001), replay("recommended", 180, 0.002)},
	}
	plan.Workloads[2].Autoscaling = &workload.Autoscaling{
		Current:     &hpas[0],
		Recommended: &workload.HPA{Name: "api", Target: api, MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}},
		Reasons:     []string{"current HPA api: minReplicas 2, R9/R10 ask for at least 3", "current HPA api: CPU target 50 %, R10 says 70 %"},
		PodCPU:      700,
		Replays:     []workload.Replay{replay("current", 48, 0.01), replay("defaults", 72, 0), replay("recommended", 72, 0)},
	}
	specs := map[workload.Key]workload.Spec{
		web: {Key: web, Replicas: 3, Labels: map[string]string{"team": "storefront"}, Annotations: map[string]string{pricing.NodePoolKey: "spot"},
			Containers: []workload.ContainerSpec{{Name: "init-db", Init: true}, {Name: "app", Settings: webS}}},
		api: {Key: api, Replicas: 1, Labels: map[string]string{"team": "platform"},
			Containers: []workload.ContainerSpec{{Name: "api", Settings: apiS}}},
	}
	return Input{
		Title: "Test cluster", Source: "test", Store: st, Specs: specs,
		HPAs: append(hpas, workload.HPA{Name: "old", Target: gone, MinReplicas: 1, MaxReplicas: 3, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 80}}}),
		Plan: plan, Previous: plan,
		Pricing: pricing.Pricing{Currency: "EUR", Default: pricing.Price{CPU: 0.04, Memory: 0.01},
			Namespaces: map[string]pricing.Override{"batch": {CPU: ptr(0.02)}},
			NodePools:  map[string]pricing.Override{"spot": {Memory: ptr(0.005)}, "gpu": {CPU: ptr(9)}}},
		End: t0.Add(48 * time.Hour), Period: 24 * time.Hour, GroupByLabel: "team",
	}
}

func workloadCost(t *testing.T, r *Report, k workload.Key) WorkloadCost {
	t.Helper()
	for _, w := range r.Workloads {
		if w.Key == k {
			return w
		}
	}
	t.Fatalf("no workload %s in the report", k)
	return WorkloadCost{}
}

func TestBuildCosts(t *testing.T) {
	r, err := Build(scenario(t))
	require.NoError(t, err)
	const eps = 1e-9
	assert.Equal(t, Window{t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}, r.Period)
	assert.Equal(t, Window{t0, t0.Add(24 * time.Hour)}, r.PreviousPeriod)

	// web: 2 pods × 24 h in the period; price 0.04 per core-hour and,
	// on node pool spot, 0.005 per GiB-hour.
	w := workloadCost(t, r, web)
	assert.Equal(t, pricing.Price{CPU: 0.04, Memory: 0.005}, w.Price)
	assert.Equal(t, "spot", w.NodePool)
	assert.Equal(t, "storefront", w.Team)
	assert.InDelta(t, 48, w.Usage.PodHours, eps)
	assert.InDelta(t, 48*0.04+48*0.005, float64(w.Requested), eps)
	assert.InDelta(t, 12*0.04+24*0.005, float64(w.Used), eps)
	assert.InDelta(t, 36*0.04+24*0.005, float64(w.Idle), eps)
	assert.InDelta(t, ((1-0.3)*0.04+(1-0.5)*0.005)*48, float64(w.Savings), eps)
	assert.Equal(t, workload.Resources{CPU: 1000, Memory: gi}, w.Requests, "the init container's smaller request does not add")
	assert.Equal(t, workload.Resources{CPU: 300, Memory: 512 * mi}, w.Recommended)
	// The previous period: the first sample of each pod weighs nothing.
	assert.InDelta(t, 46*0.04+46*0.005, float64(w.Previous.Requested), eps)
	assert.InDelta(t, ((1-0.3)*0.04+(1-0.5)*0.005)*46, float64(w.Previous.Savings), eps)

	// etl: no requests, 5 weighted hours, namespace price 0.02 for CPU.
	e := workloadCost(t, r, etl)
	assert.Equal(t, NoLabel, e.Team, "no spec: no label")
	assert.Zero(t, e.Requested)
	assert.InDelta(t, 10*0.02+5*0.01, float64(e.Used), eps)
	assert.Zero(t, e.Idle)
	assert.InDelta(t, -(2*0.02+1*0.01)*5, float64(e.Savings), eps, "the recommendations cost more")

	// api: settings come from the spec because the samples recorded none;
	// usage above the requests leaves nothing idle.
	a := workloadCost(t, r, api)
	gib300 := float64(300*mi) / float64(gi)
	assert.InDelta(t, 0.5*23*0.04+0.25*23*0.01, float64(a.Requested), eps)
	assert.InDelta(t, 0.6*23*0.04+gib300*23*0.01, float64(a.Used), eps)
	assert.Zero(t, a.Idle)
	assert.InDelta(t, ((0.5-0.7)*0.04+(0.25-0.375)*0.01)*23, float64(a.Savings), eps)

	tot := r.Totals
	assert.InDelta(t, float64(w.Requested+e.Requested+a.Requested), float64(tot.Requested), eps)
	assert.InDelta(t, float64(w.Idle), float64(tot.Idle), eps)
	assert.InDelta(t, float64(w.Savings), float64(tot.GrossSavings), eps)
	assert.InDelta(t, -float64(e.Savings+a.Savings), float64(tot.ExtraCost), eps)
	assert.InDelta(t, float64(tot.GrossSavings-tot.ExtraCost), float64(tot.Savings), eps)
	assert.Equal(t, 3, tot.Workloads)
	assert.Equal(t, 4, tot.Pods)
	assert.True(t, r.HasPrevious)
	assert.Equal(t, 1, r.PreviousTotals.Workloads)
	assert.Equal(t, 2, r.PreviousTotals.Pods)
	assert.InDelta(t, float64(w.Previous.Requested), float64(r.PreviousTotals.Requested), eps)

	// Workloads by requested cost; namespaces too; the unlabelled team last.
	var order []workload.Key
	for _, wc := range r.Workloads {
		order = append(order, wc.Key)
	}
	assert.Equal(t, []workload.Key{web, api, etl}, order)
	require.Len(t, r.Namespaces, 2)
	assert.Equal(t, "shop", r.Namespaces[0].Name)
	assert.Equal(t, 2, r.Namespaces[0].Workloads)
	assert.InDelta(t, float64(w.Requested+a.Requested), float64(r.Namespaces[0].Requested), eps)
	var teams []string
	for _, g := range r.Teams {
		teams = append(teams, g.Name)
	}
	assert.Equal(t, []string{"storefront", "platform", NoLabel}, teams)

	// One day; its recommended cost is what the requests would cost with
	// the recommendations, so requested − recommended is the savings.
	require.Len(t, r.Daily, 1)
	assert.InDelta(t, float64(tot.Requested), float64(r.Daily[0].Requested), eps)
	assert.InDelta(t, float64(tot.Used), float64(r.Daily[0].Used), eps)
	assert.InDelta(t, float64(tot.Savings), float64(r.Daily[0].Requested-r.Daily[0].Recommended), eps)

	require.Len(t, r.TopSavings, 1)
	assert.Equal(t, web, r.TopSavings[0].Key)
	require.Len(t, r.ExtraCost, 2)
	assert.Equal(t, etl, r.ExtraCost[0].Key, "the largest extra cost first")
	assert.Equal(t, api, r.ExtraCost[1].Key)
}

func TestBuildRisks(t *testing.T) {
	r, err := Build(scenario(t))
	require.NoError(t, err)
	type risk struct {
		sev       Severity
		kind      RiskKind
		workload  workload.Key
		container string
		rule      string
	}
	var got []risk
	for _, k := range r.Risks {
		got = append(got, risk{k.Severity, k.Kind, k.Workload, k.Container, k.Rule})
	}
	assert.Equal(t, []risk{
		{High, RiskBestEffort, etl, "", "R7"},
		{High, RiskOOM, etl, "main", "R6"},
		{Medium, RiskMissingSettings, etl, "main", "R5"},
		{Medium, RiskThrottled, api, "api", "R6"},
		{Medium, RiskMemoryAboveRequest, api, "api", "R1"},
		{Medium, RiskCriticalNotGuaranteed, web, "", "R8"},
		{Low, RiskCPUAboveRequest, api, "api", "R1"},
	}, got)
	details := map[RiskKind]string{}
	for _, k := range r.Risks {
		details[k.Kind] = k.Detail
	}
	assert.Equal(t, "1 OOM kill; memory limit none; recommended 2Gi", details[RiskOOM])
	assert.Equal(t, "no CPU request, memory request, CPU limit or memory limit", details[RiskMissingSettings])
	assert.Equal(t, "CPU throttled 100% of the time (up to 30% of CFS periods); CPU limit 500m; recommended 1400m", details[RiskThrottled])
	assert.Contains(t, details[RiskMemoryAboveRequest], "memory above its request (256Mi) 100% of the time")
	assert.Contains(t, details[RiskCPUAboveRequest], "recommended 700m")
	assert.Equal(t, "critical workload runs as Burstable, not Guaranteed", details[RiskCriticalNotGuaranteed])
}

func TestBuildQoSHPAAndConfidence(t *testing.T) {
	r, err := Build(scenario(t))
	require.NoError(t, err)
	assert.Equal(t, []QoSCount{
		{Class: workload.Guaranteed},
		{Class: workload.Burstable, Workloads: 2, Pods: 4, WorkloadsAfter: 3, PodsAfter: 5},
		{Class: workload.BestEffort, Workloads: 1, Pods: 1},
	}, r.QoS)

	h := r.HPA
	assert.Empty(t, h.Note, "the source knows HPAs")
	assert.Equal(t, 2, h.Scalable, "the Job cannot be scaled by an HPA")
	assert.Equal(t, 1, h.Covered, "gone has no history: listed, not counted")
	require.Len(t, h.Existing, 2)
	e := h.Existing[0]
	assert.Equal(t, api, e.Target)
	assert.False(t, e.NoHistory)
	require.NotNil(t, e.Plan.Recommended)
	assert.Equal(t, "min 3, max 20; cpu 70 %", describeHPA(*e.Plan.Recommended))
	assert.Equal(t, []string{"current HPA api: minReplicas 2, R9/R10 ask for at least 3", "current HPA api: CPU target 50 %, R10 says 70 %"}, e.Plan.Reasons)
	require.NotNil(t, e.Plan.Replays.Current)
	assert.InDelta(t, 48, e.Plan.Replays.Current.ReplicaHours, 1e-9)
	assert.Equal(t, gone, h.Existing[1].Target)
	assert.True(t, h.Existing[1].NoHistory)
	require.Len(t, h.Suggested, 1)
	s := h.Suggested[0]
	assert.Equal(t, web, s.Workload)
	assert.Equal(t, "peak 3.0 × trough, 25 % fewer replica-hours than a fixed count sized for the peak", s.Why)
	assert.Equal(t, 5, s.MinReplicas, "critical workloads keep 5 (R9)")
	assert.Equal(t, "min 5, max 20; cpu 70 %, memory 80 %", describeHPA(s.HPA))
	assert.Equal(t, workload.Millicores(300), s.Plan.PodCPU)

	v := r.hpaView()
	assert.Equal(t, "48 → 72", v.Existing[0].ReplicaHours, "current → recommended")
	assert.Equal(t, "1.0 % → 0.0 %", v.Existing[0].Saturated)
	assert.Equal(t, "its workload has no usage history", v.Existing[1].Notes)
	assert.Equal(t, "240 → 180", v.Suggested[0].ReplicaHours, "fixed → recommended")
	assert.Equal(t, "300m", v.Suggested[0].PodCPU)

	assert.Equal(t, []string{
		"batch/Job/etl container main: low confidence 0.30, its savings are a rough estimate",
		"shop/Deployment/web container init-db: no recommendation: no usage samples",
	}, r.Confidence)
}

func TestBuildHistoryCoverageNotes(t *testing.T) {
	cases := []struct {
		name   string
		end    time.Time
		period time.Duration
		want   string
	}{
		{"no previous period", t0.Add(48 * time.Hour), 48 * time.Hour, "no history in the previous period: no week-over-week change"},
		{"history starts within the period", t0.Add(36 * time.Hour), 48 * time.Hour, "the figures cover only 1d 12h of the 2d period"},
		{"previous period partly covered", t0.Add(40 * time.Hour), 24 * time.Hour, "the previous period is covered for 16h only"},
		{"data ends early", t0.Add(72 * time.Hour), 48 * time.Hour, "the newest sample is from 2026-11-02 23:00, 1d 1h before the end of the period"},
		// A live source's window starts a step after it begins: half an
		// hour short of the previous period is not worth a note.
		{"previous period all but covered", t0.Add(48*time.Hour - 30*time.Minute), 24 * time.Hour, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := scenario(t)
			in.End, in.Period = tc.end, tc.period
			r, err := Build(in)
			require.NoError(t, err)
			if tc.want == "" {
				for _, n := range r.Confidence {
					assert.NotContains(t, n, "history", "no note on the history's coverage")
				}
				return
			}
			assert.True(t, slices.ContainsFunc(r.Confidence, func(n string) bool { return strings.Contains(n, tc.want) }),
				"want a note containing %q in %q", tc.want, r.Confidence)
		})
	}
}

func TestBuildDailyBuckets(t *testing.T) {
	in := scenario(t)
	in.Period = 48 * time.Hour
	r, err := Build(in)
	require.NoError(t, err)
	require.Len(t, r.Daily, 2)
	assert.Equal(t, t0, r.Daily[0].Start)
	assert.Equal(t, t0.Add(24*time.Hour), r.Daily[1].Start)
	// Day one holds web's first 23 weighted hours per pod; day two all
	// three workloads.
	assert.InDelta(t, 46*0.04+46*0.005, float64(r.Daily[0].Requested), 1e-9)
	assert.InDelta(t, 48*0.04+48*0.005+0.5*23*0.04+0.25*23*0.01, float64(r.Daily[1].Requested), 1e-9)
	assert.False(t, r.HasPrevious)
}

func TestBuildWithoutLabelOrHPAs(t *testing.T) {
	in := scenario(t)
	in.GroupByLabel, in.HPAs, in.HPASource, in.Specs = "", nil, "usage file", nil
	// Without HPAs known, the plan keeps api, one steady replica, fixed.
	in.Plan.Workloads[2].Autoscaling = &workload.Autoscaling{Reasons: []string{"keep a fixed replica count"}}
	r, err := Build(in)
	require.NoError(t, err)
	assert.Empty(t, r.Teams)
	assert.Equal(t, "no HorizontalPodAutoscalers known (usage file)", r.HPA.Note)
	assert.Zero(t, r.HPA.Covered)
	var suggested []workload.Key
	for _, s := range r.HPA.Suggested {
		suggested = append(suggested, s.Workload)
	}
	assert.Equal(t, []workload.Key{web}, suggested, "api runs one steady replica")
	// Without the spec, web's memory is priced at the default and api's
	// samples carry no requests.
	assert.Equal(t, pricing.Price{CPU: 0.04, Memory: 0.01}, workloadCost(t, r, web).Price)
	assert.Zero(t, workloadCost(t, r, api).Requested)
}

func TestBuildRejectsBadInput(t *testing.T) {
	_, err := Build(Input{})
	require.Error(t, err)
	for _, want := range []string{"no usage history", "period must be positive", "no end of period"} {
		assert.ErrorContains(t, err, want)
	}
}
