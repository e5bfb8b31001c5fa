package backtest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// Names of the yardsticks that are not policy profiles.
const (
	Current = "current"
	Oracle  = "oracle"
)

// Options are the replay's contract parameters.
type Options struct {
	// Warmup is W: history seen before the first decision (default 7 days).
	Warmup time.Duration
	// Interval is R: the time between decisions (default 24 h).
	Interval time.Duration
	// Workers bounds the parallelism; 0 = GOMAXPROCS.
	Workers int
	// Include, when set, limits the replay to the containers it accepts
	// (e.g. one half of a trace held out from tuning).
	Include func(workload.ContainerKey) bool
	// Headroom computes, for each result, the hindsight bound on CPU slack
	// at the result's own insufficient time (see HindsightBound).
	Headroom bool
	// PerContainer keeps each container's figures in Result.ByContainer.
	PerContainer bool
}

// DefaultOptions returns W = 168 h and R = 24 h.
func DefaultOptions() Options { return Options{Warmup: 7 * 24 * time.Hour, Interval: 24 * time.Hour} }

// Window describes the replayed span.
type Window struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Warmup   string    `json:"warmup"`
	Interval string    `json:"interval"`
}

// CPU holds the CPU figures.
type CPU struct {
	RequestCoreHours float64 `json:"request_core_hours"`
	UsageCoreHours   float64 `json:"usage_core_hours"`
	Slack            float64 `json:"slack"`
	Insufficient     float64 `json:"insufficient"`
	Throttled        float64 `json:"throttled"`
	// HindsightSlack is the lowest slack any once-per-interval request
	// reaches at the same insufficient time, knowing the future; Slack
	// minus it is the headroom left to better forecasting. Set with
	// Options.Headroom.
	HindsightSlack *float64 `json:"hindsight_slack,omitempty"`
}

// Memory holds the memory figures.
type Memory struct {
	RequestGiBHours   float64 `json:"request_gib_hours"`
	UsageGiBHours     float64 `json:"usage_gib_hours"`
	Slack             float64 `json:"slack"`
	Insufficient      float64 `json:"insufficient"`
	OOMEvents         int     `json:"oom_events"`
	ContainersWithOOM int     `json:"containers_with_oom"`
	// LimitGiBHours and LimitSlack are slack's shape for the limit: few
	// OOM episodes mean little when bought with huge limits. Samples with
	// no limit set have no size to count and are left out of both.
	LimitGiBHours float64 `json:"limit_gib_hours"`
	LimitSlack    float64 `json:"limit_slack"`
}

// Result is one policy's score, in the JSON shape of docs/backtest.md.
type Result struct {
	Profile    string `json:"profile"`
	Containers int    `json:"containers"`
	Covered    int    `json:"covered"`
	Window     Window `json:"window"`
	CPU        CPU    `json:"cpu"`
	Memory     Memory `json:"memory"`
	// Decisions is the number of decision times.
	Decisions int `json:"decisions"`
	// ByContainer holds each covered container's figures, with
	// Options.PerContainer, in the order of the store.
	ByContainer []ContainerResult `json:"by_container,omitempty"`
}

// ContainerResult is one workload container's share of a Result: where the
// idle capacity and the time short sit.
type ContainerResult struct {
	Container string `json:"container"`
	CPU       CPU    `json:"cpu"`
	Memory    Memory `json:"memory"`
	// CPUIdleCoreHours and MemoryIdleGiBHours are the numerators of slack,
	// comparable across containers (slack is a ratio).
	CPUIdleCoreHours   float64 `json:"cpu_idle_core_hours"`
	CPUShortHours      float64 `json:"cpu_short_hours"`
	MemoryIdleGiBHours float64 `json:"memory_idle_gib_hours"`
}

// decider returns the settings a policy puts in force for [tk, next).
// Recommended resources replace the recorded settings; others keep them.
type decider interface {
	decide(c *container, p *policyRun, tk, next time.Time) workload.Recommendation
}

