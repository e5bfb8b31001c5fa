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
	// o is shared by the accumulators of one States: 8 bytes each, not
	// 128.
	o *Options
	// slotMs is a window slot's width; math.MaxInt64 without a window.
	slotMs, intervalMs int64

	cpu  *sketch.Histogram
	pods map[string]*podState
	// lastPod is the pod of the last sample added.
	lastPod *podState
	// podsIdleFrom is at most every pod's last sample, so that expire
	// skips the pods while none can be idle long enough.
	podsIdleFrom int64
	// forgetMs is lookbackMs, fixed by the options.
	forgetMs int64
	// windowCut is how far before now expire lets go of kills and highs:
	// the window and one slot.
	windowCut time.Duration
	peaks     []keptPeak // closed intervals, any order
	// peaksFrom is at most every closed peak's end, Unix ms (MinInt64 when
	// unknown), so that expire skips the peaks while none is old enough.
	peaksFrom int64
	slots     [WindowSlots + 1]slot
	// hot is the slot of the last sample, hotFrom and hotTo its bounds.
	// Slots are only started by newHot, which moves hot to the slot
	// started, so hot's slot is never replaced behind its back.
	hot            *slot
	hotFrom, hotTo int64
	ooms           []OOMEvent
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
	// shape is the CPU shape of the sample being added (AddShaped).
	shape *CPUShape
}

// WindowSlots is how many slots a window is kept in; one more holds the
// slot being filled.
const WindowSlots = 14

// MaxPeaks, MaxOOMs and MaxPods bound the closed memory peaks, the OOM
// kills and the pods an Accumulator keeps: a workload whose pods come and go every minute would
// otherwise keep one peak per pod for MemoryIntervals intervals.
// MaxPeaks holds an hourly CronJob's 192 runs over the 8 days a memory
// lookback reads, so its kills' raised peaks stay in the sketch: with 64
// it kept the last 2.7 days' runs, and memory requests of such CronJobs
// came out up to 29 % below the samples'.
const (
	MaxPeaks = 256
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
	idx             int64 // the slot's number: its start is idx·slotMs
	cpu, mem        part
	thrSum          float64
	thrN, podsEnded uint32 // together: no padding, 104 bytes a slot
}

// part is one resource's samples in a slot.
type part struct {
	sum         float64
	max         float64
	first, last int64 // Unix ms
	n           uint32
}

type podState struct {
	name        string
	first, last int64
	steps       [stepRing]int64
	nsteps      int
	ring        int // nsteps % stepRing, the next step's place
	stepCap     int64
	// origin aligns the pod's intervals (its first memory sample or kill);
	// cur is the open interval, peak its peak.
	origin    int64
	hasOrigin bool
	open      bool
	cur       int64
	peak      keptPeak
	// ivFrom and ivTo bound the open interval's times (Unix ms) once a
	// sample found it, sparing the division; ivFrom = ivTo = 0 otherwise,
	// and once it is closed.
	ivFrom, ivTo int64
	opened       bool  // the interval saw a sample (HoldZeroPeaks)
	hold         bool  // the interval is held at 0 (HoldZeroPeaks)
	holdFirstT   int64 // the time of the sample that held it
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
	return newAccumulator(&o)
}

// newAccumulator returns an empty accumulator for options o, valid and
// fit for one, which it keeps a pointer to.
func newAccumulator(o *Options) (*Accumulator, error) {
	cpu, err := sketch.New(o.CPU)
	if err != nil {
		return nil, err
	}
	a := &Accumulator{o: o, cpu: cpu, pods: map[string]*podState{}, intervalMs: max(o.MemoryInterval.Milliseconds(), 1)}
	a.slotMs = math.MaxInt64
	if o.Window > 0 {
		a.slotMs = max(o.Window.Milliseconds()/WindowSlots, 1)
	}
	a.forgetMs = a.lookbackMs()
	a.windowCut = -a.o.Window - time.Duration(a.slotMs)*time.Millisecond
	a.reset()
	return a, nil
}

func (a *Accumulator) reset() {
	a.first, a.last = math.MaxInt64, math.MinInt64
	a.cpuFirst, a.cpuLast = math.MaxInt64, math.MinInt64
	a.memFirst, a.memLast = math.MaxInt64, math.MinInt64
	a.currentAt = math.MinInt64
	a.podsIdleFrom = math.MinInt64
	a.peaksFrom = math.MinInt64
	for i := range a.slots {
		a.slots[i] = slot{idx: -1}
	}
	a.hot = nil
}

// Options returns the options the accumulator was made with.
func (a *Accumulator) Options() Options { return *a.o }

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
	// Inlined (cost 79 of 80: keep it a single call), so that a caller
	// hands the fields over one by one instead of copying the sample.
	a.add(smp.Time, smp.Pod, smp.CPU, smp.Memory, smp.Throttled, smp.Settings, smp.HasCPU, smp.HasMemory, smp.HasThrottled, smp.OOMKilled)
}

