package prometheus

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestMain(m *testing.M) {
	code := m.Run()
	promtest.Cleanup()
	os.Exit(code)
}

// store is a real server the integration tests run against: Prometheus
// over the demo TSDB, or VictoriaMetrics with the same samples imported.
type store struct {
	name string
	// start runs the server over the demo data with extra flags.
	start func(t testing.TB, args ...string) *promtest.Server
	// limit are flags with which the server refuses to read the demo's
	// whole window in one query. VictoriaMetrics' sample limit counts the
	// samples of whole blocks (thousands), which no split in time brings
	// under a low one: its limit of points per series stands in.
	limit []string
}

var stores = []store{
	{
		name: "prometheus",
		start: func(t testing.TB, args ...string) *promtest.Server {
			return promtest.Run(t, promtest.DemoTSDB(t), args...)
		},
		limit: []string{"--query.max-samples=30000"},
	},
	{
		name:  "victoriametrics",
		start: promtest.DemoVM,
		limit: []string{"-search.maxPointsPerTimeseries=1000"},
	},
}

// eachStore runs f as a subtest against each store.
func eachStore(t *testing.T, f func(t *testing.T, s store)) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus and VictoriaMetrics (skipped with -short)")
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { f(t, s) })
	}
}

// demoServer starts a store over the demo data.
func demoServer(t *testing.T, s store, args ...string) (*promtest.Server, *history.Store) {
	t.Helper()
	st, err := promtest.DemoStore()
	require.NoError(t, err)
	return s.start(t, args...), st
}

func demoOptions(url string, st *history.Store) Options {
	return Options{
		URL:          url,
		End:          promtest.DemoEnd(st),
		Selector:     `cluster="` + promtest.DemoCluster + `"`,
		RetryBackoff: 10 * time.Millisecond,
	}
}

// requireSameSamples checks that two stores hold the same samples: the
// same pod containers and timestamps, memory, OOM kills and settings
// exactly, CPU and throttling within a relative 1e-5. The counters are
// integrated and differentiated again, and in the first window of a
// counter that starts at zero Prometheus does not extrapolate the rate to
// the window's start (it would cross zero), so the rate there is the
// increase over step+1ms: 3.3e-6 too low at 5-minute steps.
func requireSameSamples(t *testing.T, want, got *history.Store) {
	t.Helper()
	require.Equal(t, want.Containers(), got.Containers())
	require.Equal(t, want.Samples(), got.Samples())
	for _, k := range want.Containers() {
		ws, gs := want.Series(k), got.Series(k)
		require.Len(t, gs, len(ws), "%s: pods", k)
		for i := range ws {
			w, g := ws[i], gs[i]
			require.Equal(t, w.Pod, g.Pod)
			require.Equal(t, w.Time, g.Time, "%s %s: timestamps", k, w.Pod)
			for j := range w.Len() {
				a, b := w.At(j), g.At(j)
				where := fmt.Sprintf("%s %s at %s", k, w.Pod, a.Time.Format(time.RFC3339))
				require.Equal(t, a.HasCPU, b.HasCPU, where)
				require.InEpsilon(t, float64(a.CPU)+1e-12, float64(b.CPU)+1e-12, 1e-5, where)
				require.Equal(t, a.HasMemory, b.HasMemory, where)
				require.Equal(t, a.Memory, b.Memory, where)
				require.Equal(t, a.HasThrottled, b.HasThrottled, where)
				require.InDelta(t, a.Throttled, b.Throttled, 1e-5*a.Throttled+1e-7, where)
				require.Equal(t, a.OOMKilled, b.OOMKilled, where)
				require.Equal(t, a.Settings, b.Settings, where)
			}
		}
	}
}

