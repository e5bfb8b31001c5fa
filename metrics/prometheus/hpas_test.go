package prometheus

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// hpaSample is a sample of an HPA series in namespace shop, with further
// label pairs.
func hpaSample(name string, v float64, kv ...string) *model.Sample {
	m := model.Metric{"namespace": "shop", hpaLabel: model.LabelValue(name)}
	for i := 0; i+1 < len(kv); i += 2 {
		m[model.LabelName(kv[i])] = model.LabelValue(kv[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v)}
}

func hpaInfoSample(name, kind, target string) *model.Sample {
	return hpaSample(name, 1, "scaletargetref_kind", kind, "scaletargetref_name", target)
}

func hpaTargetSample(name, metric, typ string, v float64) *model.Sample {
	return hpaSample(name, v, "metric_name", metric, "metric_target_type", typ)
}

func shopKey(kind workload.Kind, name string) workload.Key {
	return workload.Key{Namespace: "shop", Kind: kind, Name: name}
}

func TestHPAsOf(t *testing.T) {
	web := hpaAnswers{
		info:        model.Vector{hpaInfoSample("web", "Deployment", "web")},
		minReplicas: model.Vector{hpaSample("web", 2)},
		maxReplicas: model.Vector{hpaSample("web", 10)},
	}
	webHPA := func(ms ...workload.MetricTarget) workload.HPA {
		return workload.HPA{Name: "web", Target: shopKey(workload.Deployment, "web"), MinReplicas: 2, MaxReplicas: 10, Metrics: ms}
	}
	with := func(a hpaAnswers, f func(a *hpaAnswers)) hpaAnswers {
		f(&a)
		return a
	}
	tests := []struct {
		name        string
		answers     hpaAnswers
		want        []workload.HPA
		skipped     map[string]int
		withoutInfo int
	}{
		{"none", hpaAnswers{}, nil, map[string]int{}, 0},
		{"resource, pods and external targets", with(web, func(a *hpaAnswers) {
			a.targets = model.Vector{
				hpaTargetSample("web", "cpu", "utilization", 70),
				hpaTargetSample("web", "memory", "average", 512<<20),
				hpaTargetSample("web", "http_requests_per_second", "average", 1000),
				hpaTargetSample("web", "pubsub.googleapis.com|subscription|num_undelivered_messages", "value", 30),
				hpaTargetSample("web", "queue_latency_seconds", "average", 0.25),
			}
		}), []workload.HPA{webHPA(
			workload.MetricTarget{Resource: "cpu", AverageUtilization: 70},
			workload.MetricTarget{Resource: "http_requests_per_second", AverageValue: "1k"},
			workload.MetricTarget{Resource: "memory", AverageValue: "512Mi"},
			workload.MetricTarget{Resource: "pubsub.googleapis.com|subscription|num_undelivered_messages", AverageValue: "30"},
			workload.MetricTarget{Resource: "queue_latency_seconds", AverageValue: "250m"},
		)}, map[string]int{}, 0},
		{"an average wins over a value, both kept with a utilization", with(web, func(a *hpaAnswers) {
			a.targets = model.Vector{
				hpaTargetSample("web", "rps", "average", 5),
				hpaTargetSample("web", "rps", "value", 50),
				hpaTargetSample("web", "cpu", "average", 2),
				hpaTargetSample("web", "cpu", "utilization", 80),
			}
		}), []workload.HPA{webHPA(
			workload.MetricTarget{Resource: "cpu", AverageUtilization: 80, AverageValue: "2"},
			workload.MetricTarget{Resource: "rps", AverageValue: "5"},
		)}, map[string]int{}, 0},
		{"min replicas default to 1; kinds rightsize does not know are kept", hpaAnswers{
			info:        model.Vector{hpaInfoSample("canary", "Rollout", "canary"), hpaInfoSample("db", "StatefulSet", "db")},
			maxReplicas: model.Vector{hpaSample("canary", 4), hpaSample("db", 3)},
		}, []workload.HPA{
			{Name: "canary", Target: shopKey("Rollout", "canary"), MinReplicas: 1, MaxReplicas: 4},
			{Name: "db", Target: shopKey(workload.StatefulSet, "db"), MinReplicas: 1, MaxReplicas: 3},
		}, map[string]int{}, 0},
		{"names Kubernetes does not allow", hpaAnswers{
			info: model.Vector{
				hpaInfoSample("\x1b[2J", "Deployment", "web"),
				hpaInfoSample("a", "Deployment", "Web"),
				hpaInfoSample("b", "deployment", "web"),
				hpaInfoSample("c", "Deploy ment", "web"),
				hpaInfoSample("d", "", ""),
				hpaInfoSample("web", "Deployment", "web"),
			},
			maxReplicas: model.Vector{hpaSample("web", 3), hpaSample("a", 3), hpaSample("../x", 3)},
			targets: model.Vector{
				hpaTargetSample("web", "cpu\x1b]0;x\a", "utilization", 50),
				hpaTargetSample("web", "cpu", "Utilization", 50),
				hpaTargetSample("web", strings.Repeat("m", 254), "value", 1),
			},
		}, []workload.HPA{{Name: "web", Target: shopKey(workload.Deployment, "web"), MinReplicas: 1, MaxReplicas: 3}},
			map[string]int{skipHPANames: 5 + 1 + 3}, 0},
		{"replicas out of range leave the HPA out", hpaAnswers{
			info: model.Vector{
				hpaInfoSample("nan", "Deployment", "a"), hpaInfoSample("inf", "Deployment", "a"), hpaInfoSample("huge", "Deployment", "a"),
				hpaInfoSample("zero", "Deployment", "a"), hpaInfoSample("half", "Deployment", "a"), hpaInfoSample("neg", "Deployment", "a"),
				hpaInfoSample("ok", "Deployment", "a"),
			},
			minReplicas: model.Vector{hpaSample("nan", math.NaN()), hpaSample("zero", 0), hpaSample("neg", -1), hpaSample("ok", 100_000)},
			maxReplicas: model.Vector{
				hpaSample("nan", 3), hpaSample("inf", math.Inf(1)), hpaSample("huge", 1e9), hpaSample("zero", 3),
				hpaSample("half", 2.5), hpaSample("neg", 3), hpaSample("ok", 100_000),
			},
		}, []workload.HPA{{Name: "ok", Target: shopKey(workload.Deployment, "a"), MinReplicas: 100_000, MaxReplicas: 100_000}},
			map[string]int{skipHPAValues: 6}, 0},
		{"targets out of range leave the target out", with(web, func(a *hpaAnswers) {
			a.targets = model.Vector{
				hpaTargetSample("web", "cpu", "utilization", 0),
				hpaTargetSample("web", "cpu", "utilization", 1001),
				hpaTargetSample("web", "cpu", "utilization", 70.5),
				hpaTargetSample("web", "cpu", "utilization", math.NaN()),
				hpaTargetSample("web", "memory", "average", math.Inf(1)),
				hpaTargetSample("web", "memory", "average", -1),
				hpaTargetSample("web", "memory", "average", 2e15),
				hpaTargetSample("web", "rps", "value", 0.0001),
				hpaTargetSample("web", "rps", "value", 0),
				hpaTargetSample("web", "rps", "average", 1000),
			}
		}), []workload.HPA{webHPA(workload.MetricTarget{Resource: "rps", AverageValue: "1k"})},
			map[string]int{skipHPAValues: 9}, 0},
		{"series that do not fit together", hpaAnswers{
			info: model.Vector{
				hpaInfoSample("nomax", "Deployment", "a"),
				hpaInfoSample("inverted", "Deployment", "a"),
				hpaInfoSample("moved", "Deployment", "a"), hpaInfoSample("moved", "Deployment", "b"),
			},
			minReplicas: model.Vector{hpaSample("nomax", 1), hpaSample("inverted", 5)},
			maxReplicas: model.Vector{hpaSample("inverted", 4), hpaSample("moved", 4)},
		}, nil, map[string]int{skipHPAShape: 3}, 0},
		{"spec series without an info series", with(web, func(a *hpaAnswers) {
			a.minReplicas = append(a.minReplicas, hpaSample("old", 1))
			a.maxReplicas = append(a.maxReplicas, hpaSample("old", 3), hpaSample("older", 3))
			a.targets = model.Vector{hpaTargetSample("oldest", "cpu", "utilization", 50)}
		}), []workload.HPA{webHPA()}, map[string]int{}, 3},
		{"an invalid info series is no missing one", hpaAnswers{
			info:        model.Vector{hpaInfoSample("web", "Deployment", "Not_A_Name")},
			maxReplicas: model.Vector{hpaSample("web", 3)},
		}, nil, map[string]int{skipHPANames: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r := tt.answers.hpas("namespace", "")
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.skipped, r.skipped)
			assert.Equal(t, tt.withoutInfo, r.withoutInfo)
		})
	}
}

