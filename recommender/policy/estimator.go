package policy

import (
	"strconv"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/sketch"
)

// An Estimator computes one amount for a container, in cores or bytes, from
// its history summary. Estimators follow the Kubernetes VPA recommender's
// (pkg/recommender/logic/estimator.go): each has one job, and most wrap a
// Base estimator. Each reports what it did as a Step; the reasons are
// written from the steps (reasons.go), never from the arithmetic.
//
// The wrapping estimators also take their one step on an estimation already
// made (Apply): profiles compose them that way, from their data
// (compose.go), which costs no allocation per estimator.
type Estimator interface {
	Estimate(s *history.Summary) Estimation
}

// EstimatorFunc is a function as an Estimator.
type EstimatorFunc func(s *history.Summary) Estimation

// Estimate implements Estimator.
func (f EstimatorFunc) Estimate(s *history.Summary) Estimation { return f(s) }

// Estimation is an amount with the steps that made it, in the order taken.
type Estimation struct {
	Steps []Step
	value float64
}

// Value is the amount: the last step's.
func (e Estimation) Value() float64 { return e.value }

// Then records one more step; its Value becomes the amount. Like append it
// may reuse e's storage: go on with what it returns, not with e.
func (e Estimation) Then(st Step) Estimation {
	e.Steps = append(e.Steps, st)
	e.value = st.Value
	return e
}

// Step returns the last step of the kind.
func (e Estimation) Step(kind StepKind) (Step, bool) {
	for i := len(e.Steps) - 1; i >= 0; i-- {
		if e.Steps[i].Kind == kind {
			return e.Steps[i], true
		}
	}
	return Step{}, false
}

// StepKind says which estimator took a step.
type StepKind uint8

// The steps, one per estimator.
const (
	StepUnknown      StepKind = iota
	StepQuantile              // Statistic: a quantile (Q) of its source
	StepMean                  // Statistic: the mean
	StepMax                   // Statistic: the highest value
	StepStatistic             // Statistic of a kind it does not know: the highest value
	StepCap                   // Cap
	StepAtLeast               // AtLeast
	StepMargin                // Margin
	StepShortHistory          // ConfidenceMultiplier
	StepFloor                 // MinResources
	StepMinRatio              // MinRatio
	StepNoLimit               // Fixed: no limit
	StepEqual                 // Fixed: equal to the request
	StepRatio                 // RecordedRatio
	StepThrottled             // ThrottleRaise
	StepTrend                 // TrendRaise
	StepCeiling               // Ceiling
	StepGuaranteed            // guarantee
	StepRound                 // roundPair
	StepMaxRatio              // MaxRatio
	StepFleetPrice            // FleetFloor
)

var stepNames = [...]string{"unknown", "quantile", "mean", "max", "statistic", "cap", "at-least", "margin",
	"short-history", "floor", "min-ratio", "no-limit", "equal", "ratio", "throttled", "trend", "ceiling",
	"guaranteed", "round", "max-ratio", "fleet-price"}

// String names the kind: "quantile", "cap", ….
func (k StepKind) String() string {
	if int(k) < len(stepNames) {
		return stepNames[k]
	}
	return "step(" + strconv.Itoa(int(k)) + ")"
}

// IsStatistic reports whether the step read a statistic of a source.
func (k StepKind) IsStatistic() bool { return k >= StepQuantile && k <= StepStatistic }

// Step is what one estimator did. It holds no pointers, so the garbage
// collector never scans a recommendation's steps.
type Step struct {
	Kind StepKind
	// Of is the statistic an AtLeast step held the amount to (StepMean for
	// the mean).
	Of StepKind
	// Changed says whether the step acted: a cap that did not bind, a floor
	// below the amount, a widening at full confidence did not.
	Changed bool
	// Fallback marks a limit set by the rule's fallback, no limit:request
	// ratio being recorded.
	Fallback bool
	// Value is the amount after the step.
	Value float64
	// Bound is what the step held the amount to or compared it with: the
	// cap, the floor, the mean, the raised limit.
	Bound float64
	// Factor is what the step multiplied by: 1 + margin, the short-history
	// widening, a limit:request ratio.
	Factor float64
	// Input is the figure of the summary the step went by: the confidence,
	// the throttled share.
	Input float64
	// Q is the quantile a StepQuantile read.
	Q float64
}

