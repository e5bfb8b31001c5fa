package openmetrics

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// smallStore holds a Deployment's pod with a gap in its samples, an OOM
// kill and a settings change, a CronJob's pod and a bare pod.
func smallStore() *history.Store {
	st := history.NewStore()
	web := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	set := workload.Settings{Requests: workload.Resources{CPU: 250, Memory: 256 * workload.MiB}, Limits: workload.Resources{Memory: 512 * workload.MiB}}
	for i, step := range []int{0, 1, 3} { // a gap at step 2
		s := workload.Sample{Time: t0.Add(time.Duration(step) * 5 * time.Minute), Pod: "web-7d9f-abcde",
			CPU: workload.Cores(0.1 * float64(i+1)), HasCPU: true, Memory: workload.Bytes(100+i) * workload.MiB, HasMemory: true,
			Throttled: 0.25, HasThrottled: true, Settings: set, OOMKilled: i == 1}
		if i == 2 {
			s.Settings.Limits.CPU = 1000
		}
		st.Add(web, s)
	}
	job := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.CronJob, Name: "report"}, Container: "report"}
	st.Add(job, workload.Sample{Time: t0.Add(5 * time.Minute), Pod: "report-29891580-x49cl", Memory: 64 * workload.MiB, HasMemory: true})
	bare := workload.ContainerKey{Workload: workload.Key{Namespace: "tools", Kind: workload.Pod, Name: "debug"}, Container: "sh"}
	st.Add(bare, workload.Sample{Time: t0, Pod: "debug", CPU: 0.01, HasCPU: true})
	st.Finalize()
	return st
}

func TestWriteGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, Options{Step: 5 * time.Minute, PodLevel: true}, Source{Store: smallStore(), Labels: map[string]string{"cluster": "test"}}))
	path := filepath.Join("testdata", "small.om")
	golden.Assert(t, path, b.Bytes())
}

// TestWriteInPieces renders the same store in two time slices: together
// they hold exactly the lines of one rendering, counters included.
func TestWriteInPieces(t *testing.T) {
	st := smallStore()
	lines := func(o Options) []string {
		var b bytes.Buffer
		require.NoError(t, Write(&b, o, Source{Store: st}))
		var out []string
		for _, l := range strings.Split(b.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	whole := lines(Options{Step: 5 * time.Minute})
	cut := t0.Add(10 * time.Minute)
	parts := append(lines(Options{Step: 5 * time.Minute, To: cut}), lines(Options{Step: 5 * time.Minute, From: cut})...)
	slices.Sort(whole)
	slices.Sort(parts)
	assert.Equal(t, whole, parts)
}

func TestWriteNeedsStep(t *testing.T) {
	require.Error(t, Write(&bytes.Buffer{}, Options{}, Source{Store: smallStore()}))
}

// TestWriteHPAs renders HPAs as kube-state-metrics exports them: at the
// times of their target's samples (all the store's for a target without
// any), until they are deleted; without HPAs no HPA family is written.
func TestWriteHPAs(t *testing.T) {
	web := HPA{HPA: workload.HPA{Name: "web", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, MinReplicas: 2, MaxReplicas: 6, Replicas: 4,
		Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}, {Resource: "memory", AverageValue: "512Mi"}}}}
	gone := HPA{HPA: workload.HPA{Name: "gone", Target: workload.Key{Namespace: "shop", Kind: "Rollout", Name: "canary"}, MinReplicas: 1, MaxReplicas: 3,
		Metrics: []workload.MetricTarget{{Resource: "rps", AverageValue: "500m"}}}, Until: t0.Add(5 * time.Minute)}
	var b bytes.Buffer
	require.NoError(t, Write(&b, Options{Step: 5 * time.Minute}, Source{Store: smallStore(), Labels: map[string]string{"cluster": "test"}, HPAs: []HPA{web, gone}}))
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "horizontalpodautoscaler") {
			lines = append(lines, l)
		}
	}
	w := func(name, labels string, v string, minutes int) string {
		return fmt.Sprintf("%s{%s,cluster=\"test\"} %s %d", name, labels, v, t0.Add(time.Duration(minutes)*time.Minute).Unix())
	}
	var want []string
	add := func(name, labels, v string, minutes ...int) {
		for _, m := range minutes {
			want = append(want, w(name, labels, v, m))
		}
	}
	want = append(want, "# TYPE kube_horizontalpodautoscaler_info gauge")
	add("kube_horizontalpodautoscaler_info", `namespace="shop",horizontalpodautoscaler="web",scaletargetref_api_version="apps/v1",scaletargetref_kind="Deployment",scaletargetref_name="web"`, "1", 0, 5, 15)
	add("kube_horizontalpodautoscaler_info", `namespace="shop",horizontalpodautoscaler="gone",scaletargetref_kind="Rollout",scaletargetref_name="canary"`, "1", 0)
	want = append(want, "# TYPE kube_horizontalpodautoscaler_spec_min_replicas gauge")
	add("kube_horizontalpodautoscaler_spec_min_replicas", `namespace="shop",horizontalpodautoscaler="web"`, "2", 0, 5, 15)
	add("kube_horizontalpodautoscaler_spec_min_replicas", `namespace="shop",horizontalpodautoscaler="gone"`, "1", 0)
	want = append(want, "# TYPE kube_horizontalpodautoscaler_spec_max_replicas gauge")
	add("kube_horizontalpodautoscaler_spec_max_replicas", `namespace="shop",horizontalpodautoscaler="web"`, "6", 0, 5, 15)
	add("kube_horizontalpodautoscaler_spec_max_replicas", `namespace="shop",horizontalpodautoscaler="gone"`, "3", 0)
	want = append(want, "# TYPE kube_horizontalpodautoscaler_status_current_replicas gauge")
	add("kube_horizontalpodautoscaler_status_current_replicas", `namespace="shop",horizontalpodautoscaler="web"`, "4", 0, 5, 15)
	want = append(want, "# TYPE kube_horizontalpodautoscaler_spec_target_metric gauge")
	add("kube_horizontalpodautoscaler_spec_target_metric", `namespace="shop",horizontalpodautoscaler="web",metric_name="cpu",metric_target_type="utilization"`, "70", 0, 5, 15)
	add("kube_horizontalpodautoscaler_spec_target_metric", `namespace="shop",horizontalpodautoscaler="web",metric_name="memory",metric_target_type="average"`, "5.36870912e+08", 0, 5, 15)
	add("kube_horizontalpodautoscaler_spec_target_metric", `namespace="shop",horizontalpodautoscaler="gone",metric_name="rps",metric_target_type="average"`, "0.5", 0)
	assert.Equal(t, want, lines)

	b.Reset()
	require.NoError(t, Write(&b, Options{Step: 5 * time.Minute}, Source{Store: smallStore()}))
	assert.NotContains(t, b.String(), "horizontalpodautoscaler")

	bad := web
	bad.Metrics = []workload.MetricTarget{{Resource: "rps", AverageValue: "lots"}}
	require.ErrorContains(t, Write(&bytes.Buffer{}, Options{Step: 5 * time.Minute}, Source{Store: smallStore(), HPAs: []HPA{bad}}), "HPA shop/web: metric rps:")
}
