package policy

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

// estimatorSummary is a small summary built by hand: CPU samples 0.1, 0.2,
// 0.3, 0.4 and 1.0 cores, memory samples 100, 200 and 300 MiB, two daily
// peaks (the second an OOM bump of 500 MiB), confidence 0.25, throttled in
// 20 % of CFS periods.
func estimatorSummary() *history.Summary {
	h := history.DefaultOptions()
	s := &history.Summary{
		Confidence: 0.25, Throttled: 0.2,
		CPU: sketch.MustNew(h.CPU), MemoryPeaks: sketch.MustNew(h.Memory),
		Peaks: []history.Peak{
			{Pod: "p", End: t0.Add(24 * time.Hour), Bytes: 300 * workload.MiB, Observed: 300 * workload.MiB},
			{Pod: "p", End: t0.Add(48 * time.Hour), Bytes: 500 * workload.MiB, Observed: 250 * workload.MiB, OOM: true},
		},
	}
	for i, v := range []float64{0.1, 0.2, 0.3, 0.4, 1.0} {
		at := t0.Add(time.Duration(i) * time.Minute)
		s.CPUWindow.Add(v, at)
		s.CPU.Add(v, 1, at)
	}
	for i, v := range []workload.Bytes{100 * workload.MiB, 200 * workload.MiB, 300 * workload.MiB} {
		s.MemoryWindow.Add(float64(v), t0.Add(time.Duration(i)*time.Minute))
	}
	for _, p := range s.Peaks {
		s.MemoryPeaks.Add(float64(p.Bytes), 1, p.End)
	}
	return s
}

// amount is an estimator giving v, for the estimators that wrap another.
func amount(v float64) Estimator { return Fixed{Amount: v, Kind: StepEqual} }

// estimatorCase is one estimator alone: the amount it gives and the step it
// reports last.
type estimatorCase struct {
	name string
	est  Estimator
	want float64
	step Step
}

func runEstimatorCases(t *testing.T, cases []estimatorCase) {
	t.Helper()
	s := estimatorSummary()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.est.Estimate(s)
			require.NotEmpty(t, e.Steps)
			assert.InDelta(t, tc.want, e.Value(), 1e-9*math.Max(1, math.Abs(tc.want)), "amount")
			assert.Equal(t, e.Value(), e.Steps[len(e.Steps)-1].Value, "the amount is the last step's")
			// The amounts within rounding, the rest exactly.
			last, want := e.Steps[len(e.Steps)-1], tc.step
			for _, f := range []struct{ got, want *float64 }{{&last.Bound, &want.Bound}, {&last.Factor, &want.Factor}, {&last.Input, &want.Input}} {
				assert.InDelta(t, *f.want, *f.got, 1e-9*math.Max(1, math.Abs(*f.want)))
				*f.got, *f.want = 0, 0
			}
			last.Value = 0
			assert.Equal(t, want, last)
		})
	}
}

