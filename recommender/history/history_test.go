package history

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

var (
	t0  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	key = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
)

func cpuSample(pod string, at time.Duration, cores float64) workload.Sample {
	return workload.Sample{Time: t0.Add(at), Pod: pod, CPU: workload.Cores(cores), HasCPU: true}
}

func memSample(pod string, at time.Duration, b workload.Bytes) workload.Sample {
	return workload.Sample{Time: t0.Add(at), Pod: pod, Memory: b, HasMemory: true}
}

func TestStoreSortsAndDropsDuplicates(t *testing.T) {
	st := NewStore()
	s1 := cpuSample("a", 10*time.Minute, 1)
	s1.Settings.Requests.CPU = 500
	st.Add(key, s1)
	st.Add(key, cpuSample("a", 0, 2))
	st.Add(key, cpuSample("a", 10*time.Minute, 3)) // duplicate: the first stays
	st.Add(key, cpuSample("b", 5*time.Minute, 4))
	require.Equal(t, 1, st.Finalize())

	ss := st.Series(key)
	require.Len(t, ss, 2)
	a := ss[0]
	require.Equal(t, "a", a.Pod)
	require.Equal(t, 2, a.Len())
	assert.Equal(t, workload.Cores(2), a.At(0).CPU)
	assert.Equal(t, workload.Cores(1), a.At(1).CPU, "first of the duplicates kept")
	assert.Equal(t, workload.Millicores(0), a.SettingsAt(0).Requests.CPU)
	assert.Equal(t, workload.Millicores(500), a.SettingsAt(1).Requests.CPU, "settings follow their sample when reordered")
	first, last := st.Span()
	assert.Equal(t, t0, first)
	assert.Equal(t, t0.Add(10*time.Minute), last)
	assert.Equal(t, 3, st.Samples())
	assert.Equal(t, []workload.ContainerKey{key}, st.Containers())
}

func TestWindowQuantileInterpolatesLikeNumpy(t *testing.T) {
	var w Window
	for i, v := range []float64{4, 1, 3, 2} {
		w.Add(v, t0.Add(time.Duration(i)*time.Minute))
	}
	for _, tc := range []struct{ q, want float64 }{
		{0, 1}, {0.5, 2.5}, {0.95, 3.85}, {1, 4}, {0.25, 1.75},
	} {
		assert.InDelta(t, tc.want, w.Quantile(tc.q), 1e-12, "q=%v", tc.q)
	}
	assert.Equal(t, 2.5, w.Mean)
	assert.Equal(t, 4.0, w.Max)
	assert.Equal(t, 3*time.Minute, w.Span())
}

func summarize(t *testing.T, st *Store, ooms []OOMEvent, until time.Time, o Options) *Summary {
	t.Helper()
	s, err := Summarize(key, st.Series(key), ooms, until, o)
	require.NoError(t, err)
	return s
}

func TestSummarizeMemoryPeaks(t *testing.T) {
	o := DefaultOptions()
	o.MemoryIntervals = 3
	st := NewStore()
	// Ten days of samples every hour: the peak of day d is (d+1) GiB at noon.
	for h := 0; h < 240; h++ {
		d := h / 24
		b := workload.GiB / 2
		if h%24 == 12 {
			b = workload.Bytes(d+1) * workload.GiB
		}
		st.Add(key, memSample("p", time.Duration(h)*time.Hour, b))
	}
	st.Finalize()
	until := t0.Add(240 * time.Hour)

	s := summarize(t, st, nil, until, o)
	require.Len(t, s.Peaks, 3, "only the last 3 intervals count")
	for i, p := range s.Peaks {
		assert.Equal(t, workload.Bytes(8+i)*workload.GiB, p.Bytes)
		assert.Equal(t, t0.Add(time.Duration(8+i)*24*time.Hour), p.End)
	}
	assert.Equal(t, 240, s.MemorySamples)
	assert.Equal(t, 0, s.CPUSamples)

	t.Run("samples at or after until are not seen", func(t *testing.T) {
		s := summarize(t, st, nil, t0.Add(24*time.Hour), o)
		assert.Equal(t, 24, s.MemorySamples)
		require.Len(t, s.Peaks, 1)
		assert.Equal(t, workload.GiB, s.Peaks[0].Bytes)
	})

	t.Run("an OOM kill becomes a bumped peak (R6)", func(t *testing.T) {
		ev := OOMEvent{Time: t0.Add(9*24*time.Hour + 3*time.Hour), Pod: "p", Limit: 12 * workload.GiB}
		s := summarize(t, st, []OOMEvent{ev}, until, o)
		require.Len(t, s.OOMs, 1)
		day9 := s.Peaks[2]
		assert.True(t, day9.OOM)
		// m = max(limit 12 GiB, peak so far 0.5 GiB); bump = max(1.2 m, m + 100 MiB).
		assert.Equal(t, workload.Bytes(math.Ceil(1.2*float64(12*workload.GiB))), day9.Bytes)
		assert.Equal(t, 10*workload.GiB, day9.Observed, "the day's observed peak is kept apart")

		small := OOMEvent{Time: ev.Time, Pod: "p", Limit: 200 * workload.MiB}
		s = summarize(t, st, []OOMEvent{small}, until, o)
		assert.Equal(t, 10*workload.GiB, s.Peaks[2].Bytes, "a bump below the observed peak changes nothing")
	})
}

