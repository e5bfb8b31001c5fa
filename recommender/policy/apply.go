package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

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
}

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
	n := max(in.ContainersInPod, 1)
	guaranteed := p.Guaranteed || (p.HonourCritical && in.Critical)

	cpu := resource{
		name: "cpu", request: p.CPURequest, limit: p.CPULimit, window: &s.CPUWindow,
		floor: float64(p.Floor.CPU.Cores()), ceiling: float64(p.Ceiling.CPU.Cores()),
		podFloor: float64(p.PodFloor.CPU.Cores()) / float64(n), round: float64(p.RoundCPU.Cores()),
		curReq: float64(in.Current.Requests.CPU.Cores()), curLim: float64(in.Current.Limits.CPU.Cores()),
		most:    float64(workload.MaxCPU.Cores()),
		format:  func(v float64) string { return workload.MillicoresOf(workload.Cores(v)).String() },
		human:   func(v float64) string { return humanNumber(v) + " cores" },
		hasData: s.HasCPU(),
		lowerQ:  func() float64 { return s.CPU.Quantile(0.5) },
		upperQ:  func() float64 { return s.CPU.Quantile(0.99) },
	}
	mem := resource{
		name: "memory", request: p.MemoryRequest, limit: p.MemoryLimit, window: &s.MemoryWindow,
		floor: float64(p.Floor.Memory), ceiling: float64(p.Ceiling.Memory),
		podFloor: float64(p.PodFloor.Memory) / float64(n), round: float64(p.RoundMemory),
		curReq: float64(in.Current.Requests.Memory), curLim: float64(in.Current.Limits.Memory),
		most:    float64(workload.MaxMemory),
		format:  func(v float64) string { return workload.BytesOf(roundUp(v, float64(workload.MiB))).String() },
		human:   func(v float64) string { return humanNumber(v/float64(workload.PiB)) + " PiB" },
		hasData: s.HasMemory(),
		lowerQ:  func() float64 { return s.MemoryPeaks.Quantile(0.5) },
		upperQ:  func() float64 { return s.MemoryPeaks.Max() },
	}

	var departs bool
	for _, r := range []*resource{&cpu, &mem} {
		req, lim, lower, upper, reasons, ok := r.recommend(p, s, guaranteed)
		if ok {
			if why := r.outOfRange(req, lim, lower, upper); why != "" {
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
			departs = true
		}
		if r.name == "cpu" {
			rec.HasCPU = true
			rec.Target.Requests.CPU = workload.MillicoresOf(workload.Cores(req))
			rec.Target.Limits.CPU = workload.MillicoresOf(workload.Cores(lim))
			rec.LowerBound.CPU = workload.MillicoresOf(workload.Cores(lower))
			rec.UpperBound.CPU = workload.MillicoresOf(workload.Cores(upper))
		} else {
			rec.HasMemory = true
			rec.Target.Requests.Memory = workload.BytesOf(req)
			rec.Target.Limits.Memory = workload.BytesOf(lim)
			rec.LowerBound.Memory = workload.BytesOf(lower)
			rec.UpperBound.Memory = workload.BytesOf(upper)
		}
	}
	if departs && p.Departures != "" {
		rec.Reasons = append(rec.Reasons, "profile "+p.Name+": "+p.Departures)
	}
	return rec
}

// outOfRange says why a recommendation cannot be given when one of its
// amounts is not a number or above the most a container can be given,
// and "" when all are usable. Usage data that reaches such amounts is broken
// (a unit mix-up, a corrupt sample); printing the result would be worse
// than printing nothing.
func (r *resource) outOfRange(req, lim, lower, upper float64) string {
	for _, a := range []struct {
		what string
		v    float64
	}{{"request", req}, {"limit", lim}, {"lower bound", lower}, {"upper bound", upper}} {
		var would string
		switch {
		case math.IsNaN(a.v):
			would = " would not be a number"
		case math.IsInf(a.v, 0):
			would = " would be more than any container can be given (" + r.human(r.most) + ")"
		case a.v > r.most:
			would = " would be " + r.human(a.v) + ", more than any container can be given (" + r.human(r.most) + ")"
		default:
			continue
		}
		return r.name + ": no recommendation: the " + a.what + would + "; check the usage data for implausible samples"
	}
	return ""
}

