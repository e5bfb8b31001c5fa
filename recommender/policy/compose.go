package policy

import "rightsize.dev/rightsize/recommender/history"

// Profiles compose the estimators (estimator.go) from their data, each
// estimator taking its step on what the ones before it gave. balanced's CPU,
// for example:
//
//	request: Statistic p98 → Cap at p75 × 1.5 → AtLeast the mean → Margin 5 %
//	         → FleetFloor at the fleet's price → ConfidenceMultiplier (+ 50 % until confidence 0.5) → MinResources 10m
//	limit:   Statistic highest in 14 days → Margin 50 % → ConfidenceMultiplier
//	         → MinRatio 2 × request → ThrottleRaise from 5 % throttled
//
// then the Guaranteed class where asked (guarantee), the Ceiling and the
// rounding (roundPair).

// Estimator returns the estimators the estimate describes as one.
func (e Estimate) Estimator() Estimator {
	return EstimatorFunc(func(s *history.Summary) Estimation { return e.estimate(nil, s) })
}

// estimate runs the estimators the estimate describes, keeping the steps in
// buf where it has room: its statistic, held at the cap where usage is
// spiky, at least the mean (R1), plus the margin.
func (e Estimate) estimate(buf []Step, s *history.Summary) Estimation {
	x := begin(buf, Statistic{Source: e.Source, Stat: e.Stat, Q: e.Q, BucketEnd: e.BucketEnd}.step(s))
	if e.WithOOMPeaks && e.Source == MemoryWindow && e.Stat == Max {
		x = AtLeast{Floor: Statistic{Source: MemoryPeaks, Stat: Max}}.Apply(x, s)
	}
	if e.CapQ > 0 {
		capAt := Margin{Base: Statistic{Source: e.Source, Stat: Quantile, Q: e.CapQ, BucketEnd: e.BucketEnd}, Fraction: e.CapMargin}
		x = Cap{At: capAt}.Apply(x, s)
	}
	if e.AtLeastQ > 0 {
		x = AtLeast{Floor: Statistic{Source: e.Source, Stat: Quantile, Q: e.AtLeastQ, BucketEnd: e.BucketEnd}}.Apply(x, s)
	}
	if e.AtLeastMaxShare > 0 {
		// The highest value in the window, not the decayed histogram's:
		// a jump seen once within the window is not forgotten in a day.
		src := e.Source
		switch src {
		case MemoryPeaks:
			src = MemoryWindow
		case CPUHistogram:
			src = CPUWindow
		}
		x = AtLeast{Floor: Statistic{Source: src, Stat: Max}, Share: e.AtLeastMaxShare}.Apply(x, s)
	}
	if e.AtLeastMean {
		x = AtLeast{Floor: Statistic{Source: e.Source, Stat: Mean}}.Apply(x, s)
	}
	return Margin{Fraction: e.Margin}.Apply(x, s)
}

// estimateDetail runs the estimators the estimate describes.
func estimateDetail(e Estimate, s *history.Summary) Estimation { return e.estimate(nil, s) }

// requestEstimate is the resource's request: the profile's estimate, widened
// while history is short, at least the floor per container or the
// container's share of the floor per pod.
func (r *resource) requestEstimate(p Profile, s *history.Summary, buf []Step) Estimation {
	x := r.request.estimate(buf, s)
	if r.priced {
		x = FleetFloor{Price: r.price}.Apply(x, s)
	}
	x = ConfidenceMultiplier{Extra: p.ShortHistoryMargin, Full: p.FullConfidence}.Apply(x, s)
	return MinResources{Min: max(r.floor, r.podFloor)}.Apply(x, s)
}

// limitEstimate is the resource's limit for the request req, by the
// profile's limit rule; then, for CPU, raised while throttled (R6), and for
// memory kept above a growing trend (which the reasons name).
func (r *resource) limitEstimate(p Profile, s *history.Summary, buf []Step, req float64, trend *history.Trend) Estimation {
	var x Estimation
	switch r.limit.Mode {
	case NoLimit: // CPU is compressible: a limit only throttles (R4)
		x = begin(buf, Fixed{Kind: StepNoLimit}.step())
	case EqualRequest: // Guaranteed (R7)
		x = begin(buf, Fixed{Amount: req, Kind: StepEqual}.step())
	case FromEstimate:
		// The peak with headroom (R2), generous for CPU and strict for
		// memory (R4); widened like the request while history is short,
		// and kept a multiple of the request (R3).
		x = r.limit.Estimate.estimate(buf, s)
		x = ConfidenceMultiplier{Extra: p.ShortHistoryMargin, Full: p.FullConfidence}.Apply(x, s)
		x = MinRatio{Request: req, Ratio: r.limit.MinRatio}.Apply(x, s)
		if r.limit.MaxRatio > 0 {
			x = MaxRatio{Request: req, Ratio: r.limit.MaxRatio}.Apply(x, s)
		}
	case KeepRatio: // the recorded ratio (R3)
		x = begin(buf, RecordedRatio{Request: req, CurrentRequest: r.curReq, CurrentLimit: r.curLim, Fallback: r.limit.Fallback}.step())
	default:
		x = begin(buf, Fixed{}.step())
	}
	if r.name == "cpu" && p.ThrottleRaise > 0 && r.limit.Mode != NoLimit {
		x = ThrottleRaise{Threshold: p.ThrottleRaise, Current: r.curLim}.Apply(x, s)
	}
	if trend != nil {
		x = TrendRaise{Trend: *trend, Horizon: p.MemoryTrend.Horizon}.Apply(x, s)
	}
	return x
}
