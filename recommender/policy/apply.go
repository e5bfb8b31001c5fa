package policy

import (
	"math"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Input is what Apply needs to know about the container besides its history.
type Input struct {
	Current workload.Settings
	// ContainersInPod shares the profile's PodFloor; 0 counts as 1.
	ContainersInPod int
	// Critical asks for Guaranteed (R8) where the profile honours it.
	Critical bool
	// CPUPrice is the fleet's price of time short (FleetRisk.Price) where
	// the profile sets a fleet price and CPUPriced is true; without it the
	// request has no fleet floor.
	CPUPrice  float64
	CPUPriced bool
}

// resource abstracts CPU and memory so one code path serves both.
type resource struct {
	name           string // "cpu" or "memory"
	request        Estimate
	limit          LimitRule
	window         *history.Window
	floor, ceiling float64
	podFloor       float64
	round          float64
	curReq, curLim float64
	// most is the largest amount a recommendation may hold (workload.MaxCPU,
	// workload.MaxMemory), in the unit of the other fields.
	most   float64
	format func(float64) string
	// human prints an amount that may be far out of range (or not a
	// number), for the reason a recommendation is withheld.
	human          func(float64) string
	lowerQ, upperQ func() float64
	hasData        bool
	// price is the fleet's price of time short for the CPU request, when
	// priced (FleetPrice).
	price  float64
	priced bool
}

// amounts are one resource's recommendation, in cores or bytes.
type amounts struct{ req, lim, lower, upper float64 }

// Apply computes the recommendation for one container. It is a pure function
// of its arguments.
func Apply(p Profile, s *history.Summary, in Input) workload.Recommendation {
	var rec workload.Recommendation
	if s == nil {
		rec.Reasons = []string{"no recommendation: no usage samples"}
		return rec
	}
	// Summarize keeps confidence in [0, 1]; a summary built elsewhere may not.
	rec.Confidence = round2(clamp01(s.Confidence))
	guaranteed := p.Guaranteed || (p.HonourCritical && in.Critical)
	var departs bool
	for _, r := range []*resource{newCPU(p, s, in), newMemory(p, s, in)} {
		a, reasons, ok := r.recommend(p, s, guaranteed)
		if ok {
			if why := r.outOfRange(a); why != "" {
				// The estimate's own reasons would print the absurd
				// numbers: the one reason says what happened instead.
				reasons, ok = []string{why}, false
			}
		}
		rec.Reasons = append(rec.Reasons, reasons...)
		if !ok {
			continue
		}
		if r.request.Stat != Mean {
			departs = true // from R1, requests = mean usage
		}
		a.record(&rec, r.name == "cpu")
	}
	if departs && p.Departures != "" {
		rec.Reasons = append(rec.Reasons, "profile "+p.Name+": "+p.Departures)
	}
	return rec
}

func newCPU(p Profile, s *history.Summary, in Input) *resource {
	return &resource{
		name: "cpu", request: p.CPURequest, limit: p.CPULimit, window: &s.CPUWindow,
		floor: float64(p.Floor.CPU.Cores()), ceiling: float64(p.Ceiling.CPU.Cores()),
		podFloor: float64(p.PodFloor.CPU.Cores()) / float64(max(in.ContainersInPod, 1)), round: float64(p.RoundCPU.Cores()),
		curReq: float64(in.Current.Requests.CPU.Cores()), curLim: float64(in.Current.Limits.CPU.Cores()),
		most:    float64(workload.MaxCPU.Cores()),
		format:  func(v float64) string { return workload.MillicoresOf(workload.Cores(v)).String() },
		human:   func(v float64) string { return humanNumber(v) + " cores" },
		hasData: s.HasCPU(),
		lowerQ:  func() float64 { return histogramQuantile(s.CPU, 0.5) },
		upperQ:  func() float64 { return histogramQuantile(s.CPU, 0.99) },
		price:   in.CPUPrice,
		priced:  in.CPUPriced && p.CPUFleetPrice != nil,
	}
}

func newMemory(p Profile, s *history.Summary, in Input) *resource {
	return &resource{
		name: "memory", request: p.MemoryRequest, limit: p.MemoryLimit, window: &s.MemoryWindow,
		floor: float64(p.Floor.Memory), ceiling: float64(p.Ceiling.Memory),
		podFloor: float64(p.PodFloor.Memory) / float64(max(in.ContainersInPod, 1)), round: float64(p.RoundMemory),
		curReq: float64(in.Current.Requests.Memory), curLim: float64(in.Current.Limits.Memory),
		most:    float64(workload.MaxMemory),
		format:  func(v float64) string { return workload.BytesOf(roundUp(v, float64(workload.MiB))).String() },
		human:   func(v float64) string { return humanNumber(v/float64(workload.PiB)) + " PiB" },
		hasData: s.HasMemory(),
		lowerQ:  func() float64 { return histogramQuantile(s.MemoryPeaks, 0.5) },
		upperQ:  func() float64 { return s.MemoryPeaks.Max() },
	}
}

// record sets the amounts of one resource in rec.
func (a amounts) record(rec *workload.Recommendation, cpu bool) {
	if cpu {
		rec.HasCPU = true
		rec.Target.Requests.CPU = workload.MillicoresOf(workload.Cores(a.req))
		rec.Target.Limits.CPU = workload.MillicoresOf(workload.Cores(a.lim))
		rec.LowerBound.CPU = workload.MillicoresOf(workload.Cores(a.lower))
		rec.UpperBound.CPU = workload.MillicoresOf(workload.Cores(a.upper))
		return
	}
	rec.HasMemory = true
	rec.Target.Requests.Memory = workload.BytesOf(a.req)
	rec.Target.Limits.Memory = workload.BytesOf(a.lim)
	rec.LowerBound.Memory = workload.BytesOf(a.lower)
	rec.UpperBound.Memory = workload.BytesOf(a.upper)
}

// outOfRange says why a recommendation cannot be given when one of its
// amounts is not a number or above the most a container can be given,
// and "" when all are usable. Usage data that reaches such amounts is broken
// (a unit mix-up, a corrupt sample); printing the result would be worse
// than printing nothing.
func (r *resource) outOfRange(a amounts) string {
	for _, x := range []struct {
		what string
		v    float64
	}{{"request", a.req}, {"limit", a.lim}, {"lower bound", a.lower}, {"upper bound", a.upper}} {
		var would string
		switch {
		case math.IsNaN(x.v):
			would = " would not be a number"
		case math.IsInf(x.v, 0):
			would = " would be more than any container can be given (" + r.human(r.most) + ")"
		case x.v > r.most:
			would = " would be " + r.human(x.v) + ", more than any container can be given (" + r.human(r.most) + ")"
		default:
			continue
		}
		return r.name + ": no recommendation: the " + x.what + would + "; check the usage data for implausible samples"
	}
	return ""
}

// recommend computes one resource's request, limit and bounds with the
// reasons that say how, or (ok false) the reason it cannot: too little
// history gives no recommendation, never a guess.
func (r *resource) recommend(p Profile, s *history.Summary, guaranteed bool) (a amounts, reasons []string, ok bool) {
	if !r.enoughHistory(p) {
		return amounts{}, []string{r.tooLittleHistory(p)}, false
	}
	var trend *history.Trend
	if r.name == "memory" {
		if t, growing := memoryGrowth(p, s); growing {
			trend = &t
		}
	}
	// One allocation holds the steps of both.
	buf := make([]Step, 2*chainSteps)
	req := r.requestEstimate(p, s, buf[:0:chainSteps])
	lim := r.limitEstimate(p, s, buf[chainSteps:chainSteps:2*chainSteps], req.Value(), trend)
	if guaranteed {
		req, lim = guarantee(req, lim)
	}
	if r.ceiling > 0 {
		c := Ceiling{Max: r.ceiling}
		req, lim = c.Apply(req, s), c.Apply(lim, s)
	}
	req, lim = roundPair(req, lim, r.round)
	a = amounts{req: req.Value(), lim: lim.Value()}
	a.lower, a.upper = r.bounds(s, a.req)
	return a, r.reasons(p, s, req, lim, trend), true
}

// enoughHistory reports whether the window holds the samples and span the
// profile needs.
func (r *resource) enoughHistory(p Profile) bool {
	return r.hasData && r.window.Count >= max(p.MinSamples, 1) && r.window.Span() >= p.MinSpan
}

// guarantee gives the request and the limit the larger of the two: a
// Guaranteed pod has requests == limits (R7), as critical workloads get (R8).
func guarantee(req, lim Estimation) (Estimation, Estimation) {
	v := max(req.Value(), lim.Value())
	return req.Then(Step{Kind: StepGuaranteed, Value: v, Changed: v != req.Value()}),
		lim.Then(Step{Kind: StepGuaranteed, Value: v, Changed: v != lim.Value()})
}

// roundPair rounds the request and a set limit up to the profile's step; the
// limit stays at least the request.
func roundPair(req, lim Estimation, step float64) (Estimation, Estimation) {
	rq := roundUp(req.Value(), step)
	req = req.Then(Step{Kind: StepRound, Value: rq, Changed: rq != req.Value(), Factor: step})
	if l := lim.Value(); l > 0 {
		rl := max(roundUp(l, step), rq)
		lim = lim.Then(Step{Kind: StepRound, Value: rl, Changed: rl != l, Factor: step})
	}
	return req, lim
}

// bounds are the range the recommendation holds for: from the median of
// the usage histogram (at most the request) to its top, widened by the
// confidence missing (at least the request).
func (r *resource) bounds(s *history.Summary, req float64) (lower, upper float64) {
	conf := s.Confidence
	lower = roundUp(min(r.lowerQ(), req), r.round)
	upper = roundUp(max(r.upperQ()*(1+(1-conf)), req), r.round)
	return lower, upper
}

// memoryGrowth returns the memory trend where the profile counts it as
// growing.
func memoryGrowth(p Profile, s *history.Summary) (history.Trend, bool) {
	tr := p.MemoryTrend
	if tr.MinIntervals <= 0 || s == nil {
		return history.Trend{}, false
	}
	t := s.MemoryTrend(p.History.MemoryInterval)
	return t, t.Growing(tr.MinIntervals, tr.MinTau, tr.MinGrowth)
}

func roundUp(v, step float64) float64 {
	if step <= 0 || v <= 0 {
		return max(v, 0)
	}
	if q := v / step; q >= 1<<53 {
		// Whole steps already, as far as a float64 tells; and v/step
		// may have overflowed to +Inf.
		return v
	}
	return math.Ceil(v/step-1e-9) * step
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// clamp01 holds v within [0, 1]; NaN becomes 0.
func clamp01(v float64) float64 {
	if !(v >= 0) {
		return 0
	}
	return min(v, 1)
}
