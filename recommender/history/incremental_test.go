package history

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// randomHistory fills a store with pods of one container: some one after
// the other, some side by side, with gaps, missing values, irregular steps,
// zero memory samples (which HoldZeroPeaks holds), throttling and changing
// settings. It returns the series and the span.
func randomHistory(r *rand.Rand, pods int) ([]*Series, time.Time, time.Time) {
	st := NewStore()
	end := t0
	for p := range pods {
		pod := string(rune('a' + p))
		at := t0.Add(time.Duration(r.IntN(10*24)) * time.Hour)
		if r.IntN(2) == 0 && p > 0 {
			at = end.Add(time.Duration(r.IntN(3)) * time.Hour) // after the last pod
		}
		step := []time.Duration{time.Minute, 5 * time.Minute, 5 * time.Minute, 30 * time.Minute}[r.IntN(4)]
		n := 50 + r.IntN(3000)
		// Some pods are regular for hundreds of steps, some irregular.
		odd := []int{100, 1000, 1 << 30}[r.IntN(3)]
		cur := workload.Settings{Requests: workload.Resources{CPU: 500, Memory: workload.GiB}, Limits: workload.Resources{Memory: 2 * workload.GiB}}
		for range n {
			smp := workload.Sample{Time: at, Pod: pod, Settings: cur}
			if r.IntN(20) > 0 {
				smp.CPU, smp.HasCPU = workload.Cores(r.ExpFloat64()*0.3), true
			}
			if r.IntN(20) > 0 {
				smp.Memory, smp.HasMemory = 200*workload.MiB+workload.Bytes(r.IntN(int(workload.GiB))), true
				if r.IntN(50) == 0 {
					smp.Memory = 0
				}
			}
			if p%3 == 2 && r.IntN(4) > 0 {
				smp.Throttled, smp.HasThrottled = r.Float64()*0.2, true
			}
			st.Add(key, smp)
			if r.IntN(500) == 0 {
				cur.Requests.CPU += 100
			}
			at = at.Add(step)
			if r.IntN(2*odd) == 0 {
				at = at.Add(time.Duration(r.IntN(48)) * time.Hour) // a gap
			}
			switch r.IntN(odd) {
			case 0:
				at = at.Add(time.Duration(r.IntN(300)) * time.Second) // an odd step
			case 1:
				at = at.Add(step + time.Millisecond) // just over the observed cap
			}
		}
		if at.After(end) {
			end = at
		}
	}
	st.Finalize()
	return st.Series(key), t0, end
}

