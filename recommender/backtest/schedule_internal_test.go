package backtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// visit is one interval the replay scores: its decision index and each
// series' range of samples.
type visit struct {
	k      int64
	lo, hi []int
}

// listedVisits is the replay as docs/backtest.md states it, with the list
// of decision times it used to build: t_k = first + W + k·R while t_k <
// last; interval k holds [t_k, t_k+1), the last one up to the last sample.
func listedVisits(series []*history.Series, first, last time.Time, o Options) (n int, out []visit) {
	var decisions []time.Time
	for t := first.Add(o.Warmup); t.Before(last); t = t.Add(o.Interval) {
		decisions = append(decisions, t)
	}
	for k, tk := range decisions {
		next := last.Add(time.Millisecond)
		if k+1 < len(decisions) {
			next = decisions[k+1]
		}
		v := visit{k: int64(k)}
		any := false
		for _, s := range series {
			lo, hi := s.Search(tk.UnixMilli()), s.Search(next.UnixMilli())
			v.lo, v.hi = append(v.lo, lo), append(v.hi, hi)
			any = any || hi > lo
		}
		if any {
			out = append(out, v)
		}
	}
	return len(decisions), out
}

// TestIntervalsMatchTheListedDecisions: visiting only the intervals that
// hold samples gives exactly the intervals, bounds and count of the listed
// decision times, on random stores with gaps, several pods, samples on the
// interval boundaries and a last sample on a decision time.
func TestIntervalsMatchTheListedDecisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	k := workload.ContainerKey{Container: "c"}
	for trial := range 300 {
		st := history.NewStore()
		for pod := range 1 + rng.IntN(3) {
			at := t0.Add(time.Duration(rng.IntN(50)) * time.Minute)
			for range rng.IntN(40) {
				st.Add(k, workload.Sample{Time: at, Pod: string(rune('a' + pod)), CPU: 1, HasCPU: true})
				// Mostly steps of 5 minutes, now and then a gap of hours.
				at = at.Add(time.Duration(1+rng.IntN(5)) * 5 * time.Minute)
				if rng.IntN(10) == 0 {
					at = at.Add(time.Duration(rng.IntN(48)) * time.Hour)
				}
			}
		}
		st.Finalize()
		o := Options{Warmup: time.Duration(rng.IntN(6)) * 30 * time.Minute, Interval: time.Duration(1+rng.IntN(12)) * 10 * time.Minute}
		first, last := st.Span()
		sch, err := newSchedule(first, last, o)
		require.NoError(t, err)
		series := st.Series(k)
		var got []visit
		sch.intervals(series, func(k int64, lo, hi []int) {
			got = append(got, visit{k, slices.Clone(lo), slices.Clone(hi)})
		})
		n, want := listedVisits(series, first, last, o)
		assert.Equal(t, int64(n), sch.n, "trial %d: decision count", trial)
		// Listed visits keep empty ranges of other pods; so do intervals.
		assert.Equal(t, want, got, "trial %d", trial)
	}
}

func TestSchedule(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		first, last time.Time
		o           Options
		n           int64
		err         string
	}{
		{"last on a decision time", t0, t0.Add(3 * time.Hour), Options{Warmup: time.Hour, Interval: time.Hour}, 2, ""},
		{"last just past one", t0, t0.Add(3*time.Hour + time.Millisecond), Options{Warmup: time.Hour, Interval: time.Hour}, 3, ""},
		{"warm-up past the history", t0, t0.Add(time.Hour), Options{Warmup: 2 * time.Hour, Interval: time.Hour}, 0, ""},
		{"an empty store", time.Time{}, time.Time{}, DefaultOptions(), 0, ""},
		{"290000 years at 1 ms", time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(290000, 1, 1, 0, 0, 0, 0, time.UTC),
			Options{Interval: time.Millisecond}, time.Date(290000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), ""},
		{"the whole int64 range", time.UnixMilli(math.MinInt64), time.UnixMilli(math.MaxInt64), Options{Interval: time.Millisecond}, math.MaxInt64, ""},
		{"a negative warm-up", t0, t0, Options{Warmup: -1, Interval: time.Hour}, 0, "warmup must be ≥ 0"},
		{"no interval", t0, t0, Options{}, 0, "interval > 0"},
		{"a sub-millisecond interval", t0, t0, Options{Interval: 1500 * time.Microsecond}, 0, "whole milliseconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSchedule(tc.first, tc.last, tc.o)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.n, s.n)
			if s.n > 0 {
				assert.Less(t, s.at(s.n-1), s.last, "the last decision lies before the last sample")
				assert.Equal(t, s.n-1, s.index(s.last))
			}
		})
	}
}
