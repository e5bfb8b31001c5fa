package prometheus

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/openmetrics"
	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// spikyStart is where spikyStore's usage begins.
var spikyStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

const spikyCluster = "spiky"

// spikyStore is two days of usage scraped every minute from start: two
// pods that idle with bursts of a minute or two (which five-minute means
// flatten), one that follows a smooth daily cycle, and a CronJob pod that
// runs for 3 h 20 min with bursts, so that its first and last hours are
// partly empty.
func spikyStore(start time.Time) *history.Store {
	r := rand.New(rand.NewPCG(5, 6))
	st := history.NewStore()
	set := workload.Settings{Requests: workload.Resources{CPU: 200, Memory: 256 * workload.MiB}, Limits: workload.Resources{Memory: 512 * workload.MiB}}
	add := func(key workload.ContainerKey, pod string, from, to time.Duration, bursts bool, cpu func(day float64) float64) {
		burst := 0
		for d := from; d < to; d += time.Minute {
			v := cpu(float64(d) / float64(24*time.Hour))
			if bursts && (burst > 0 || r.Float64() < 0.05) {
				if burst == 0 {
					burst = 1 + r.IntN(2)
				}
				burst--
				v += 0.3 + 0.3*r.Float64()
			}
			st.Add(key, workload.Sample{Time: start.Add(d), Pod: pod, CPU: workload.Cores(max(v, 0)), HasCPU: true,
				Memory: 200*workload.MiB + workload.Bytes(r.IntN(20))*workload.MiB, HasMemory: true, Settings: set})
		}
	}
	idle := func(day float64) float64 { return 0.05 + 0.02*math.Sin(2*math.Pi*day) + 0.005*r.NormFloat64() }
	key := func(kind workload.Kind, name string) workload.ContainerKey {
		return workload.ContainerKey{Workload: workload.Key{Namespace: "spiky", Kind: kind, Name: name}, Container: "main"}
	}
	add(key(workload.Deployment, "api"), "api-7c9d8f6b5-a1b2c", 0, 48*time.Hour, true, idle)
	add(key(workload.Deployment, "api"), "api-7c9d8f6b5-d3e4f", 0, 48*time.Hour, true, idle)
	add(key(workload.Deployment, "steady"), "steady-6b5c4d3e2-x9y8z", 0, 48*time.Hour, false,
		func(day float64) float64 { return 0.4 + 0.2*math.Sin(2*math.Pi*day) + 0.01*r.NormFloat64() })
	add(key(workload.CronJob, "batch"), "batch-29800000-q7w8e", 30*time.Hour+20*time.Minute, 33*time.Hour+40*time.Minute, true, idle)
	st.Finalize()
	return st
}

// spikyText renders spikyStore as a scrape every minute.
func spikyText(w io.Writer) error {
	return openmetrics.Write(w, openmetrics.Options{Step: time.Minute},
		openmetrics.Source{Store: spikyStore(spikyStart), Labels: map[string]string{"cluster": spikyCluster}})
}

// spikyServers start Prometheus and VictoriaMetrics over spikyStore.
var spikyServers = []struct {
	name  string
	start func(t *testing.T) *promtest.Server
}{
	{"prometheus", func(t *testing.T) *promtest.Server {
		_, promtool := promtest.Require(t)
		dir := t.TempDir()
		require.NoError(t, promtest.Backfill(context.Background(), promtool, dir, 72*time.Hour, spikyText))
		return promtest.Run(t, dir)
	}},
	{"victoriametrics", func(t *testing.T) *promtest.Server {
		srv := promtest.RunVM(t)
		var om strings.Builder
		require.NoError(t, spikyText(&om))
		require.NoError(t, srv.Import(context.Background(), strings.NewReader(om.String())))
		return srv
	}},
}