func TestStatistic(t *testing.T) {
	s := estimatorSummary()
	mib := float64(workload.MiB)
	runEstimatorCases(t, []estimatorCase{
		{"cpu window p50", Statistic{Source: CPUWindow, Stat: Quantile, Q: 0.5}, 0.3, Step{Kind: StepQuantile, Q: 0.5}},
		{"cpu window p90 interpolates", Statistic{Source: CPUWindow, Stat: Quantile, Q: 0.9}, 0.76, Step{Kind: StepQuantile, Q: 0.9}},
		{"cpu window mean", Statistic{Source: CPUWindow, Stat: Mean}, 0.4, Step{Kind: StepMean}},
		{"cpu window highest", Statistic{Source: CPUWindow, Stat: Max}, 1.0, Step{Kind: StepMax}},
		{"memory window mean", Statistic{Source: MemoryWindow, Stat: Mean}, 200 * mib, Step{Kind: StepMean}},
		{"cpu histogram p50", Statistic{Source: CPUHistogram, Stat: Quantile, Q: 0.5}, s.CPU.Quantile(0.5), Step{Kind: StepQuantile, Q: 0.5}},
		{"cpu histogram mean", Statistic{Source: CPUHistogram, Stat: Mean}, s.CPU.Mean(), Step{Kind: StepMean}},
		{"memory peaks p90: the bucket's end capped at the highest peak", Statistic{Source: MemoryPeaks, Stat: Quantile, Q: 0.9}, 500 * mib,
			Step{Kind: StepQuantile, Q: 0.9, Bound: s.MemoryPeaks.Quantile(0.9), Changed: true}},
		{"memory peaks p90, the bucket's end (vpa)", Statistic{Source: MemoryPeaks, Stat: Quantile, Q: 0.9, BucketEnd: true}, s.MemoryPeaks.Quantile(0.9),
			Step{Kind: StepQuantile, Q: 0.9}},
		{"memory peaks: the highest is exact, the OOM bump whole", Statistic{Source: MemoryPeaks, Stat: Max}, 500 * mib, Step{Kind: StepMax}},
		{"an unknown statistic takes the highest", Statistic{Source: CPUWindow, Stat: "odd"}, 1.0, Step{Kind: StepStatistic}},
		{"an unknown source gives 0", Statistic{Source: "odd", Stat: Max}, 0, Step{Kind: StepMax}},
	})
}

func TestCap(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"below the cap: unchanged", Cap{Base: amount(1), At: amount(2)}, 1, Step{Kind: StepCap, Bound: 2}},
		{"above the cap: held", Cap{Base: amount(3), At: amount(2)}, 2, Step{Kind: StepCap, Bound: 2, Changed: true}},
		{"at the cap: unchanged", Cap{Base: amount(2), At: amount(2)}, 2, Step{Kind: StepCap, Bound: 2}},
		{"a cap from a statistic with a margin", Cap{Base: amount(1), At: Margin{Base: Statistic{Source: CPUWindow, Stat: Mean}, Fraction: 0.5}},
			0.6, Step{Kind: StepCap, Bound: 0.4 * 1.5, Changed: true}},
	})
}

func TestAtLeast(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"above the mean: unchanged", AtLeast{Base: amount(0.5), Floor: Statistic{Source: CPUWindow, Stat: Mean}}, 0.5, Step{Kind: StepAtLeast, Of: StepMean, Bound: 0.4}},
		{"below the mean: raised (R1)", AtLeast{Base: amount(0.3), Floor: Statistic{Source: CPUWindow, Stat: Mean}}, 0.4, Step{Kind: StepAtLeast, Of: StepMean, Bound: 0.4, Changed: true}},
		{"below a quantile", AtLeast{Base: amount(0.1), Floor: Statistic{Source: CPUWindow, Stat: Quantile, Q: 0.5}}, 0.3, Step{Kind: StepAtLeast, Of: StepQuantile, Q: 0.5, Bound: 0.3, Changed: true}},
		{"any estimator as the floor", AtLeast{Base: amount(1), Floor: amount(2)}, 2, Step{Kind: StepAtLeast, Of: StepEqual, Bound: 2, Changed: true}},
		{"a share of the highest: raised", AtLeast{Base: amount(0.3), Floor: Statistic{Source: CPUWindow, Stat: Max}, Share: 0.5}, 0.5,
			Step{Kind: StepAtLeast, Of: StepMax, Bound: 0.5, Factor: 0.5, Changed: true}},
		{"a share of the highest: above it, unchanged", AtLeast{Base: amount(0.6), Floor: Statistic{Source: CPUWindow, Stat: Max}, Share: 0.5}, 0.6,
			Step{Kind: StepAtLeast, Of: StepMax, Bound: 0.5, Factor: 0.5}},
	})
}

