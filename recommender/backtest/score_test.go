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

// fixedMemory is an external policy that sets one memory limit and checks
// it is shown only OOM episodes from before each decision.
type fixedMemory struct {
	t     *testing.T
	limit workload.Bytes
}

func (f fixedMemory) Decide(v backtest.View, tk, _ time.Time) workload.Recommendation {
	for _, o := range v.OOMs {
		if !o.Time.Before(tk) {
			f.t.Errorf("OOM at %s shown at the decision at %s", o.Time, tk)
		}
	}
	var r workload.Recommendation
	r.HasMemory = true
	r.Target.Requests.Memory, r.Target.Limits.Memory = f.limit, f.limit
	return r
}

// TestRunExternal: an external policy is replayed and scored like a
// profile, after the named ones.
func TestRunExternal(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	st := history.NewStore()
	for i := range 3 * 24 * 12 { // three days at 5 minutes, over 1 GiB on the second day
		u := workload.GiB / 2
		if i/(24*12) == 1 && i%12 == 0 {
			u = 2 * workload.GiB
		}
		st.Add(k, workload.Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: "web-0", Memory: u, HasMemory: true})
	}
	st.Finalize()
	for _, tc := range []struct {
		limit   workload.Bytes
		wantOOM int
	}{
		{workload.GiB, 24},
		{4 * workload.GiB, 0},
	} {
		ext := backtest.External{Name: "fixed", New: func(workload.ContainerKey) backtest.Replayer { return fixedMemory{t, tc.limit} }}
		res, err := backtest.RunExternal(context.Background(), st, []string{backtest.Current}, []backtest.External{ext}, backtest.Options{Warmup: 24 * time.Hour, Interval: 6 * time.Hour})
		require.NoError(t, err)
		require.Len(t, res, 2)
		assert.Equal(t, backtest.Current, res[0].Profile)
		assert.Equal(t, 0, res[0].Covered, "current: nothing recorded")
		assert.Equal(t, "fixed", res[1].Profile)
		assert.Equal(t, tc.wantOOM, res[1].Memory.OOMEvents, "limit %d", tc.limit)
		assert.InDelta(t, 1-0.5*float64(workload.GiB)/float64(tc.limit), res[1].Memory.LimitSlack, 0.03) // the spikes lower it a little
	}
	_, err := backtest.RunExternal(context.Background(), st, nil, []backtest.External{{Name: "broken"}}, backtest.DefaultOptions())
	assert.ErrorContains(t, err, "broken")
}
