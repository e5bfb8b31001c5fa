package prometheus

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
)

// TestQueriesGolden keeps the PromQL the collector sends in a golden file,
// so that a change to a query is a visible change (docs/prometheus.md
// shows the same queries).
func TestQueriesGolden(t *testing.T) {
	user, err := ParseSelector(`cluster="prod"`)
	require.NoError(t, err)
	p := promql{n: DefaultNames(), user: user}
	g := group{namespaces: []string{"shop"}}.matchers(p.n.cadvisorLabels())
	step := 5 * time.Minute
	first := time.Date(2026, 11, 1, 0, 5, 0, 0, time.UTC)
	queries := []struct{ name, expr string }{
		{"discovery (series API match[])", p.podsSelector(g)},
		{"cpu usage (range)", p.cpu(g, step)},
		{"memory usage (range)", p.memory(g, step)},
		{"cpu throttling (range)", p.throttled(g, step)},
		{"requests, limits and restart counts (range, at a 6 h grid)", p.settingsGrid(g)},
		{"requests, limits and restarts of pods between grid points (instant at the chunk's last step)", p.settingsWithin(append(g, anyOf("pod", []string{"report-29891580-x49cl"})), 400*step-time.Millisecond)},
		{"requests step by step, for pods whose settings changed (range)", p.settingsChanges(g, step, first, p.n.Requests, p.n.InitRequests)},
		{"OOM kills, for pods that restarted (range)", p.ooms(g, step)},
		{"pod owners (instant at the last step)", p.podOwners(g, 14*24*time.Hour)},
		{"ReplicaSet owners (instant at the last step)", p.owners(p.n.ReplicaSetOwner, "replicaset", g, []string{"web-7d9f", "api-5c6b"}, 14*24*time.Hour)},
		{"Job owners (instant at the last step)", p.owners(p.n.JobOwner, "job_name", g, []string{"report-29891580"}, 14*24*time.Hour)},
		{"containers (instant at the last step)", p.containers(g)},
		{"init containers (instant at the last step)", p.initContainers(g)},
		{"current requests (instant at the last step)", p.settingsAt(g, p.n.Requests, p.n.InitRequests)},
		{"pod creation times (instant at the last step)", p.podCreated(g)},
		{"HPA scale targets (instant at the last step)", p.hpaInfo()},
		{"HPA min replicas (instant at the last step)", p.hpaReplicas(hpaMinReplicas)},
		{"HPA max replicas (instant at the last step)", p.hpaReplicas(hpaMaxReplicas)},
		{"HPA metric targets (instant at the last step)", p.hpaTargets()},
		{"kube-state-metrics v1 HPAs, looked for when there is no info series (instant at the last step)", p.hpaV1()},
	}
	// VictoriaMetrics' forms, where they differ (promql.victoria).
	vm := p
	vm.victoria = true
	queries = append(queries, []struct{ name, expr string }{
		{"VictoriaMetrics: cpu usage (range)", vm.cpu(g, step)},
		{"VictoriaMetrics: cpu throttling (range)", vm.throttled(g, step)},
		{"VictoriaMetrics: requests, limits and restart counts (range, at a 6 h grid)", vm.settingsGrid(g)},
		{"VictoriaMetrics: OOM kills, for pods that restarted (range)", vm.ooms(g, step)},
	}...)
	var b strings.Builder
	for _, q := range queries {
		b.WriteString("# " + q.name + "\n" + q.expr + "\n\n")
	}
	path := filepath.Join("testdata", "queries.golden")
	golden.Assert(t, path, []byte(b.String()))
}

// TestKSMLabels reads kube-state-metrics series by their own label names
// where they differ from cAdvisor's.
func TestKSMLabels(t *testing.T) {
	n := DefaultNames()
	require.NoError(t, n.SetName("ksm-namespace", "exported_namespace"))
	p := promql{n: n.withDefaults()}
	g := group{namespaces: []string{"shop"}}
	cpu := p.cpu(g.matchers(p.n.cadvisorLabels()), time.Minute)
	assert.Contains(t, cpu, `max by (namespace, pod, container)`)
	assert.Contains(t, cpu, `namespace="shop"`)
	for _, q := range []string{
		p.settingsGrid(g.matchers(p.n.ksmLabels())),
		p.ooms(g.matchers(p.n.ksmLabels()), time.Minute),
		p.podOwners(g.matchers(p.n.ksmLabels()), time.Hour),
		p.containers(g.matchers(p.n.ksmLabels())),
	} {
		assert.Contains(t, q, `exported_namespace="shop"`)
		assert.Contains(t, q, `max by (exported_namespace, pod`)
		assert.NotContains(t, q, `(namespace,`)
	}
	for _, q := range []string{p.hpaInfo(), p.hpaReplicas(hpaMaxReplicas), p.hpaTargets()} {
		assert.Contains(t, q, `max by (exported_namespace, horizontalpodautoscaler`)
	}
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:                       "5m",
		5*time.Minute + time.Millisecond:      "300001ms",
		5*time.Minute - time.Millisecond:      "299999ms",
		14 * 24 * time.Hour:                   "336h",
		90 * time.Second:                      "90s",
		4032*5*time.Minute - time.Millisecond: "1209599999ms",
	} {
		assert.Equal(t, want, promDuration(d), d.String())
	}
}

// TestVictoriaMetricsForms asks a server that names itself as
// VictoriaMetrics does (X-Server-Hostname on every response) with
// MetricsQL's forms of the step rates, and others with PromQL's; every
// range query asks not to be aligned or cached (nocache=1).
func TestVictoriaMetricsForms(t *testing.T) {
	for _, tt := range []struct {
		name     string
		header   bool
		wantCPU  string
		wantGrid string
	}{
		{"prometheus", false, "(rate(container_cpu_usage_seconds_total{", "(kube_pod_container_status_restarts_total{"},
		{"victoriametrics", true, "(increase(container_cpu_usage_seconds_total{", "(last_over_time(kube_pod_container_status_restarts_total{"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cpu, grid []string
			nocache := true
			srv := fakeProm(t, []string{"web-1"}, func(w http.ResponseWriter, f fakeRequest) bool {
				if tt.header {
					w.Header().Set("X-Server-Hostname", "vmselect-0")
				}
				if strings.HasSuffix(f.path, "/query_range") {
					nocache = nocache && f.form.Get("nocache") == "1"
					switch q := f.form.Get("query"); {
					case f.cpu():
						cpu = append(cpu, q)
					case strings.Contains(q, settingLabel):
						grid = append(grid, q)
					}
				}
				return false
			})
			_, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
			require.NoError(t, err)
			require.Len(t, cpu, 1)
			require.Len(t, grid, 1)
			assert.Contains(t, cpu[0], tt.wantCPU)
			assert.Contains(t, grid[0], tt.wantGrid)
			assert.True(t, nocache, "nocache=1 on every range query")
		})
	}
}
