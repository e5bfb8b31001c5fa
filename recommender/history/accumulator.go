package history

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

// Accumulator keeps one workload container's history in a state of bounded
// size as its samples stream in: the decaying CPU histogram, each pod's
// memory peak per interval, and per-slot counts, sums and highs of the
// lookback window — never the samples themselves. Summary gives what
// Summarize gives from the samples, with these differences (docs/design.md,
// "State in sketches, not samples"):
//
//   - the exact windows are kept per slot of Window/WindowSlots: a slot with
//     samples inside the window counts whole, so a window may reach back up
//     to one slot further;
//   - a window quantile (krr's p95) is read from the CPU histogram, which
//     decays, instead of the samples;
//   - the time observed counts each step at most twice the median of the
//     pod's last five steps, where Summarize takes the median of the last
//     steps before the decision;
//   - a pod is remembered for the memory lookback after its last sample,
//     the MaxPods most recent at most: one that comes back later counts as
//     a new pod with intervals aligned anew;
//   - at most MaxPeaks closed memory peaks and MaxOOMs kills are kept, the
//     newest.
//
// Samples must come in time order per pod; an older one than the pod's
// newest is dropped and counted (Dropped). An Accumulator is not safe for
// concurrent use.
type Accumulator struct {
	o Options
	// slotMs is a window slot's width; math.MaxInt64 without a window.
	slotMs, intervalMs int64

	cpu  *sketch.Histogram
	pods map[string]*podState
	// lastPod is the pod of the last sample added.
	lastPod *podState
	peaks   []Peak // closed intervals, any order
	slots   [WindowSlots + 1]slot
	// hot is the slot of the last sample, hotIdx its index then, hotFrom
	// its start.
	hot             *slot
	hotIdx, hotFrom int64
	ooms            []OOMEvent
	// cpuHighs and memHighs give the windows' exact highs (see highs).
	cpuHighs, memHighs highs

	first, last                       int64 // Unix ms; first > last: no sample
	cpuFirst, cpuLast                 int64
	memFirst, memLast                 int64
	cpuSamples, memSamples, throttled int
	observed                          int64 // ms, saturating
	memMax                            float64
	current                           workload.Settings
	currentAt                         int64
	nextExpire                        int64
	dropped                           int
}

// WindowSlots is how many slots a window is kept in; one more holds the
// slot being filled.
const WindowSlots = 14

// MaxPeaks, MaxOOMs and MaxPods bound the closed memory peaks, the OOM
// kills and the pods an Accumulator keeps: a workload whose pods come and go every minute would
// otherwise keep one peak per pod for MemoryIntervals intervals.
const (
	MaxPeaks = 64
	MaxOOMs  = 16
	// MaxPods bounds the pods remembered; the most idle go first.
	MaxPods = 64
)

// closeAfterMs is how long a pod goes unsampled before it is closed: the
// hour PodsNow looks back.
const closeAfterMs = int64(time.Hour / time.Millisecond)

// stepRing is how many recent steps of a pod the observed time's cap is
// the median of.
const stepRing = 5

type slot struct {
	idx       int64 // the slot's number: its start is idx·slotMs
	cpu, mem  part
	thrN      uint32
	thrSum    float64
	podsEnded uint32
}

// part is one resource's samples in a slot.
type part struct {
	n           uint32
	sum         float64
	max         float64
	first, last int64 // Unix ms
}

type podState struct {
	name        string
	first, last int64
	steps       [stepRing]int64
	nsteps      int
	stepCap     int64
	// origin aligns the pod's intervals (its first memory sample or kill);
	// cur is the open interval, peak its peak.
	origin     int64
	hasOrigin  bool
	open       bool
	cur        int64
	peak       Peak
	opened     bool  // the interval saw a sample (HoldZeroPeaks)
	hold       bool  // the interval is held at 0 (HoldZeroPeaks)
	holdFirstT int64 // the time of the sample that held it
}