// chainSteps is room for the steps of a request or a limit: the built-in
// profiles take at most 8 (more only reallocate).
const chainSteps = 8

// begin starts an estimation with its first step, in buf where it has room.
func begin(buf []Step, st Step) Estimation {
	if cap(buf) == 0 {
		buf = make([]Step, 0, chainSteps)
	}
	return Estimation{Steps: append(buf[:0], st), value: st.Value}
}

// amounter is an Estimator that gives its amount without the steps, for
// estimators that only need the amount of another (a cap, a floor).
type amounter interface {
	amount(s *history.Summary) float64
}

// amountOf is e's amount, without the steps where e can skip them.
func amountOf(e Estimator, s *history.Summary) float64 {
	if a, ok := e.(amounter); ok {
		return a.amount(s)
	}
	return e.Estimate(s).Value()
}

// Statistic reads one statistic of one source: a quantile (VPA's percentile
// estimator), the mean or the highest value.
type Statistic struct {
	Source Source
	Stat   Stat
	// Q is the quantile for Stat == Quantile.
	Q float64
	// BucketEnd takes a histogram's quantile as VPA does, the upper end of
	// its bucket, not capped at the highest value (histogramQuantile).
	BucketEnd bool
}

// Estimate implements Estimator.
func (e Statistic) Estimate(s *history.Summary) Estimation { return begin(nil, e.step(s)) }

func (e Statistic) step(s *history.Summary) Step {
	st := Step{Kind: e.kind(), Value: e.amount(s), Q: e.Q}
	if h := e.histogram(s); h != nil && e.Stat == Quantile && !e.BucketEnd {
		// Where the cap bound, the step keeps the histogram's own figure
		// for the reason.
		if raw := h.Quantile(e.Q); raw > st.Value {
			st.Bound, st.Changed = raw, true
		}
	}
	return st
}

// histogram is the sketch the statistic reads, nil for a window.
func (e Statistic) histogram(s *history.Summary) *sketch.Histogram {
	switch e.Source {
	case CPUHistogram:
		return s.CPU
	case MemoryPeaks:
		return s.MemoryPeaks
	}
	return nil
}

// histogramQuantile is h's q-quantile held at the highest value h was
// given. The sketch's quantile is the upper end of its bucket (VPA's
// estimate), which can lie above every sample: a p90 of 677Mi where no
// sample passed 673Mi. No quantile of the samples exceeds their maximum,
// so neither does one the policy shows or uses.
func histogramQuantile(h *sketch.Histogram, q float64) float64 {
	return min(h.Quantile(q), h.Max())
}

// kind is the step the statistic takes.
func (e Statistic) kind() StepKind {
	switch e.Stat {
	case Quantile:
		return StepQuantile
	case Mean:
		return StepMean
	case Max:
		return StepMax
	}
	return StepStatistic
}

func (e Statistic) amount(s *history.Summary) float64 {
	switch e.Source {
	case CPUHistogram:
		return e.ofHistogram(s.CPU, s.CPU.Mean, s.CPU.Max)
	case MemoryPeaks:
		// The highest is read from the listed peaks, OOM bumps (R6)
		// included.
		return e.ofHistogram(s.MemoryPeaks, s.MemoryPeaks.Mean, func() float64 {
			var m float64
			for _, p := range s.Peaks {
				m = max(m, float64(p.Bytes))
			}
			return m
		})
	case CPUWindow:
		return e.ofWindow(&s.CPUWindow)
	case MemoryWindow:
		return e.ofWindow(&s.MemoryWindow)
	}
	return 0
}

