package cost

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// Meter accounts the samples a report reads as they pass, in time order
// per pod container, and keeps only sums: per container, its usage in
// each period, its usage per day of the report period and what the risk
// checks count. Build reads it instead of the samples, so a report needs
// the history as sketches (the plans) and a Meter (the costs), never the
// samples; a report from samples feeds its store through a Meter too, so
// both count alike.
//
// A sample weighs the time since its pod's previous sample, capped at
// twice the median of the pod's previous five steps, so that a pod that
// stopped being scraped for a while does not count the gap; a pod's first
// sample weighs nothing. A Meter is not safe for concurrent use.
type Meter struct {
	period, previous Window
	days             int
	fallback         func(workload.ContainerKey) (workload.Settings, bool)

	tallies map[workload.ContainerKey]*tally
	pods    map[podKey]*podMeter
	// first and last are the span of every sample seen, Unix ms.
	first, last int64
	// inPeriod and inPrevious are the pods with a sample in each period.
	inPeriod, inPrevious map[podName]struct{}
}

// podName names a pod: a pod of several containers counts once.
type podName struct{ cluster, namespace, pod string }

// tally is one workload container's sums.
type tally struct {
	period, previous pricing.Usage
	// days are the period's days' usage: priced as they are, and the
	// recorded requests behind the "recommended" series.
	days []pricing.Usage
	risk containerRisk
}

// podKey names one pod container: a workload container and its pod.
type podKey struct {
	c   workload.ContainerKey
	pod string
}

// podMeter is what a pod container's next sample is weighed by, and its
// container's sums.
type podMeter struct {
	tl     *tally
	last   int64 // Unix ms of the newest sample; math.MinInt64 before one
	steps  [medianSteps]int64
	nsteps int
	// inPeriod and inPrevious: the pod had a sample in the period, in the
	// previous one.
	inPeriod, inPrevious bool
}

// medianSteps is how many recent steps of a pod a sample's weight is
// capped by (twice their median), as the sketches' observed time is.
const medianSteps = 5

// NewMeter returns a Meter for the report period of length period ending
// at end and the previous period before it. fallback, when set, gives the
// settings of a container from its pod template, for samples that
// recorded none.
func NewMeter(end time.Time, period time.Duration, fallback func(workload.ContainerKey) (workload.Settings, bool)) *Meter {
	end = end.UTC()
	return &Meter{
		period:   Window{end.Add(-period), end},
		previous: Window{end.Add(-2 * period), end.Add(-period)},
		days:     max(int(math.Ceil(period.Hours()/24)), 0),
		fallback: fallback,
		tallies:  map[workload.ContainerKey]*tally{},
		pods:     map[podKey]*podMeter{},
		first:    math.MaxInt64, last: math.MinInt64,
		inPeriod: map[podName]struct{}{}, inPrevious: map[podName]struct{}{},
	}
}

// SpecFallback is a Meter's fallback from the workloads' pod templates.
func SpecFallback(specs map[workload.Key]workload.Spec) func(workload.ContainerKey) (workload.Settings, bool) {
	if len(specs) == 0 {
		return nil
	}
	return func(k workload.ContainerKey) (workload.Settings, bool) {
		s, ok := specs[k.Workload]
		if !ok {
			return workload.Settings{}, false
		}
		return specSettings(&s, k.Container)
	}
}

// Add accounts one sample of container k. A sample not after its pod's
// newest is left out: each is counted once.
func (m *Meter) Add(k workload.ContainerKey, smp workload.Sample) {
	m.add(m.pod(k, smp.Pod), k, &smp)
}

// pod returns pod container (k, pod)'s meter, made when new.
func (m *Meter) pod(k workload.ContainerKey, pod string) *podMeter {
	pk := podKey{k, pod}
	p := m.pods[pk]
	if p == nil {
		tl := m.tallies[k]
		if tl == nil {
			tl = &tally{days: make([]pricing.Usage, m.days)}
			m.tallies[k] = tl
		}
		p = &podMeter{tl: tl, last: math.MinInt64}
		m.pods[pk] = p
	}
	return p
}

func (m *Meter) add(p *podMeter, k workload.ContainerKey, smp *workload.Sample) {
	t := smp.Time.UnixMilli()
	if t <= p.last {
		return
	}
	var dt time.Duration
	if p.last != math.MinInt64 {
		dt = p.weigh(t - p.last)
	}
	p.last = t
	m.first, m.last = min(m.first, t), max(m.last, t)
	tl := p.tl

	set := smp.Settings
	if set.IsZero() && m.fallback != nil {
		if f, ok := m.fallback(k); ok {
			set = f
		}
	}
	cpu, mem := math.NaN(), math.NaN()
	if smp.HasCPU {
		cpu = float64(smp.CPU)
	}
	if smp.HasMemory {
		mem = float64(smp.Memory)
	}
	switch {
	case in(m.period, smp.Time):
		if !p.inPeriod {
			p.inPeriod = true
			m.inPeriod[podName{k.Workload.Cluster, k.Workload.Namespace, smp.Pod}] = struct{}{}
		}
		tl.period.Add(dt, set.Requests, cpu, mem)
		if d := int(smp.Time.Sub(m.period.Start) / (24 * time.Hour)); d >= 0 && d < len(tl.days) {
			tl.days[d].Add(dt, set.Requests, cpu, mem)
		}
		tl.risk.observe(smp, dt, &set)
	case in(m.previous, smp.Time):
		if !p.inPrevious {
			p.inPrevious = true
			m.inPrevious[podName{k.Workload.Cluster, k.Workload.Namespace, smp.Pod}] = struct{}{}
		}
		tl.previous.Add(dt, set.Requests, cpu, mem)
	}
}

func in(w Window, t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// weigh returns the weight of a sample step ms after the pod's previous
// one and remembers the step.
func (p *podMeter) weigh(step int64) time.Duration {
	w := step
	if p.nsteps > 0 {
		n := min(p.nsteps, medianSteps)
		var recent [medianSteps]int64
		copy(recent[:], p.steps[:n])
		slices.Sort(recent[:n])
		w = min(step, 2*recent[n/2])
	}
	p.steps[p.nsteps%medianSteps] = step
	p.nsteps++
	// A crafted file's first step may span centuries: no overflow.
	return time.Duration(min(w, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
}

// Span returns the times of the first and last sample; zero times when
// none came.
func (m *Meter) Span() (first, last time.Time) {
	if m.first > m.last {
		return time.Time{}, time.Time{}
	}
	return time.UnixMilli(m.first).UTC(), time.UnixMilli(m.last).UTC()
}

// containers returns the workload containers seen, sorted.
func (m *Meter) containers() []workload.ContainerKey {
	keys := make([]workload.ContainerKey, 0, len(m.tallies))
	for k := range m.tallies {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b workload.ContainerKey) int {
		return cmp.Or(cmpKey(a.Workload, b.Workload), strings.Compare(a.Container, b.Container))
	})
	return keys
}

// Containers is how many workload containers the meter has seen.
func (m *Meter) Containers() int { return len(m.tallies) }

// MeterStore feeds every sample of a finalized store to a new Meter, pod
// container by pod container.
func MeterStore(st *history.Store, end time.Time, period time.Duration, fallback func(workload.ContainerKey) (workload.Settings, bool)) *Meter {
	m := NewMeter(end, period, fallback)
	for _, k := range st.Containers() {
		for _, s := range st.Series(k) {
			p := m.pod(k, s.Pod)
			for i := range s.Len() {
				smp := s.At(i)
				m.add(p, k, &smp)
			}
		}
	}
	return m
}