// NewAccumulator returns an empty accumulator for options o. A CPULookback
// is refused: a decaying histogram cannot forget what it was given.
func NewAccumulator(o Options) (*Accumulator, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.CPULookback > 0 {
		return nil, errors.New("an accumulator cannot keep a CPU lookback; use Summarize on samples")
	}
	cpu, err := sketch.New(o.CPU)
	if err != nil {
		return nil, err
	}
	a := &Accumulator{o: o, cpu: cpu, pods: map[string]*podState{}, intervalMs: max(o.MemoryInterval.Milliseconds(), 1)}
	a.slotMs = math.MaxInt64
	if o.Window > 0 {
		a.slotMs = max(o.Window.Milliseconds()/WindowSlots, 1)
	}
	a.reset()
	return a, nil
}

func (a *Accumulator) reset() {
	a.first, a.last = math.MaxInt64, math.MinInt64
	a.cpuFirst, a.cpuLast = math.MaxInt64, math.MinInt64
	a.memFirst, a.memLast = math.MaxInt64, math.MinInt64
	a.currentAt = math.MinInt64
	for i := range a.slots {
		a.slots[i] = slot{idx: -1}
	}
	a.hot = nil
}

// Options returns the options the accumulator was made with.
func (a *Accumulator) Options() Options { return a.o }

// Dropped is the number of samples dropped for coming before their pod's
// newest one or outside the times a state can hold.
func (a *Accumulator) Dropped() int { return a.dropped }

// Empty reports whether no sample was ever added.
func (a *Accumulator) Empty() bool { return a.first > a.last }

// maxMs bounds the times kept: year 2262, the end of time.Time's
// UnixNano, as the state files do.
const maxMs = math.MaxInt64 / int64(time.Millisecond)

// Add records one sample of the pod smp.Pod: its CPU, memory, throttled
// share, settings and OOM kill (with the settings' memory limit as the
// limit in force).
func (a *Accumulator) Add(smp workload.Sample) {
	t := smp.Time.UnixMilli()
	if t < 0 || t > maxMs {
		a.dropped++
		return
	}
	// Samples come pod by pod, so the last pod saves most lookups.
	p := a.lastPod
	if p == nil || p.name != smp.Pod {
		p = a.pods[smp.Pod]
	}
	if p == nil {
		p = &podState{name: smp.Pod, first: t, last: t}
		a.pods[smp.Pod] = p
	} else if t < p.last {
		a.dropped++
		return
	}
	a.lastPod = p
	a.add(p, t, &smp)
	if smp.OOMKilled {
		ev := OOMEvent{Time: smp.Time.UTC(), Pod: smp.Pod, Limit: smp.Settings.Limits.Memory}
		if smp.HasMemory {
			ev.Usage = smp.Memory
		}
		a.AddOOM(ev)
	}
}

func (a *Accumulator) add(p *podState, t int64, smp *workload.Sample) {
	if t >= a.nextExpire {
		a.expire(t)
	}
	a.first, a.last = min(a.first, t), max(a.last, t)
	if d := t - p.last; d > 0 {
		a.observed = workload.AddSat(a.observed, min(d, p.step(d)))
		p.last = t
	}
	if t >= a.currentAt {
		a.current, a.currentAt = smp.Settings, t
	}
	s := a.slotFor(t)
	if cpu := float64(smp.CPU); smp.HasCPU && cpu >= 0 && cpu <= math.MaxFloat64 {
		a.cpu.Add(cpu, a.o.CPUSampleWeight, smp.Time)
		a.cpuSamples++
		a.cpuFirst, a.cpuLast = min(a.cpuFirst, t), max(a.cpuLast, t)
		if s != nil {
			s.cpu.add(cpu, t)
		}
		a.cpuHighs.add(t, cpu)
	}
	if mem := float64(smp.Memory); smp.HasMemory && mem >= 0 {
		a.memSamples++
		a.memFirst, a.memLast = min(a.memFirst, t), max(a.memLast, t)
		a.memMax = max(a.memMax, mem)
		if s != nil {
			s.mem.add(mem, t)
		}
		a.memHighs.add(t, mem)
		a.addPeak(p, t, smp.Memory)
	}
	if v := smp.Throttled; smp.HasThrottled && s != nil {
		a.throttled++
		s.thrN++
		s.thrSum += v
	}
}

