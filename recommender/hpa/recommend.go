package hpa

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// Options configure the HPA recommendations.
type Options struct {
	Replay ReplayOptions
	// MinHistory is the least aggregate history a recommendation needs.
	MinHistory time.Duration
	// MemoryPerCore is the memory that costs as much as one CPU core: it
	// weighs the memory every pod carries against its CPU when the pod's
	// size is chosen.
	MemoryPerCore workload.Bytes
}

// DefaultOptions replay Kubernetes' controller, need six hours of history
// and price a core like 8 GiB, about the ratio of the clouds' on-demand
// prices per vCPU and per GiB.
var DefaultOptions = Options{Replay: DefaultReplay, MinHistory: 6 * time.Hour, MemoryPerCore: 8 * workload.GiB}

// The model's constants. They are structural (a pod count, a share of
// time), not fitted to a trace.
const (
	// maxPodsAtPeak bounds the pods the model lets the peak need: a
	// request so small that the peak needs hundreds of pods only adds
	// per-pod overhead.
	maxPodsAtPeak = 50
	// maxHeadroom is the headroom of maxReplicas over the pods the
	// highest load seen needs.
	maxHeadroom = 1.25
	// lowestTarget and highestTarget bound the CPU targets considered, in
	// percent: below 40 % an HPA holds more idle than it saves, above
	// 85 % the tolerance band reaches the request.
	lowestTarget, highestTarget = 40, 85
	// minSaving is the share of replica-hours the R10/R11 defaults must
	// save on the history over the fixed count they would replace for an
	// HPA to be recommended where none is: half the controller's 10 %
	// tolerance, within which the pods an HPA runs for a load are not
	// determined (docs/hpa.md).
	minSaving = 0.05
	// memoryCorrelation and memoryVariation are how closely and how much
	// per-pod memory must follow load for a memory target to scale with
	// load rather than only ever out.
	memoryCorrelation, memoryVariation = 0.7, 0.1
	// minPodCPU is the least pod CPU request the model sets.
	minPodCPU workload.Millicores = 10
)

// Input is one workload's case.
type Input struct {
	Key      workload.Key
	Critical bool
	// Replicas is the workload's replica count today.
	Replicas int
	// Current is its HPA; nil without one (or when unknown, see Known).
	Current *workload.HPA
	// Known says the source knows the workloads' HPAs: without it, a nil
	// Current may be an HPA nobody told us about.
	Known bool
	// Load is the workload's aggregate CPU load.
	Load Load
	// PodCPU is the pod's CPU request today (app containers and sidecars);
	// zero when unset.
	PodCPU workload.Millicores
	// PodMemory is the memory request every pod carries (the plan's);
	// each pod the HPA adds costs it again.
	PodMemory workload.Bytes
	// PlanPodCPU is the pod's CPU request as the per-container policy
	// recommends it: what a workload left at a fixed count runs with.
	PlanPodCPU workload.Millicores
}