// TestIncrementalMatchesSummarize replays random histories decision by
// decision, with OOM kills reported as a backtest does (and some landing
// in intervals already over), and requires every incremental summary to
// equal Summarize's from scratch, to the bit. Summarizers of one follower
// share its state; each has its own kills. The replay goes back once
// halfway, which starts over.
func TestIncrementalMatchesSummarize(t *testing.T) {
	vpaLike := DefaultOptions()
	vpaLike.HoldZeroPeaks, vpaLike.CPUSampleWeight = true, 0.1
	vpaLike.CPU.Growth = 1.05
	allPeaks := DefaultOptions()
	allPeaks.MemoryIntervals, allPeaks.Window = 0, 0
	hourly := DefaultOptions()
	hourly.MemoryInterval = time.Hour
	lookback := DefaultOptions()
	lookback.CPULookback = 3 * 24 * time.Hour
	shortWindow := DefaultOptions()
	shortWindow.Window = 3 * 24 * time.Hour
	cases := []struct {
		name     string
		opts     []Options
		pods     int
		interval time.Duration
	}{
		{"one pod, daily", []Options{DefaultOptions()}, 1, 24 * time.Hour},
		{"one pod, hourly decisions", []Options{DefaultOptions()}, 1, time.Hour},
		{"pods in turn and side by side", []Options{DefaultOptions()}, 5, 24 * time.Hour},
		{"held zero peaks", []Options{vpaLike}, 3, 24 * time.Hour},
		{"every peak, whole history", []Options{allPeaks}, 3, 24 * time.Hour},
		{"hourly peaks, decisions every 7 h", []Options{hourly}, 2, 7 * time.Hour},
		{"cpu lookback: from scratch", []Options{lookback}, 3, 24 * time.Hour},
		{"six option sets sharing a follower", []Options{DefaultOptions(), vpaLike, allPeaks, hourly, lookback, shortWindow}, 4, 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(6) {
				r := rand.New(rand.NewPCG(seed, 15))
				series, first, last := randomHistory(r, tc.pods)
				f := NewFollower(key, series)
				incs := make([]*Incremental, len(tc.opts))
				for i, o := range tc.opts {
					var err error
					incs[i], err = f.Incremental(o)
					require.NoError(t, err)
				}
				ooms := make([][]OOMEvent, len(tc.opts))
				var times []time.Time
				for until := first.Add(tc.interval / 2); until.Before(last.Add(tc.interval)); until = until.Add(tc.interval) {
					times = append(times, until)
				}
				back := len(times) / 2
				times = append(times[:back+len(times)/4], times[back:]...)
				for _, until := range times {
					for i, o := range tc.opts {
						ooms[i] = append(ooms[i], randomOOMs(r, series, until)...)
						want, err := Summarize(key, series, ooms[i], until, o)
						require.NoError(t, err)
						got := incs[i].Summarize(ooms[i], until)
						if r.IntN(3) == 0 {
							continue // unread: the lazy windows catch up later
						}
						requireSameSummary(t, want, got, "seed %d, options %d, until %s", seed, i, until)
					}
				}
			}
		})
	}
}

// randomOOMs returns kills of random pods at sample times before until,
// mostly recent (as a replay reports them), some days older.
func randomOOMs(r *rand.Rand, series []*Series, until time.Time) []OOMEvent {
	var out []OOMEvent
	for range r.IntN(3) {
		s := series[r.IntN(len(series))]
		end := s.Search(until.UnixMilli())
		if end == 0 {
			continue
		}
		i := end - 1 - r.IntN(min(end, 300))
		if r.IntN(4) == 0 {
			i = r.IntN(end)
		}
		out = append(out, OOMEvent{Time: time.UnixMilli(s.Time[i]).UTC(), Pod: s.Pod, Limit: 2 * workload.GiB, Usage: workload.BytesOf(s.Memory[i])})
	}
	return out
}

// requireSameSummary compares two summaries field by field (histograms to
// their internal state); windows by their sorted values, which is all
// their quantiles read.
func requireSameSummary(t *testing.T, want, got *Summary, msg string, args ...any) {
	t.Helper()
	w, g := *want, *got
	for _, win := range []*Window{&w.CPUWindow, &w.MemoryWindow, &g.CPUWindow, &g.MemoryWindow} {
		win.Quantile(0.5) // sorts, or brings the lazy values
		win.values = slices.Clone(win.values)
		win.sorted, win.lazy = true, nil
		if len(win.values) == 0 {
			win.values = nil
		}
	}
	for _, f := range []struct {
		name      string
		want, got any
	}{
		{"CPU histogram", w.CPU, g.CPU},
		{"memory peaks histogram", w.MemoryPeaks, g.MemoryPeaks},
		{"CPU window", w.CPUWindow, g.CPUWindow},
		{"memory window", w.MemoryWindow, g.MemoryWindow},
		{"peaks", w.Peaks, g.Peaks},
		{"summary", w, g},
	} {
		if !reflect.DeepEqual(f.want, f.got) {
			require.Equal(t, f.want, f.got, append([]any{msg + ": " + f.name}, args...)...)
			t.Fatalf(msg+": "+f.name+" differs in unexported state", args...)
		}
	}
	// DeepEqual takes −0 for 0; the figures must be the same bits.
	require.Equal(t, math.Float64bits(w.CPUWindow.Mean), math.Float64bits(g.CPUWindow.Mean))
	require.Equal(t, math.Float64bits(w.MemoryWindow.Mean), math.Float64bits(g.MemoryWindow.Mean))
}

