package prometheus

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/report/cost"
	"rightsize.dev/rightsize/report/pricing"
)

// TestIntegrationSketchesMatchUsageCSV reads the demo back from a real
// store into sketches a few pod containers' groups at a time, and plans it
// beside the usage CSV's samples put into the same sketches at once: the
// groups must not change what the sketches hold, so every profile's plan agrees within
// the tolerance of TestIntegrationCollectMatchesUsageCSV (float rounding
// of the rates), HPAs and the current settings included. Against the
// CSV's samples themselves the plans differ by the sketches' error alone:
// within one bucket and rounding step too on the demo.
func TestIntegrationSketchesMatchUsageCSV(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		var updates []progress.Update
		exact, total := 0, 0
		for _, name := range policy.Names() {
			p, err := policy.ByName(name)
			require.NoError(t, err)
			if p.WindowQuantile() {
				continue // its window quantile needs the samples
			}
			lo := livestate.Options{History: p.History}
			src := Source{Options: smallGroups(demoOptions(srv.URL, csv)), Sketches: &lo}
			updates = updates[:0]
			d, err := src.Load(context.Background(), func(u progress.Update) { updates = append(updates, u) })
			require.NoError(t, err, name)
			require.NotNil(t, d.States, name)
			assert.Nil(t, d.Store, "%s: no samples kept", name)
			assert.Empty(t, d.Warnings, name)
			assert.True(t, d.HPAsKnown, name)
			assert.NotEmpty(t, d.Specs, name)
			assert.Contains(t, d.Summary, "40 pod containers, 53912 samples", name)
			held := heldSamples(t, d.Summary)
			assert.Less(t, held, 53912/2, "%s: some groups' samples held at once, not all", name)

			// The CSV's samples into sketches at once.
			st, err := livestate.New(livestate.Options{History: p.History, ExpireAfter: neverExpire, LoadRetention: 15 * 24 * time.Hour})
			require.NoError(t, err)
			st.AddStore(csv, nil)
			_, newest := csv.Span()
			end := newest.Add(time.Millisecond)
			st.Expire(end)

			r := recommender.Recommender{Profile: p, Critical: demoCritical()}
			plan := func(d *recommender.Data) recommender.Input {
				return recommender.Input{Source: d.Name, Store: d.Store, States: d.States, Specs: d.Specs, End: end}
			}
			want, err := r.RunOnce(context.Background(), plan(&recommender.Data{Name: "csv", States: st.States()}))
			require.NoError(t, err)
			got, err := r.RunOnce(context.Background(), plan(d))
			require.NoError(t, err)
			e, n := requireClosePlans(t, p, want, got, true)
			exact, total = exact+e, total+n

			samples, err := r.RunOnce(context.Background(), recommender.Input{Source: "csv", Store: csv, End: end})
			require.NoError(t, err)
			requireClosePlans(t, p, samples, got, false)

			require.NotEmpty(t, updates, name)
			for i := 1; i < len(updates); i++ {
				require.LessOrEqual(t, updates[i-1].Done, updates[i].Done, "%s: progress only advances", name)
			}
			last := updates[len(updates)-1]
			assert.Equal(t, last.Total, last.Done, "%s: the last update is the whole window", name)
		}
		t.Logf("%d of %d requests and limits equal exactly to the CSV's sketches", exact, total)

		// A window that starts six days before the data, its groups read
		// one after the other: a family's groups never overlap, and the
		// last to start must still know it is not alone.
		o := smallGroups(demoOptions(srv.URL, csv))
		o.History = 20 * 24 * time.Hour
		o.Concurrency = 1
		lo := livestate.Options{History: policy.Balanced().History}
		d, err := Source{Options: o, Sketches: &lo}.Load(context.Background(), nil)
		require.NoError(t, err)
		assert.Contains(t, d.Summary, "40 pod containers, 53912 samples from 2026-10-26T00:00Z to 2026-11-14T23:55Z")
		assert.Empty(t, d.Warnings)

		// A window that ends three days after the data: the HPAs are read
		// at its end, and no pod template is running then.
		o = smallGroups(demoOptions(srv.URL, csv))
		o.End, o.History = o.End.Add(3*24*time.Hour), 17*24*time.Hour
		d, err = Source{Options: o, Sketches: &lo}.Load(context.Background(), nil)
		require.NoError(t, err)
		assert.Contains(t, d.Summary, "40 pod containers, 53912 samples")
		assert.True(t, d.HPAsKnown, "the HPAs are read at the window's end")
		assert.Empty(t, d.Specs, "no pod runs at the window's end")
		assert.Empty(t, d.Warnings)

		// A window with no data at all says so, as a reading at once does.
		o = demoOptions(srv.URL, csv)
		o.End = o.End.Add(-15 * 24 * time.Hour)
		o.History = 24 * time.Hour
		_, err = Source{Options: o, Sketches: &lo}.Load(context.Background(), nil)
		require.ErrorIs(t, err, ErrNoData)
	})
}