// TestIntegrationCollectMatchesUsageCSV reads the demo dataset back from a
// real Prometheus that holds it as cAdvisor and kube-state-metrics series
// (with pod-level and pause-container series, and a decoy cluster), and
// checks that the samples and every profile's recommendations equal those
// from the usage CSV.
//
// Tolerance: a request or limit may differ by one histogram bucket (4 %,
// the profiles' bucket growth) plus one rounding step (the profile's
// RoundCPU or RoundMemory), since CPU comes back through a counter and a
// rate with float rounding of about 1e-12 that could move a value across
// a bucket boundary. Confidence may differ by 0.01. In practice every
// figure is equal; the test logs how many.
func TestIntegrationCollectMatchesUsageCSV(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		res, err := Collect(context.Background(), demoOptions(srv.URL, csv), nil, nil)
		require.NoError(t, err)
		assert.Empty(t, res.Failed)
		assert.Empty(t, res.Warnings)
		assert.True(t, res.HPAsKnown, "kube-state-metrics is there")
		assert.Empty(t, res.HPAs, "the demo has no HPAs; the resize cluster's are not selected")
		assert.Equal(t, 40, res.Series, "pod containers: the pause and pod-level series are left out")
		// Scraped every 5 minutes, no 1-minute window holds two samples.
		assert.Zero(t, res.Shaped, "no CPU shapes")
		assert.Contains(t, res.Summary(), "(no 1m CPU rates: scraped less often?)")
		assert.Positive(t, res.Queries)
		assert.Positive(t, res.BytesReceived)
		requireSameSamples(t, csv, res.Store)

		exact, total := 0, 0
		for _, name := range policy.Names() {
			p, err := policy.ByName(name)
			require.NoError(t, err)
			r := &recommender.Recommender{Profile: p, Critical: demoCritical()}
			want, err := r.RunOnce(context.Background(), recommender.Input{Source: "csv", Store: csv})
			require.NoError(t, err)
			got, err := r.RunOnce(context.Background(), recommender.Input{Source: "prometheus", Store: res.Store, Specs: res.Specs})
			require.NoError(t, err)
			e, n := requireClosePlans(t, p, want, got, true)
			exact, total = exact+e, total+n
		}
		t.Logf("%d of %d requests and limits equal exactly across %d profiles", exact, total, len(policy.Names()))
	})
}

// demoCritical are the demo's critical workloads (R8).
func demoCritical() map[workload.Key]bool {
	critical := map[workload.Key]bool{}
	for _, k := range demo.Critical() {
		critical[k] = true
	}
	return critical
}

// requireClosePlans checks that two plans of profile p recommend the same
// workloads and containers, with requests and limits within one histogram
// bucket (4 %) plus one rounding step and confidence within 0.01; with
// samples, the same sample counts too. It returns how many requests and
// limits are equal exactly, and how many were compared.
func requireClosePlans(t *testing.T, p policy.Profile, want, got workload.Plan, samples bool) (exact, total int) {
	t.Helper()
	name := p.Name
	require.Len(t, got.Workloads, len(want.Workloads), name)
	for i, ww := range want.Workloads {
		gw := got.Workloads[i]
		require.Equal(t, ww.Key, gw.Key, name)
		assert.Equal(t, ww.Replicas, gw.Replicas, "%s %s: replicas", name, ww.Key)
		assert.Equal(t, ww.QoSCurrent, gw.QoSCurrent, "%s %s: current QoS", name, ww.Key)
		assert.Equal(t, ww.QoSRecommended, gw.QoSRecommended, "%s %s: recommended QoS", name, ww.Key)
		require.Len(t, gw.Containers, len(ww.Containers), "%s %s", name, ww.Key)
		for j, wc := range ww.Containers {
			gc := gw.Containers[j]
			where := fmt.Sprintf("%s %s/%s", name, ww.Key, wc.Name)
			require.Equal(t, wc.Name, gc.Name, where)
			assert.Equal(t, wc.Current, gc.Current, "%s: current settings", where)
			if samples {
				assert.Equal(t, wc.Samples, gc.Samples, "%s: samples", where)
			}
			wr, gr := wc.Recommendation, gc.Recommendation
			assert.Equal(t, wr.HasCPU, gr.HasCPU, where)
			assert.Equal(t, wr.HasMemory, gr.HasMemory, where)
			assert.InDelta(t, wr.Confidence, gr.Confidence, 0.01, where)
			cpuTol := func(v workload.Millicores) float64 { return 0.04*float64(v) + float64(p.RoundCPU) }
			memTol := func(v workload.Bytes) float64 { return 0.04*float64(v) + float64(p.RoundMemory) }
			for _, pair := range []struct {
				what     string
				want     float64
				got, tol float64
			}{
				{"cpu request", float64(wr.Target.Requests.CPU), float64(gr.Target.Requests.CPU), cpuTol(wr.Target.Requests.CPU)},
				{"cpu limit", float64(wr.Target.Limits.CPU), float64(gr.Target.Limits.CPU), cpuTol(wr.Target.Limits.CPU)},
				{"memory request", float64(wr.Target.Requests.Memory), float64(gr.Target.Requests.Memory), memTol(wr.Target.Requests.Memory)},
				{"memory limit", float64(wr.Target.Limits.Memory), float64(gr.Target.Limits.Memory), memTol(wr.Target.Limits.Memory)},
			} {
				total++
				if pair.want == pair.got {
					exact++
				}
				assert.LessOrEqual(t, math.Abs(pair.want-pair.got), pair.tol, "%s: %s %v and %v", where, pair.what, pair.want, pair.got)
			}
		}
	}
	return exact, total
}

