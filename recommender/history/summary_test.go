package history

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// extremeStores are stores that each hold one kind of value no real
// container produces, among a day of ordinary samples: what a corrupt file
// or a unit mix-up hands the core. Each name says what it holds.
func extremeStores() map[string]*Store {
	ordinary := func(st *Store, pods ...string) {
		for _, pod := range pods {
			for i := range 288 {
				st.Add(key, workload.Sample{
					Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: pod,
					CPU: 0.25, HasCPU: true, Memory: 300 * workload.MiB, HasMemory: true,
					Settings: workload.Settings{Requests: workload.Resources{CPU: 500, Memory: workload.GiB}, Limits: workload.Resources{Memory: workload.GiB}},
				})
			}
		}
	}
	at := func(tm time.Time, cpu workload.Cores, mem workload.Bytes) workload.Sample {
		return workload.Sample{Time: tm, Pod: "p", CPU: cpu, HasCPU: true, Memory: mem, HasMemory: true}
	}
	end := t0.Add(24 * time.Hour)
	yearMinus290k := time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC)
	year290k := time.Date(290000, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]func(*Store){
		"1e308 cores": func(st *Store) { ordinary(st, "p"); st.Add(key, at(end, 1e308, workload.MiB)) },
		"1e308 cores twice": func(st *Store) {
			ordinary(st, "p")
			st.Add(key, at(end, 1e308, 0))
			st.Add(key, at(end.Add(time.Minute), 1e308, 0))
		},
		"+Inf and -Inf cores": func(st *Store) {
			ordinary(st, "p")
			st.Add(key, at(end, workload.Cores(math.Inf(1)), 0))
			st.Add(key, at(end.Add(time.Minute), workload.Cores(math.Inf(-1)), 0))
		},
		"negative cores":           func(st *Store) { ordinary(st, "p"); st.Add(key, at(end, -1e308, workload.MiB)) },
		"MaxInt64 bytes":           func(st *Store) { ordinary(st, "p"); st.Add(key, at(end, 0.1, math.MaxInt64)) },
		"a sample at year -290000": func(st *Store) { ordinary(st, "p"); st.Add(key, at(yearMinus290k, 0.1, workload.MiB)) },
		"a sample at year 290000":  func(st *Store) { ordinary(st, "p"); st.Add(key, at(year290k, 0.1, workload.MiB)) },
		"only two samples, 580000 years apart": func(st *Store) {
			st.Add(key, at(yearMinus290k, 0.1, workload.MiB))
			st.Add(key, at(year290k, 0.1, workload.MiB))
		},
		"a single sample": func(st *Store) { st.Add(key, at(t0, 0.1, workload.MiB)) },
		"an OOM kill at the int64 limit": func(st *Store) {
			ordinary(st, "p")
			smp := at(end, 0.1, math.MaxInt64)
			smp.OOMKilled = true
			smp.Settings.Limits.Memory = math.MaxInt64
			st.Add(key, smp)
		},
		"throttled shares out of range": func(st *Store) {
			ordinary(st, "p")
			for i, v := range []float64{math.Inf(1), -5, 1e300} {
				smp := at(end.Add(time.Duration(i)*time.Minute), 0.1, workload.MiB)
				smp.Throttled, smp.HasThrottled = v, true
				st.Add(key, smp)
			}
		},
	}
	out := map[string]*Store{}
	for name, fill := range cases {
		st := NewStore()
		fill(st)
		st.Finalize()
		out[name] = st
	}
	return out
}

// TestSummarizeExtremeSamples: whatever the samples hold, a summary's
// confidence is a number in [0, 1], observed time and peaks are not
// negative, and window quantiles are numbers. A single sample 1600 years in
// the past once gave a confidence of -Inf (an overflowed Duration), and an
// OOM kill at the int64 limit a negative peak.
func TestSummarizeExtremeSamples(t *testing.T) {
	for name, st := range extremeStores() {
		t.Run(name, func(t *testing.T) {
			_, last := st.Span()
			for _, until := range []time.Time{last.Add(time.Millisecond), t0.Add(12 * time.Hour)} {
				series := st.Series(key)
				s, err := Summarize(key, series, OOMsFromSeries(series, until), until, DefaultOptions())
				require.NoError(t, err)
				assert.False(t, math.IsNaN(s.Confidence), "confidence is NaN")
				assert.True(t, s.Confidence >= 0 && s.Confidence <= 1, "confidence %v outside [0, 1]", s.Confidence)
				assert.GreaterOrEqual(t, s.Observed, time.Duration(0), "observed time")
				assert.True(t, s.Throttled >= 0 && s.Throttled <= 1, "throttled share %v outside [0, 1]", s.Throttled)
				for _, p := range s.Peaks {
					assert.GreaterOrEqual(t, p.Bytes, workload.Bytes(0), "peak ending %s", p.End)
					assert.GreaterOrEqual(t, p.Observed, workload.Bytes(0), "observed peak ending %s", p.End)
				}
				for _, q := range []float64{0, 0.5, 0.9, 0.98, 1} {
					assert.False(t, math.IsNaN(s.CPUWindow.Quantile(q)), "cpu window p%v", 100*q)
					assert.False(t, math.IsNaN(s.MemoryWindow.Quantile(q)), "memory window p%v", 100*q)
				}
			}
		})
	}
}

// TestObservedTimeAcrossCenturies: a gap of centuries counts at most twice
// the usual step, as any gap does, and the confidence follows the time the
// pods were really observed.
func TestObservedTimeAcrossCenturies(t *testing.T) {
	st := NewStore()
	st.Add(key, workload.Sample{Time: t0.AddDate(-300, 0, 0), Pod: "a", CPU: 0.1, HasCPU: true})
	for i := range 289 {
		st.Add(key, cpuSample("a", time.Duration(i)*5*time.Minute, 0.1))
	}
	st.Finalize()
	s, err := Summarize(key, st.Series(key), nil, t0.Add(24*time.Hour+time.Minute), DefaultOptions())
	require.NoError(t, err)
	assert.Equal(t, 24*time.Hour+10*time.Minute, s.Observed, "a day of 5-minute steps plus the capped gap")
	assert.InDelta(t, 1-math.Exp2(-0.5*(24*60+10)/(24*60)), s.Confidence, 1e-12)
}

// TestWindowQuantileInfinite: interpolating between infinite values gave
// NaN (Inf − Inf).
func TestWindowQuantileInfinite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		q      float64
		want   float64
	}{
		{"between two +Inf", []float64{1, math.Inf(1), math.Inf(1)}, 0.75, math.Inf(1)},
		{"at -Inf", []float64{math.Inf(-1), 1}, 0, math.Inf(-1)},
		{"NaN quantile", []float64{1, 2}, math.NaN(), 1},
		{"negative quantile", []float64{1, 2}, -1, 1},
		{"infinite quantile", []float64{1, 2}, math.Inf(1), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w Window
			for i, v := range tc.values {
				w.Add(v, t0.Add(time.Duration(i)*time.Minute))
			}
			assert.Equal(t, tc.want, w.Quantile(tc.q))
		})
	}
}

func TestMedianStepMillis(t *testing.T) {
	for _, tc := range []struct {
		name  string
		times []int64
		want  int64
	}{
		{"none", nil, 0},
		{"one", []int64{5}, 0},
		{"steady", []int64{0, 300_000, 600_000, 900_000}, 300_000},
		{"a gap past the Duration range", []int64{0, 1e16}, 1e16},
		{"a gap past the int64 range", []int64{math.MinInt64, math.MaxInt64}, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, medianStepMillis(tc.times))
		})
	}
}