// TestIntegrationCPUShapes reads one-minute usage at five-minute steps
// from real servers, with the CPU shapes and without, beside the
// one-minute samples themselves. With the shapes, every container's CPU
// percentiles (p50 to p99) are within ShapeTolerance of the samples' own,
// and so is every CPU request of a profile that takes a percentile; from
// the means alone, the bursty containers' p98 is less than half. (The
// fleet's price of time short, balanced's, is one price for all
// containers: on this three-workload fleet it flips with the smallest
// change of the in-sample risk, and is only logged.)
func TestIntegrationCPUShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus and VictoriaMetrics (skipped with -short)")
	}
	raw := spikyStore(spikyStart)
	end := spikyStart.Add(48 * time.Hour)
	for _, s := range spikyServers {
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t)
			o := Options{URL: srv.URL, End: end, History: 48 * time.Hour,
				Selector: `cluster="` + spikyCluster + `"`, RetryBackoff: 10 * time.Millisecond}
			shaped, err := Collect(context.Background(), o, nil, nil)
			require.NoError(t, err)
			assert.Empty(t, shaped.Warnings)
			assert.Equal(t, 4, shaped.Series)
			assert.Equal(t, 4, shaped.Shaped, "every pod container's hours are shaped")
			assert.Contains(t, shaped.Summary(), "at 5m steps (CPU percentiles of 1m rates for 4)")
			off := o
			off.CPUResolution = -1
			flat, err := Collect(context.Background(), off, nil, nil)
			require.NoError(t, err)
			assert.Zero(t, flat.Shaped)
			assert.Equal(t, flat.Samples, shaped.Samples, "the shapes add no samples")
			t.Logf("bytes received: %d with shapes, %d without", shaped.BytesReceived, flat.BytesReceived)

			ho := policy.Balanced().History
			summary := func(st *history.Store, k workload.ContainerKey) *history.Summary {
				series := st.Series(k)
				require.NotEmpty(t, series, k)
				sum, err := history.Summarize(k, series, nil, end, ho)
				require.NoError(t, err)
				return sum
			}
			for _, k := range raw.Containers() {
				want, got, means := summary(raw, k), summary(shaped.Store, k), summary(flat.Store, k)
				for _, q := range []float64{0.5, 0.75, 0.9, 0.95, 0.98, 0.99} {
					w, g, f := want.CPU.Quantile(q), got.CPU.Quantile(q), means.CPU.Quantile(q)
					t.Logf("%s p%v: %.3f from the samples, %.3f with shapes (%+.1f %%), %.3f from the means (%+.1f %%)",
						k, q*100, w, g, 100*(g/w-1), f, 100*(f/w-1))
					assert.InEpsilon(t, w, g, history.ShapeTolerance, "%s p%v", k, q*100)
				}
				if k.Workload.Name == "api" {
					assert.Less(t, means.CPU.Quantile(0.98), want.CPU.Quantile(0.98)/2, "the means flatten the bursts")
				}
			}

			// Read into sketches a group at a time: the plan is that of
			// the shaped samples put into sketches at once.
			for _, p := range []policy.Profile{policy.Balanced(), policy.VPA()} {
				lo := livestate.Options{History: p.History}
				d, err := Source{Options: smallGroups(o), Sketches: &lo}.Load(context.Background(), nil)
				require.NoError(t, err, p.Name)
				assert.Contains(t, d.Summary, "(CPU percentiles of 1m rates for 4)", p.Name)
				heldSamples(t, d.Summary)
				st, err := livestate.New(livestate.Options{History: p.History, ExpireAfter: neverExpire, LoadRetention: 3 * 24 * time.Hour})
				require.NoError(t, err)
				st.AddStore(shaped.Store, nil)
				r := recommender.Recommender{Profile: p}
				want, err := r.RunOnce(context.Background(), recommender.Input{Source: "shaped", States: st.States(), End: end})
				require.NoError(t, err)
				got, err := r.RunOnce(context.Background(), recommender.Input{Source: d.Name, States: d.States, Specs: d.Specs, End: end})
				require.NoError(t, err)
				requireClosePlans(t, p, want, got, true)
			}

			for _, name := range policy.Names() {
				p, err := policy.ByName(name)
				require.NoError(t, err)
				r := &recommender.Recommender{Profile: p}
				plan := func(st *history.Store) workload.Plan {
					pl, err := r.RunOnce(context.Background(), recommender.Input{Source: "test", Store: st})
					require.NoError(t, err)
					return pl
				}
				want, got, meanPlan := plan(raw), plan(shaped.Store), plan(flat.Store)
				require.Len(t, got.Workloads, len(want.Workloads))
				for i, ww := range want.Workloads {
					for j, wc := range ww.Containers {
						w := float64(wc.Recommendation.Target.Requests.CPU)
						g := float64(got.Workloads[i].Containers[j].Recommendation.Target.Requests.CPU)
						f := float64(meanPlan.Workloads[i].Containers[j].Recommendation.Target.Requests.CPU)
						where := fmt.Sprintf("%s %s", name, ww.Key)
						t.Logf("%s: cpu request %vm from the samples, %vm with shapes (%+.1f %%), %vm from the means (%+.1f %%)",
							where, w, g, 100*(g/w-1), f, 100*(f/w-1))
						if p.CPURequest.Source == policy.CPUHistogram && p.CPUFleetPrice == nil {
							assert.InDelta(t, w, g, history.ShapeTolerance*w+float64(p.RoundCPU), where)
						}
					}
				}
			}
		})
	}
}

