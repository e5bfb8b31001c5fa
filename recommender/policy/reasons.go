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

// The reasons are written from the steps the estimators report: each step
// that acted says what it did for this container, and each line cites the
// rules it follows.

// reasons says how one resource's recommendation came about: the request,
// the limit, then what raised or held them — throttling, a memory trend,
// OOM kills, the Guaranteed class, the ceiling.
func (r *resource) reasons(p Profile, s *history.Summary, req, lim Estimation, trend *history.Trend) []string {
	out := make([]string, 1, 4)
	out[0] = r.requestReason(p, s, req)
	if why := r.limitReason(p, s, lim); why != "" {
		out = append(out, why)
	}
	if st, ok := lim.Step(StepThrottled); ok && st.Changed {
		out = append(out, fmt.Sprintf("cpu limit: throttled in %.0f%% of CFS periods → raised to %s (R6)", 100*st.Input, r.format(st.Value)))
	}
	if st, ok := lim.Step(StepTrend); ok && trend != nil {
		out = append(out, r.trendReason(p, *trend, st))
	}
	if r.name == "memory" && len(s.OOMs) > 0 {
		out = append(out, fmt.Sprintf("memory: %d OOM kill(s) in history count as peaks of max(%s × limit, limit + %s) (R6)",
			len(s.OOMs), fmtFloat(p.History.OOMBumpRatio), p.History.OOMMinBump))
	}
	if st, ok := req.Step(StepGuaranteed); ok {
		out = append(out, r.name+": request = limit = "+r.format(st.Value)+" for the Guaranteed class (R7, R8)")
	}
	if st, ok := req.Step(StepCeiling); ok && st.Changed {
		out = append(out, r.name+" request: capped at the ceiling "+r.format(st.Value))
	}
	return out
}

// tooLittleHistory says what the window holds against what the profile
// needs.
func (r *resource) tooLittleHistory(p Profile) string {
	need := fmt.Sprintf("≥ %d samples", max(p.MinSamples, 1))
	if p.MinSpan > 0 {
		need += " over ≥ " + fmtDur(p.MinSpan)
	}
	have := "no samples"
	if w := r.window; w.Count > 0 {
		have = fmt.Sprintf("%d samples over %s", w.Count, fmtDur(w.Span()))
	}
	return fmt.Sprintf("%s: no recommendation: too little history (%s; profile %s needs %s)", r.name, have, p.Name, need)
}

// requestReason states the request's rule and what it gave here (R1: the
// request is what the scheduler reserves).
func (r *resource) requestReason(p Profile, s *history.Summary, req Estimation) string {
	rule := describe(r.request, p.History)
	if fp := p.CPUFleetPrice; r.name == "cpu" && fp != nil && r.priced {
		rule += fmt.Sprintf(", at least what the fleet's price of time short asks (the price that holds the fleet's risk to %s × VPA's rule's)", fmtFloat(fp.RiskFactor))
	}
	var b strings.Builder
	b.Grow(len(rule) + 128)
	b.WriteString(r.name)
	b.WriteString(" request: ")
	b.WriteString(rule)
	r.writeHere(&b, req, s, true)
	b.WriteString(" (R1)")
	return b.String()
}

// limitReason states the limit's rule, "" for a limit mode it does not know.
func (r *resource) limitReason(p Profile, s *history.Summary, lim Estimation) string {
	if len(lim.Steps) == 0 {
		return ""
	}
	switch first := lim.Steps[0]; {
	case first.Kind.IsStatistic():
		rule := describe(r.limit.Estimate, p.History)
		var b strings.Builder
		b.Grow(len(rule) + 128)
		b.WriteString(r.name)
		b.WriteString(" limit: ")
		b.WriteString(rule)
		r.writeHere(&b, lim, s, false)
		switch st, ok := lim.Step(StepMinRatio); {
		case ok && st.Changed:
			b.WriteString(" (R2, R3, R4)")
		case r.name == "cpu":
			b.WriteString(" (R2, R4: generous for CPU)")
		default:
			b.WriteString(" (R2, R4: strict for memory)")
		}
		return b.String()
	case first.Kind == StepNoLimit && first.Fallback:
		return r.name + " limit: none, none recorded (R4)"
	case first.Kind == StepNoLimit:
		return r.name + " limit: none — CPU is compressible, a limit only adds throttling (R4)"
	case first.Kind == StepEqual && first.Fallback:
		return r.name + " limit: equal to the request, none recorded (R4)"
	case first.Kind == StepEqual:
		return r.name + " limit: equal to the request (R7)"
	case first.Kind == StepRatio:
		return r.name + " limit: keeps the current limit:request ratio " + fmtFloat(first.Factor) + " (R3)"
	}
	return ""
}

// writeHere says what the steps gave for this container, e.g. " — here:
// p98 1512m, held at 63m (spiky usage), raised to the mean 180m".
func (r *resource) writeHere(b *strings.Builder, e Estimation, s *history.Summary, request bool) {
	b.WriteString(" — here: ")
	sep := ""
	for _, st := range e.Steps {
		if !r.tells(st, request) {
			continue
		}
		b.WriteString(sep)
		r.writeStep(b, st, s, request)
		sep = ", "
	}
}

