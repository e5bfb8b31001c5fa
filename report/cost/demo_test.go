package cost

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// demoEnd is the fixed end of the demo report: midnight after the demo's
// last sample, so the period is the demo's second week.
var demoEnd = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)

var (
	demoOnce  sync.Once
	demoStore *history.Store
	demoErr   error
)

// loadDemo reads the embedded demo data once per test binary.
func loadDemo(t testing.TB) *history.Store {
	t.Helper()
	demoOnce.Do(func() {
		r, err := usagecsv.NewReader(demo.Open(), demo.Name)
		if err != nil {
			demoErr = err
			return
		}
		st := history.NewStore()
		for {
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				demoErr = err
				return
			}
			st.Add(row.Key, row.Sample)
		}
		st.Finalize()
		demoStore = st
	})
	require.NoError(t, demoErr)
	return demoStore
}

// plans runs the balanced profile at end and one period earlier, as the
// report command does.
func plans(t testing.TB, st *history.Store, specs map[workload.Key]workload.Spec, hpas []workload.HPA, end time.Time, period time.Duration) (cur, prev workload.Plan) {
	t.Helper()
	critical := map[workload.Key]bool{}
	for _, k := range demo.Critical() {
		critical[k] = true
	}
	// The pipeline's plans, HPAs included: known when the input has any.
	p := &recommender.Pipeline{Recommender: recommender.Recommender{Profile: policy.Balanced(), Critical: critical}}
	d := &recommender.Data{Name: demo.Name, Store: st, Specs: specs, HPAs: hpas, HPAsKnown: hpas != nil}
	var err error
	cur, err = p.Plan(context.Background(), d, end)
	require.NoError(t, err)
	prev, err = p.Plan(context.Background(), d, end.Add(-period))
	require.NoError(t, err)
	return cur, prev
}

// demoInput is the report input for the demo data at demoEnd.
func demoInput(t testing.TB) Input {
	t.Helper()
	st := loadDemo(t)
	period := 7 * 24 * time.Hour
	cur, prev := plans(t, st, nil, nil, demoEnd, period)
	return Input{
		Source: demo.Name, Store: st, HPASource: "usage file",
		Plan: cur, Previous: prev, Pricing: pricing.Defaults(),
		End: demoEnd, Period: period,
	}
}

func demoReport(t testing.TB) *Report {
	t.Helper()
	r, err := Build(demoInput(t))
	require.NoError(t, err)
	return r
}

// demoTeams assigns the demo's workloads to teams by label, as a cluster
// collector would report them; the CronJob has no team label.
var demoTeams = map[string]string{
	"web": "storefront", "frontend": "storefront", "api": "platform",
	"catalog": "platform", "worker": "fulfilment", "orders-db": "fulfilment",
}

// demoSpecs builds workload specs for the demo, as a cluster collector
// would: the settings the samples recorded, a team label on all but the
// CronJob, and the worker on the "spot" node pool.
func demoSpecs(t testing.TB, st *history.Store) map[workload.Key]workload.Spec {
	t.Helper()
	base, _ := plans(t, st, nil, nil, demoEnd, 7*24*time.Hour)
	specs := map[workload.Key]workload.Spec{}
	for _, wp := range base.Workloads {
		sp := workload.Spec{Key: wp.Key, Replicas: wp.Replicas, Labels: map[string]string{"app": wp.Key.Name}}
		if team, ok := demoTeams[wp.Key.Name]; ok {
			sp.Labels["team"] = team
		}
		if wp.Key.Name == "worker" {
			sp.Annotations = map[string]string{pricing.NodePoolKey: "spot"}
		}
		for _, c := range wp.Containers {
			sp.Containers = append(sp.Containers, workload.ContainerSpec{Name: c.Name, Init: c.Init, Sidecar: c.Sidecar, Settings: c.Current})
		}
		specs[wp.Key] = sp
	}
	return specs
}

// demoInputWithTeams is the demo report as a cluster source would feed
// it: with specs, grouped by the "team" label, and an HPA on the web
// Deployment.
func demoInputWithTeams(t testing.TB) Input {
	t.Helper()
	in := demoInput(t)
	in.Specs = demoSpecs(t, in.Store)
	in.GroupByLabel = "team"
	in.HPASource = ""
	in.HPAs = []workload.HPA{{Name: "web", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, MinReplicas: 2, MaxReplicas: 10,
		Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}, {Resource: "http_requests_per_second", AverageValue: "1k"}}}}
	in.Plan, in.Previous = plans(t, in.Store, in.Specs, in.HPAs, in.End, in.Period)
	return in
}

// demoInputClusters is the demo data as two clusters would report it:
// every workload in prod-eu, and web and api also in prod-us (the same
// names, the same usage).
func demoInputClusters(t testing.TB) Input {
	t.Helper()
	src := loadDemo(t)
	st := history.NewStore()
	for _, ck := range src.Containers() {
		for _, cluster := range []string{"prod-eu", "prod-us"} {
			if cluster == "prod-us" && ck.Workload.Name != "web" && ck.Workload.Name != "api" {
				continue
			}
			k := ck
			k.Workload.Cluster = cluster
			for _, ser := range src.Series(ck) {
				for i := range ser.Len() {
					st.Add(k, ser.At(i))
				}
			}
		}
	}
	st.Finalize()
	in := demoInput(t)
	in.Store = st
	in.Plan, in.Previous = plans(t, st, nil, nil, in.End, in.Period)
	return in
}