// Recommend recommends the workload's HPA and the pod CPU request it is
// sized with, from the aggregate load — never from per-pod usage, which an
// HPA keeps near its own target (the spiral of a VPA and an HPA on one
// metric):
//
//   - the pod request r: the one that costs least over the history when
//     the HPA runs max(minReplicas, ceil(load / (70 % × r))) pods, each
//     costing r plus its memory request priced by MemoryPerCore — small
//     pods waste the memory every pod carries and the minReplicas floor
//     costs little, big pods the reverse — with the peak needing at most
//     50 pods;
//   - the CPU target (40–85 %, steps of 5) and the scale-down
//     stabilization window (R11's 300 s, 120 s or 600 s): of the highest
//     target per window whose replay on the history is saturated no more
//     than the R10/R11 defaults' at the same request, the one that uses
//     the fewest replica-hours — a slow load affords a higher target and
//     a shorter window, a bursty one may keep pods longer to meet the next
//     burst; a target above R10's 70 % only where the steepest rise seen
//     within the reaction time fits under it with the tolerance;
//   - minReplicas the R9 floor (3, critical 5), maxReplicas 20 (R10) or
//     more where the highest load needs more pods, otherwise R11's
//     behavior;
//   - a memory target (R10: 80 %) only where per-pod memory follows the
//     load (correlation ≥ 0.7, variation ≥ 10 %).
//
// A Deployment or ReplicaSet without an HPA gets one only where scaling
// pays on its history: the R10/R11 defaults, replayed at the pod request,
// use at least 5 % fewer replica-hours than the fixed count they would
// replace — max(minReplicas, ceil(p99 / (70 % × r))) pods or, where the
// two are not as saturated, the fewest pods saturated no more than the
// defaults (fewer where the HPA is the more saturated, more where bursts
// above the p99 saturate the sized count and the HPA follows them) —
// whatever its peak : trough ratio. Reasons give the numbers and cite
// R9–R11.
func Recommend(in Input, o Options) workload.Autoscaling {
	a := workload.Autoscaling{Current: in.Current}
	if in.Current != nil {
		a.Reasons = append(a.Reasons, notesOf(*in.Current, in.Critical)...)
	}
	// The replays read the filled load, made once here. The buffers go
	// back to the pool when the recommendation is made: nothing it returns
	// holds them.
	buf := scratchPool.Get().(*scratch)
	defer scratchPool.Put(buf)
	vals := in.Load.filledInto(buf.vals)
	if vals != nil {
		buf.vals = vals
	}
	in.Load.vals = vals
	sorted := append(buf.sorted[:0], vals...)
	slices.Sort(sorted)
	buf.sorted = sorted
	a.Load = loadStats(vals, sorted, in.Load.Step, o.Replay.Reaction(), &buf.rises)
	if in.Current != nil && in.Current.Utilization("cpu") == 0 {
		// An HPA on other metrics: its load cannot be replayed from CPU.
		rec := reviewed(*in.Current, in.Critical)
		a.Recommended = &rec
		a.Reasons = append(a.Reasons, fmt.Sprintf("scales on %s, not on CPU utilization: its metrics kept, minReplicas at least %d (R9), behavior R11's where unset; the CPU requests stay with the per-container policy", metricNames(*in.Current), minimum(in.Critical)))
		return a
	}
	if d := in.Load.Duration(); len(vals) == 0 || d < o.MinHistory || a.Load.Median <= 0 {
		a.Reasons = append(a.Reasons, fmt.Sprintf("%s of aggregate load history, %s needed: no HPA recommendation", d.Round(time.Minute), o.MinHistory))
		return a
	}

	m := fit(in, o, vals, sorted, a.Load)
	a.PodCPU = m.podCPU
	if in.Current != nil {
		m.recommend(in, o)
		if in.PodCPU > 0 {
			if f, ok := Replay(in.Load, in.PodCPU.Cores(), *in.Current, o.Replay); ok {
				a.Replays = append(a.Replays, workload.Replay{Setup: "current", PodCPU: in.PodCPU, ReplayFigures: f})
			}
		}
		a.Replays = append(a.Replays,
			workload.Replay{Setup: "defaults", PodCPU: m.podCPU, ReplayFigures: m.fDef},
			workload.Replay{Setup: "recommended", PodCPU: m.podCPU, ReplayFigures: m.best})
		a.Recommended = &m.rec
		a.Reasons = append(a.Reasons, m.reasons(in, o)...)
		a.Reasons = append(a.Reasons, replayLine(a, m.best, m.fDef))
		return a
	}
	return withoutHPA(a, in, o, vals, sorted, m)
}

// model is a workload's HPA as the aggregate load sizes it: the pod
// request, the R10/R11 defaults' replay at it and the recommended HPA with
// its replay.
type model struct {
	load         workload.AggregateLoad
	minR         int
	highest      float64
	podCPU       workload.Millicores
	rc           float64 // podCPU in cores
	fDef, best   Figures
	defaults     workload.HPA // R10/R11's, as replayed
	target       int
	window       time.Duration
	rec          workload.HPA
	memoryReason string
}

