package history

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestThrottledShare(t *testing.T) {
	for _, tc := range []struct {
		name string
		sum  float64
		n    int
		want float64
	}{
		{"no samples", 0, 0, 0},
		{"the mean", 0.3, 3, 0.1},
		{"above 1 is held at 1", 5, 2, 1},
		{"negative is 0", -1, 2, 0},
		{"NaN is 0", math.NaN(), 2, 0},
		{"+Inf is 1", math.Inf(1), 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, throttledShare(tc.sum, tc.n), 1e-12)
		})
	}
}

func TestOOMBump(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     workload.Bytes
		ratio float64
		min   workload.Bytes
		want  workload.Bytes
	}{
		{"the ratio where larger", 10 * workload.GiB, 1.2, 100 * workload.MiB, 12 * workload.GiB},
		{"the minimum bump where larger", 200 * workload.MiB, 1.2, 100 * workload.MiB, 300 * workload.MiB},
		{"nothing known: the minimum bump", 0, 1.2, 100 * workload.MiB, 100 * workload.MiB},
		{"at the int64 limit: saturated, not negative", math.MaxInt64, 1.2, 100 * workload.MiB, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, oomBump(tc.m, tc.ratio, tc.min))
		})
	}
}

func TestObservedMillis(t *testing.T) {
	minute := time.Minute.Milliseconds()
	for _, tc := range []struct {
		name  string
		times []int64
		end   int
		want  int64
	}{
		{"one sample", []int64{0}, 1, 0},
		{"steady steps", []int64{0, 5 * minute, 10 * minute, 15 * minute}, 4, 15 * minute},
		{"a gap counts twice the usual step", []int64{0, 5 * minute, 10 * minute, 10*minute + 24*60*minute}, 4, 20 * minute},
		{"only what is before end", []int64{0, 5 * minute, 10 * minute, 15 * minute}, 2, 5 * minute},
		{"centuries apart: a gap like any other", []int64{math.MinInt64, 0, 5 * minute, 10 * minute, 15 * minute}, 5, 25 * minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, observedMillis(&Series{Time: tc.times}, tc.end))
		})
	}
}

func TestFitTrend(t *testing.T) {
	for _, tc := range []struct {
		name           string
		xs, ys         []float64
		tau, perDay, l float64
	}{
		{"rising", []float64{-2, -1, 0}, []float64{1, 2, 3}, 1, 1, 2},
		{"falling", []float64{-2, -1, 0}, []float64{3, 2, 1}, -1, -1, 2},
		{"flat", []float64{-3, -2, -1, 0}, []float64{2, 2, 2, 2}, 0, 0, 2},
		{"one spike moves neither much", []float64{-4, -3, -2, -1, 0}, []float64{1, 2, 30, 4, 5}, 0.6, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := fitTrend(tc.xs, tc.ys)
			assert.Equal(t, len(tc.xs), tr.Intervals)
			assert.InDelta(t, tc.tau, tr.Tau, 1e-12, "τ")
			assert.InDelta(t, tc.perDay, tr.PerDay, 1e-12, "slope")
			assert.InDelta(t, tc.l, tr.Level, 1e-12, "level")
			assert.Equal(t, tc.ys[len(tc.ys)-1], tr.Last)
		})
	}
}