func (pt *part) add(v float64, t int64) {
	if pt.n == 0 {
		pt.first, pt.last, pt.max = t, t, v
	}
	pt.n++
	pt.sum += v
	pt.max = max(pt.max, v)
	pt.first, pt.last = min(pt.first, t), max(pt.last, t)
}

// step records a step of d ms and returns the cap of an observed step:
// twice the median of the last stepRing steps. Regular steps leave the
// median as it is, so it is recomputed only when a step differs.
func (p *podState) step(d int64) int64 {
	i := p.nsteps % stepRing
	old := p.steps[i]
	p.steps[i] = d
	p.nsteps++
	if old == d && p.nsteps > stepRing {
		return p.stepCap
	}
	n := min(p.nsteps, stepRing)
	var s [stepRing]int64
	copy(s[:], p.steps[:n])
	slices.Sort(s[:n])
	p.stepCap = workload.MulSat(s[n/2], 2)
	return p.stepCap
}

// slotFor returns the window slot holding t, starting it if t is in a
// newer slot than the one in its place; nil for a slot already let go.
func (a *Accumulator) slotFor(t int64) *slot {
	// Most samples fall in the slot of the one before: skip the divisions.
	if h := a.hot; h != nil && t >= a.hotFrom && t-a.hotFrom < a.slotMs && h.idx == a.hotIdx {
		return h
	}
	s := a.findSlot(t)
	if s != nil {
		a.hot, a.hotIdx, a.hotFrom = s, s.idx, s.idx*a.slotMs
	}
	return s
}

func (a *Accumulator) findSlot(t int64) *slot {
	idx := t / a.slotMs
	s := &a.slots[idx%int64(len(a.slots))]
	switch {
	case s.idx == idx:
		return s
	case s.idx < idx:
		*s = slot{idx: idx}
		return s
	}
	return nil
}