func TestMaxRatio(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"below 2 × request", MaxRatio{Base: amount(1.5), Request: 1, Ratio: 2}, 1.5, Step{Kind: StepMaxRatio, Factor: 2, Bound: 2}},
		{"above 2 × request: held (R3)", MaxRatio{Base: amount(3), Request: 1, Ratio: 2}, 2, Step{Kind: StepMaxRatio, Factor: 2, Bound: 2, Changed: true}},
		{"no ratio: off", MaxRatio{Base: amount(5), Request: 1, Ratio: 0}, 5, Step{Kind: StepMaxRatio}},
	})
}

// The memory rules of issue 15: a request of at least half the window's
// highest, a limit from the window's highest that an OOM bump still raises.
func TestEstimateMemoryJumps(t *testing.T) {
	s := estimatorSummary() // window highest 300 MiB; peaks 300 MiB and an OOM bump of 500 MiB
	req := Estimate{Source: MemoryWindow, Stat: Quantile, Q: 0.1, AtLeastMaxShare: 0.9}.Estimator().Estimate(s)
	st, ok := req.Step(StepAtLeast)
	require.True(t, ok)
	assert.True(t, st.Changed, "p10 of the samples is below 0.9 × 300 MiB")
	assert.InDelta(t, 0.9*300*float64(workload.MiB), req.Value(), 1)

	lim := Estimate{Source: MemoryWindow, Stat: Max, Margin: 0.5}.Estimator().Estimate(s)
	assert.InDelta(t, 1.5*300*float64(workload.MiB), lim.Value(), 1, "the window alone misses the OOM bump")
	lim = Estimate{Source: MemoryWindow, Stat: Max, WithOOMPeaks: true, Margin: 0.5}.Estimator().Estimate(s)
	peak := sketch.MustNew(history.DefaultOptions().Memory)
	peak.Add(500*float64(workload.MiB), 1, t0)
	assert.InDelta(t, 1.5*peak.Max(), lim.Value(), 1, "the OOM bump raises the limit (R6)")

	low := Estimate{Source: CPUWindow, Stat: Quantile, Q: 0.98, CapQ: 0.25, CapMargin: 0, AtLeastQ: 0.5}.Estimator().Estimate(s)
	assert.InDelta(t, 0.3, low.Value(), 1e-9, "held at p25, raised back to p50")

	assert.Error(t, Estimate{Source: MemoryPeaks, Stat: Max, AtLeastMaxShare: 1.5}.validate())
	assert.Error(t, Estimate{Source: MemoryPeaks, Stat: Max, AtLeastQ: -1}.validate())
}

func TestFrontierProfiles(t *testing.T) {
	for _, p := range []Profile{Balanced(), Savings(), Reliability()} {
		require.NoError(t, p.Validate(), p.Name)
		assert.Equal(t, 2.0, p.MemoryLimit.MaxRatio, "%s: memory limit within R3's band", p.Name)
		assert.Equal(t, 0.5, p.MemoryRequest.AtLeastMaxShare, p.Name)
	}
	assert.Less(t, Savings().MemoryRequest.Q, Balanced().MemoryRequest.Q)
	assert.Greater(t, Reliability().MemoryRequest.Q, Balanced().MemoryRequest.Q)
}

func TestMargin(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"none", Margin{Base: amount(2), Fraction: 0}, 2, Step{Kind: StepMargin, Factor: 1}},
		{"5 %", Margin{Base: amount(2), Fraction: 0.05}, 2.1, Step{Kind: StepMargin, Factor: 1.05, Changed: true}},
		{"R2's × 1.5 on the highest", Margin{Base: Statistic{Source: CPUWindow, Stat: Max}, Fraction: 0.5}, 1.5, Step{Kind: StepMargin, Factor: 1.5, Changed: true}},
	})
}