// add is Add, the sample's fields as arguments.
func (a *Accumulator) add(tm time.Time, pod string, cpuUse workload.Cores, memUse workload.Bytes, throttled float64, set workload.Settings, hasCPU, hasMem, hasThr, oom bool) {
	t := tm.UnixMilli()
	if t < 0 || t > maxMs {
		a.dropped++
		return
	}
	// Samples come pod by pod, so the last pod saves most lookups. The
	// sample's name is a copy of the pod's (each cycle reads a new store):
	// compare its bytes here, eight at a time, rather than in a call, so
	// that the sample's values stay in registers.
	p := a.lastPod
	if p != nil {
		x, n := p.name, len(pod)
		switch {
		case len(x) != n:
			p = nil
		case n < 8:
			for i := range n {
				if x[i] != pod[i] {
					p = nil
					break
				}
			}
		default:
			for i := 0; i < n-8; i += 8 {
				if word(x, i) != word(pod, i) {
					p = nil
					break
				}
			}
			if word(x, n-8) != word(pod, n-8) {
				p = nil
			}
		}
	}
	if p == nil {
		p = a.pods[pod]
	}
	if p == nil {
		p = a.newPod(pod, t)
	} else if t < p.last {
		a.dropped++
		return
	}
	a.lastPod = p
	if t >= a.nextExpire {
		a.expire(t)
	}
	a.first, a.last = min(a.first, t), max(a.last, t)
	if d := t - p.last; d > 0 {
		c := p.stepCap
		if !p.sameStep(d) {
			c = p.newStep(d)
		}
		a.observed = workload.AddSat(a.observed, min(d, c))
		p.last = t
	}
	if t >= a.currentAt {
		a.current, a.currentAt = set, t
	}
	s := a.hot // slotFor, inline
	if s == nil || t < a.hotFrom || t >= a.hotTo {
		s = a.newHot(t)
	}
	cpu := float64(cpuUse)
	hasCPU = hasCPU && cpu >= 0 && cpu <= math.MaxFloat64
	if hasCPU {
		a.cpuSamples++
		a.cpuFirst, a.cpuLast = min(a.cpuFirst, t), max(a.cpuLast, t)
		if s != nil {
			s.cpu.add(cpu, t)
		}
		if !a.cpuHighs.addTop(t, cpu) {
			a.cpuHighs.add(t, cpu)
		}
	}
	if mem := float64(memUse); hasMem && mem >= 0 {
		a.memSamples++
		a.memFirst, a.memLast = min(a.memFirst, t), max(a.memLast, t)
		a.memMax = max(a.memMax, mem)
		if s != nil {
			s.mem.add(mem, t)
		}
		if !a.memHighs.addTop(t, mem) {
			a.memHighs.add(t, mem)
		}
		// addPeak's case of a sample in the open interval it found last,
		// inline (addPeak set opened then, where HoldZeroPeaks reads it).
		if t >= p.ivFrom && t < p.ivTo {
			p.peak.Observed = max(p.peak.Observed, memUse)
			if !p.hold {
				p.peak.Bytes = max(p.peak.Bytes, memUse)
			}
		} else {
			a.addPeak(p, t, memUse)
		}
	}
	if v := throttled; hasThr && s != nil {
		a.throttled++
		s.thrN++
		s.thrSum += v
	}
	if oom {
		ev := OOMEvent{Time: tm.UTC(), Pod: pod, Limit: set.Limits.Memory}
		if hasMem {
			ev.Usage = memUse
		}
		a.AddOOM(ev)
	}
	// Last, so that no value of this sample is kept across the call: the
	// histogram is apart from the rest.
	if hasCPU {
		if a.shape != nil {
			a.shape.addTo(a.cpu, a.o.CPUSampleWeight, tm)
		} else {
			a.cpu.Add(cpu, a.o.CPUSampleWeight, tm)
		}
	}
}

// AddShaped is Add for a sample whose hour has a CPU shape (nil: none):
// the sample weighs in the CPU histogram as the shape (shape.go).
func (a *Accumulator) AddShaped(smp workload.Sample, shape *CPUShape) {
	a.shape = shape
	a.Add(smp)
	a.shape = nil
}

// word is the 8 bytes of s from i, read as one (the compiler merges the
// loads).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// newPod starts tracking pod name, first seen at t.
func (a *Accumulator) newPod(name string, t int64) *podState {
	p := &podState{name: name, first: t, last: t}
	a.putPod(p)
	return p
}

// putPod tracks pod p.
func (a *Accumulator) putPod(p *podState) {
	a.pods[p.name] = p
	a.podsIdleFrom = min(a.podsIdleFrom, p.last)
}