func TestHPAsOfSortsByNamespaceAndName(t *testing.T) {
	info := func(ns, name string) *model.Sample {
		s := hpaInfoSample(name, "Deployment", name)
		s.Metric["exported_namespace"] = model.LabelValue(ns)
		return s
	}
	max := func(ns, name string) *model.Sample {
		s := hpaSample(name, 3)
		s.Metric["exported_namespace"] = model.LabelValue(ns)
		return s
	}
	a := hpaAnswers{
		info:        model.Vector{info("b", "x"), info("a", "y"), info("a", "x")},
		maxReplicas: model.Vector{max("b", "x"), max("a", "y"), max("a", "x")},
	}
	got, _ := a.hpas("exported_namespace", "")
	var names []string
	for _, h := range got {
		names = append(names, h.Target.Namespace+"/"+h.Name)
	}
	assert.Equal(t, []string{"a/x", "a/y", "b/x"}, names)
}

// hpaProm answers the HPA queries (and the pod owners, to show that
// kube-state-metrics is scraped) with the bodies given by the query's
// metric; the rest as fakeProm does.
func hpaProm(t *testing.T, bodies map[string]string) (*httptest.Server, *[]string) {
	var queries []string
	srv := fakeProm(t, []string{"web-0"}, func(w http.ResponseWriter, f fakeRequest) bool {
		q := f.form.Get("query")
		if strings.HasSuffix(f.path, "/query") && strings.Contains(q, "horizontalpodautoscaler") || strings.Contains(q, "kube_hpa_") {
			queries = append(queries, q)
		}
		for metric, body := range bodies {
			if strings.HasSuffix(f.path, "/query") && strings.Contains(q, metric+"{") {
				if code, rest, ok := strings.Cut(body, " "); ok && len(code) == 3 && code[0] >= '1' && code[0] <= '5' {
					var status int
					fmt.Sscan(code, &status)
					w.WriteHeader(status)
					io.WriteString(w, rest)
					return true
				}
				io.WriteString(w, body)
				return true
			}
		}
		return false
	})
	return srv, &queries
}