func (e Statistic) ofHistogram(h *sketch.Histogram, mean, highest func() float64) float64 {
	switch e.Stat {
	case Quantile:
		if e.BucketEnd {
			return h.Quantile(e.Q)
		}
		return histogramQuantile(h, e.Q)
	case Mean:
		return mean()
	default:
		return highest()
	}
}

func (e Statistic) ofWindow(w *history.Window) float64 {
	switch e.Stat {
	case Quantile:
		return w.Quantile(e.Q)
	case Mean:
		return w.Mean
	default:
		return w.Max
	}
}

// Cap holds the amount at At where that is lower. balanced takes the p98
// where usage is steady and holds it at 1.5 × p75 where usage is spiky and
// a high quantile is dear; the generous CPU limit absorbs the spikes (R4).
type Cap struct {
	Base, At Estimator
}

// Estimate implements Estimator.
func (c Cap) Estimate(s *history.Summary) Estimation { return c.Apply(c.Base.Estimate(s), s) }

// Apply takes the step on e.
func (c Cap) Apply(e Estimation, s *history.Summary) Estimation {
	at := amountOf(c.At, s)
	st := Step{Kind: StepCap, Value: e.Value(), Bound: at}
	if at < st.Value {
		st.Value, st.Changed = at, true
	}
	return e.Then(st)
}

// AtLeast keeps the amount at or above Floor: a capped request never
// reserves less than the mean use (R1), which would oversubscribe a node
// in expectation.
//
// With Share set the bound is Share × Floor: a memory request of at least
// half the window's highest usage keeps a limit of 2 × request above every
// peak seen in the window.
type AtLeast struct {
	Base, Floor Estimator
	Share       float64
}

// Estimate implements Estimator.
func (a AtLeast) Estimate(s *history.Summary) Estimation { return a.Apply(a.Base.Estimate(s), s) }

// Apply takes the step on e.
func (a AtLeast) Apply(e Estimation, s *history.Summary) Estimation {
	st := Step{Kind: StepAtLeast, Value: e.Value()}
	if f, ok := a.Floor.(Statistic); ok {
		st.Bound, st.Of, st.Q = f.amount(s), f.kind(), f.Q
	} else if f := a.Floor.Estimate(s); len(f.Steps) > 0 {
		st.Bound, st.Of, st.Q = f.Value(), f.Steps[0].Kind, f.Steps[0].Q
	}
	if a.Share > 0 {
		st.Bound *= a.Share
		st.Factor = a.Share
	}
	if st.Bound > st.Value {
		st.Value, st.Changed = st.Bound, true
	}
	return e.Then(st)
}

// Margin adds a safety margin: the amount × (1 + Fraction), VPA's margin
// estimator; R2's "peak × 1.2–1.5" is a margin on the highest usage.
type Margin struct {
	Base     Estimator
	Fraction float64
}

// Estimate implements Estimator.
func (m Margin) Estimate(s *history.Summary) Estimation { return m.Apply(m.Base.Estimate(s), s) }

// Apply takes the step on e.
func (m Margin) Apply(e Estimation, _ *history.Summary) Estimation {
	f := 1 + m.Fraction
	return e.Then(Step{Kind: StepMargin, Value: e.Value() * f, Changed: m.Fraction != 0, Factor: f})
}

func (m Margin) amount(s *history.Summary) float64 { return amountOf(m.Base, s) * (1 + m.Fraction) }

// ConfidenceMultiplier widens the amount while history is short: × (1 +
// Extra × (1 − confidence/Full)) below the confidence Full, nothing from
// there on. A day of data has not seen a weekly peak, half an hour has not
// seen a daily one. (VPA widens its bounds by confidence to the same end.)
type ConfidenceMultiplier struct {
	Base        Estimator
	Extra, Full float64
}

// Estimate implements Estimator.
func (c ConfidenceMultiplier) Estimate(s *history.Summary) Estimation {
	return c.Apply(c.Base.Estimate(s), s)
}