// TestIntegrationSelectorPicksCluster reads the decoy cluster alone: one
// pod for one day at five times the demo's usage; without a selector both
// clusters' series would be merged.
func TestIntegrationSelectorPicksCluster(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		o := demoOptions(srv.URL, csv)
		o.Selector = `cluster="` + promtest.DecoyCluster + `"`
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		require.Equal(t, 1, res.Series)
		key := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
		require.Equal(t, []workload.ContainerKey{key}, res.Store.Containers())
		got := res.Store.Series(key)[0]
		want := csv.Series(key)[0]
		require.Equal(t, want.Pod, got.Pod)
		require.Equal(t, 288, got.Len(), "one day at 5-minute steps")
		for i := range got.Len() {
			require.Equal(t, want.Time[i], got.Time[i])
			require.InEpsilon(t, 5*want.CPU[i], got.CPU[i], 1e-5)
		}
	})
}

// TestIntegrationTooManySamplesSplits runs against a server whose sample
// limit refuses the whole window at once (HTTP 422): the collector splits
// until the server accepts, and reads the same samples.
func TestIntegrationTooManySamplesSplits(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s, s.limit...)
		res, err := Collect(context.Background(), demoOptions(srv.URL, csv), nil, nil)
		require.NoError(t, err)
		assert.Empty(t, res.Failed)
		assert.Positive(t, res.Splits, "the limit must have forced splits")
		requireSameSamples(t, csv, res.Store)
	})
}

// TestIntegrationChunksAndConcurrency reads the demo in many small chunks
// at once and gets the same samples as in one.
func TestIntegrationChunksAndConcurrency(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		o := demoOptions(srv.URL, csv)
		o.MaxPoints = 5000
		o.MaxSeries = 7
		o.Concurrency = 8
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		assert.Empty(t, res.Failed)
		assert.Greater(t, res.Queries, 100, "many chunks")
		requireSameSamples(t, csv, res.Store)
	})
}

// TestIntegrationWindow reads the last two days only.
func TestIntegrationWindow(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		o := demoOptions(srv.URL, csv)
		o.History = 48 * time.Hour
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		first, last := res.Store.Span()
		_, csvLast := csv.Span()
		assert.Equal(t, csvLast, last)
		assert.Equal(t, csvLast.Add(-48*time.Hour+5*time.Minute), first, "the window is (end − history, end]")
		want := 0
		for _, k := range csv.Containers() {
			for _, s := range csv.Series(k) {
				want += s.Len() - s.Search(first.UnixMilli())
			}
		}
		assert.Equal(t, want, res.Samples, "every sample of the last two days, no other")
	})
}