func TestConfidenceMultiplier(t *testing.T) {
	// estimatorSummary's confidence is 0.25.
	runEstimatorCases(t, []estimatorCase{
		{"half way to full confidence: half the extra", ConfidenceMultiplier{Base: amount(2), Extra: 0.5, Full: 0.5}, 2 * 1.25,
			Step{Kind: StepShortHistory, Factor: 1.25, Input: 0.25, Changed: true}},
		{"at full confidence: nothing", ConfidenceMultiplier{Base: amount(2), Extra: 0.5, Full: 0.25}, 2, Step{Kind: StepShortHistory, Factor: 1, Input: 0.25}},
		{"no extra: off", ConfidenceMultiplier{Base: amount(2), Extra: 0, Full: 0.5}, 2, Step{Kind: StepShortHistory, Factor: 1, Input: 0.25}},
		{"no full confidence: off", ConfidenceMultiplier{Base: amount(2), Extra: 0.5, Full: 0}, 2, Step{Kind: StepShortHistory, Factor: 1, Input: 0.25}},
	})
	for _, tc := range []struct {
		confidence, want float64
	}{{0, 1.5}, {0.1, 1.4}, {0.4, 1.1}, {0.5, 1}, {1, 1}, {math.NaN(), 1}} {
		s := &history.Summary{Confidence: tc.confidence}
		e := ConfidenceMultiplier{Base: amount(1), Extra: 0.5, Full: 0.5}.Estimate(s)
		assert.InDelta(t, tc.want, e.Value(), 1e-12, "confidence %v", tc.confidence)
	}
}

func TestMinResources(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"above the floor", MinResources{Base: amount(0.5), Min: 0.01}, 0.5, Step{Kind: StepFloor, Bound: 0.01}},
		{"below the floor: raised", MinResources{Base: amount(0.005), Min: 0.01}, 0.01, Step{Kind: StepFloor, Bound: 0.01, Changed: true}},
		{"no floor", MinResources{Base: amount(0), Min: 0}, 0, Step{Kind: StepFloor}},
	})
}

func TestMinRatio(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"above 2 × request", MinRatio{Base: amount(3), Request: 1, Ratio: 2}, 3, Step{Kind: StepMinRatio, Factor: 2, Bound: 2}},
		{"below 2 × request: raised (R3)", MinRatio{Base: amount(1.5), Request: 1, Ratio: 2}, 2, Step{Kind: StepMinRatio, Factor: 2, Bound: 2, Changed: true}},
		{"no ratio: off", MinRatio{Base: amount(0.5), Request: 1, Ratio: 0}, 0.5, Step{Kind: StepMinRatio}},
	})
}

func TestFixedAndRecordedRatio(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"no limit (R4)", Fixed{Kind: StepNoLimit}, 0, Step{Kind: StepNoLimit}},
		{"equal to the request (R7)", Fixed{Amount: 0.25, Kind: StepEqual}, 0.25, Step{Kind: StepEqual}},
		{"the recorded ratio (R3)", RecordedRatio{Request: 0.3, CurrentRequest: 0.1, CurrentLimit: 0.4}, 1.2, Step{Kind: StepRatio, Factor: 4, Changed: true}},
		{"none recorded: equal to the request", RecordedRatio{Request: 0.3, CurrentLimit: 0.4, Fallback: EqualRequest}, 0.3, Step{Kind: StepEqual, Fallback: true}},
		{"none recorded: no limit", RecordedRatio{Request: 0.3, CurrentRequest: 0.1, Fallback: NoLimit}, 0, Step{Kind: StepNoLimit, Fallback: true}},
	})
}