// addPeak raises the pod's interval peak (podPeaks' rules, sample by
// sample).
func (a *Accumulator) addPeak(p *podState, t int64, b workload.Bytes) {
	if !p.hasOrigin {
		p.origin, p.hasOrigin = t, true
	}
	idx := floorDiv(t-p.origin, a.intervalMs)
	if !p.open || idx != p.cur {
		if p.open && idx < p.cur {
			return // before the open interval: let go, as the window does
		}
		a.openInterval(p, idx)
	}
	if a.o.HoldZeroPeaks && !p.opened {
		p.opened = true
		if b == 0 {
			p.hold, p.holdFirstT = true, t
		}
	}
	p.peak.Observed = max(p.peak.Observed, b)
	if !p.hold {
		p.peak.Bytes = max(p.peak.Bytes, b)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// openInterval closes the pod's open interval and opens interval idx: the
// same interval again where the pod was closed in it.
func (a *Accumulator) openInterval(p *podState, idx int64) {
	a.closeInterval(p)
	end := time.UnixMilli(workload.AddSat(p.origin, workload.MulSat(workload.AddSat(idx, 1), a.intervalMs))).UTC()
	if idx == p.cur {
		for i := len(a.peaks) - 1; i >= 0; i-- {
			if pk := a.peaks[i]; pk.Pod == p.name && pk.End.Equal(end) {
				a.peaks = slices.Delete(a.peaks, i, i+1)
				p.open, p.peak = true, pk
				return
			}
		}
	}
	p.open, p.cur, p.opened, p.hold = true, idx, false, false
	p.peak = Peak{Pod: p.name, End: end}
}

func (a *Accumulator) closeInterval(p *podState) {
	if !p.open {
		return
	}
	p.open = false
	a.peaks = append(a.peaks, p.peak)
	if len(a.peaks) > 2*MaxPeaks {
		a.trimPeaks()
	}
}

// trimPeaks keeps the MaxPeaks newest closed peaks.
func (a *Accumulator) trimPeaks() {
	if len(a.peaks) <= MaxPeaks {
		return
	}
	slices.SortFunc(a.peaks, func(x, y Peak) int { return x.End.Compare(y.End) })
	a.peaks = append(a.peaks[:0], a.peaks[len(a.peaks)-MaxPeaks:]...)
}

// AddOOM records an OOM kill of pod ev.Pod: a synthetic peak in its
// interval (R6) and an event the policy sees.
func (a *Accumulator) AddOOM(ev OOMEvent) {
	t := ev.Time.UnixMilli()
	if t < 0 || t > maxMs {
		a.dropped++
		return
	}
	// A kill spans the history as a sample carrying only it would, so a
	// container killed before it was ever sampled is not empty.
	a.first, a.last = min(a.first, t), max(a.last, t)
	// A kill told twice (a new leader reads the pods' statuses again) is
	// one kill.
	if slices.ContainsFunc(a.ooms, func(x OOMEvent) bool { return x.Pod == ev.Pod && x.Time.Equal(ev.Time) }) {
		return
	}
	a.ooms = append(a.ooms, ev)
	if len(a.ooms) > MaxOOMs {
		a.ooms = slices.Delete(a.ooms, 0, len(a.ooms)-MaxOOMs)
	}
	p := a.pods[ev.Pod]
	if p == nil {
		p = &podState{name: ev.Pod, first: t, last: t}
		a.pods[ev.Pod] = p
	}
	if !p.hasOrigin {
		p.origin, p.hasOrigin = t, true
	}
	idx := floorDiv(t-p.origin, a.intervalMs)
	bump := func(sofar workload.Bytes) workload.Bytes {
		return oomBump(max(ev.Limit, sofar, ev.Usage), a.o.OOMBumpRatio, a.o.OOMMinBump)
	}
	switch {
	case p.open && idx == p.cur:
		if p.hold {
			if t >= p.holdFirstT {
				p.peak.OOM = true // held at 0: the kill adds nothing
				return
			}
			p.hold = false
			p.peak.Bytes = max(p.peak.Bytes, p.peak.Observed)
		}
		p.peak.Bytes = max(p.peak.Bytes, bump(p.peak.Observed))
		p.peak.OOM = true
	case !p.open || idx > p.cur:
		a.openInterval(p, idx)
		p.opened = true // a kill opened it: its samples count as usual
		p.peak.Bytes, p.peak.OOM = bump(0), true
	default:
		// A late kill in a closed interval: raise that interval's peak.
		end := time.UnixMilli(workload.AddSat(p.origin, workload.MulSat(workload.AddSat(idx, 1), a.intervalMs))).UTC()
		for i := range a.peaks {
			if pk := &a.peaks[i]; pk.Pod == p.name && pk.End.Equal(end) {
				pk.Bytes, pk.OOM = max(pk.Bytes, bump(pk.Observed)), true
				return
			}
		}
		a.peaks = append(a.peaks, Peak{Pod: p.name, End: end, Bytes: bump(0), OOM: true})
	}
}

// expire closes the intervals of pods unsampled for an hour, forgets pods
// whose intervals no summary reads any more (and the most idle beyond
// MaxPods), drops peaks and kills no summary will read again, and bounds
// the peaks kept. A closed pod that comes back keeps its intervals'
// alignment, as its samples would.
func (a *Accumulator) expire(now int64) {
	a.nextExpire = workload.AddSat(now, closeAfterMs/4)
	forget := a.lookbackMs()
	for name, p := range a.pods {
		idle := now - p.last
		if idle > closeAfterMs {
			a.closeInterval(p)
		}
		if idle > forget {
			a.forgetPod(name, p)
		}
	}
	if len(a.pods) > MaxPods {
		idle := make([]*podState, 0, len(a.pods))
		for _, p := range a.pods {
			idle = append(idle, p)
		}
		slices.SortFunc(idle, func(x, y *podState) int { return cmp.Compare(x.last, y.last) })
		for _, p := range idle[:len(idle)-MaxPods] {
			a.closeInterval(p)
			a.forgetPod(p.name, p)
		}
	}
	if a.o.MemoryIntervals > 0 {
		cut := time.UnixMilli(now).Add(-workload.MulSat(a.o.MemoryInterval, int64(a.o.MemoryIntervals)))
		a.peaks = slices.DeleteFunc(a.peaks, func(p Peak) bool { return !p.End.After(cut) })
	}
	a.trimPeaks()
	if a.o.Window > 0 {
		cut := time.UnixMilli(now).Add(-a.o.Window - time.Duration(a.slotMs)*time.Millisecond)
		a.ooms = slices.DeleteFunc(a.ooms, func(ev OOMEvent) bool { return ev.Time.Before(cut) })
		a.cpuHighs.drop(cut.UnixMilli())
		a.memHighs.drop(cut.UnixMilli())
	}
}

// lookbackMs is how long an idle pod is remembered: as long as its
// intervals may be read (the memory lookback) and it counts as a pod of the
// window.
func (a *Accumulator) lookbackMs() int64 {
	var ms int64 = math.MaxInt64
	if a.o.MemoryIntervals > 0 {
		ms = workload.MulSat(a.intervalMs, int64(a.o.MemoryIntervals)+1)
		if a.o.Window > 0 {
			ms = max(ms, a.o.Window.Milliseconds())
		} else {
			ms = math.MaxInt64
		}
	}
	return ms
}

func (a *Accumulator) forgetPod(name string, p *podState) {
	if s := a.slotFor(p.last); s != nil {
		s.podsEnded++
	}
	delete(a.pods, name)
	if a.lastPod == p {
		a.lastPod = nil
	}
}

// Expire lets go of what no summary after now reads: pods unsampled for an
// hour, peaks older than the memory lookback, kills older than the window.
// Add does it as time goes by; a state about to be saved calls it.
func (a *Accumulator) Expire(now time.Time) { a.expire(now.UnixMilli()) }

// MemoryMax is the highest memory sample ever added (R16's observed need).
func (a *Accumulator) MemoryMax() workload.Bytes { return workload.BytesOf(a.memMax) }

// Samples is the number of CPU and of memory samples added.
func (a *Accumulator) Samples() (cpu, memory int) { return a.cpuSamples, a.memSamples }

// LastSample is the time of the newest sample, zero without one.
func (a *Accumulator) LastSample() time.Time {
	if a.Empty() {
		return time.Time{}
	}
	return time.UnixMilli(a.last).UTC()
}

// Summary returns the summary of everything added, as of until: the
// windows and the memory lookback end there, PodsNow counts the pods
// sampled in the hour before it.
func (a *Accumulator) Summary(key workload.ContainerKey, until time.Time) *Summary {
	s := &Summary{Key: key, Until: until, CPU: a.cpu.Clone(), Current: a.current}
	s.MemoryPeaks = sketch.MustNew(a.o.Memory)
	u := until.UnixMilli()
	for _, p := range a.pods {
		s.Pods++
		if p.last >= u-closeAfterMs {
			s.PodsNow++
		}
	}
	if a.Empty() {
		return s
	}
	s.First, s.Last = time.UnixMilli(a.first).UTC(), time.UnixMilli(a.last).UTC()
	s.CPUSamples, s.MemorySamples = a.cpuSamples, a.memSamples
	if a.cpuSamples > 0 {
		s.CPUFirst = time.UnixMilli(a.cpuFirst).UTC()
	}
	if a.memSamples > 0 {
		s.MemoryFirst = time.UnixMilli(a.memFirst).UTC()
	}
	a.summarizeWindows(s, u)
	a.summarizePeaks(s, until)
	for _, ev := range a.ooms {
		if ev.Time.Before(until) {
			s.OOMs = append(s.OOMs, ev)
		}
	}
	s.Observed = min(millisDuration(a.observed), s.Last.Sub(s.First))
	s.Confidence = confidence(s.Observed.Hours() / 24)
	return s
}

// summarizeWindows adds up the slots the window reaches: those with a
// sample at or after until − Window, up to until's slot. A slot that
// straddles the window's start counts whole.
func (a *Accumulator) summarizeWindows(s *Summary, u int64) {
	lo, from := int64(math.MinInt64), int64(math.MinInt64)
	if a.o.Window > 0 {
		from = u - a.o.Window.Milliseconds()
		lo = floorDiv(from, a.slotMs)
	}
	hi := floorDiv(u, a.slotMs)
	var thrSum float64
	var podsEnded int
	cw, mw := &s.CPUWindow, &s.MemoryWindow
	for i := range a.slots {
		sl := &a.slots[i]
		if sl.idx < 0 || sl.idx < lo || sl.idx > hi {
			continue
		}
		if sl.cpu.n > 0 && sl.cpu.last >= from {
			cw.addPart(sl.cpu)
		}
		if sl.mem.n > 0 && sl.mem.last >= from {
			mw.addPart(sl.mem)
		}
		s.ThrottledSamples += int(sl.thrN)
		thrSum += sl.thrSum
		podsEnded += int(sl.podsEnded)
	}
	cw.closeParts(a.cpuLast, a.cpuHighs.since(from))
	mw.closeParts(a.memLast, a.memHighs.since(from))
	// Quantiles of a window come from the histogram (see Accumulator).
	cw.hist = s.CPU
	s.Throttled = throttledShare(thrSum, s.ThrottledSamples)
	s.Pods += podsEnded
}

func (w *Window) addPart(p part) {
	if p.n == 0 {
		return
	}
	if w.Count == 0 {
		w.firstMs, w.Max = p.first, p.max
	}
	w.Count += int(p.n)
	w.sum += p.sum
	w.Max = max(w.Max, p.max)
	w.firstMs = min(w.firstMs, p.first)
}

func (w *Window) closeParts(last int64, high float64) {
	if w.Count == 0 {
		return
	}
	w.lastMs = last
	w.Max = high
	w.finish()
}

// summarizePeaks lists the peaks inside the memory lookback, the open
// intervals' included, and feeds them to the peaks histogram.
func (a *Accumulator) summarizePeaks(s *Summary, until time.Time) {
	cutoff := time.Time{}
	if a.o.MemoryIntervals > 0 {
		cutoff = until.Add(-workload.MulSat(a.o.MemoryInterval, int64(a.o.MemoryIntervals)))
	}
	for _, p := range a.peaks {
		if p.End.After(cutoff) {
			s.Peaks = append(s.Peaks, p)
		}
	}
	for _, p := range a.pods {
		if p.open && p.peak.End.After(cutoff) {
			s.Peaks = append(s.Peaks, p.peak)
		}
	}
	slices.SortFunc(s.Peaks, func(x, y Peak) int {
		if c := x.End.Compare(y.End); c != 0 {
			return c
		}
		return cmp.Compare(x.Bytes, y.Bytes)
	})
	for _, p := range s.Peaks {
		s.MemoryPeaks.Add(float64(p.Bytes), 1, p.End)
	}
}

// States are the accumulators of many workload containers, all made with
// one Options: the history a long-running process keeps instead of
// samples.
type States struct {
	o Options
	m map[workload.ContainerKey]*Accumulator
}

// NewStates returns empty states for options o (NewAccumulator's rules).
func NewStates(o Options) (*States, error) {
	if _, err := NewAccumulator(o); err != nil {
		return nil, err
	}
	return &States{o: o, m: map[workload.ContainerKey]*Accumulator{}}, nil
}

// Options returns the options every accumulator is made with.
func (st *States) Options() Options { return st.o }

// Get returns container k's accumulator, making it when create is set;
// nil otherwise.
func (st *States) Get(k workload.ContainerKey, create bool) *Accumulator {
	a := st.m[k]
	if a == nil && create {
		a, _ = NewAccumulator(st.o) // the options were checked by NewStates
		st.m[k] = a
	}
	return a
}

// Put sets container k's accumulator, which must have the states' options.
func (st *States) Put(k workload.ContainerKey, a *Accumulator) error {
	if a.o != st.o {
		return errors.New("accumulator options differ from the states'")
	}
	st.m[k] = a
	return nil
}

// Delete forgets container k.
func (st *States) Delete(k workload.ContainerKey) { delete(st.m, k) }

// Add records one sample of container k.
func (st *States) Add(k workload.ContainerKey, smp workload.Sample) { st.Get(k, true).Add(smp) }

// Len is the number of containers held.
func (st *States) Len() int { return len(st.m) }

// Containers returns the containers held, sorted.
func (st *States) Containers() []workload.ContainerKey {
	keys := make([]workload.ContainerKey, 0, len(st.m))
	for k := range st.m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y workload.ContainerKey) int {
		if x.Less(y) {
			return -1
		}
		if y.Less(x) {
			return 1
		}
		return 0
	})
	return keys
}