// fit sizes the pod and replays the R10/R11 defaults at it (Recommend's
// first steps).
func fit(in Input, o Options, vals, sorted []float64, st workload.AggregateLoad) model {
	m := model{load: st, minR: minimum(in.Critical), highest: slices.Max(vals)}
	overhead := 0.0
	if o.MemoryPerCore > 0 {
		overhead = float64(in.PodMemory) / float64(o.MemoryPerCore)
	}
	r := podSize(vals, sorted, float64(st.Peak), m.highest, m.minR, float64(CPUUtilization)/100, overhead)
	m.podCPU = max(workload.MillicoresOf(workload.Cores(r)), minPodCPU)
	m.rc = float64(m.podCPU.Cores())

	defaults := Defaults(in.Key, in.Critical)
	defaults.Metrics = defaults.Metrics[:1] // memory cannot be replayed
	defaults.MaxReplicas = maxFor(m.highest, float64(CPUUtilization)/100, m.rc, m.minR)
	m.fDef, _ = Replay(in.Load, workload.Cores(m.rc), defaults, o.Replay)
	m.defaults = defaults
	return m
}

// recommend searches the target and window and builds the recommended HPA
// (Recommend's steps): only for a workload that gets one, the search
// being most of a recommendation's replays.
func (m *model) recommend(in Input, o Options) {
	m.target, m.window, m.best = searchTarget(in.Load, m.rc, m.defaults, m.fDef, m.highest, m.load.Steepest, m.minR, o)

	m.rec = Defaults(in.Key, in.Critical)
	m.rec.Metrics = []workload.MetricTarget{{Resource: "cpu", AverageUtilization: m.target}}
	m.rec.MaxReplicas = maxFor(m.highest, float64(m.target)/100, m.rc, m.minR)
	m.rec.Behavior = withDownWindow(m.rec.Behavior, m.window)
	var mem *workload.MetricTarget
	mem, m.memoryReason = memoryTarget(in.Load)
	if mem != nil {
		m.rec.Metrics = append(m.rec.Metrics, *mem)
	}
	if in.Current != nil {
		m.rec.Name = in.Current.Name
		// Targets rightsize cannot replay (Pods, External metrics) stay.
		for _, mt := range in.Current.Metrics {
			if mt.Resource != "cpu" && mt.Resource != "memory" {
				m.rec.Metrics = append(m.rec.Metrics, mt)
			}
		}
	}
}

// memoryTarget is R10's memory target where per-pod memory follows the
// load, and why or why not.
func memoryTarget(l Load) (*workload.MetricTarget, string) {
	switch c := l.MemoryCorrelation; {
	case !math.IsNaN(c) && c >= memoryCorrelation && l.MemoryVariation >= memoryVariation:
		return &workload.MetricTarget{Resource: "memory", AverageUtilization: MemoryUtilization},
			fmt.Sprintf("memory target %d %% (R10): per-pod memory follows the load (correlation %.2f, variation %.0f %%)", MemoryUtilization, c, 100*l.MemoryVariation)
	case math.IsNaN(c):
		return nil, "no memory target: too little memory history to tell whether per-pod memory follows the load (R10 departs)"
	default:
		return nil, fmt.Sprintf("no memory target: per-pod memory does not follow the load (correlation %.2f, variation %.0f %%), a memory target would only ever scale out (R10 departs)", c, 100*l.MemoryVariation)
	}
}

// reasons give the model's numbers and the rules they apply.
func (m model) reasons(in Input, o Options) []string {
	st := m.load
	why := []string{
		fmt.Sprintf("aggregate load over %s: trough %.3g, median %.3g, peak %.3g cores (p5, p50, p99); it rises up to %.0f %% within the %s the HPA needs to add a ready pod (p99)",
			in.Load.Duration().Round(time.Minute), float64(st.Trough), float64(st.Median), float64(st.Peak), 100*(st.Rise-1), st.Reaction),
		fmt.Sprintf("pod CPU request %s with the HPA: the pod size that costs least on the history with at least %d pods (R9) at %d %% (R10), each pod also carrying %s of memory requests (priced %s a core); sized from the aggregate load, which the HPA does not change, so the request and the HPA cannot spiral",
			m.podCPU, m.minR, CPUUtilization, in.PodMemory, o.MemoryPerCore),
	}
	if m.target == CPUUtilization && m.window == downWindows[0] {
		why = append(why, fmt.Sprintf("CPU target %d %% (R10): no higher target or other scale-down window used fewer replica-hours on the history without more saturated time", m.target))
	} else {
		why = append(why, fmt.Sprintf("CPU target %d %% (R10: %d %%), scale-down stabilization %s (R11: %s): the cheapest on the history with no more saturated time than R10/R11's — %.1f replica-hours against %.1f, saturated %.2f %% against %.2f %%",
			m.target, CPUUtilization, m.window, downWindows[0], m.best.ReplicaHours, m.fDef.ReplicaHours, 100*m.best.Saturated, 100*m.fDef.Saturated))
	}
	return append(why,
		ceilingNote(st, o.Replay.Tolerance),
		m.memoryReason,
		fmt.Sprintf("minReplicas %d (R9), maxReplicas %d: the highest load needs %d pods at the target, with %.0f %% headroom; otherwise R11's behavior",
			m.rec.MinReplicas, m.rec.MaxReplicas, ceilInt(m.highest/(float64(m.target)/100*m.rc)), 100*(maxHeadroom-1)))
}