// TestPodPeaks: one peak per interval aligned to the pod's first memory
// sample, an OOM kill bumping its interval (R6), only the last intervals kept.
func TestPodPeaks(t *testing.T) {
	o := DefaultOptions()
	o.MemoryIntervals = 2
	st := NewStore()
	for h := range 72 { // three days, hourly; day d peaks at (d+1) × 100 MiB
		st.Add(key, memSample("p", time.Duration(h)*time.Hour, workload.Bytes(h/24+1)*100*workload.MiB))
	}
	st.Finalize()
	ser := st.Series(key)[0]
	until := t0.Add(72 * time.Hour)
	// Killed on day 2 under a 256 MiB limit after 300 MiB were seen that
	// day: max(1.2 × 300 MiB, 300 MiB + 100 MiB).
	kill := OOMEvent{Time: t0.Add(50 * time.Hour), Pod: "p", Limit: 256 * workload.MiB}
	peaks := podPeaks(ser, ser.Len(), []OOMEvent{kill, {Time: t0, Pod: "other"}}, until, o)
	assert.Equal(t, []Peak{
		{Pod: "p", End: t0.Add(48 * time.Hour), Bytes: 200 * workload.MiB, Observed: 200 * workload.MiB},
		{Pod: "p", End: t0.Add(72 * time.Hour), Bytes: 400 * workload.MiB, Observed: 300 * workload.MiB, OOM: true},
	}, peaks)
	assert.Nil(t, podPeaks(&Series{Pod: "p", Time: []int64{0}, Memory: []float64{math.NaN()}}, 1, nil, until, o), "no memory and no kill: no peaks")
}

// TestPodPeaksHoldZeroPeaks: with HoldZeroPeaks an interval whose first
// sample is 0 keeps a peak of 0 to its end, whatever the samples and kills
// after it (the real VPA recommender's ContainerState); a zero sample that
// is not the first, or a kill before the first sample, holds nothing.
func TestPodPeaksHoldZeroPeaks(t *testing.T) {
	st := NewStore()
	for h := range 72 {
		var b workload.Bytes
		switch {
		case h == 0, h == 30, h == 49: // day 0 opens with 0; day 1 does not
		case h < 24:
			b = workload.GiB
		case h < 30:
			b = 300 * workload.MiB
		case h < 48:
			b = 600 * workload.MiB
		case h == 48: // no sample: a kill opens day 2
			continue
		case h == 60:
			b = 500 * workload.MiB
		default:
			b = 200 * workload.MiB
		}
		st.Add(key, memSample("p", time.Duration(h)*time.Hour, b))
	}
	st.Finalize()
	ser := st.Series(key)[0]
	until := t0.Add(72 * time.Hour)
	ooms := []OOMEvent{
		{Time: t0, Pod: "p", Limit: 512 * workload.MiB},                                    // with day 0's zero sample, after it
		{Time: t0.Add(5 * time.Hour), Pod: "p", Limit: 512 * workload.MiB},                 // 1 GiB seen: bump 1.2 GiB
		{Time: t0.Add(48*time.Hour + 30*time.Minute), Pod: "p", Limit: 256 * workload.MiB}, // before day 2's first sample
	}
	bump := workload.Bytes(math.Ceil(1.2 * float64(workload.GiB)))
	o := DefaultOptions()
	o.MemoryIntervals = 0
	want := []Peak{
		{Pod: "p", End: t0.Add(24 * time.Hour), Bytes: bump, Observed: workload.GiB, OOM: true},
		{Pod: "p", End: t0.Add(48 * time.Hour), Bytes: 600 * workload.MiB, Observed: 600 * workload.MiB},
		{Pod: "p", End: t0.Add(72 * time.Hour), Bytes: 500 * workload.MiB, Observed: 500 * workload.MiB, OOM: true},
	}
	assert.Equal(t, want, podPeaks(ser, ser.Len(), ooms, until, o), "off by default: the highest sample or bump")

	o.HoldZeroPeaks = true
	want[0].Bytes = 0 // opened by 0: the later gigabyte and both kills add nothing
	assert.Equal(t, want, podPeaks(ser, ser.Len(), ooms, until, o))

	// Through Summarize: the held interval is a peak of 0 in the histogram.
	s := summarize(t, st, ooms, until, o)
	assert.Equal(t, 0.0, s.MemoryPeaks.Min(), "the held interval counts as a peak of 0")
	assert.Equal(t, o.Memory.FirstBucket, s.MemoryPeaks.Quantile(0), "in the first bucket")
}