// appendPeak keeps closed peak pk.
func (a *Accumulator) appendPeak(pk keptPeak) {
	a.peaks = append(a.peaks, pk)
	if pk.End < a.peaksFrom {
		a.peaksFrom = pk.End
	}
}

// keptPeak is a Peak as an accumulator keeps it, its end in Unix ms (an
// interval's end is whole milliseconds): 48 bytes instead of 64, for
// every pod's every interval in the lookback.
type keptPeak struct {
	Pod             string
	End             int64
	Bytes, Observed workload.Bytes
	OOM             bool
}

func (p keptPeak) peak() Peak {
	return Peak{Pod: p.Pod, End: time.UnixMilli(p.End).UTC(), Bytes: p.Bytes, Observed: p.Observed, OOM: p.OOM}
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

// sameStep and newStep record a step of d ms; the cap of an observed step
// is twice the median of the last stepRing steps (stepCap). Regular steps
// leave the median as it is, so it is recomputed only when a step differs:
// sameStep records d if it is the step it replaces in a full ring, and
// reports whether it did; newStep records any other and returns the cap.
func (p *podState) sameStep(d int64) bool {
	if i := p.ring; p.steps[i] == d && p.nsteps >= stepRing {
		p.nsteps++
		p.ring = nextRing(i)
		return true
	}
	return false
}

func nextRing(i int) int {
	if i++; i == stepRing {
		return 0
	}
	return i
}

func (p *podState) newStep(d int64) int64 {
	p.steps[p.ring] = d
	p.ring = nextRing(p.ring)
	p.nsteps++
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
	if h := a.hot; h != nil && t >= a.hotFrom && t < a.hotTo {
		return h
	}
	return a.newHot(t)
}

// newHot is slotFor's case of a sample outside the slot of the last one.
func (a *Accumulator) newHot(t int64) *slot {
	s := a.findSlot(t)
	if s != nil {
		// Without a window the one slot is [0, MaxInt64): no overflow.
		a.hot, a.hotFrom = s, s.idx*a.slotMs
		a.hotTo = a.hotFrom + a.slotMs
	}
	return s
}

func (a *Accumulator) findSlot(t int64) *slot {
	if t < 0 {
		// Before 1970: only a crafted state holds such a time; there is no
		// slot for it (a negative index would be out of the ring).
		return nil
	}
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
	if !p.open || t < p.ivFrom || t >= p.ivTo {
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
		// t−origin and so idx·intervalMs are within ±2·maxMs: no overflow.
		p.ivFrom = p.origin + idx*a.intervalMs
		p.ivTo = p.ivFrom + a.intervalMs
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
	p.ivFrom, p.ivTo = 0, 0
	end := workload.AddSat(p.origin, workload.MulSat(workload.AddSat(idx, 1), a.intervalMs))
	if idx == p.cur {
		for i := len(a.peaks) - 1; i >= 0; i-- {
			if pk := a.peaks[i]; pk.Pod == p.name && pk.End == end {
				a.peaks = slices.Delete(a.peaks, i, i+1)
				p.open, p.peak = true, pk
				return
			}
		}
	}
	p.open, p.cur, p.opened, p.hold = true, idx, false, false
	p.peak = keptPeak{Pod: p.name, End: end}
}

func (a *Accumulator) closeInterval(p *podState) {
	if !p.open {
		return
	}
	p.open = false
	p.ivFrom, p.ivTo = 0, 0 // so that Add's inline case does not take it
	a.appendPeak(p.peak)
	if len(a.peaks) > 2*MaxPeaks {
		a.trimPeaks()
	}
}

// trimPeaks keeps the MaxPeaks newest closed peaks.
func (a *Accumulator) trimPeaks() {
	if len(a.peaks) <= MaxPeaks {
		return
	}
	slices.SortFunc(a.peaks, func(x, y keptPeak) int { return cmp.Compare(x.End, y.End) })
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
		p = a.newPod(ev.Pod, t)
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
		end := workload.AddSat(p.origin, workload.MulSat(workload.AddSat(idx, 1), a.intervalMs))
		for i := range a.peaks {
			if pk := &a.peaks[i]; pk.Pod == p.name && pk.End == end {
				pk.Bytes, pk.OOM = max(pk.Bytes, bump(pk.Observed)), true
				return
			}
		}
		a.appendPeak(keptPeak{Pod: p.name, End: end, Bytes: bump(0), OOM: true})
	}
}

// expire closes the intervals of pods unsampled for an hour, forgets pods
// whose intervals no summary reads any more (and the most idle beyond
// MaxPods), drops peaks and kills no summary will read again, and bounds
// the peaks kept. A closed pod that comes back keeps its intervals'
// alignment, as its samples would.
func (a *Accumulator) expire(now int64) {
	a.nextExpire = workload.AddSat(now, closeAfterMs/4)
	forget := a.forgetMs
	if a.lastPod != nil && len(a.pods) == 1 {
		// The one pod is the last one (forgetPod lets it go): its last
		// sample is what a walk would find.
		a.podsIdleFrom = a.lastPod.last
	}
	// No pod sampled since podsIdleFrom is idle long enough to close or
	// forget: skip them (a map's walk costs more than the rest).
	if a.podsIdleFrom < now-min(closeAfterMs, forget) {
		idleFrom := int64(math.MaxInt64)
		for name, p := range a.pods {
			idle := now - p.last
			if idle > closeAfterMs {
				a.closeInterval(p)
			}
			if idle > forget {
				a.forgetPod(name, p)
			} else {
				idleFrom = min(idleFrom, p.last)
			}
		}
		a.podsIdleFrom = idleFrom
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
		if !time.UnixMilli(a.peaksFrom).After(cut) {
			a.peaks = slices.DeleteFunc(a.peaks, func(p keptPeak) bool { return !time.UnixMilli(p.End).After(cut) })
			a.peaksFrom = math.MinInt64
			for i, p := range a.peaks {
				if i == 0 || p.End < a.peaksFrom {
					a.peaksFrom = p.End
				}
			}
		}
	}
	a.trimPeaks()
	if a.o.Window > 0 {
		if len(a.ooms) > 0 {
			cut := time.UnixMilli(now).Add(a.windowCut)
			a.ooms = slices.DeleteFunc(a.ooms, func(ev OOMEvent) bool { return ev.Time.Before(cut) })
		}
		// The cut's Unix ms, from now's without a time.Time.
		cut := now + floorDiv(int64(a.windowCut), int64(time.Millisecond))
		a.cpuHighs.drop(cut)
		a.memHighs.drop(cut)
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
		if time.UnixMilli(p.End).After(cutoff) {
			s.Peaks = append(s.Peaks, p.peak())
		}
	}
	for _, p := range a.pods {
		if p.open && time.UnixMilli(p.peak.End).After(cutoff) {
			s.Peaks = append(s.Peaks, p.peak.peak())
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
	// o is the options, which each accumulator made here points to.
	o *Options
	m map[workload.ContainerKey]*Accumulator
}

// NewStates returns empty states for options o (NewAccumulator's rules).
func NewStates(o Options) (*States, error) {
	if _, err := NewAccumulator(o); err != nil {
		return nil, err
	}
	return &States{o: &o, m: map[workload.ContainerKey]*Accumulator{}}, nil
}

// Options returns the options every accumulator is made with.
func (st *States) Options() Options { return *st.o }

// Get returns container k's accumulator, making it when create is set;
// nil otherwise.
func (st *States) Get(k workload.ContainerKey, create bool) *Accumulator {
	a := st.m[k]
	if a == nil && create {
		a, _ = newAccumulator(st.o) // the options were checked by NewStates
		st.m[k] = a
	}
	return a
}

// Put sets container k's accumulator, which must have the states' options.
func (st *States) Put(k workload.ContainerKey, a *Accumulator) error {
	if *a.o != *st.o {
		return errors.New("accumulator options differ from the states'")
	}
	a.o = st.o // the same options, shared
	st.m[k] = a
	return nil
}

// Delete forgets container k.
func (st *States) Delete(k workload.ContainerKey) { delete(st.m, k) }

// Add records one sample of container k.
func (st *States) Add(k workload.ContainerKey, smp workload.Sample) { st.Get(k, true).Add(smp) }

// AddShaped records one sample of container k whose hour has a CPU shape
// (Accumulator.AddShaped).
func (st *States) AddShaped(k workload.ContainerKey, smp workload.Sample, shape *CPUShape) {
	st.Get(k, true).AddShaped(smp, shape)
}

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
	if o != *st.o {
		return nil, ErrOtherOptions
	}
	a := st.m[k]
	if a == nil {
		a, _ = newAccumulator(st.o)
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

// Clone returns an independent copy: the history as it stands, kept while
// the original takes on later samples (a report's plan as of the previous
// period's end, read in one pass).
func (a *Accumulator) Clone() *Accumulator {
	c := *a
	c.cpu = a.cpu.Clone()
	c.pods = make(map[string]*podState, len(a.pods))
	for name, p := range a.pods {
		cp := *p
		c.pods[name] = &cp
		if p == a.lastPod {
			c.lastPod = &cp
		}
	}
	c.peaks = slices.Clone(a.peaks)
	c.ooms = slices.Clone(a.ooms)
	c.cpuHighs.s = slices.Clone(a.cpuHighs.s)
	c.memHighs.s = slices.Clone(a.memHighs.s)
	c.hot = nil
	for i := range a.slots {
		if a.hot == &a.slots[i] {
			c.hot = &c.slots[i]
		}
	}
	c.shape = nil
	return &c
}