// Apply takes the step on e.
func (c ConfidenceMultiplier) Apply(e Estimation, s *history.Summary) Estimation {
	st := Step{Kind: StepShortHistory, Value: e.Value(), Factor: 1, Input: s.Confidence}
	if c.Extra > 0 && c.Full > 0 && s.Confidence < c.Full {
		st.Factor = 1 + c.Extra*(1-s.Confidence/c.Full)
		st.Value *= st.Factor
		st.Changed = true
	}
	return e.Then(st)
}

// MinResources keeps the amount at or above Min: a profile's floor per
// container, or its share of a floor per pod (VPA's minimum resources).
type MinResources struct {
	Base Estimator
	Min  float64
}

// Estimate implements Estimator.
func (m MinResources) Estimate(s *history.Summary) Estimation { return m.Apply(m.Base.Estimate(s), s) }

// Apply takes the step on e.
func (m MinResources) Apply(e Estimation, _ *history.Summary) Estimation {
	st := Step{Kind: StepFloor, Value: e.Value(), Bound: m.Min}
	if st.Value < m.Min {
		st.Value, st.Changed = m.Min, true
	}
	return e.Then(st)
}

// MinRatio keeps a limit at or above Ratio × Request, the limit:request
// bands of R3; 0 = no bound.
type MinRatio struct {
	Base           Estimator
	Request, Ratio float64
}

// Estimate implements Estimator.
func (m MinRatio) Estimate(s *history.Summary) Estimation { return m.Apply(m.Base.Estimate(s), s) }

// Apply takes the step on e.
func (m MinRatio) Apply(e Estimation, _ *history.Summary) Estimation {
	st := Step{Kind: StepMinRatio, Value: e.Value(), Factor: m.Ratio}
	if m.Ratio > 0 {
		st.Bound = m.Request * m.Ratio
		if st.Value < st.Bound {
			st.Value, st.Changed = st.Bound, true
		}
	}
	return e.Then(st)
}

// MaxRatio keeps a limit at or below Ratio × Request, the top of R3's
// limit:request bands (memory-intensive 1.5–2), so a limit cannot buy
// fewer OOM kills by growing without bound; 0 = no bound.
type MaxRatio struct {
	Base           Estimator
	Request, Ratio float64
}

// Estimate implements Estimator.
func (m MaxRatio) Estimate(s *history.Summary) Estimation { return m.Apply(m.Base.Estimate(s), s) }

// Apply takes the step on e.
func (m MaxRatio) Apply(e Estimation, _ *history.Summary) Estimation {
	st := Step{Kind: StepMaxRatio, Value: e.Value(), Factor: m.Ratio}
	if m.Ratio > 0 {
		st.Bound = m.Request * m.Ratio
		if st.Value > st.Bound {
			st.Value, st.Changed = st.Bound, true
		}
	}
	return e.Then(st)
}

// Fixed is an amount known beforehand: a limit equal to the request
// (Kind StepEqual, R7) or none (StepNoLimit, 0: CPU is compressible, R4).
type Fixed struct {
	Amount float64
	Kind   StepKind
	// Fallback marks a limit set because no ratio was recorded.
	Fallback bool
}

// Estimate implements Estimator.
func (f Fixed) Estimate(*history.Summary) Estimation { return begin(nil, f.step()) }

func (f Fixed) step() Step { return Step{Kind: f.Kind, Value: f.Amount, Fallback: f.Fallback} }

// RecordedRatio keeps the recorded limit:request ratio for a new request
// (R3), VPA's behaviour; without a recorded ratio the limit is Fallback:
// EqualRequest gives the request, anything else none.
type RecordedRatio struct {
	Request                      float64
	CurrentRequest, CurrentLimit float64
	Fallback                     LimitMode
}

// Estimate implements Estimator.
func (r RecordedRatio) Estimate(*history.Summary) Estimation { return begin(nil, r.step()) }