func (r *resource) recommend(p Profile, s *history.Summary, guaranteed bool) (req, lim, lower, upper float64, reasons []string, ok bool) {
	w := r.window
	if !r.hasData || w.Count < max(p.MinSamples, 1) || w.Span() < p.MinSpan {
		need := fmt.Sprintf("≥ %d samples", max(p.MinSamples, 1))
		if p.MinSpan > 0 {
			need += " over ≥ " + fmtDur(p.MinSpan)
		}
		have := "no samples"
		if w.Count > 0 {
			have = fmt.Sprintf("%d samples over %s", w.Count, fmtDur(w.Span()))
		}
		return 0, 0, 0, 0, []string{fmt.Sprintf("%s: no recommendation: too little history (%s; profile %s needs %s)", r.name, have, p.Name, need)}, false
	}

	est := estimateDetail(r.request, s)
	req = est.value
	why := fmt.Sprintf("%s request: %s", r.name, describe(r.request, p.History))
	why += " — " + est.explain(r.request, r.format)
	rules := "R1"
	widen := 1.0
	if p.ShortHistoryMargin > 0 && p.FullConfidence > 0 && s.Confidence < p.FullConfidence {
		widen = 1 + p.ShortHistoryMargin*(1-s.Confidence/p.FullConfidence)
		req *= widen
		why += fmt.Sprintf(", + %.0f%% for little history (%s observed, confidence %.2f)", 100*(widen-1), fmtDur(s.Observed.Round(time.Minute)), s.Confidence)
	}
	if f := max(r.floor, r.podFloor); req < f {
		req = f
		why += fmt.Sprintf(", raised to the floor %s", r.format(f))
	}
	reasons = append(reasons, why+" ("+rules+")")

	switch r.limit.Mode {
	case NoLimit:
		lim = 0
		reasons = append(reasons, fmt.Sprintf("%s limit: none — CPU is compressible, a limit only adds throttling (R4)", r.name))
	case EqualRequest:
		lim = req
		reasons = append(reasons, fmt.Sprintf("%s limit: equal to the request (R7)", r.name))
	case FromEstimate:
		le := estimateDetail(r.limit.Estimate, s)
		lim = le.value * widen
		why := fmt.Sprintf("%s limit: %s — %s", r.name, describe(r.limit.Estimate, p.History), le.explain(r.limit.Estimate, r.format))
		if widen > 1 {
			why += fmt.Sprintf(", + %.0f%% for little history", 100*(widen-1))
		}
		if mr := r.limit.MinRatio; mr > 0 && lim < req*mr {
			lim = req * mr
			why += fmt.Sprintf(", at least %s × request", fmtFloat(mr))
			why += " (R2, R3, R4)"
		} else if r.name == "cpu" {
			why += " (R2, R4: generous for CPU)"
		} else {
			why += " (R2, R4: strict for memory)"
		}
		reasons = append(reasons, why)
	case KeepRatio:
		if r.curReq > 0 && r.curLim > 0 {
			ratio := r.curLim / r.curReq
			lim = req * ratio
			reasons = append(reasons, fmt.Sprintf("%s limit: keeps the current limit:request ratio %s (R3)", r.name, fmtFloat(ratio)))
		} else if r.limit.Fallback == EqualRequest {
			lim = req
			reasons = append(reasons, fmt.Sprintf("%s limit: equal to the request, none recorded (R4)", r.name))
		} else {
			reasons = append(reasons, fmt.Sprintf("%s limit: none, none recorded (R4)", r.name))
		}
	}

	if r.name == "cpu" && p.ThrottleRaise > 0 && s.Throttled >= p.ThrottleRaise && r.curLim > 0 && r.limit.Mode != NoLimit {
		// Throttled usage is censored at the limit: the need is above what
		// was seen, so the limit goes up from the current one (R6).
		raised := r.curLim * (1 + 2*s.Throttled)
		if raised > lim {
			lim = raised
			reasons = append(reasons, fmt.Sprintf("cpu limit: throttled in %.0f%% of CFS periods → raised to %s (R6)", 100*s.Throttled, r.format(lim)))
		}
	}
	if r.name == "memory" {
		if t, ok := memoryGrowth(p, s); ok {
			tr := p.MemoryTrend
			why := fmt.Sprintf("memory: peaks grew %s a day over %d days (Kendall τ %.2f): a leak or a filling cache more often than a need — worth a look",
				perDay(t), t.Intervals, t.Tau)
			if tr.Horizon > 0 && lim > 0 {
				if need := t.Last + t.PerDay*tr.Horizon.Hours()/24; need > lim {
					lim = need
					why += fmt.Sprintf("; limit raised to %s, the trend %s ahead (R6)", r.format(lim), fmtDur(tr.Horizon))
				}
			}
			reasons = append(reasons, why)
		}
	}
	if r.name == "memory" && len(s.OOMs) > 0 {
		reasons = append(reasons, fmt.Sprintf("memory: %d OOM kill(s) in history count as peaks of max(%s × limit, limit + %s) (R6)",
			len(s.OOMs), fmtFloat(p.History.OOMBumpRatio), p.History.OOMMinBump))
	}

	if guaranteed {
		v := max(req, lim)
		req, lim = v, v
		reasons = append(reasons, fmt.Sprintf("%s: request = limit = %s for the Guaranteed class (R7, R8)", r.name, r.format(v)))
	}
	if r.ceiling > 0 {
		if req > r.ceiling {
			req = r.ceiling
			reasons = append(reasons, fmt.Sprintf("%s request: capped at the ceiling %s", r.name, r.format(r.ceiling)))
		}
		lim = min(lim, r.ceiling)
	}
	req = roundUp(req, r.round)
	if lim > 0 {
		lim = max(roundUp(lim, r.round), req)
	}
	conf := s.Confidence
	lower = roundUp(min(r.lowerQ(), req), r.round)
	upper = roundUp(max(r.upperQ()*(1+(1-conf)), req), r.round)
	return req, lim, lower, upper, reasons, true
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

// perDay prints a daily growth in whole MiB (KiB below one MiB).
func perDay(t history.Trend) string {
	if t.PerDay >= float64(workload.MiB) {
		return workload.BytesOf(math.Round(t.PerDay/float64(workload.MiB)) * float64(workload.MiB)).String()
	}
	return workload.BytesOf(math.Round(t.PerDay/1024) * 1024).String()
}

// estimation is an estimate with the steps that made it, for the reasons.
type estimation struct {
	stat, capAt, mean float64
	capped, raised    bool
	value             float64
}

func estimateDetail(e Estimate, s *history.Summary) estimation {
	x := estimation{stat: statistic(e, s)}
	v := x.stat
	if e.CapQ > 0 {
		c := e
		c.Stat, c.Q = Quantile, e.CapQ
		x.capAt = statistic(c, s) * (1 + e.CapMargin)
		if x.capAt < v {
			v, x.capped = x.capAt, true
		}
	}
	if e.AtLeastMean {
		m := e
		m.Stat = Mean
		x.mean = statistic(m, s)
		if x.mean > v {
			v, x.raised = x.mean, true
		}
	}
	x.value = v * (1 + e.Margin)
	return x
}

// explain says what the steps gave for this container, e.g. "here: p98
// 1520m, held at 1100m (spiky usage)".
func (x estimation) explain(e Estimate, format func(float64) string) string {
	name := map[Stat]string{Mean: "mean", Max: "highest"}[e.Stat]
	if e.Stat == Quantile {
		name = "p" + fmtFloat(100*e.Q)
	}
	out := "here: " + name + " " + format(x.stat)
	if x.capped {
		out += ", held at " + format(x.capAt) + " (spiky usage)"
	}
	if x.raised {
		out += ", raised to the mean " + format(x.mean)
	}
	return out
}

func statistic(e Estimate, s *history.Summary) float64 {
	var v float64
	switch e.Source {
	case CPUHistogram:
		v = histStat(e, s.CPU.Quantile, s.CPU.Mean, s.CPU.Max)
	case MemoryPeaks:
		v = histStat(e, s.MemoryPeaks.Quantile, s.MemoryPeaks.Mean, func() float64 {
			var m float64
			for _, p := range s.Peaks {
				m = max(m, float64(p.Bytes))
			}
			return m
		})
	case CPUWindow:
		v = windowStat(e, &s.CPUWindow)
	case MemoryWindow:
		v = windowStat(e, &s.MemoryWindow)
	}
	return v
}

func histStat(e Estimate, q func(float64) float64, mean, mx func() float64) float64 {
	switch e.Stat {
	case Quantile:
		return q(e.Q)
	case Mean:
		return mean()
	default:
		return mx()
	}
}

func windowStat(e Estimate, w *history.Window) float64 {
	switch e.Stat {
	case Quantile:
		return w.Quantile(e.Q)
	case Mean:
		return w.Mean
	default:
		return w.Max
	}
}

// describe says in a few words what an estimate is.
func describe(e Estimate, h history.Options) string {
	var what string
	switch e.Source {
	case CPUHistogram:
		what = "CPU usage (half-life " + fmtDur(h.CPU.HalfLife) + ")"
	case CPUWindow:
		what = "CPU usage over " + fmtDur(h.Window)
	case MemoryPeaks:
		n := "all"
		if h.MemoryIntervals > 0 {
			n = strconv.Itoa(h.MemoryIntervals)
		}
		what = fmt.Sprintf("memory peaks per %s (%s intervals, half-life %s)", fmtDur(h.MemoryInterval), n, fmtDur(h.Memory.HalfLife))
	case MemoryWindow:
		what = "memory usage over " + fmtDur(h.Window)
	}
	var s string
	switch e.Stat {
	case Quantile:
		s = fmt.Sprintf("p%s of %s", fmtFloat(100*e.Q), what)
	case Mean:
		s = "mean of " + what
	case Max:
		s = "highest of " + what
	}
	if e.CapQ > 0 {
		s += fmt.Sprintf(", at most p%s × %s", fmtFloat(100*e.CapQ), fmtFloat(1+e.CapMargin))
	}
	if e.AtLeastMean {
		s += ", at least the mean"
	}
	if e.Margin > 0 {
		s += " × " + fmtFloat(1+e.Margin)
	}
	return s
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

// humanNumber prints v plainly ("10000", "1.5") where that is short, else
// with an exponent ("1e+308").
func humanNumber(v float64) string {
	if math.Abs(v) < 1e9 {
		return fmtFloat(v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// clamp01 holds v within [0, 1]; NaN becomes 0.
func clamp01(v float64) float64 {
	if !(v >= 0) {
		return 0
	}
	return min(v, 1)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }

// fmtDur prints whole days as "14d" and other durations compactly.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	s := d.Round(time.Minute).String() // e.g. 3h30m0s, 3h0m0s, 45m0s
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "0s" {
		return d.String()
	}
	return s
}