// withoutHPA decides for a workload without an HPA: one only where scaling
// pays, measured on the history, and only for a Deployment or ReplicaSet.
func withoutHPA(a workload.Autoscaling, in Input, o Options, vals, sorted []float64, m model) workload.Autoscaling {
	d := scalingPays(vals, sorted, in.Load, m.load, m.rc, m.fDef, m.minR)
	if !newHPAKind(in.Key.Kind) {
		a.PodCPU = 0
		a.Replays = keptFixed(in)
		a.Reasons = append(a.Reasons, fmt.Sprintf("no HPA: a %s's pods keep their identity and storage, scaling them out is the owner's call; %s", in.Key.Kind, d.describe(m.podCPU)))
		return a
	}
	unknown := ""
	if !in.Known {
		unknown = " (the source does not say which HPAs exist: pass --hpa or read a cluster)"
	}
	if !d.pays() {
		a.PodCPU = 0
		a.Replays = keptFixed(in)
		a.Reasons = append(a.Reasons, fmt.Sprintf("no HPA%s: scaling does not pay on the history: %s", unknown, d.describe(m.podCPU)))
		return a
	}
	m.recommend(in, o)
	a.Recommended = &m.rec
	a.Replays = append(a.Replays,
		// The count sized for the peak: what the workload would run without.
		workload.Replay{Setup: "fixed", PodCPU: m.podCPU, ReplayFigures: d.sized},
		workload.Replay{Setup: "defaults", PodCPU: m.podCPU, ReplayFigures: m.fDef},
		workload.Replay{Setup: "recommended", PodCPU: m.podCPU, ReplayFigures: m.best})
	a.Reasons = append(a.Reasons, fmt.Sprintf("recommend an HPA%s: scaling pays on the history: %s", unknown, d.describe(m.podCPU)))
	a.Reasons = append(a.Reasons, m.reasons(in, o)...)
	a.Reasons = append(a.Reasons, replayLine(a, m.best, m.fDef))
	return a
}

// decision is what scaling pays on a workload's history: the R10/R11
// defaults' replay against the fixed count it would replace, at the same
// pod request.
type decision struct {
	// variation is the load's peak : trough (p99 : p5), infinite for a
	// zero trough.
	variation float64
	// hpa is the defaults' replay; fixed the fixed count's it is compared
	// with, fixedPods pods.
	hpa, fixed Figures
	fixedPods  int
	// sized is the fixed count the recommendation runs without an HPA,
	// sizedPods pods sized for the peak at 70 %; where the two are not as
	// saturated, fixed is the fewest pods saturated no more than the HPA
	// instead.
	sized     Figures
	sizedPods int
}

