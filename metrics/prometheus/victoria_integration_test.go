package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender/workload"
)

// What these tests check against a real VictoriaMetrics only; the
// store-agnostic tests run against it too (eachStore).

func demoVM(t *testing.T, args ...string) *promtest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a real VictoriaMetrics (skipped with -short)")
	}
	return promtest.DemoVM(t, args...)
}

var decoyKey = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}

// TestIntegrationVictoriaMetricsPointsLimit runs against a VictoriaMetrics
// that returns at most 1,000 points per series (the demo's two weeks are
// 4,032 steps), in groups of a few pod containers read one after another:
// the collector cuts the first group's first chunk into parts under the
// limit the refusal names and sizes every later chunk under it, so that
// one request is refused in the whole run, and reads the same samples.
func TestIntegrationVictoriaMetricsPointsLimit(t *testing.T) {
	srv := demoVM(t, "-search.maxPointsPerTimeseries=1000")
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	o := demoOptions(srv.URL, csv)
	o.MaxSeries = 7
	o.Concurrency = 1
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, res.Failed)
	requireSameSamples(t, csv, res.Store)
	// Without the learnt limit each group's first chunk would be refused,
	// and halved twice or thrice.
	assert.Equal(t, 1, res.Splits)
}

// TestIntegrationVictoriaMetricsLateSamples collects the decoy cluster,
// then imports samples that arrive late (within the window read, an hour
// old) and collects again: the second collection sees them. VictoriaMetrics
// would answer the repeated range queries from its rollup result cache,
// which does not see them, if the collector did not ask it not to.
func TestIntegrationVictoriaMetricsLateSamples(t *testing.T) {
	srv := demoVM(t)
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	s := csv.Series(decoyKey)[0]
	first := time.UnixMilli(s.Time[0]).UTC()
	o := Options{URL: srv.URL, End: first.Add(48 * time.Hour), History: 48*time.Hour + time.Minute,
		Selector: `cluster="` + promtest.DecoyCluster + `"`}
	before, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 288, before.Samples, "the decoy's one day")

	// The second day's working set, as if a remote write had been held up.
	var om strings.Builder
	for d := 24 * time.Hour; d < 48*time.Hour; d += promtest.DemoStep {
		fmt.Fprintf(&om, "container_memory_working_set_bytes{cluster=%q,namespace=\"shop\",pod=%q,container=\"app\"} %d %d\n",
			promtest.DecoyCluster, s.Pod, 100<<20, first.Add(d).Unix())
	}
	require.NoError(t, srv.Import(context.Background(), strings.NewReader(om.String())))

	after, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 2*288, after.Samples, "both days, the second's read though the first collection's queries were the same")
}

// TestIntegrationVictoriaMetricsExtraLabel selects a cluster with
// VictoriaMetrics' extra_label query argument (what vmauth adds to keep a
// tenant to its series), given as --prometheus-param, on every request:
// the listings too, or other clusters' pods would be listed.
func TestIntegrationVictoriaMetricsExtraLabel(t *testing.T) {
	srv := demoVM(t)
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	o := demoOptions(srv.URL, csv)
	o.Selector = ""
	o.Params = url.Values{"extra_label": {"cluster=" + promtest.DecoyCluster}}
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Series, "the decoy's one pod container")
	assert.Equal(t, []workload.ContainerKey{decoyKey}, res.Store.Containers())
	assert.Equal(t, 288, res.Samples)
}

// tenantGateway stands in front of a store as Mimir's or Cortex's query
// frontend does: the API under /prometheus, an X-Scope-OrgID header
// required (401 without), and each tenant seeing its own series only
// (here one cluster of the demo, selected with VictoriaMetrics'
// extra_label). It records the path and tenant of every request.
type tenantGateway struct {
	mu       sync.Mutex
	requests []string // "TENANT PATH"
}

func (g *tenantGateway) start(t *testing.T, backend string) string {
	t.Helper()
	u, err := url.Parse(backend)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant := r.Header.Get("X-Scope-OrgID")
		g.mu.Lock()
		g.requests = append(g.requests, tenant+" "+r.URL.Path)
		g.mu.Unlock()
		path, ok := strings.CutPrefix(r.URL.Path, "/prometheus/")
		switch {
		case !ok:
			http.NotFound(w, r)
			return
		case tenant == "":
			http.Error(w, "no org id", http.StatusUnauthorized)
			return
		}
		r.URL.Path = "/" + path
		q := r.URL.Query()
		q.Set("extra_label", "cluster="+tenant)
		r.URL.RawQuery = q.Encode()
		r.Header.Del("X-Scope-OrgID")
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestIntegrationTenantPathAndHeader reads through a Mimir-style gateway:
// the URL with its /prometheus prefix, the tenant header from the HTTP
// client configuration file. Every request carries both, and the tenant's
// series are the ones read; without the header the gateway's 401 ends the
// run with an error that says so.
func TestIntegrationTenantPathAndHeader(t *testing.T) {
	srv := demoVM(t)
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	g := &tenantGateway{}
	base := g.start(t, srv.URL)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "http.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("http_headers:\n  X-Scope-OrgID:\n    values: ["+promtest.DecoyCluster+"]\n"), 0o600))

	o := demoOptions(base+"/prometheus", csv)
	o.Selector = ""
	o.HTTPConfigFile = cfg
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []workload.ContainerKey{decoyKey}, res.Store.Containers(), "the tenant's series only")
	assert.Equal(t, 288, res.Samples)
	g.mu.Lock()
	require.NotEmpty(t, g.requests)
	for _, r := range g.requests {
		assert.True(t, strings.HasPrefix(r, promtest.DecoyCluster+" /prometheus/api/v1/"), r)
	}
	g.mu.Unlock()

	o.HTTPConfigFile = ""
	_, err = Collect(context.Background(), o, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not authorized (401)")
}

// TestIntegrationVictoriaMetricsPathPrefix reads from VictoriaMetrics
// served under a path prefix (-http.pathPrefix, as behind a proxy).
func TestIntegrationVictoriaMetricsPathPrefix(t *testing.T) {
	srv := demoVM(t, "-http.pathPrefix=/prometheus")
	require.True(t, strings.HasSuffix(srv.URL, "/prometheus"))
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	o := demoOptions(srv.URL, csv)
	o.Selector = `cluster="` + promtest.DecoyCluster + `"`
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 288, res.Samples)
}

// TestIntegrationVictoriaMetricsSeriesLimit lists the demo from a
// VictoriaMetrics that lists at most 50 series a request
// (-search.maxSeries; 30,000 by default, which a fleet's namespaces
// exceed over 14 days): the listing is cut in time until each part fits,
// and every pod container is found.
func TestIntegrationVictoriaMetricsSeriesLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs VictoriaMetrics (skipped with -short)")
	}
	srv := promtest.DemoVM(t, "-search.maxSeries=50")
	csv, err := promtest.DemoStore()
	require.NoError(t, err)
	res, err := Collect(context.Background(), demoOptions(srv.URL, csv), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Series)
	assert.Positive(t, res.Splits, "the listing was cut")
	requireSameSamples(t, csv, res.Store)
}