// smallGroups makes a reading of the demo's 40 pod containers into
// sketches go by many groups of at most four, the larger namespaces' pods
// listed: pods of one workload fall into several groups, which must reach
// the sketches together.
func smallGroups(o Options) Options {
	o.MaxSeries = 4
	return o
}

// heldSamples reads the most samples held at once from a reading's
// summary.
func heldSamples(t *testing.T, summary string) int {
	t.Helper()
	m := regexp.MustCompile(`read into sketches a workload's groups at a time \(at most (\d+) samples held\)`).FindStringSubmatch(summary)
	require.NotNil(t, m, summary)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Positive(t, n)
	return n
}

// TestIntegrationSketchedReport makes the weekly cost report from one
// reading of the demo into sketches a few groups at a time — the costs metered as
// the samples pass, the plan as of the previous period's end from the
// snapshot taken then — and from the samples of one reading at once: the
// same requested, used and idle costs, pods, daily series and risks, and
// savings within 1 %.
func TestIntegrationSketchedReport(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		ctx := context.Background()
		o := demoOptions(srv.URL, csv)
		const period = 7 * 24 * time.Hour
		meter := cost.NewMeter(o.End, period, nil)
		lo := livestate.Options{History: policy.Balanced().History, SnapshotAt: o.End.Add(-period), Observe: meter.Add}
		sketched, err := Source{Options: smallGroups(o), Sketches: &lo}.Load(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, sketched.Snapshot)
		sampled, err := Source{Options: o}.Load(ctx, nil)
		require.NoError(t, err)
		require.NotNil(t, sampled.Store)

		p := &recommender.Pipeline{Recommender: recommender.Recommender{Profile: policy.Balanced(), Critical: demoCritical()}}
		in := cost.Input{Pricing: pricing.Defaults(), Period: period, End: o.End}
		want, err := cost.FromPipeline(ctx, p, sampled, in, time.Time{})
		require.NoError(t, err)
		in.Meter = meter
		got, err := cost.FromPipeline(ctx, p, sketched, in, time.Time{})
		require.NoError(t, err)

		assert.Equal(t, want.Data, got.Data)
		for _, tot := range [][2]cost.Totals{{want.Totals, got.Totals}, {want.PreviousTotals, got.PreviousTotals}} {
			w, g := tot[0], tot[1]
			require.Positive(t, w.Pods)
			assert.Equal(t, w.Pods, g.Pods)
			assert.Equal(t, w.Workloads, g.Workloads)
			assert.InEpsilon(t, w.Usage.PodHours, g.Usage.PodHours, 1e-9)
			assert.InEpsilon(t, float64(w.Requested), float64(g.Requested), 1e-9)
			assert.InEpsilon(t, float64(w.Used), float64(g.Used), 1e-6)
			assert.InEpsilon(t, float64(w.Idle), float64(g.Idle), 1e-6)
			assert.InDelta(t, float64(w.Savings), float64(g.Savings), 0.01*math.Abs(float64(w.Savings)))
			t.Logf("savings %.4f and %.4f", w.Savings, g.Savings)
		}
		require.Len(t, got.Daily, len(want.Daily))
		for i, d := range want.Daily {
			assert.InEpsilon(t, float64(d.Idle), float64(got.Daily[i].Idle), 1e-6)
		}
		require.Len(t, got.Risks, len(want.Risks))
		for i, r := range want.Risks {
			assert.Equal(t, []any{r.Severity, r.Kind, r.Workload, r.Container}, []any{got.Risks[i].Severity, got.Risks[i].Kind, got.Risks[i].Workload, got.Risks[i].Container})
		}
	})
}