// Run replays the store's history through each named policy: a profile name
// of package policy, "current" or "oracle".
func Run(ctx context.Context, st *history.Store, names []string, o Options) ([]Result, error) {
	return RunExternal(ctx, st, names, nil, o)
}

// External is a policy from outside this module's profiles (a reference
// implementation, a controller under test), replayed beside them on the
// same schedule and scored the same way.
type External struct {
	Name string
	// New returns the policy's state for one workload container; the
	// replay calls its Decide once per interval, in time order, from one
	// goroutine.
	New func(workload.ContainerKey) Replayer
}

// Replayer decides one workload container's settings.
type Replayer interface {
	// Decide returns the settings in force for [tk, next). It may read
	// only the samples before tk and the OOM episodes the replay has
	// reported so far (all before tk, oldest first).
	Decide(v View, tk, next time.Time) workload.Recommendation
}

// View is what a Replayer sees of its container.
type View struct {
	Series          []*history.Series
	OOMs            []history.OOMEvent
	ContainersInPod int
}

// RunExternal replays the named policies (as Run) and then the external
// ones; results come in that order.
func RunExternal(ctx context.Context, st *history.Store, names []string, ext []External, o Options) ([]Result, error) {
	var errs []error
	deciders := make([]decider, 0, len(names)+len(ext))
	all := slices.Clone(names)
	for _, n := range names {
		d, err := builtin(n)
		errs = append(errs, err)
		deciders = append(deciders, d)
	}
	for _, e := range ext {
		if e.New == nil {
			errs = append(errs, fmt.Errorf("external policy %q: no constructor", e.Name))
		}
		all = append(all, e.Name)
		deciders = append(deciders, externalDecider{e.New})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return run(ctx, st, all, deciders, o)
}

// builtin returns the decider of a profile name, "current" or "oracle".
func builtin(n string) (decider, error) {
	switch n {
	case Current:
		return currentDecider{}, nil
	case Oracle:
		return oracleDecider{}, nil
	}
	p, err := policy.ByName(n)
	if err != nil {
		return nil, err
	}
	return profileDecider{p: p}, nil
}

// RunProfiles replays the history through profiles given as values, for
// tuning and for profiles that are not built in.
func RunProfiles(ctx context.Context, st *history.Store, profiles []policy.Profile, o Options) ([]Result, error) {
	names := make([]string, len(profiles))
	deciders := make([]decider, len(profiles))
	for i, p := range profiles {
		names[i], deciders[i] = p.Name, profileDecider{p: p}
	}
	return run(ctx, st, names, deciders, o)
}

func run(ctx context.Context, st *history.Store, names []string, deciders []decider, o Options) ([]Result, error) {
	first, last := st.Span()
	sch, err := newSchedule(first, last, o)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, d := range deciders {
		if pd, ok := d.(profileDecider); ok {
			if err := pd.p.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("profile %s: %w", names[i], err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var keys []workload.ContainerKey
	for _, k := range st.Containers() {
		if o.Include == nil || o.Include(k) {
			keys = append(keys, k)
		}
	}
	podContainers := map[workload.Key]int{}
	for _, k := range keys {
		podContainers[k.Workload]++
	}
	if err := priceFleet(ctx, st, keys, deciders, sch, o.Workers); err != nil {
		return nil, err
	}
	// Each container replays every policy side by side, so that the policies
	// share what their summaries have in common (history.Follower).
	scores := make([][]score, len(deciders))
	for i := range scores {
		scores[i] = make([]score, len(keys))
	}
	// The hindsight bound's cells are gathered on the way, in parallel.
	var gathered []cellGatherer
	if o.Headroom {
		gathered = make([]cellGatherer, len(keys))
	}
	if err := parallel(ctx, len(keys), o.Workers, func(j int) {
		c := newContainer(keys[j], st.Series(keys[j]), podContainers[keys[j].Workload])
		for i, sc := range c.replay(deciders, sch) {
			scores[i][j] = sc
		}
		if gathered != nil {
			gathered[j].add(c, sch)
			gathered[j].buf, gathered[j].x, gathered[j].idle, gathered[j].short = nil, nil, nil, nil
		}
	}); err != nil {
		return nil, err
	}
	results := make([]Result, len(names))
	for i, scores := range scores {
		var total score
		for _, s := range scores {
			total.add(s)
		}
		results[i] = total.result(names[i], len(keys))
		if o.PerContainer {
			for j, sc := range scores {
				if sc.coveredContainers == 0 {
					continue
				}
				r := sc.result("", 1)
				results[i].ByContainer = append(results[i].ByContainer, ContainerResult{
					Container: keys[j].String(), CPU: r.CPU, Memory: r.Memory,
					CPUIdleCoreHours: sc.cpuSlack, CPUShortHours: sc.cpuShort, MemoryIdleGiBHours: sc.memSlack,
				})
			}
		}
		results[i].Decisions = int(sch.n)
		results[i].Window = Window{Start: first, End: last, Warmup: o.Warmup.String(), Interval: o.Interval.String()}
	}
	if o.Headroom {
		// In the order of the containers, as hindsightCells gathers them.
		var all cellGatherer
		n := 0
		for j := range gathered {
			n += len(gathered[j].cells)
		}
		all.cells = make([]cell, 0, n)
		for j := range gathered {
			all.merge(&gathered[j])
			gathered[j].cells = nil
		}
		if err := addHeadroom(ctx, results, all.cells, all.lambdaMax()); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// addHeadroom sets each result's hindsight bound, once per distinct risk.
func addHeadroom(ctx context.Context, results []Result, cells []cell, lambdaMax float64) error {
	if len(cells) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The distinct risks, and each result's among them (-1: nothing
	// covered, nothing to compare).
	var risks []float64
	at := make([]int, len(results))
	for i, r := range results {
		at[i] = -1
		if r.CPU.RequestCoreHours == 0 {
			continue
		}
		if at[i] = slices.Index(risks, r.CPU.Insufficient); at[i] < 0 {
			at[i], risks = len(risks), append(risks, r.CPU.Insufficient)
		}
	}
	bounds := slacks(newFleet(cells, lambdaMax), risks)
	for i := range results {
		if at[i] >= 0 {
			v := bounds[at[i]]
			results[i].CPU.HindsightSlack = &v
		}
	}
	return nil
}

func parallel(ctx context.Context, n, workers int, f func(int)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				f(j)
			}
		}()
	}
	var err error
	for j := range n {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	return err
}

// container is one workload container under replay.
type container struct {
	key    workload.ContainerKey
	series []*history.Series
	steps  []int64 // per series: the cap on a sample's weight (2 × median step)
	nPod   int     // containers in the pod template
	// follower carries the profiles' summaries from one decision to the
	// next, made at the first one.
	follower *history.Follower
	// The oracle's scratch space: the series' spans of the interval, the
	// highest values.
	cols []span
	top  []float64
}

// policyRun is one policy's replay of a container.
type policyRun struct {
	d         decider
	sc        score
	ooms      []history.OOMEvent
	inEpisode []bool   // per series: in an OOM episode
	ext       Replayer // an external policy's state, made at its first decision
	inc       *history.Incremental
}

func newContainer(k workload.ContainerKey, series []*history.Series, nPod int) *container {
	c := &container{key: k, series: series, nPod: nPod}
	for _, s := range series {
		c.steps = append(c.steps, workload.MulSat(s.MedianStepMillis(), 2))
	}
	return c
}

// weight is the hours sample i of series si counts for: the time since the
// series' previous sample, capped at twice its median step; the first
// sample weighs nothing.
func (c *container) weight(si, i int) float64 {
	if i == 0 {
		return 0
	}
	t := c.series[si].Time
	gap := t[i] - t[i-1]
	if gap < 0 { // times hundreds of millions of years apart
		gap = math.MaxInt64
	}
	return float64(min(gap, c.steps[si])) / float64(time.Hour.Milliseconds())
}

// schedule is the replay's decision times in Unix milliseconds: t_k =
// start + k·interval for 0 ≤ k < n, each before the last sample. It is
// arithmetic rather than a list, and intervals visits only those holding
// samples: one far-off timestamp can put the first and last sample
// centuries apart, and the replay's work must follow the samples, not the
// span.
type schedule struct {
	start, interval, last int64
	n                     int64
}

func newSchedule(first, last time.Time, o Options) (schedule, error) {
	if o.Warmup < 0 || o.Interval <= 0 {
		return schedule{}, fmt.Errorf("warmup must be ≥ 0 and interval > 0 (got %s, %s)", o.Warmup, o.Interval)
	}
	// Samples are kept to the millisecond, and so are decision times.
	if o.Warmup%time.Millisecond != 0 || o.Interval%time.Millisecond != 0 {
		return schedule{}, fmt.Errorf("warmup and interval must be whole milliseconds (got %s, %s)", o.Warmup, o.Interval)
	}
	s := schedule{
		start:    workload.AddSat(first.UnixMilli(), o.Warmup.Milliseconds()),
		interval: o.Interval.Milliseconds(),
		last:     last.UnixMilli(),
	}
	if s.start < s.last {
		// In uint64: the span of two int64 times may not fit an int64.
		span, iv := uint64(s.last)-uint64(s.start), uint64(s.interval)
		n := span / iv
		if span%iv != 0 {
			n++
		}
		s.n = int64(min(n, math.MaxInt64))
	}
	return s, nil
}

// at returns t_k for 0 ≤ k < n. It lies before last, so the sum does not
// overflow even where k·interval alone would (two's complement wraps back).
func (s schedule) at(k int64) int64 { return s.start + k*s.interval }

// end returns the end of interval k: the next decision, or just after the
// last sample for the last one.
func (s schedule) end(k int64) int64 {
	if k+1 < s.n {
		return s.at(k + 1)
	}
	return workload.AddSat(s.last, 1)
}

// index returns the interval holding t ≥ start.
func (s schedule) index(t int64) int64 {
	k := (uint64(t) - uint64(s.start)) / uint64(s.interval)
	return int64(min(k, uint64(s.n-1)))
}

// intervals calls f, in order, for every interval holding a sample of the
// series, with its index and each series' samples in it, [lo[i], hi[i]).
// Intervals without samples are skipped: no sample is scored in them and no
// OOM arises, so their decisions cannot change a figure. The work is
// bounded by the samples after the warm-up, whatever the span.
func (s schedule) intervals(series []*history.Series, f func(k int64, lo, hi []int)) {
	if s.n == 0 {
		return
	}
	lo, hi := make([]int, len(series)), make([]int, len(series))
	for i, ser := range series {
		lo[i] = ser.Search(s.start)
	}
	for {
		next, found := int64(0), false
		for i, ser := range series {
			if lo[i] < ser.Len() && (!found || ser.Time[lo[i]] < next) {
				next, found = ser.Time[lo[i]], true
			}
		}
		if !found {
			return
		}
		k := s.index(next)
		for i, ser := range series {
			if k == s.n-1 {
				hi[i] = ser.Len() // every sample is at or before last
			} else {
				hi[i] = ser.Search(s.end(k))
			}
		}
		f(k, lo, hi)
		copy(lo, hi)
	}
}

// score accumulates the figures' numerators and denominators.
type score struct {
	cpuReq, cpuUse, cpuSlack, cpuDt, cpuShort, cpuThr float64
	memReq, memUse, memSlack, memDt, memShort         float64
	memLim, memLimSlack                               float64
	oomEvents, containersWithOOM, coveredContainers   int
}

func (s *score) add(o score) {
	s.cpuReq += o.cpuReq
	s.cpuUse += o.cpuUse
	s.cpuSlack += o.cpuSlack
	s.cpuDt += o.cpuDt
	s.cpuShort += o.cpuShort
	s.cpuThr += o.cpuThr
	s.memReq += o.memReq
	s.memUse += o.memUse
	s.memSlack += o.memSlack
	s.memDt += o.memDt
	s.memShort += o.memShort
	s.memLim += o.memLim
	s.memLimSlack += o.memLimSlack
	s.oomEvents += o.oomEvents
	s.containersWithOOM += o.containersWithOOM
	s.coveredContainers += o.coveredContainers
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (s score) result(name string, containers int) Result {
	return Result{
		Profile: name, Containers: containers, Covered: s.coveredContainers,
		CPU: CPU{
			RequestCoreHours: s.cpuReq, UsageCoreHours: s.cpuUse,
			Slack: ratio(s.cpuSlack, s.cpuReq), Insufficient: ratio(s.cpuShort, s.cpuDt), Throttled: ratio(s.cpuThr, s.cpuDt),
		},
		Memory: Memory{
			RequestGiBHours: s.memReq, UsageGiBHours: s.memUse,
			Slack: ratio(s.memSlack, s.memReq), Insufficient: ratio(s.memShort, s.memDt),
			OOMEvents: s.oomEvents, ContainersWithOOM: s.containersWithOOM,
			LimitGiBHours: s.memLim, LimitSlack: ratio(s.memLimSlack, s.memLim),
		},
	}
}

// replay runs every policy's decisions, one interval after the other, and
// scores every sample from the first decision on; scores come in the order
// of the deciders.
func (c *container) replay(deciders []decider, sch schedule) []score {
	runs := make([]policyRun, len(deciders))
	for i, d := range deciders {
		runs[i] = policyRun{d: d, inEpisode: make([]bool, len(c.series))}
	}
	sch.intervals(c.series, func(k int64, lo, hi []int) {
		// The last interval includes the last sample.
		tk, next := time.UnixMilli(sch.at(k)).UTC(), time.UnixMilli(sch.end(k)).UTC()
		for i := range runs {
			c.interval(&runs[i], tk, next, lo, hi)
		}
	})
	out := make([]score, len(runs))
	for i, r := range runs {
		if len(r.ooms) > 0 {
			r.sc.containersWithOOM = 1
		}
		out[i] = r.sc
	}
	return out
}

// interval asks the policy for [tk, next) and scores its samples there,
// [lo[i], hi[i]) of series i.
func (c *container) interval(r *policyRun, tk, next time.Time, lo, hi []int) {
	rec := r.d.decide(c, r, tk, next)
	sc := &r.sc
	// The sums in locals, each added to in the same order as in place: in
	// the score they went through memory at every sample.
	cpuReq, cpuUse, cpuSlack, cpuDt, cpuShort, cpuThr := sc.cpuReq, sc.cpuUse, sc.cpuSlack, sc.cpuDt, sc.cpuShort, sc.cpuThr
	memReq, memUse, memSlack, memDt, memShort := sc.memReq, sc.memUse, sc.memSlack, sc.memDt, sc.memShort
	memLim, memLimSlack := sc.memLim, sc.memLimSlack
	covered := false
	const gib = float64(workload.GiB)
	var newOOMs []history.OOMEvent
	for si, s := range c.series {
		// The recorded settings change rarely: looked up where they do.
		var recorded workload.Settings
		until := lo[si]
		for i := lo[si]; i < hi[si]; i++ {
			if i >= until {
				recorded, until = s.SettingsFrom(i)
			}
			// A series' first sample weighs nothing (dt = 0) but is
			// still judged: an OOM episode may start there.
			dt := c.weight(si, i)
			set := recorded
			if rec.HasCPU {
				set.Requests.CPU, set.Limits.CPU = rec.Target.Requests.CPU, rec.Target.Limits.CPU
			}
			if rec.HasMemory {
				set.Requests.Memory, set.Limits.Memory = rec.Target.Requests.Memory, rec.Target.Limits.Memory
			}
			if u := s.CPU[i]; u == u && (rec.HasCPU || set.Requests.CPU.IsSet() || set.Limits.CPU.IsSet()) {
				covered = true // per container, summed over the fleet
				use := float64(u)
				req := float64(set.Requests.CPU.Cores())
				cpuReq += req * dt
				cpuUse += use * dt
				cpuSlack += positive(req-use) * dt
				cpuDt += dt
				if use > req {
					cpuShort += dt
				}
				if lim := float64(set.Limits.CPU.Cores()); lim > 0 && use > lim {
					cpuThr += dt
				}
			}
			if u := s.Memory[i]; u == u && (rec.HasMemory || set.Requests.Memory.IsSet() || set.Limits.Memory.IsSet()) {
				covered = true
				use := float64(u)
				req := float64(set.Requests.Memory)
				memReq += req / gib * dt
				memUse += use / gib * dt
				memSlack += positive(req-use) / gib * dt
				memDt += dt
				if use > req {
					memShort += dt
				}
				lim := float64(set.Limits.Memory)
				if lim > 0 {
					memLim += lim / gib * dt
					memLimSlack += positive(lim-use) / gib * dt
				}
				if lim > 0 && use > lim {
					if !r.inEpisode[si] {
						// One episode per run: the container restarts once.
						sc.oomEvents++
						newOOMs = append(newOOMs, history.OOMEvent{
							Time: time.UnixMilli(s.Time[i]).UTC(), Pod: s.Pod,
							Limit: set.Limits.Memory, Usage: workload.BytesOf(use),
						})
					}
					r.inEpisode[si] = true
				} else {
					r.inEpisode[si] = false
				}
			}
		}
	}
	if covered {
		sc.coveredContainers = 1
	}
	sc.cpuReq, sc.cpuUse, sc.cpuSlack, sc.cpuDt, sc.cpuShort, sc.cpuThr = cpuReq, cpuUse, cpuSlack, cpuDt, cpuShort, cpuThr
	sc.memReq, sc.memUse, sc.memSlack, sc.memDt, sc.memShort = memReq, memUse, memSlack, memDt, memShort
	sc.memLim, sc.memLimSlack = memLim, memLimSlack
	// Episodes reach the recommender before its next decision.
	r.ooms = append(r.ooms, newOOMs...)
}

// positive is max(x, 0) for x not NaN and not −0 (a difference of a
// request or limit, never −0, and a usage), without the NaN and signed
// zero handling that puts max's two dependent MINSDs on every sample.
func positive(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x
}

// currentDecider keeps the recorded settings.
type currentDecider struct{}

func (currentDecider) decide(*container, *policyRun, time.Time, time.Time) workload.Recommendation {
	return workload.Recommendation{}
}

// profileDecider asks a policy profile, as a controller would.
type profileDecider struct {
	p policy.Profile
	// prices are the fleet's price of time short at each decision time
	// (Unix ms), for a profile that sets one (priceFleet).
	prices map[int64]float64
}

// priceFleet sets, for every profile that prices time short for the whole
// fleet (policy.FleetPrice), its price at each decision: a first pass over
// the containers' summaries at every decision, as a controller deciding all
// of them at once reads them. The CPU history a probe reads does not depend
// on earlier decisions (OOM kills change memory peaks only), so a pass of
// its own sees what the replay will.
func priceFleet(ctx context.Context, st *history.Store, keys []workload.ContainerKey, deciders []decider, sch schedule, workers int) error {
	var which []int
	for i, d := range deciders {
		if pd, ok := d.(profileDecider); ok && pd.p.CPUFleetPrice != nil {
			which = append(which, i)
		}
	}
	if len(which) == 0 {
		return nil
	}
	type probeAt struct {
		k  int64
		pr policy.PriceProbe
	}
	probes := make([][][]probeAt, len(which)) // [fleet profile][container]
	for w := range which {
		probes[w] = make([][]probeAt, len(keys))
	}
	if err := parallel(ctx, len(keys), workers, func(j int) {
		series := st.Series(keys[j])
		f := history.NewFollower(keys[j], series)
		for w, i := range which {
			p := deciders[i].(profileDecider).p
			inc, err := f.Incremental(p.History)
			if err != nil {
				// Options were validated up front; nothing else fails.
				panic(fmt.Sprintf("backtest: summarizing %s: %v", keys[j], err))
			}
			sch.intervals(series, func(k int64, _, _ []int) {
				s := inc.SummarizeCPU(time.UnixMilli(sch.at(k)).UTC())
				if pr, ok := policy.Probe(p, s); ok {
					probes[w][j] = append(probes[w][j], probeAt{k, pr})
				}
			})
		}
	}); err != nil {
		return err
	}
	for w, i := range which {
		pd := deciders[i].(profileDecider)
		// Summed in the containers' order: the same sums every run.
		risks := map[int64]*policy.FleetRisk{}
		for _, ps := range probes[w] {
			for _, x := range ps {
				f := risks[x.k]
				if f == nil {
					f = &policy.FleetRisk{}
					risks[x.k] = f
				}
				f.Add(x.pr)
			}
		}
		pd.prices = make(map[int64]float64, len(risks))
		for k, f := range risks {
			if price, ok := f.Price(*pd.p.CPUFleetPrice); ok {
				pd.prices[sch.at(k)] = price
			}
		}
		deciders[i] = pd
	}
	return nil
}

// The summary is carried from one decision to the next (the replay asks at
// increasing times, its OOM kills only added to) and shared between the
// profiles: re-reading the whole history at every decision, for every
// profile, was most of the replay's time.
func (d profileDecider) decide(c *container, r *policyRun, tk, _ time.Time) workload.Recommendation {
	if r.inc == nil {
		if c.follower == nil {
			c.follower = history.NewFollower(c.key, c.series)
		}
		inc, err := c.follower.Incremental(d.p.History)
		if err != nil {
			// Options were validated up front; nothing else fails.
			panic(fmt.Sprintf("backtest: summarizing %s: %v", c.key, err))
		}
		r.inc = inc
	}
	s := r.inc.Summarize(r.ooms, tk)
	if s.CPUSamples == 0 && s.MemorySamples == 0 {
		return workload.Recommendation{}
	}
	in := policy.Input{Current: s.Current, ContainersInPod: c.nPod}
	in.CPUPrice, in.CPUPriced = d.prices[tk.UnixMilli()]
	return policy.Apply(d.p, s, in)
}

// externalDecider asks an External policy.
type externalDecider struct {
	new func(workload.ContainerKey) Replayer
}

func (d externalDecider) decide(c *container, r *policyRun, tk, next time.Time) workload.Recommendation {
	if r.ext == nil {
		r.ext = d.new(c.key)
	}
	return r.ext.Decide(View{Series: c.series, OOMs: r.ooms, ContainersInPod: c.nPod}, tk, next)
}

// oracleDecider reads the next interval: request = p98, no CPU limit,
// memory limit = its maximum.
type oracleDecider struct{}

func (oracleDecider) decide(c *container, _ *policyRun, tk, next time.Time) workload.Recommendation {
	a, b := tk.UnixMilli(), next.UnixMilli()
	c.cols = c.cols[:0]
	for _, s := range c.series {
		c.cols = append(c.cols, span{s.Search(a), s.Search(b)})
	}
	var r workload.Recommendation
	if q, _, ok := c.highQuantile(cpuOf, oracleQ); ok {
		r.HasCPU = true
		r.Target.Requests.CPU = workload.MillicoresOf(workload.Cores(q))
	}
	if q, highest, ok := c.highQuantile(memoryOf, oracleQ); ok {
		r.HasMemory = true
		r.Target.Requests.Memory = workload.BytesOf(q)
		// The highest, held at 0 or above as a history.Window's is.
		r.Target.Limits.Memory = workload.BytesOf(max(0, highest))
	}
	return r
}

// oracleQ is the oracle's quantile of the next interval's usage.
const oracleQ = 0.98

// span is a series' samples [lo, hi).
type span struct{ lo, hi int }

func cpuOf(s *history.Series) []float64    { return s.CPU }
func memoryOf(s *history.Series) []float64 { return s.Memory }

// highQuantile returns history.SortedQuantile of the values that are not
// NaN of column col in the spans c.cols of the container's series, sorted,
// at q near 1, and the highest of them; false where there are none. The
// quantile needs only the values at two ranks near the top, and the
// highest the top one: a pass keeping the few highest in order finds them
// without sorting the interval's samples (which took a fifth of the
// replay), falling back to a sort where the ranks are far from the top.
func (c *container) highQuantile(col func(*history.Series) []float64, q float64) (value, highest float64, ok bool) {
	n := 0
	for i, s := range c.series {
		for _, v := range col(s)[c.cols[i].lo:c.cols[i].hi] {
			if v == v {
				n++
			}
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	// SortedQuantile's ranks: lo and lo+1 of n.
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	keep := n - lo // the values from rank lo up
	if keep > 64 {
		vs := c.top[:0]
		for i, s := range c.series {
			vs = appendValues(vs, col(s)[c.cols[i].lo:c.cols[i].hi])
		}
		slices.Sort(vs)
		c.top = vs
		return history.SortedQuantile(vs, q), vs[len(vs)-1], true
	}
	// The keep highest, ascending: a value enters when above the lowest
	// kept, which leaves. Values equal as floats are equal in every figure
	// drawn from them (±0 included: both become 0 requested), so which of
	// equal values are kept does not matter.
	top := c.top[:0]
	for i, s := range c.series {
		for _, v := range col(s)[c.cols[i].lo:c.cols[i].hi] {
			if v != v {
				continue
			}
			switch {
			case len(top) < keep: // in at the top, moved down to its place
				j := len(top)
				top = append(top, v)
				for ; j > 0 && top[j-1] > v; j-- {
					top[j] = top[j-1]
				}
				top[j] = v
			case v > top[0]: // in for the lowest, moved up to its place
				j := 0
				for ; j+1 < len(top) && top[j+1] < v; j++ {
					top[j] = top[j+1]
				}
				top[j] = v
			}
		}
	}
	c.top = top
	return sortedQuantileTop(top, n, q), top[len(top)-1], true
}

// sortedQuantileTop is history.SortedQuantile(values, q) for n sorted
// values whose highest, from rank ⌊q·(n−1)⌋ up, are top: the same
// arithmetic on the same two values.
func sortedQuantileTop(top []float64, n int, q float64) float64 {
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return top[len(top)-1]
	}
	frac := pos - float64(lo)
	a, b := top[0], top[1]
	if frac == 0 || a == b {
		return a
	}
	return a + frac*(b-a)
}

// appendValues appends the values that are not NaN.
func appendValues(dst, vs []float64) []float64 {
	for _, v := range vs {
		if v == v {
			dst = append(dst, v)
		}
	}
	return dst
}

// Half splits containers into two halves by a hash of their key: 0 is the
// half constants are tuned on, 1 the half held out to check them, so a
// choice is never judged on the data it was made on (docs/policy.md).
func Half(k workload.ContainerKey) int {
	h := fnv.New32a()
	io.WriteString(h, k.String())
	return int(h.Sum32() % 2)
}