func TestSummarizeCPUAndConfidence(t *testing.T) {
	o := DefaultOptions()
	o.CPU.HalfLife = 0
	o.Window = 24 * time.Hour
	st := NewStore()
	for i := 0; i < 7*288; i++ { // 7 days at 5 minutes: 0.1, 0.2, ... 1.0 cores
		smp := cpuSample("p", time.Duration(i)*5*time.Minute, float64(i%10+1)/10)
		smp.Throttled, smp.HasThrottled = 0.1, true
		st.Add(key, smp)
	}
	st.Finalize()
	until := t0.Add(7 * 24 * time.Hour)
	s := summarize(t, st, nil, until, o)

	assert.Equal(t, 7*288, s.CPUSamples)
	assert.Equal(t, 288, s.CPUWindow.Count, "the exact window holds the last 24 h")
	assert.InDelta(t, 0.55, s.CPUWindow.Mean, 0.01)
	assert.InDelta(t, 1.0, s.CPUWindow.Max, 1e-6)
	assert.InDelta(t, 0.1, s.Throttled, 1e-6)
	// The histogram's p90 is the top of the bucket holding 0.9 (≤ 5 % above).
	p90 := s.CPU.Quantile(0.9)
	assert.GreaterOrEqual(t, p90, 0.9-1e-6)
	assert.LessOrEqual(t, p90, 0.9*1.05)
	// 7 days of dense history: 1 − 2^(−7/2).
	assert.InDelta(t, 1-math.Exp2(-3.5), s.Confidence, 0.01)
	assert.Equal(t, 1, s.Pods)
	assert.Equal(t, 1, s.PodsNow)

	t.Run("gaps lower the confidence", func(t *testing.T) {
		st := NewStore()
		for i := 0; i < 7*288; i += 12 * 12 { // a sample every 12 hours...
			for j := 0; j < 12; j++ { // ...with an hour of 5-minute samples
				st.Add(key, cpuSample("p", time.Duration(i+j)*5*time.Minute, 0.5))
			}
		}
		st.Finalize()
		sparse := summarize(t, st, nil, until, o)
		assert.Less(t, sparse.Confidence, 0.5)
		assert.Greater(t, sparse.Confidence, 0.0)
	})
}

func TestOOMsFromSeries(t *testing.T) {
	st := NewStore()
	s := memSample("p", time.Hour, 600*workload.MiB)
	s.OOMKilled = true
	s.Settings.Limits.Memory = 512 * workload.MiB
	st.Add(key, s)
	st.Add(key, memSample("p", 2*time.Hour, 100*workload.MiB))
	st.Finalize()
	ooms := OOMsFromSeries(st.Series(key), t0.Add(3*time.Hour))
	require.Len(t, ooms, 1)
	assert.Equal(t, OOMEvent{Time: t0.Add(time.Hour), Pod: "p", Limit: 512 * workload.MiB, Usage: 600 * workload.MiB}, ooms[0])
	assert.Empty(t, OOMsFromSeries(st.Series(key), t0.Add(time.Hour)), "the kill at until is not yet seen")
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())
	o := DefaultOptions()
	o.MemoryInterval = 0
	o.OOMBumpRatio = 0.5
	err := o.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "memory interval")
	assert.Contains(t, err.Error(), "oom bump ratio")
}