func TestThrottleRaise(t *testing.T) {
	// estimatorSummary is throttled in 20 % of CFS periods.
	runEstimatorCases(t, []estimatorCase{
		{"throttled: above the current limit (R6)", ThrottleRaise{Base: amount(1), Threshold: 0.05, Current: 2}, 2 * 1.4,
			Step{Kind: StepThrottled, Input: 0.2, Bound: 2 * 1.4, Changed: true}},
		{"below the threshold", ThrottleRaise{Base: amount(1), Threshold: 0.25, Current: 2}, 1, Step{Kind: StepThrottled, Input: 0.2}},
		{"no current limit", ThrottleRaise{Base: amount(1), Threshold: 0.05}, 1, Step{Kind: StepThrottled, Input: 0.2}},
		{"already above", ThrottleRaise{Base: amount(5), Threshold: 0.05, Current: 2}, 5, Step{Kind: StepThrottled, Input: 0.2, Bound: 2 * 1.4}},
		{"off", ThrottleRaise{Base: amount(1), Current: 2}, 1, Step{Kind: StepThrottled, Input: 0.2}},
	})
}

func TestTrendRaise(t *testing.T) {
	gib := float64(workload.GiB)
	leak := history.Trend{Intervals: 8, Tau: 1, PerDay: 0.1 * gib, Level: gib, Last: 1.5 * gib}
	week := 7 * 24 * time.Hour
	runEstimatorCases(t, []estimatorCase{
		{"kept above the trend a week ahead", TrendRaise{Base: amount(1.8 * gib), Trend: leak, Horizon: week}, 2.2 * gib,
			Step{Kind: StepTrend, Bound: 2.2 * gib, Changed: true}},
		{"already above", TrendRaise{Base: amount(3 * gib), Trend: leak, Horizon: week}, 3 * gib, Step{Kind: StepTrend, Bound: 2.2 * gib}},
		{"no horizon: only named", TrendRaise{Base: amount(1.8 * gib), Trend: leak}, 1.8 * gib, Step{Kind: StepTrend}},
		{"no limit: none set", TrendRaise{Base: amount(0), Trend: leak, Horizon: week}, 0, Step{Kind: StepTrend}},
	})
}

func TestCeiling(t *testing.T) {
	runEstimatorCases(t, []estimatorCase{
		{"below", Ceiling{Base: amount(1), Max: 2}, 1, Step{Kind: StepCeiling, Bound: 2}},
		{"above: capped", Ceiling{Base: amount(3), Max: 2}, 2, Step{Kind: StepCeiling, Bound: 2, Changed: true}},
		{"no ceiling", Ceiling{Base: amount(3)}, 3, Step{Kind: StepCeiling}},
	})
}

// TestApplyIsEstimate: an estimator wrapping Base gives what its Apply gives
// on Base's estimation, steps and all.
func TestApplyIsEstimate(t *testing.T) {
	s := estimatorSummary()
	base := Statistic{Source: CPUWindow, Stat: Quantile, Q: 0.9}
	for name, tc := range map[string]struct {
		wrapped Estimator
		apply   func(Estimation, *history.Summary) Estimation
	}{
		"cap":                   {Cap{Base: base, At: amount(0.5)}, Cap{At: amount(0.5)}.Apply},
		"at least":              {AtLeast{Base: base, Floor: amount(0.9)}, AtLeast{Floor: amount(0.9)}.Apply},
		"margin":                {Margin{Base: base, Fraction: 0.1}, Margin{Fraction: 0.1}.Apply},
		"confidence multiplier": {ConfidenceMultiplier{Base: base, Extra: 0.5, Full: 0.5}, ConfidenceMultiplier{Extra: 0.5, Full: 0.5}.Apply},
		"min resources":         {MinResources{Base: base, Min: 1}, MinResources{Min: 1}.Apply},
		"min ratio":             {MinRatio{Base: base, Request: 0.5, Ratio: 2}, MinRatio{Request: 0.5, Ratio: 2}.Apply},
		"throttle raise":        {ThrottleRaise{Base: base, Threshold: 0.1, Current: 1}, ThrottleRaise{Threshold: 0.1, Current: 1}.Apply},
		"trend raise":           {TrendRaise{Base: base, Trend: history.Trend{Last: 2}, Horizon: time.Hour}, TrendRaise{Trend: history.Trend{Last: 2}, Horizon: time.Hour}.Apply},
		"ceiling":               {Ceiling{Base: base, Max: 0.5}, Ceiling{Max: 0.5}.Apply},
	} {
		assert.Equal(t, tc.apply(base.Estimate(s), s), tc.wrapped.Estimate(s), name)
	}
}

