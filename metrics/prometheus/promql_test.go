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
	// The list, VictoriaMetrics' forms included (promql.victoria), is the
	// one the cluster-label test renders too.
	b := renderQueries(everyQuery(p))
	golden.Assert(t, filepath.Join("testdata", "queries.golden"), b)
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
		name      string
		header    bool
		wantCPU   string
		wantGrid  string
		wantShape string
	}{
		{"prometheus", false, "(rate(container_cpu_usage_seconds_total{", "(kube_pod_container_status_restarts_total{",
			"(quantile_over_time(0.9830508474576272, (rate(container_cpu_usage_seconds_total{"},
		{"victoriametrics", true, "(increase(container_cpu_usage_seconds_total{", "(last_over_time(kube_pod_container_status_restarts_total{",
			`(quantiles_over_time("rightsize_quantile", 0, 0.2542372881355932, 0.5084745762711864, 0.7457627118644068, 0.8983050847457628, 0.9491525423728814, 0.9661016949152542, 0.9830508474576272, 1, (increase_prometheus(container_cpu_usage_seconds_total{`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cpu, grid, shape []string
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
					case f.shape():
						shape = append(shape, q)
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
			require.Len(t, shape, 1)
			assert.Contains(t, cpu[0], tt.wantCPU)
			assert.Contains(t, shape[0], tt.wantShape)
			assert.Contains(t, grid[0], tt.wantGrid)
			assert.True(t, nocache, "nocache=1 on every range query")
		})
	}
}