// scalingPays replays the fixed count a workload without an HPA would run
// — max(minReplicas, ceil(p99 / (70 % × r))) pods, R10's target as the
// defaults have it — and, where the two are not as saturated, the fewest
// pods saturated no more than the HPA: the saving is then measured at
// equal service both ways, never bought with saturated time nor credited
// to a fixed count that misses bursts the HPA follows.
func scalingPays(vals, sorted []float64, l Load, st workload.AggregateLoad, rc float64, fDef Figures, minR int) decision {
	d := decision{variation: math.Inf(1), hpa: fDef}
	if st.Trough > 0 {
		d.variation = float64(st.Peak / st.Trough)
	}
	d.sizedPods = max(minR, ceilInt(float64(st.Peak)/(float64(CPUUtilization)/100*rc)))
	d.sized = ReplayFixed(l, workload.Cores(rc), d.sizedPods)
	d.fixed, d.fixedPods = d.sized, d.sizedPods
	switch {
	case fDef.Saturated > d.sized.Saturated:
		d.fixedPods = fewestPods(sorted, rc, fDef.Saturated, minR, d.sizedPods)
	case fDef.Saturated < d.sized.Saturated:
		// Bursts above the sized count that the HPA follows: the fixed
		// count that serves them as well needs more pods.
		d.fixedPods = fewestPods(sorted, rc, fDef.Saturated, d.sizedPods, max(d.sizedPods, ceilInt(slices.Max(vals)/rc)))
	}
	if d.fixedPods != d.sizedPods {
		d.fixed = ReplayFixed(l, workload.Cores(rc), d.fixedPods)
	}
	return d
}

// fewestPods is the fewest pods of rc cores, from minR to most, whose
// fixed count leaves no larger share of the points than sat saturated;
// sorted is the load's points in ascending order.
func fewestPods(sorted []float64, rc, sat float64, minR, most int) int {
	// k points may exceed the pods' requests: the k highest.
	k := int(math.Floor(sat*float64(len(sorted)) + 1e-9))
	if k >= len(sorted) {
		return min(minR, most)
	}
	n := clampInt(ceilInt(sorted[len(sorted)-1-k]/rc), minR, most)
	// Exactly as ReplayFixed counts: the ceiling may round under by 1e-9.
	for n < most && float64(countAbove(sorted, float64(n)*rc*(1+1e-9))) > sat*float64(len(sorted))+1e-9 {
		n++
	}
	return n
}

// countAbove counts the sorted values above x.
func countAbove(sorted []float64, x float64) int {
	i, _ := slices.BinarySearchFunc(sorted, x, func(v, x float64) int {
		if v <= x {
			return -1
		}
		return 1
	})
	return len(sorted) - i
}

// saving is the share of the fixed count's replica-hours the HPA saves;
// negative where it costs more.
func (d decision) saving() float64 {
	if d.fixed.ReplicaHours <= 0 {
		return 0
	}
	return 1 - d.hpa.ReplicaHours/d.fixed.ReplicaHours
}

// pays reports whether the HPA saves at least minSaving of the
// replica-hours of the fixed count it is compared with (scalingPays).
func (d decision) pays() bool { return d.saving() >= minSaving }

// describe gives the decision's numbers.
func (d decision) describe(pod workload.Millicores) string {
	s := fmt.Sprintf("peak %.2f × trough (p99 : p5); at %s a pod the R10/R11 defaults (CPU %d %%) run %.1f replica-hours, saturated %.3f %% of the time, against %.1f for %d fixed pods",
		d.variation, pod, CPUUtilization, d.hpa.ReplicaHours, 100*d.hpa.Saturated, d.fixed.ReplicaHours, d.fixedPods)
	if d.fixedPods == d.sizedPods {
		s += fmt.Sprintf(" (the peak at %d %%), saturated %.3f %%", CPUUtilization, 100*d.fixed.Saturated)
	} else {
		s += fmt.Sprintf(", the fewest saturated no more than the HPA (%.3f %%; the %d sized for the peak at %d %% run %.1f, saturated %.3f %%)",
			100*d.fixed.Saturated, d.sizedPods, CPUUtilization, d.sized.ReplicaHours, 100*d.sized.Saturated)
	}
	saved, verb := d.fixed.ReplicaHours-d.hpa.ReplicaHours, "saves"
	if saved < 0 {
		verb = "costs"
	}
	return s + fmt.Sprintf(": an HPA %s %.1f replica-hours, %.1f %% (an HPA is recommended from %.0f %% saved)", verb, math.Abs(saved), 100*math.Abs(d.saving()), 100*minSaving)
}