// Last is the newest sample's time over all containers, zero without one.
func (st *States) Last() time.Time {
	var last time.Time
	for _, a := range st.m {
		if t := a.LastSample(); t.After(last) {
			last = t
		}
	}
	return last
}

// ErrOtherOptions says a summary was asked for with options other than
// those the history was kept with.
var ErrOtherOptions = errors.New("the history was kept with other options")

// Summary summarizes container k as of until. o must be the states'
// options (ErrOtherOptions otherwise): a profile with another histogram
// layout or windows cannot be answered from this history. A container not
// held gives an empty summary.
func (st *States) Summary(k workload.ContainerKey, until time.Time, o Options) (*Summary, error) {
	if o != st.o {
		return nil, ErrOtherOptions
	}
	a := st.m[k]
	if a == nil {
		a, _ = NewAccumulator(st.o)
	}
	return a.Summary(k, until), nil
}

// MemoryPeaks returns the highest memory sample of every container held
// (R16's observed need).
func (st *States) MemoryPeaks() map[workload.ContainerKey]workload.Bytes {
	out := map[workload.ContainerKey]workload.Bytes{}
	for k, a := range st.m {
		if m := a.MemoryMax(); m > 0 {
			out[k] = m
		}
	}
	return out
}

// highs is a sliding window's maximum: the samples no later sample is
// higher than, in time order, so their values decrease. The highest since
// any time is the first one at or after it. To stay bounded, a sample in
// the same clock hour as the last one kept is merged into it: the kept high
// holds until the later time, never past its hour, so a window's high is never understated and is
// overstated only while the window starts within that hour. Random usage
// keeps about ln(samples) highs; a steady fall at most one an hour.
type highs []timedHigh

type timedHigh struct {
	t int64 // Unix ms
	v float64
}

const highMergeMs = int64(time.Hour / time.Millisecond)

func (h *highs) add(t int64, v float64) {
	s := *h
	for len(s) > 0 && s[len(s)-1].v <= v {
		s = s[:len(s)-1]
	}
	if n := len(s); n > 0 && t/highMergeMs == s[n-1].t/highMergeMs {
		s[n-1].t = max(s[n-1].t, t)
	} else {
		s = append(s, timedHigh{t, v})
	}
	*h = s
}

// since is the highest value at or after from (Unix ms), 0 without one.
func (h highs) since(from int64) float64 {
	for _, x := range h {
		if x.t >= from {
			return x.v
		}
	}
	return 0
}

// drop lets go of the highs before cut.
func (h *highs) drop(cut int64) {
	s := *h
	i := 0
	for i < len(s) && s[i].t < cut {
		i++
	}
	*h = append(s[:0], s[i:]...)
}
