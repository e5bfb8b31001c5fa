package backtest_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestReplayBoundedBySamples: one sample far from the rest once made the
// replay list a decision time, and summarize the history, for every
// interval of the whole span; a row at a far-off timestamp among real
// history grew the process to 24 GB. Now the work follows the samples: a
// hundred samples plus one centuries (or 290000 years) away replay within
// a fixed bound, whatever the span.
func TestReplayBoundedBySamples(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	web := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	db := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}, Container: "pg"}
	names := []string{backtest.Current, "balanced", "documents", "guaranteed", "krr", "vpa", backtest.Oracle}
	for _, tc := range []struct {
		name string
		far  time.Time
	}{
		{"100 years later", t0.AddDate(100, 0, 0)},
		{"100 years earlier", t0.AddDate(-100, 0, 0)},
		{"290 years later", t0.AddDate(290, 0, 0)},
		{"300 years earlier, past a Duration", t0.AddDate(-300, 0, 0)},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year 290000", time.Date(290000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year -290000", time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := history.NewStore()
			settings := workload.Settings{Requests: workload.Resources{CPU: 500, Memory: workload.GiB}, Limits: workload.Resources{Memory: workload.GiB}}
			for i := range 100 {
				at := t0.Add(time.Duration(i) * 5 * time.Minute)
				st.Add(web, workload.Sample{Time: at, Pod: "web-1", CPU: workload.Cores(0.2 + float64(i%5)/10), HasCPU: true, Memory: 300 * workload.MiB, HasMemory: true, Settings: settings})
				st.Add(db, workload.Sample{Time: at, Pod: "db-0", CPU: 1, HasCPU: true, Memory: 2 * workload.GiB, HasMemory: true, Settings: settings, OOMKilled: i == 50})
			}
			st.Add(web, workload.Sample{Time: tc.far, Pod: "web-1", CPU: 0.3, HasCPU: true, Memory: 300 * workload.MiB, HasMemory: true, Settings: settings})
			st.Finalize()
			var res []backtest.Result
			var err error
			start := time.Now()
			alloclimit.Check(t, 256<<20, func() {
				res, err = backtest.Run(context.Background(), st, names, backtest.Options{
					Warmup: time.Hour, Interval: time.Minute, Headroom: true, PerContainer: true,
				})
			})
			t.Logf("%d decisions in %s", res[0].Decisions, time.Since(start))
			require.NoError(t, err)
			first, last := st.Span()
			wantDecisions := (last.UnixMilli() - first.UnixMilli() - time.Hour.Milliseconds() + time.Minute.Milliseconds() - 1) / time.Minute.Milliseconds()
			for _, r := range res {
				assert.Equal(t, int(wantDecisions), r.Decisions, r.Profile)
				for what, v := range map[string]float64{
					"cpu slack": r.CPU.Slack, "cpu insufficient": r.CPU.Insufficient, "cpu throttled": r.CPU.Throttled,
					"memory slack": r.Memory.Slack, "memory insufficient": r.Memory.Insufficient,
				} {
					assert.True(t, v >= 0 && v <= 1, "%s: %s %v outside [0, 1]", r.Profile, what, v)
				}
				for what, v := range map[string]float64{
					"cpu request core-hours": r.CPU.RequestCoreHours, "cpu usage core-hours": r.CPU.UsageCoreHours,
					"memory request GiB-hours": r.Memory.RequestGiBHours, "memory usage GiB-hours": r.Memory.UsageGiBHours,
				} {
					assert.True(t, v >= 0 && !math.IsInf(v, 0), "%s: %s %v", r.Profile, what, v)
				}
				if h := r.CPU.HindsightSlack; h != nil {
					assert.True(t, *h >= 0 && *h <= 1, "%s: hindsight slack %v", r.Profile, *h)
				}
			}
		})
	}
}