// TestMergeSorted checks the window's merge on the edge cases: nothing in
// or out, everything out, duplicates, infinities.
func TestMergeSorted(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name                string
		old, removed, added []float64
		want                []float64
	}{
		{"empty", nil, nil, nil, nil},
		{"only added", nil, nil, []float64{1, 2}, []float64{1, 2}},
		{"all removed", []float64{1, 2, 2}, []float64{1, 2, 2}, nil, nil},
		{"one of duplicates removed", []float64{1, 2, 2, 3}, []float64{2}, nil, []float64{1, 2, 3}},
		{"interleaved", []float64{1, 3, 5}, []float64{3}, []float64{0, 2, 4, 6}, []float64{0, 1, 2, 4, 5, 6}},
		{"equal values added", []float64{2}, nil, []float64{2, 2}, []float64{2, 2, 2}},
		{"infinities", []float64{-inf, 1, inf}, []float64{inf}, []float64{-inf, inf}, []float64{-inf, -inf, 1, inf}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeSorted(nil, tc.old, tc.removed, tc.added)
			require.Equal(t, tc.want, got)
		})
	}
	require.Panics(t, func() { mergeSorted(nil, []float64{1}, []float64{2}, nil) }, "a value removed that was not there")
}

// TestSummarizeCPUMatchesSummarize requires the CPU-only summaries, from
// scratch and incremental, to hold the CPU figures Summarize's hold, to the
// bit, decision after decision (going back once, which starts over).
func TestSummarizeCPUMatchesSummarize(t *testing.T) {
	lookback := DefaultOptions()
	lookback.CPULookback = 3 * 24 * time.Hour
	for _, o := range []Options{DefaultOptions(), lookback} {
		for seed := range uint64(6) {
			r := rand.New(rand.NewPCG(seed, 16))
			series, first, last := randomHistory(r, 1+int(seed%4))
			inc, err := NewFollower(key, series).Incremental(o)
			require.NoError(t, err)
			var times []time.Time
			for until := first.Add(12 * time.Hour); until.Before(last.Add(24 * time.Hour)); until = until.Add(24 * time.Hour) {
				times = append(times, until)
			}
			back := len(times) / 2
			times = append(times[:back+len(times)/4], times[back:]...)
			for _, until := range times {
				want, err := Summarize(key, series, nil, until, o)
				require.NoError(t, err)
				scratch, err := SummarizeCPU(key, series, until, o)
				require.NoError(t, err)
				for name, got := range map[string]*Summary{"from scratch": scratch, "incremental": inc.SummarizeCPU(until)} {
					msg := []any{"%s, seed %d, until %s", name, seed, until}
					require.Equal(t, want.CPUSamples, got.CPUSamples, msg...)
					require.Equal(t, want.CPUFirst, got.CPUFirst, msg...)
					require.Equal(t, want.Pods, got.Pods, msg...)
					require.Equal(t, want.CPUWindow.Count, got.CPUWindow.Count, msg...)
					if want.CPUWindow.Count > 0 {
						require.Equal(t, want.CPUWindow.First, got.CPUWindow.First, msg...)
						require.Equal(t, want.CPUWindow.Last, got.CPUWindow.Last, msg...)
						require.Equal(t, math.Float64bits(want.CPUWindow.Mean), math.Float64bits(got.CPUWindow.Mean), msg...)
						require.Equal(t, want.CPUWindow.Max, got.CPUWindow.Max, msg...)
						require.Equal(t, want.CPUWindow.Quantile(0.9), got.CPUWindow.Quantile(0.9), msg...)
					}
					for _, q := range []float64{0.5, 0.75, 0.9, 0.98} {
						require.Equal(t, want.CPU.Quantile(q), got.CPU.Quantile(q), msg...)
					}
					require.Equal(t, math.Float64bits(want.CPU.Mean()), math.Float64bits(got.CPU.Mean()), msg...)
					require.Equal(t, want.CPU.Max(), got.CPU.Max(), msg...)
				}
			}
		}
	}
}