// vectorAnswer renders an instant query's answer at the fake window's end.
func vectorAnswer(samples ...string) string {
	var parts []string
	for _, s := range samples {
		metric, value, _ := strings.Cut(s, " ")
		parts = append(parts, fmt.Sprintf(`{"metric":%s,"value":[%d,%q]}`, metric, fakeEnd.Unix(), value))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(parts, ",") + `]}}`
}

var podOwnerAnswer = vectorAnswer(`{"namespace":"shop","pod":"web-0","owner_kind":"<none>","owner_name":"<none>"} 1`)

// TestCollectReadsHPAs reads HPAs among hostile series: the valid ones
// come back, the others are counted in warnings fit for a terminal, and
// the usage is read as ever.
func TestCollectReadsHPAs(t *testing.T) {
	srv, queries := hpaProm(t, map[string]string{
		"kube_pod_owner": podOwnerAnswer,
		hpaInfo: vectorAnswer(
			`{"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"} 1`,
			`{"namespace":"shop","horizontalpodautoscaler":"api","scaletargetref_kind":"Deployment","scaletargetref_name":"api"} 1`,
			`{"namespace":"shop","horizontalpodautoscaler":"\u001b[2J","scaletargetref_kind":"Deployment","scaletargetref_name":"x"} 1`,
			`{"namespace":"shop","horizontalpodautoscaler":"evil","scaletargetref_kind":"\u001b]0;x\u0007","scaletargetref_name":"x"} 1`,
		),
		hpaMinReplicas: vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web"} 2`, `{"namespace":"shop","horizontalpodautoscaler":"api"} NaN`),
		hpaMaxReplicas: vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web"} 10`, `{"namespace":"shop","horizontalpodautoscaler":"api"} 1e400`),
		hpaReplicasNow: vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web"} 4`, `{"namespace":"shop","horizontalpodautoscaler":"api"} -1`),
		hpaTargetMetric: vectorAnswer(
			`{"namespace":"shop","horizontalpodautoscaler":"web","metric_name":"cpu","metric_target_type":"utilization"} 70`,
			`{"namespace":"shop","horizontalpodautoscaler":"web","metric_name":"memory","metric_target_type":"utilization"} +Inf`,
			`{"namespace":"shop","horizontalpodautoscaler":"web","metric_name":"\u001b[31m","metric_target_type":"average"} 1`,
		),
	})
	res, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
	require.NoError(t, err)
	assert.True(t, res.HPAsKnown)
	assert.Equal(t, []workload.HPA{{
		Name: "web", Target: shopKey(workload.Deployment, "web"), MinReplicas: 2, MaxReplicas: 10, Replicas: 4,
		Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}},
	}}, res.HPAs)
	assert.Contains(t, res.Warnings, "3 "+skipHPANames)
	assert.Contains(t, res.Warnings, "4 "+skipHPAValues)
	for _, w := range res.Warnings {
		assert.False(t, hasControl(w), "%q", w)
	}
	assert.Equal(t, 24, res.Samples)
	assert.Equal(t, []string{
		`max by (namespace, horizontalpodautoscaler, scaletargetref_kind, scaletargetref_name) (kube_horizontalpodautoscaler_info{})`,
		`max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas{})`,
		`max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{})`,
		`max by (namespace, horizontalpodautoscaler, metric_name, metric_target_type) (kube_horizontalpodautoscaler_spec_target_metric{})`,
		`max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{})`,
	}, *queries, "instant queries, no v1 lookup with HPAs found")
}