// keptFixed is the replay of a workload left without an HPA: today's
// replica count at the pod request the plan recommends; none without
// either.
func keptFixed(in Input) []workload.Replay {
	if in.PlanPodCPU <= 0 || in.Replicas <= 0 {
		return nil
	}
	return []workload.Replay{{Setup: "fixed", PodCPU: in.PlanPodCPU, ReplayFigures: ReplayFixed(in.Load, in.PlanPodCPU.Cores(), in.Replicas)}}
}

// podSize is the pod CPU request, in cores, that minimizes the cost of the
// pods an HPA at target u would run over the load: at each point
// max(minR, ceil(load / (u × r))) pods, each costing r + overhead cores.
// Candidates are log-spaced from the request at which the peak needs
// maxPodsAtPeak pods to the one at which minR pods hold the highest load.
func podSize(vals, sorted []float64, peak, highest float64, minR int, u, overhead float64) float64 {
	lo := max(float64(minPodCPU.Cores()), peak/(u*maxPodsAtPeak))
	hi := max(lo, highest/(u*float64(minR)))
	// At most ~4000 points: the cost curve is smooth in r.
	stride := max(1, len(vals)/4000)
	const steps = 48
	best, bestCost := hi, math.Inf(1)
	for k := range steps + 1 {
		r := lo * math.Pow(hi/lo, float64(k)/steps)
		pods, q := 0, u*r
		if stride == 1 {
			pods = podsOver(sorted, q, minR)
		} else {
			for i := 0; i < len(vals); i += stride {
				pods += max(minR, ceilInt(vals[i]/q))
			}
		}
		cost := float64(pods) * (r + overhead)
		// Ties go to the bigger pod: fewer pods for the same cost.
		if cost <= bestCost*(1+1e-9) {
			best, bestCost = r, cost
		}
	}
	return best
}

// podsOver sums max(minR, ceil(v / q)) over the sorted loads v, as a
// loop over them would, without computing it for each: the count only
// rises along them, so each count's run of loads is found by a galloping
// search (a few tens of counts over thousands of points).
func podsOver(sorted []float64, q float64, minR int) int {
	pods := func(v float64) int { return max(minR, ceilInt(v/q)) }
	total := 0
	for i := 0; i < len(sorted); {
		n := pods(sorted[i])
		// The run of n ends after lo and at or before hi.
		lo, hi, step := i, i+1, 1
		for hi < len(sorted) && pods(sorted[hi]) == n {
			lo, step = hi, 2*step
			hi = min(len(sorted), hi+step)
		}
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; pods(sorted[mid]) == n {
				lo = mid
			} else {
				hi = mid
			}
		}
		total += n * (hi - i)
		i = hi
	}
	return total
}

// downWindows are the scale-down stabilization windows tried, R11's first.
var downWindows = []time.Duration{300 * time.Second, 120 * time.Second, 600 * time.Second}

// searchTarget finds, for each scale-down window, the highest CPU target
// (85 % down to 40 %) whose replay is saturated no more than the defaults', and returns the cheapest of those in replica-hours; without
// any, the least saturated target at R11's window.
func searchTarget(l Load, rc float64, defaults workload.HPA, fDef Figures, highest, steepest float64, minR int, o Options) (int, time.Duration, Figures) {
	target, window, best := 0, time.Duration(0), Figures{}
	fbTarget, fb := 0, Figures{}
	ceiling := targetCeiling(steepest, o.Replay.Tolerance)
	for wi, w := range downWindows {
		for u := highestTarget; u >= lowestTarget; u -= 5 {
			if u > ceiling {
				continue
			}
			h := defaults
			h.Metrics = []workload.MetricTarget{{Resource: "cpu", AverageUtilization: u}}
			h.MaxReplicas = maxFor(highest, float64(u)/100, rc, minR)
			h.Behavior = withDownWindow(h.Behavior, w)
			// R10's target at R11's window is the defaults' replay, made
			// already.
			f := fDef
			if !replaysAlike(h, defaults) {
				f, _ = Replay(l, workload.Cores(rc), h, o.Replay)
			}
			if f.Saturated <= fDef.Saturated {
				if target == 0 || f.ReplicaHours < best.ReplicaHours*(1-1e-9) {
					target, window, best = u, w, f
				}
				break
			}
			if wi == 0 && (fbTarget == 0 || f.Saturated < fb.Saturated) {
				fbTarget, fb = u, f
			}
		}
	}
	if target == 0 {
		return fbTarget, downWindows[0], fb
	}
	return target, window, best
}