// TestIntegrationResizesAndOOMKills reads pods whose settings change while
// they run and that are OOM-killed, in chunks of various sizes, so that
// changes fall inside chunks, between the coarse grid's points and after a
// pod's last one: every setting and kill comes back at its step.
func TestIntegrationResizesAndOOMKills(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, _ := demoServer(t, s)
		want := promtest.ResizeStore(promtest.ResizeStart)
		_, last := want.Span()
		for _, maxPoints := range []int{0, 1000, 300} {
			t.Run(fmt.Sprint(maxPoints), func(t *testing.T) {
				o := Options{URL: srv.URL, End: last.Add(time.Second), History: 3 * 24 * time.Hour, Selector: `cluster="` + promtest.ResizeCluster + `"`, MaxPoints: maxPoints}
				res, err := Collect(context.Background(), o, nil, nil)
				require.NoError(t, err)
				assert.Empty(t, res.Failed)
				requireSameSamples(t, want, res.Store)
				app := workload.ContainerKey{Workload: workload.Key{Namespace: "resize", Kind: workload.Deployment, Name: "app"}, Container: "main"}
				assert.Len(t, history.OOMsFromSeries(res.Store.Series(app), last.Add(time.Second)), 2, "the kills of both pods")
			})
		}
	})
}

// TestIntegrationCompression asks a loopback server for compressed
// responses only when told to.
func TestIntegrationCompression(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		for _, tt := range []struct {
			c          Compression
			compressed bool
		}{{CompressionAuto, false}, {CompressionOn, true}, {CompressionOff, false}} {
			t.Run(string(tt.c), func(t *testing.T) {
				o := demoOptions(srv.URL, csv)
				o.Compression = tt.c
				res, err := Collect(context.Background(), o, nil, nil)
				require.NoError(t, err)
				if tt.compressed {
					assert.Less(t, res.BytesOnWire, res.BytesReceived/3)
				} else {
					assert.GreaterOrEqual(t, res.BytesOnWire, res.BytesReceived)
				}
				assert.Equal(t, csv.Samples(), res.Samples)
			})
		}
	})
}

// TestIntegrationHPAs reads the HPAs kube-state-metrics exports at the end
// of the window: those still there, with their targets as written, and
// not the one deleted before; the API version label is left out.
func TestIntegrationHPAs(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, _ := demoServer(t, s)
		_, last := promtest.ResizeStore(promtest.ResizeStart).Span()
		var want []workload.HPA
		for _, h := range promtest.ResizeHPAs(promtest.ResizeStart) {
			if h.Until.IsZero() {
				want = append(want, h.HPA)
			}
		}
		require.Len(t, want, 2)
		o := Options{URL: srv.URL, End: last.Add(time.Second), History: 3 * 24 * time.Hour, Selector: `cluster="` + promtest.ResizeCluster + `"`}
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		assert.True(t, res.HPAsKnown)
		assert.Equal(t, want, res.HPAs)
		for _, w := range res.Warnings {
			assert.NotContains(t, w, "HPA")
		}

		d, err := Source{Options: o}.Load(context.Background(), nil)
		require.NoError(t, err)
		assert.True(t, d.HPAsKnown)
		assert.Equal(t, want, d.HPAs)

		t.Run("a day in, the deleted HPA is still there", func(t *testing.T) {
			o := o
			o.End = promtest.ResizeStart.Add(20 * time.Hour)
			o.History = 24 * time.Hour
			res, err := Collect(context.Background(), o, nil, nil)
			require.NoError(t, err)
			var names []string
			for _, h := range res.HPAs {
				names = append(names, h.Name)
			}
			assert.Equal(t, []string{"app", "app-before", "canary"}, names)
		})
	})
}

// demoPrometheus starts Prometheus over the demo data, for tests of the
// collector's own behaviour (faults injected in front of the server) that
// one store covers.
func demoPrometheus(t *testing.T) (*promtest.Server, *history.Store) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus (skipped with -short)")
	}
	return demoServer(t, stores[0])
}