// shapesOf lists a store's CPU shapes by container and pod.
func shapesOf(st *history.Store) map[string][]history.CPUShape {
	out := map[string][]history.CPUShape{}
	for _, k := range st.Containers() {
		for _, s := range st.Series(k) {
			if len(s.Shapes) > 0 {
				out[k.String()+" "+s.Pod] = s.Shapes
			}
		}
	}
	return out
}

// TestIntegrationFollowerShapes follows spikyStore with CPU shapes: the
// follower reads whole hours, after they end, and its reads give the
// samples and shapes one collection of the same hours gives. Following
// the demo, scraped every 5 minutes, the first whole hour without a shape
// turns the shapes off, and the follower reads on to the last step.
func TestIntegrationFollowerShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus and VictoriaMetrics (skipped with -short)")
	}
	for _, s := range spikyServers {
		t.Run(s.name, func(t *testing.T) {
			srv := s.start(t)
			o := Options{URL: srv.URL, Selector: `cluster="` + spikyCluster + `"`, RetryBackoff: 10 * time.Millisecond}
			f := &Follower{Options: o, MaxRange: 2 * time.Hour, Delay: 30 * time.Second}
			since := spikyStart.Add(10*time.Hour + 5*time.Minute)
			got := history.NewStore()
			var shaped []int
			until, st, err := f.Read(context.Background(), since, spikyStart.Add(20*time.Hour+40*time.Minute), func(r *Result) {
				addAll(got, r.Store)
				for _, k := range r.Store.Containers() {
					for _, s := range r.Store.Series(k) {
						for _, sh := range s.Shapes {
							require.True(t, got.SeriesOf(k, s.Pod).AddShape(sh))
						}
					}
				}
				shaped = append(shaped, r.Shaped)
			})
			require.NoError(t, err)
			got.Finalize()
			assert.Equal(t, spikyStart.Add(20*time.Hour), until, "the last whole hour")
			assert.Equal(t, 5, st.Collections, "to 12:00, then two hours at a time")
			assert.Equal(t, []int{3, 3, 3, 3, 3}, shaped, "the three pod containers then")

			one := o
			one.End, one.History = until, until.Sub(since)
			want, err := Collect(context.Background(), one, nil, nil)
			require.NoError(t, err)
			requireSameSamples(t, want.Store, got)
			assert.Equal(t, shapesOf(want.Store), shapesOf(got))
			// The hour to 11:00 began before the first step read.
			assert.Len(t, shapesOf(got)["spiky/Deployment/api/main api-7c9d8f6b5-a1b2c"], 9, "12:00 to 20:00")
		})
	}

	t.Run("no rates", func(t *testing.T) {
		srv, csv := demoServer(t, stores[0])
		o := demoOptions(srv.URL, csv)
		f := &Follower{Options: o, MaxRange: 2 * time.Hour, Delay: 30 * time.Second}
		end := f.Align(o.End)
		until, st, err := f.Read(context.Background(), end.Add(-10*time.Hour), end.Add(f.Delay), func(*Result) {})
		require.NoError(t, err)
		assert.Equal(t, end, until, "the last step, once no shape came")
		assert.True(t, f.noShapes)
		assert.Equal(t, 6, st.Collections, "to the first hour's end, then two hours at a time")
	})
}