// replaysAlike reports whether two HPAs replay alike: the same CPU target,
// bounds and behavior in force, all that Replay reads of an HPA.
func replaysAlike(a, b workload.HPA) bool {
	return a.Utilization("cpu") == b.Utilization("cpu") && a.MinReplicas == b.MinReplicas && a.MaxReplicas == b.MaxReplicas &&
		reflect.DeepEqual(a.Behavior.Up(), b.Behavior.Up()) && reflect.DeepEqual(a.Behavior.Down(), b.Behavior.Down())
}

// targetCeiling is the highest CPU target searched: R10's 70 % or, above
// it, the highest step of 5 at which the pods, running up to the target
// plus the tolerance before the HPA acts, still hold the steepest rise the
// history shows within the reaction time. Less headroom than R10's needs
// that evidence: a replay no more saturated than the defaults' is weak
// evidence where both are hardly ever saturated, and the next weeks' bursts
// are as likely as not to be steeper than the history's steepest.
func targetCeiling(steepest, tolerance float64) int {
	fits := int(math.Floor(100/((1+tolerance)*steepest)+1e-9)) / 5 * 5
	return max(CPUUtilization, min(highestTarget, fits))
}

// ceilingNote says how far above R10's target the search went and why.
func ceilingNote(st workload.AggregateLoad, tolerance float64) string {
	c := targetCeiling(st.Steepest, tolerance)
	if c == CPUUtilization {
		return fmt.Sprintf("no target above %d %% (R10) considered: the steepest rise within the %s, +%.0f %%, would not fit under one with the %.0f %% tolerance", CPUUtilization, st.Reaction, 100*(st.Steepest-1), 100*tolerance)
	}
	return fmt.Sprintf("targets up to %d %% considered: the steepest rise within the %s, +%.0f %%, fits under them with the %.0f %% tolerance", c, st.Reaction, 100*(st.Steepest-1), 100*tolerance)
}

// withDownWindow returns the behavior with the scale-down stabilization
// window w.
func withDownWindow(b workload.Behavior, w time.Duration) workload.Behavior {
	d := b.Down()
	d.StabilizationWindow = w
	b.ScaleDown = &d
	return b
}

// replayLine sums the replays up in one reason.
func replayLine(a workload.Autoscaling, rec, def Figures) string {
	s := fmt.Sprintf("replayed on the history: %.1f replica-hours, saturated %.2f %% of the time, %d scaling events; the R10/R11 defaults at the same request: %.1f, %.2f %%, %d",
		rec.ReplicaHours, 100*rec.Saturated, rec.Events, def.ReplicaHours, 100*def.Saturated, def.Events)
	if c := a.Replay("current"); c != nil {
		s += fmt.Sprintf("; the current HPA at %s a pod: %.1f, %.2f %%, %d", c.PodCPU, c.ReplicaHours, 100*c.Saturated, c.Events)
	}
	return s
}

// newHPAKind reports whether rightsize recommends an HPA where there is
// none: for stateless kinds only.
func newHPAKind(k workload.Kind) bool { return k == workload.Deployment || k == workload.ReplicaSet }

// maxFor is maxReplicas for a target: R10's 20, or the pods the highest
// load needs at the target with headroom when that is more.
func maxFor(highest, u, podCores float64, minR int) int {
	return max(MaxReplicas, minR, ceilInt(maxHeadroom*highest/(u*podCores)))
}

// reviewed is an HPA on metrics rightsize cannot replay, brought to the
// R9 floor and R11's behavior where it has none.
func reviewed(h workload.HPA, critical bool) workload.HPA {
	h.Metrics = slices.Clone(h.Metrics)
	h.MinReplicas = max(h.MinReplicas, minimum(critical))
	h.MaxReplicas = max(h.MaxReplicas, h.MinReplicas)
	r11 := R11()
	if h.Behavior.ScaleUp == nil {
		h.Behavior.ScaleUp = r11.ScaleUp
	}
	if h.Behavior.ScaleDown == nil {
		h.Behavior.ScaleDown = r11.ScaleDown
	}
	return h
}