// tells reports whether the step is told among what the steps gave: a step
// that did nothing is not, nor one told on a line of its own.
func (r *resource) tells(st Step, request bool) bool {
	switch st.Kind {
	case StepQuantile, StepMean, StepMax, StepStatistic:
		return true
	case StepCap, StepAtLeast, StepFloor, StepMinRatio, StepMaxRatio, StepFleetPrice:
		return st.Changed
	case StepShortHistory:
		// The request says what it widened by and why; the limit, only
		// that it widened.
		return request && st.Changed || !request && st.Factor > 1
	}
	return false
}

// writeStep says what one step did.
func (r *resource) writeStep(b *strings.Builder, st Step, s *history.Summary, request bool) {
	switch st.Kind {
	case StepCap:
		// Profiles cap a high quantile where it is dear: spiky usage.
		b.WriteString("held at ")
		b.WriteString(r.format(st.Value))
		b.WriteString(" (spiky usage)")
	case StepAtLeast:
		b.WriteString("raised to ")
		if st.Factor > 0 {
			b.WriteString(fmtFloat(st.Factor))
			b.WriteString(" × ")
		}
		b.WriteString("the ")
		b.WriteString(statName(st.Of, st.Q))
		b.WriteString(" ")
		b.WriteString(r.format(st.Value))
	case StepShortHistory:
		fmt.Fprintf(b, "+ %.0f%% for little history", 100*(st.Factor-1))
		if request {
			fmt.Fprintf(b, " (%s observed, confidence %.2f)", fmtDur(s.Observed.Round(time.Minute)), st.Input)
		}
	case StepFleetPrice:
		b.WriteString("raised to ")
		b.WriteString(r.format(st.Value))
		b.WriteString(" at the fleet's price, ")
		b.WriteString(fmtFloat(st.Input))
		b.WriteString(" cores per unit of time short")
	case StepFloor:
		b.WriteString("raised to the floor ")
		b.WriteString(r.format(st.Value))
	case StepMinRatio:
		b.WriteString("at least ")
		b.WriteString(fmtFloat(st.Factor))
		b.WriteString(" × request")
	case StepMaxRatio:
		b.WriteString("held at ")
		b.WriteString(fmtFloat(st.Factor))
		b.WriteString(" × request (R3)")
	default: // the statistic
		b.WriteString(statName(st.Kind, st.Q))
		b.WriteString(" ")
		b.WriteString(r.format(st.Value))
		if st.Changed {
			// A histogram's quantile held at the highest value it was given.
			b.WriteString(" (capped at the highest)")
		}
	}
}

// trendReason names a growing memory trend and, where the limit follows
// it, says so.
func (r *resource) trendReason(p Profile, t history.Trend, st Step) string {
	why := fmt.Sprintf("memory: peaks grew %s a day over %d days (Kendall τ %.2f): a leak or a filling cache more often than a need — worth a look",
		perDay(t), t.Intervals, t.Tau)
	if st.Changed {
		why += fmt.Sprintf("; limit raised to %s, the trend %s ahead (R6)", r.format(st.Value), fmtDur(p.MemoryTrend.Horizon))
	}
	return why
}

// statName is a statistic's short name: "p98", "mean", "highest".
func statName(k StepKind, q float64) string {
	switch k {
	case StepQuantile:
		return "p" + fmtFloat(100*q)
	case StepMean:
		return "mean"
	case StepMax:
		return "highest"
	}
	return ""
}

// perDay prints a daily growth in whole MiB (KiB below one MiB).
func perDay(t history.Trend) string {
	if t.PerDay >= float64(workload.MiB) {
		return workload.BytesOf(math.Round(t.PerDay/float64(workload.MiB)) * float64(workload.MiB)).String()
	}
	return workload.BytesOf(math.Round(t.PerDay/1024) * 1024).String()
}

// describe says in a few words what an estimate is.
func describe(e Estimate, h history.Options) string {
	var s string
	what := describeSource(e.Source, h)
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
	if e.AtLeastQ > 0 {
		s += fmt.Sprintf(", at least p%s", fmtFloat(100*e.AtLeastQ))
	}
	if e.AtLeastMaxShare > 0 {
		what := "memory usage"
		if e.Source == CPUHistogram || e.Source == CPUWindow {
			what = "CPU usage"
		}
		s += fmt.Sprintf(", at least %s × the highest %s over %s", fmtFloat(e.AtLeastMaxShare), what, fmtDur(h.Window))
	}
	if e.AtLeastMean {
		s += ", at least the mean"
	}
	if e.Margin > 0 {
		s += " × " + fmtFloat(1+e.Margin)
	}
	return s
}

// describeSource names where an estimate reads its data.
func describeSource(src Source, h history.Options) string {
	switch src {
	case CPUHistogram:
		return "CPU usage (half-life " + fmtDur(h.CPU.HalfLife) + ")"
	case CPUWindow:
		return "CPU usage over " + fmtDur(h.Window)
	case MemoryPeaks:
		n := "all"
		if h.MemoryIntervals > 0 {
			n = strconv.Itoa(h.MemoryIntervals)
		}
		return fmt.Sprintf("memory peaks per %s (%s intervals, half-life %s)", fmtDur(h.MemoryInterval), n, fmtDur(h.Memory.HalfLife))
	case MemoryWindow:
		return "memory usage over " + fmtDur(h.Window)
	}
	return ""
}

// humanNumber prints v plainly ("10000", "1.5") where that is short, else
// with an exponent ("1e+308").
func humanNumber(v float64) string {
	if math.Abs(v) < 1e9 {
		return fmtFloat(v)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
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