// TestEstimateComposition: an Estimate composes its statistic, cap, mean
// floor and margin in that order, and Estimator gives the same.
func TestEstimateComposition(t *testing.T) {
	s := estimatorSummary()
	e := Estimate{Source: CPUWindow, Stat: Quantile, Q: 0.9, CapQ: 0.5, CapMargin: 0.2, AtLeastMean: true, Margin: 0.05}
	x := e.Estimator().Estimate(s)
	kinds := make([]StepKind, len(x.Steps))
	for i, st := range x.Steps {
		kinds[i] = st.Kind
	}
	assert.Equal(t, []StepKind{StepQuantile, StepCap, StepAtLeast, StepMargin}, kinds)
	// p90 0.76, held at p50 0.3 × 1.2 = 0.36, raised to the mean 0.4, × 1.05.
	assert.InDelta(t, 0.4*1.05, x.Value(), 1e-12)
	assert.Equal(t, x, estimateDetail(e, s))
	st, ok := x.Step(StepCap)
	require.True(t, ok)
	assert.True(t, st.Changed)
	assert.InDelta(t, 0.36, st.Value, 1e-12)
	_, ok = x.Step(StepFloor)
	assert.False(t, ok)
}

func TestGuaranteeAndRoundPair(t *testing.T) {
	for _, tc := range []struct {
		name             string
		req, lim, step   float64
		wantReq, wantLim float64
	}{
		{"request = limit = the larger (R7, R8)", 0.3, 0.5, 0.001, 0.5, 0.5},
		{"no limit: the request", 0.3, 0, 0.001, 0.3, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, lim := guarantee(amount(tc.req).Estimate(nil), amount(tc.lim).Estimate(nil))
			req, lim = roundPair(req, lim, tc.step)
			assert.InDelta(t, tc.wantReq, req.Value(), 1e-12)
			assert.InDelta(t, tc.wantLim, lim.Value(), 1e-12)
			_, ok := req.Step(StepGuaranteed)
			assert.True(t, ok)
		})
	}
	for _, tc := range []struct {
		name                   string
		req, lim, step         float64
		wantReq, wantLim       float64
		limRounded, reqChanged bool
	}{
		{"both up to the step", 0.1234, 0.2001, 0.001, 0.124, 0.201, true, true},
		{"the limit stays at least the request", 0.1234, 0.1231, 0.001, 0.124, 0.124, true, true},
		{"no limit stays none", 0.1234, 0, 0.001, 0.124, 0, false, true},
		{"whole steps stay", 0.125, 0.25, 0.001, 0.125, 0.25, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, lim := roundPair(amount(tc.req).Estimate(nil), amount(tc.lim).Estimate(nil), tc.step)
			assert.InDelta(t, tc.wantReq, req.Value(), 1e-12)
			assert.InDelta(t, tc.wantLim, lim.Value(), 1e-12)
			_, ok := lim.Step(StepRound)
			assert.Equal(t, tc.limRounded, ok, "a limit is rounded only when set")
			st, _ := req.Step(StepRound)
			assert.Equal(t, tc.reqChanged, st.Changed)
		})
	}
}

func TestStepKindString(t *testing.T) {
	for k, want := range map[StepKind]string{StepQuantile: "quantile", StepCap: "cap", StepRound: "round", StepMaxRatio: "max-ratio", StepKind(200): "step(200)"} {
		assert.Equal(t, want, k.String())
	}
	assert.True(t, StepStatistic.IsStatistic())
	assert.False(t, StepCap.IsStatistic())
}