// TestCollectHPAsUnknown: whatever keeps the HPAs from being told, the run
// goes on with them unknown and a warning saying why; no HPA series from a
// kube-state-metrics that is scraped means no HPAs.
func TestCollectHPAsUnknown(t *testing.T) {
	web := vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"} 1`)
	tests := []struct {
		name   string
		bodies map[string]string
		known  bool
		want   string // a warning, in full or its start
	}{
		{"no HPAs", map[string]string{"kube_pod_owner": podOwnerAnswer}, true, ""},
		{"no kube-state-metrics", nil, false, "no kube-state-metrics series found: the HPAs are unknown"},
		{"a query failing", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaInfo: web, hpaMaxReplicas: `400 {"status":"error","errorType":"bad_data","error":"\u001b[2Jnope"}`},
			false, `reading HPA max replicas: bad_data: \x1b[2Jnope; the HPAs are unknown`},
		{"a malformed answer", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaTargetMetric: `{"status":"success","data":{"resultType":"matrix","result":[]}}`},
			false, "reading HPA metric targets: malformed response: matrix result where a vector was expected; the HPAs are unknown"},
		{"a server error", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaInfo: "503 busy"},
			false, "reading HPA scale targets: server error: 503: busy; the HPAs are unknown"},
		{"no info series", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaMaxReplicas: vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web"} 3`)},
			false, "1 HPAs have no kube_horizontalpodautoscaler_info series"},
		{"kube-state-metrics v1", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaV1MaxReplicas: vectorAnswer(`{} 4`)},
			false, "kube-state-metrics exports the HPAs as kube_hpa_* series (version 1)"},
		{"the v1 lookup failing", map[string]string{"kube_pod_owner": podOwnerAnswer, hpaV1MaxReplicas: "500 down"},
			false, "looking for kube-state-metrics v1 HPA series: server error: 500: down; the HPAs are unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := hpaProm(t, tt.bodies)
			res, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.known, res.HPAsKnown)
			assert.Empty(t, res.HPAs)
			assert.Equal(t, 24, res.Samples, "the usage is kept")
			var hpaWarnings []string
			for _, w := range res.Warnings {
				assert.False(t, hasControl(w), "%q", w)
				if strings.Contains(w, "HPA") {
					hpaWarnings = append(hpaWarnings, w)
				}
			}
			if tt.want == "" {
				assert.Empty(t, hpaWarnings)
				return
			}
			require.Len(t, hpaWarnings, 1)
			assert.True(t, strings.HasPrefix(hpaWarnings[0], tt.want), "%q", hpaWarnings[0])
		})
	}
}

// TestSourceLoadsHPAs: the source hands the HPAs on with whether they are
// known.
func TestSourceLoadsHPAs(t *testing.T) {
	srv, _ := hpaProm(t, map[string]string{
		"kube_pod_owner": podOwnerAnswer,
		hpaInfo:          vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"} 1`),
		hpaMaxReplicas:   vectorAnswer(`{"namespace":"shop","horizontalpodautoscaler":"web"} 5`),
	})
	d, err := Source{Options: fakeOptions(srv.URL)}.Load(context.Background(), nil)
	require.NoError(t, err)
	assert.True(t, d.HPAsKnown)
	assert.Equal(t, []workload.HPA{{Name: "web", Target: shopKey(workload.Deployment, "web"), MinReplicas: 1, MaxReplicas: 5}}, d.HPAs)
}

func TestQuantityOf(t *testing.T) {
	for _, tt := range []struct {
		metric string
		v      float64
		want   string
	}{
		{"memory", 512 << 20, "512Mi"},
		{"memory", 1e9, "1000000000"},
		{"cpu", 2, "2"},
		{"cpu", 0.5, "500m"},
		{"rps", 1500, "1500"},
		{"rps", 1e15, "1P"},
		{"rps", 0.0004, ""},
		{"rps", 1e15 + 1, ""},
		{"rps", math.NaN(), ""},
	} {
		got, ok := quantityOf(tt.metric, tt.v)
		assert.Equal(t, tt.want, got, "%s %v", tt.metric, tt.v)
		assert.Equal(t, tt.want != "", ok)
	}
}