func (r RecordedRatio) step() Step {
	if r.CurrentRequest > 0 && r.CurrentLimit > 0 {
		ratio := r.CurrentLimit / r.CurrentRequest
		return Step{Kind: StepRatio, Value: r.Request * ratio, Changed: true, Factor: ratio}
	}
	if r.Fallback == EqualRequest {
		return Fixed{Amount: r.Request, Kind: StepEqual, Fallback: true}.step()
	}
	return Fixed{Kind: StepNoLimit, Fallback: true}.step()
}

// ThrottleRaise raises a CPU limit above the current one while the
// container is throttled in at least Threshold of CFS periods (R6:
// throttling → raise the CPU limit). Throttled usage is censored at the
// limit, so the need is above what was seen: the limit becomes at least
// Current × (1 + 2 × the throttled share).
type ThrottleRaise struct {
	Base               Estimator
	Threshold, Current float64
}

// Estimate implements Estimator.
func (t ThrottleRaise) Estimate(s *history.Summary) Estimation { return t.Apply(t.Base.Estimate(s), s) }

// Apply takes the step on e.
func (t ThrottleRaise) Apply(e Estimation, s *history.Summary) Estimation {
	st := Step{Kind: StepThrottled, Value: e.Value(), Input: s.Throttled}
	if t.Threshold > 0 && s.Throttled >= t.Threshold && t.Current > 0 {
		st.Bound = t.Current * (1 + 2*s.Throttled)
		if st.Bound > st.Value {
			st.Value, st.Changed = st.Bound, true
		}
	}
	return e.Then(st)
}

// TrendRaise keeps a memory limit above where a growing trend will be
// Horizon ahead, so a leak is not killed before the next decision (R6); 0
// Horizon, or no limit, leaves it alone: the trend is only named.
type TrendRaise struct {
	Base    Estimator
	Trend   history.Trend
	Horizon time.Duration
}

// Estimate implements Estimator.
func (t TrendRaise) Estimate(s *history.Summary) Estimation { return t.Apply(t.Base.Estimate(s), s) }

// Apply takes the step on e.
func (t TrendRaise) Apply(e Estimation, _ *history.Summary) Estimation {
	st := Step{Kind: StepTrend, Value: e.Value()}
	if t.Horizon > 0 && st.Value > 0 {
		st.Bound = t.Trend.Last + t.Trend.PerDay*t.Horizon.Hours()/24
		if st.Bound > st.Value {
			st.Value, st.Changed = st.Bound, true
		}
	}
	return e.Then(st)
}

// Ceiling caps the amount at Max, a profile's most per container; 0 = none.
type Ceiling struct {
	Base Estimator
	Max  float64
}

// Estimate implements Estimator.
func (c Ceiling) Estimate(s *history.Summary) Estimation { return c.Apply(c.Base.Estimate(s), s) }

// Apply takes the step on e.
func (c Ceiling) Apply(e Estimation, _ *history.Summary) Estimation {
	st := Step{Kind: StepCeiling, Value: e.Value(), Bound: c.Max}
	if c.Max > 0 && st.Value > c.Max {
		st.Value, st.Changed = c.Max, true
	}
	return e.Then(st)
}

// FleetFloor raises a CPU request to the newsvendor request at Price, the
// fleet's price of time short (FleetPrice): where covering the container's
// tail costs less than the price says the risk is worth.
type FleetFloor struct {
	Base  Estimator
	Price float64
}

// Estimate implements Estimator.
func (f FleetFloor) Estimate(s *history.Summary) Estimation { return f.Apply(f.Base.Estimate(s), s) }

// Apply takes the step on e.
func (f FleetFloor) Apply(e Estimation, s *history.Summary) Estimation {
	st := Step{Kind: StepFleetPrice, Value: e.Value(), Input: f.Price, Bound: newsvendorRequest(s.CPU, f.Price)}
	if st.Bound > st.Value {
		st.Value, st.Changed = st.Bound, true
	}
	return e.Then(st)
}
