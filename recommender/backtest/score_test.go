package backtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestScoreMemoryOnRecordedSettings scores `current` on a container whose
// samples all fall after the warm-up (a VM started late, a new pod), next
// to one that sets the replay's span. Its first sample weighs nothing but
// is still judged: an episode starting there is one (docs/backtest.md).
func TestScoreMemoryOnRecordedSettings(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const step = 5 * time.Minute
	lim := workload.GiB
	over, under := 2*workload.GiB, workload.GiB/4
	cases := []struct {
		name                string
		usage               []workload.Bytes // the late container's, one a step
		wantOOM             int
		wantLimitGiBHours   float64
		wantLimitSlack      float64
		wantContainersOOMed int
	}{
		{"episode from the first sample", []workload.Bytes{over, over, under, under}, 1, 3 * step.Hours(), (0 + 0.75 + 0.75) / 3, 1},
		{"only the first sample over", []workload.Bytes{over, under, under, under}, 1, 3 * step.Hours(), 0.75, 1},
		{"episode later", []workload.Bytes{under, over, under, over}, 2, 3 * step.Hours(), 0.75 / 3, 1},
		{"never over", []workload.Bytes{under, under, under, under}, 0, 3 * step.Hours(), 0.75, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			early := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "early"}, Container: "app"}
			late := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "late"}, Container: "app"}
			st := history.NewStore()
			// The early container has no settings: not covered, it only
			// sets the start of the replay.
			st.Add(early, workload.Sample{Time: t0, Pod: "early-0", Memory: under, HasMemory: true})
			set := workload.Settings{Requests: workload.Resources{Memory: lim}, Limits: workload.Resources{Memory: lim}}
			start := t0.Add(2 * time.Hour)
			for i, u := range tc.usage {
				st.Add(late, workload.Sample{Time: start.Add(time.Duration(i) * step), Pod: "late-0", Memory: u, HasMemory: true, Settings: set})
			}
			st.Finalize()
			res, err := backtest.Run(context.Background(), st, []string{backtest.Current}, backtest.Options{Warmup: time.Hour, Interval: 24 * time.Hour})
			require.NoError(t, err)
			m := res[0].Memory
			assert.Equal(t, tc.wantOOM, m.OOMEvents, "OOM episodes")
			assert.Equal(t, tc.wantContainersOOMed, m.ContainersWithOOM, "containers with OOM")
			assert.InDelta(t, tc.wantLimitGiBHours, m.LimitGiBHours, 1e-9, "limit GiB·h")
			assert.InDelta(t, tc.wantLimitSlack, m.LimitSlack, 1e-9, "limit slack")
			assert.InDelta(t, m.RequestGiBHours, m.LimitGiBHours, 1e-9, "request = limit here")
		})
	}
}