func notesOf(h workload.HPA, critical bool) []string {
	now := ""
	if h.Replicas > 0 {
		now = fmt.Sprintf(", %d now", h.Replicas)
	}
	out := []string{fmt.Sprintf("current HPA %s: %d–%d pods%s, on %s", h.Name, h.MinReplicas, h.MaxReplicas, now, metricNames(h))}
	for _, n := range Review(h, critical) {
		out = append(out, "current HPA "+h.Name+": "+n)
	}
	for _, n := range h.Unread {
		out = append(out, "current HPA "+h.Name+", not seen by the replay and the recommendation: "+n)
	}
	return out
}

func metricNames(h workload.HPA) string {
	var names []string
	for _, m := range h.Metrics {
		names = append(names, m.Resource)
	}
	if len(names) == 0 {
		return "no metric"
	}
	return fmt.Sprint(names)
}

// scratch are a recommendation's buffers, reused from one workload to the
// next: a fleet's HPA recommendations would otherwise allocate some 50 KB
// each, and make the collector run for them.
type scratch struct{ vals, sorted, rises []float64 }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// loadStats are the aggregate load's percentiles and its rise within the
// reaction time; sorted is vals in ascending order, rises a buffer for
// rise.
func loadStats(vals, sorted []float64, step, reaction time.Duration, rises *[]float64) workload.AggregateLoad {
	st := workload.AggregateLoad{Reaction: reaction, Samples: len(vals), Rise: 1}
	if len(vals) == 0 || step <= 0 {
		return st
	}
	q := func(p float64) workload.Cores { return workload.Cores(sorted[int(p*float64(len(sorted)-1))]) }
	st.Trough, st.Median, st.Peak = q(0.05), q(0.5), q(0.99)
	st.Rise, st.Steepest = rise(vals, step, reaction, 0.2*float64(st.Median), rises)
	return st
}

// rise is the 99th percentile and the highest, over the points whose load
// is at least floor, of the highest load within the reaction time after
// the point relative to the point's: linear between points, as the replay
// sees it.
func rise(vals []float64, step, reaction time.Duration, floor float64, buf *[]float64) (p99, highest float64) {
	h := float64(reaction) / float64(step)
	g := (*buf)[:0]
	defer func() { *buf = g[:0] }()
	for i, v := range vals {
		if v < floor || v <= 0 {
			continue
		}
		end := float64(i) + h
		if end > float64(len(vals)-1) {
			break
		}
		peak := v
		j := int(end)
		for k := i + 1; k <= j; k++ {
			peak = max(peak, vals[k])
		}
		if j+1 < len(vals) {
			peak = max(peak, vals[j]+(vals[j+1]-vals[j])*(end-float64(j)))
		}
		g = append(g, peak/v)
	}
	if len(g) == 0 {
		return 1, 1
	}
	highest = slices.Max(g)
	return max(1, largest(g, len(g)-int(0.99*float64(len(g)-1)))), max(1, highest)
}

// largest returns the kth largest of vals (1 the largest), what a sort
// would put at len(vals)−k: a heap of the k largest, for a k much smaller
// than len(vals). vals is reordered.
func largest(vals []float64, k int) float64 {
	top := vals[:0:k] // a min-heap of the largest so far, in vals' front
	for _, v := range vals {
		switch {
		case len(top) < k:
			top = append(top, v)
			for i := len(top) - 1; i > 0 && top[(i-1)/2] > top[i]; i = (i - 1) / 2 {
				top[i], top[(i-1)/2] = top[(i-1)/2], top[i]
			}
		case v > top[0]:
			top[0] = v
			for i := 0; ; {
				m := i
				if l := 2*i + 1; l < len(top) && top[l] < top[m] {
					m = l
				}
				if r := 2*i + 2; r < len(top) && top[r] < top[m] {
					m = r
				}
				if m == i {
					break
				}
				top[i], top[m] = top[m], top[i]
				i = m
			}
		}
	}
	return top[0]
}
