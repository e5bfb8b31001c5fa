package history

import (
	"fmt"
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

// Follower follows one workload container's history through a series of
// increasing decision times, as a backtest's replay does, and hands out
// Incremental summarizers, one per option set, that carry what they can
// from one decision to the next: Summarize would re-read the whole history
// every time, and most of it has not changed. What does not depend on the
// options (the pods' counts and observed time) or depends on few of them
// (the exact windows on Window, the CPU histogram on its layout and weight)
// is computed once per decision and shared by the summarizers asking for
// the same; each summarizer keeps its own memory peaks, since those depend
// on the OOM kills its own decisions led to.
//
// Every Summary an Incremental returns equals, to the bit, Summarize's for
// the same samples, OOM kills and time; a test holds it to that on random
// histories. What is carried:
//   - the CPU histogram, fed only the samples after the last decision.
//     Summarize feeds the pods one after the other, oldest first, and the
//     histogram's floating-point state depends on that order, so the pods
//     after the first one still growing are fed again from their start
//     (from a copy kept after that pod): nothing for a single pod, what
//     Summarize does for replicas running side by side;
//   - the exact windows' values, kept sorted: the samples entering and
//     leaving a window are sorted (a day's worth) and merged in, and only
//     when a quantile is asked for (Max and Mean do not need the order);
//     the mean is still summed in Summarize's order, which a running sum
//     would not reproduce;
//   - per pod, sample counts, the observed time and the memory peaks of the
//     intervals that are over (recomputed only when an OOM kill lands in
//     one).
//
// Options with a CPULookback drop old samples from the histogram, which
// cannot be undone exactly; their Incremental summarizes from scratch.
//
// A Follower and its summarizers are not safe for concurrent use.
type Follower struct {
	key    workload.ContainerKey
	series []*Series // oldest first, as Summarize feeds them
	pods   []followedPod
	ends   []int // per pod, the samples before until

	// until is the decision the figures are at (Unix ms).
	until   int64
	started bool
	// base holds the pod figures at until: Pods, PodsNow, First, Last,
	// Current, the sample counts and first times, the observed time.
	base summarizer

	windows map[time.Duration]*windowState
	cpus    map[cpuKey]*cpuState
}

// followedPod is what a Follower keeps of one pod (one series).
type followedPod struct {
	// Counts and first times over [0, counted).
	counted            int
	cpuN, memN         int
	cpuFirst, memFirst int64
	// memStart is the index of the first memory sample, -1 until seen.
	memStart int
	// throttled reports a throttled share among the samples counted.
	throttled bool
	obs       observedState
}

// NewFollower returns the follower of one container's series.
func NewFollower(key workload.ContainerKey, series []*Series) *Follower {
	f := &Follower{key: key, series: oldestFirst(series), windows: map[time.Duration]*windowState{}, cpus: map[cpuKey]*cpuState{}}
	f.reset()
	return f
}

// reset forgets every decision.
func (f *Follower) reset() {
	f.started = false
	f.pods = make([]followedPod, len(f.series))
	f.ends = make([]int, len(f.series))
	for i := range f.pods {
		f.pods[i] = followedPod{cpuFirst: math.MaxInt64, memFirst: math.MaxInt64, memStart: -1}
	}
}

// advance brings the pod figures to decision u; an earlier u starts over.
func (f *Follower) advance(until time.Time) {
	u := until.UnixMilli()
	if f.started && u == f.until {
		return
	}
	if f.started && u < f.until {
		f.reset()
	}
	f.started, f.until = true, u
	z := newSummarizer(&Summary{Key: f.key, Until: until}, Options{})
	for i, ser := range f.series {
		end := ser.Search(u)
		f.ends[i] = end
		if end == 0 {
			continue
		}
		p := &f.pods[i]
		z.addPod(ser, end)
		p.count(ser, end)
		z.s.CPUSamples += p.cpuN
		z.s.MemorySamples += p.memN
		z.cpuFirst, z.memFirst = min(z.cpuFirst, p.cpuFirst), min(z.memFirst, p.memFirst)
		z.observed = workload.AddSat(z.observed, p.obs.millis(ser, end))
	}
	f.base = z
}

// Incremental summarizes the Follower's container for one option set.
type Incremental struct {
	f     *Follower
	o     Options
	peaks []peakCache // per pod
	// until is this summarizer's last decision: an earlier one starts over.
	until   int64
	started bool
	// emptyMemory is an empty peaks histogram to copy: New would lay its
	// buckets out again.
	emptyMemory *sketch.Histogram
	win         *windowState
	cpu         *cpuState
	scratch     bool // CPULookback: summarize from scratch
}

// Incremental returns a summarizer for options o, sharing the follower's
// state with the others.
func (f *Follower) Incremental(o Options) (*Incremental, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	mem, err := sketch.New(o.Memory)
	if err != nil {
		return nil, fmt.Errorf("memory histogram: %w", err)
	}
	z := &Incremental{f: f, o: o, peaks: make([]peakCache, len(f.series)), emptyMemory: mem, scratch: o.CPULookback > 0}
	if z.scratch {
		return z, nil
	}
	if z.win = f.windows[o.Window]; z.win == nil {
		z.win = &windowState{}
		f.windows[o.Window] = z.win
	}
	k := cpuKey{o.CPU, o.CPUSampleWeight}
	if z.cpu = f.cpus[k]; z.cpu == nil {
		z.cpu = &cpuState{key: k}
		f.cpus[k] = z.cpu
	}
	return z, nil
}

// Summarize returns what Summarize returns for the container's series,
// ooms and until. Calls come with until not decreasing and ooms only
// growing (a backtest appends the kills it replays); an earlier until
// starts over. The Summary shares the follower's buffers and is valid
// until the next call of any of its summarizers.
func (z *Incremental) Summarize(ooms []OOMEvent, until time.Time) *Summary {
	f := z.f
	if z.scratch {
		s, err := Summarize(f.key, f.series, ooms, until, z.o)
		if err != nil {
			panic(err) // the options were validated by Incremental
		}
		return s
	}
	u := z.begin(until)
	s := *f.base.s
	zs := newSummarizer(&s, z.o)
	zs.cpuFirst, zs.memFirst, zs.observed = f.base.cpuFirst, f.base.memFirst, f.base.observed
	s.MemoryPeaks = z.emptyMemory.Clone()
	s.CPU = z.cpu.advance(f, u)
	w := z.win.advance(f, u, zs.windowStart)
	s.CPUWindow, s.MemoryWindow = w.cpuOut, w.memOut
	zs.throttledSum, s.ThrottledSamples = w.throttledSum, w.throttledN
	for i, ser := range f.series {
		if end := f.ends[i]; end > 0 {
			s.Peaks = append(s.Peaks, z.peaks[i].summarize(ser, f.pods[i].memStart, end, ooms, until, z.o)...)
		}
	}
	zs.finish(ooms)
	return &s
}

// SummarizeCPU is Summarize's CPU figures alone, for a reader of nothing
// else (a fleet's first pass): the pod figures (CPUSamples, CPUFirst, the
// pods and the span), the CPU histogram and the CPU window; the memory
// parts, throttling, OOM kills and the confidence are left empty. Calls
// follow Summarize's rules. The exact window is filled anew at every call,
// and the follower's next Summarize fills its windows anew too: a follower
// is best kept for one or the other.
func (z *Incremental) SummarizeCPU(until time.Time) *Summary {
	f := z.f
	if z.scratch {
		s, err := SummarizeCPU(f.key, f.series, until, z.o)
		if err != nil {
			panic(err) // the options were validated by Incremental
		}
		return s
	}
	z.begin(until)
	s := *f.base.s
	zs := newSummarizer(&s, z.o)
	zs.cpuFirst = f.base.cpuFirst
	s.CPU = z.cpu.advance(f, z.until)
	w := z.win.advanceCPU(f, zs.windowStart)
	s.CPUWindow = w.cpuOut
	if s.CPUSamples > 0 {
		s.CPUFirst = time.UnixMilli(zs.cpuFirst).UTC()
	}
	s.CPUWindow.finish()
	return &s
}

// begin moves the summarizer and its follower to until and returns it in
// Unix ms; an earlier until than the last starts over.
func (z *Incremental) begin(until time.Time) int64 {
	u := until.UnixMilli()
	if z.started && u < z.until {
		clear(z.peaks)
	}
	z.started, z.until = true, u
	z.f.advance(until)
	return u
}

// cpuKey is what the CPU histogram depends on.
type cpuKey struct {
	o      sketch.Options
	weight float64
}

// cpuState is a CPU histogram carried from decision to decision.
type cpuState struct {
	key     cpuKey
	until   int64
	started bool
	h       *sketch.Histogram // the live histogram
	fed     []int             // per pod, the samples fed to h
	// mark is the first pod not yet finished (more samples to come) at the
	// last decision, and markH the histogram right after it was fed, while
	// pods after it were fed too (nil when h is that).
	mark  int
	markH *sketch.Histogram
}

// advance brings the histogram to the follower's decision u and returns it.
func (c *cpuState) advance(f *Follower, u int64) *sketch.Histogram {
	if c.started && u == c.until {
		return c.h
	}
	if !c.started || u < c.until {
		c.h, c.fed, c.mark, c.markH = sketch.MustNew(c.key.o), make([]int, len(f.series)), 0, nil
	}
	c.started, c.until = true, u
	c.feed(f.series, f.ends)
	return c.h
}

// feed brings the histogram to the pods' new ends. Summarize feeds pod
// after pod, so a pod's new samples may follow only the pods before it: the
// pods from the mark on are fed again from the mark's copy, except when the
// mark is the last pod fed, whose new samples simply follow.
func (c *cpuState) feed(series []*Series, ends []int) {
	if c.markH != nil {
		c.h = c.markH.Clone()
		for i := c.mark + 1; i < len(series); i++ {
			c.fed[i] = 0
		}
	}
	c.markH = nil
	// The new mark: the first pod with samples to come.
	mark := len(series)
	for i, ser := range series {
		if ends[i] < ser.Len() {
			mark = i
			break
		}
	}
	for i := c.mark; i < len(series); i++ {
		if ends[i] > c.fed[i] {
			addCPUSamples(c.h, series[i], c.fed[i], ends[i], c.key.weight)
			c.fed[i] = ends[i]
		}
		if i == mark && laterSamples(ends, mark) {
			c.markH = c.h.Clone()
		}
	}
	c.mark = mark
}

// laterSamples reports whether a pod after i has samples before its end.
func laterSamples(ends []int, i int) bool {
	for _, e := range ends[i+1:] {
		if e > 0 {
			return true
		}
	}
	return false
}

// addCPUSamples is addCPU's histogram part for samples [from, to).
func addCPUSamples(h *sketch.Histogram, ser *Series, from, to int, weight float64) {
	times := ser.Time[from:to]
	var shapes shapeCursor
	if len(ser.Shapes) > 0 && to > from {
		shapes.shapes = ser.Shapes[ser.shapeIndex(times[0]):]
	}
	for i, v := range ser.CPU[from:to] {
		if math.IsNaN(v) {
			continue
		}
		if sh := shapes.at(times[i]); sh != nil {
			sh.addTo(h, weight, time.UnixMilli(times[i]))
		} else {
			h.Add(v, weight, time.UnixMilli(times[i]))
		}
	}
}

// count extends the pod's sample counts, first times and throttled flag to
// end.
func (p *followedPod) count(ser *Series, end int) {
	for i := p.counted; i < end; i++ {
		t := ser.Time[i]
		if !math.IsNaN(ser.CPU[i]) {
			p.cpuN++
			p.cpuFirst = min(p.cpuFirst, t)
		}
		if !math.IsNaN(ser.Memory[i]) {
			p.memN++
			p.memFirst = min(p.memFirst, t)
			if p.memStart < 0 {
				p.memStart = i
			}
		}
		if !isNaN32(ser.Throttled[i]) {
			p.throttled = true
		}
	}
	p.counted = max(p.counted, end)
}

// windowState is the exact windows of one lookback carried from decision
// to decision, and their figures at the last one.
type windowState struct {
	until   int64
	started bool
	// Each pod's window is its samples [lo, end).
	lo, end  []int
	cpu, mem sortedWindow
	// The figures at until.
	cpuOut, memOut Window
	throttledSum   float64
	throttledN     int
}

// advance moves the windows to the follower's decision u, starting at
// start (Unix ms), and returns them.
func (w *windowState) advance(f *Follower, u, start int64) *windowState {
	if w.started && u == w.until {
		return w
	}
	if !w.started || u < w.until {
		*w = windowState{lo: make([]int, len(f.series)), end: make([]int, len(f.series))}
	}
	w.started, w.until = true, u
	lo := make([]int, len(f.series))
	for i, ser := range f.series {
		lo[i] = min(ser.Search(start), f.ends[i])
	}
	w.lo, w.end = lo, slices.Clone(f.ends)
	w.cpuOut = Window{lazy: &lazyValues{w: &w.cpu, series: f.series, lo: w.lo, end: w.end, col: cpuOf}}
	w.memOut = Window{lazy: &lazyValues{w: &w.mem, series: f.series, lo: w.lo, end: w.end, col: memoryOf}}
	w.cpuOut.fill(f.series, w.lo, w.end, cpuOf)
	w.memOut.fill(f.series, w.lo, w.end, memoryOf)
	w.throttling(f)
	return w
}

// advanceCPU is advance for the CPU window alone; the state it leaves is
// not a full window's, so the next advance starts over.
func (w *windowState) advanceCPU(f *Follower, start int64) *windowState {
	*w = windowState{}
	lo := make([]int, len(f.series))
	for i, ser := range f.series {
		lo[i] = min(ser.Search(start), f.ends[i])
	}
	w.lo, w.end = lo, slices.Clone(f.ends)
	w.cpuOut = Window{lazy: &lazyValues{w: &w.cpu, series: f.series, lo: w.lo, end: w.end, col: cpuOf}}
	w.cpuOut.fill(f.series, w.lo, w.end, cpuOf)
	return w
}

// throttling is addThrottling over the windows, pod after pod as
// Summarize adds them; pods without a throttled share add nothing.
func (w *windowState) throttling(f *Follower) {
	w.throttledSum, w.throttledN = 0, 0
	for i, ser := range f.series {
		if !f.pods[i].throttled || w.end[i] == 0 {
			continue
		}
		for _, v := range ser.Throttled[w.lo[i]:w.end[i]] {
			if !isNaN32(v) {
				w.throttledN++
				w.throttledSum += float64(v)
			}
		}
	}
}

// cpuOf and memoryOf pick a resource's column.
func cpuOf(s *Series) []float64    { return s.CPU }
func memoryOf(s *Series) []float64 { return s.Memory }

// sortedWindow is one resource's exact window values, sorted, for the
// pods' samples [lo, end): the samples leaving and entering it are sorted (a
// day's worth) and merged in, instead of sorting the whole window again.
type sortedWindow struct {
	values, spare  []float64
	lo, end        []int // nil: empty
	added, removed []float64
}

// lazyValues is a Window's way to its sorted values, the pods' samples
// [lo, end) of column col, brought up to date on demand.
type lazyValues struct {
	w       *sortedWindow
	series  []*Series
	lo, end []int
	col     func(*Series) []float64
}

func (l *lazyValues) sorted() []float64 { return l.w.slide(l.series, l.lo, l.end, l.col) }

// slide moves the values to the pods' samples [lo, end) and returns them.
// Windows only move forward; one that does not, or that moved by more than
// it holds, is sorted afresh.
func (w *sortedWindow) slide(series []*Series, lo, end []int, col func(*Series) []float64) []float64 {
	if slices.Equal(lo, w.lo) && slices.Equal(end, w.end) {
		return w.values
	}
	w.added, w.removed = w.added[:0], w.removed[:0]
	afresh := w.lo == nil
	for i, ser := range series {
		if afresh || lo[i] < w.lo[i] || end[i] < w.end[i] {
			afresh = true
			break
		}
		vs := col(ser)
		w.removed = appendValues(w.removed, vs[w.lo[i]:min(lo[i], w.end[i])])
		w.added = appendValues(w.added, vs[max(w.end[i], lo[i]):end[i]])
	}
	if afresh || len(w.added) > len(w.values) {
		n := 0
		for i := range series {
			n += end[i] - lo[i]
		}
		w.values = slices.Grow(w.values[:0], n)
		for i, ser := range series {
			w.values = appendValues(w.values, col(ser)[lo[i]:end[i]])
		}
		slices.Sort(w.values)
	} else {
		slices.Sort(w.added)
		slices.Sort(w.removed)
		w.spare = mergeSorted(w.spare[:0], w.values, w.removed, w.added)
		w.values, w.spare = w.spare, w.values
	}
	w.lo, w.end = lo, end
	return w.values
}

// appendValues appends the values that are not NaN.
func appendValues(dst, vs []float64) []float64 {
	for _, v := range vs {
		if !math.IsNaN(v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// mergeSorted appends to dst the sorted values of old without those of
// removed (a sub-multiset of old) and with those of added; all three are
// sorted.
func mergeSorted(dst, old, removed, added []float64) []float64 {
	// Room for all at once: appended one by one, a window's values grew
	// the slice again and again.
	dst = slices.Grow(dst, len(old)-len(removed)+len(added))
	r, a := 0, 0
	for _, v := range old {
		if r < len(removed) && removed[r] == v {
			r++
			continue
		}
		for a < len(added) && added[a] < v {
			dst = append(dst, added[a])
			a++
		}
		dst = append(dst, v)
	}
	if r != len(removed) {
		panic("history: a value left a window it was not in")
	}
	return append(dst, added[a:]...)
}

// fill sets w as Summarize's window of the pods' samples [lo, end), but
// for the sorted values (lazy): their count and highest, the first and last
// times and the sum, added in Summarize's order (pod after pod) so that the
// mean is the same to the bit. finish derives First, Last and Mean.
func (w *Window) fill(series []*Series, lo, end []int, col func(*Series) []float64) {
	w.firstMs, w.lastMs = math.MaxInt64, math.MinInt64
	for i, ser := range series {
		vs := col(ser)[lo[i]:end[i]]
		first, last := 0, len(vs)-1
		for first <= last && math.IsNaN(vs[first]) {
			first++
		}
		if first > last {
			continue
		}
		for math.IsNaN(vs[last]) {
			last--
		}
		w.firstMs = min(w.firstMs, ser.Time[lo[i]+first])
		w.lastMs = max(w.lastMs, ser.Time[lo[i]+last])
		// The highest from 0, as Summarize's: with no NaN among them and
		// high never −0, a plain comparison is max (whose NaN and signed
		// zero handling put two dependent MINSDs on every sample's path).
		n, sum, high := 0, w.sum, w.Max
		for _, v := range vs[first : last+1] {
			if v == v { // not NaN
				n++
				sum += v
				if v > high {
					high = v
				}
			}
		}
		w.Count, w.sum, w.Max = w.Count+n, sum, high
	}
	if w.Count == 0 {
		w.firstMs, w.lastMs = 0, 0
	}
}

// observedState carries observedMillis from one decision to the next: the
// sum of capped steps only grows while the cap stays, and the cap, twice
// the median of the recent steps, stays while the steps are regular.
type observedState struct {
	// The run of equal steps ending at step scanned−1 (step i is between
	// samples i−1 and i) starts at step runFrom.
	scanned, runFrom int
	runStep          int64
	// covered sums the steps 1..upTo−1, each capped at stepCap.
	stepCap, covered int64
	upTo             int
}

// millis returns observedMillis(ser, end).
func (o *observedState) millis(ser *Series, end int) int64 {
	stepCap := workload.MulSat(o.medianStep(ser, end), 2)
	if stepCap <= 0 {
		return 0
	}
	if stepCap != o.stepCap || end < o.upTo {
		o.stepCap, o.covered, o.upTo = stepCap, 0, 1
	}
	for i := max(o.upTo, 1); i < end; i++ {
		o.covered = workload.AddSat(o.covered, min(subMillis(ser.Time[i], ser.Time[i-1]), stepCap))
	}
	o.upTo = max(o.upTo, end)
	return o.covered
}

// medianStep is medianStepMillis of the recent times observedMillis takes,
// without sorting where they lie in one run of equal steps.
func (o *observedState) medianStep(ser *Series, end int) int64 {
	if end < o.scanned {
		o.scanned = 0
	}
	for i := max(o.scanned, 1); i < end; i++ {
		if step := subMillis(ser.Time[i], ser.Time[i-1]); i == 1 || step != o.runStep {
			o.runFrom, o.runStep = i, step
		}
	}
	o.scanned = max(o.scanned, end)
	from := max(end-recentSteps-1, 0)
	if end-from >= 2 && o.runFrom <= from+1 {
		return o.runStep
	}
	return medianStepMillis(ser.Time[from:end])
}

// peakCache keeps one pod's memory peaks of the intervals that are over:
// their samples are all in, so only an OOM kill landing in one later can
// change its peak. Intervals are independent in podPeaks (each has its own
// samples, hold and kills), so the intervals from the first one not over
// are recomputed with podPeaks' own grid and the rest taken from here.
type peakCache struct {
	valid  bool
	origin int64
	// Intervals before doneTo are over; peaks holds those with a peak and
	// ooms how many kills each had when computed.
	doneTo int64
	peaks  map[int64]Peak
	ooms   map[int64]int
}

// summarize returns podPeaks(ser, end, ooms, until, o), with memStart the
// pod's first memory sample (-1 if none before end).
func (c *peakCache) summarize(ser *Series, memStart, end int, ooms []OOMEvent, until time.Time, o Options) []Peak {
	start := memStart
	if start >= end {
		start = -1
	}
	podOOMs := oomsOf(ser.Pod, ooms, until)
	if start < 0 && len(podOOMs) == 0 {
		return nil
	}
	g := newPeakGrid(ser, start, podOOMs, o.MemoryInterval)
	if !c.valid || c.origin != g.origin {
		*c = peakCache{valid: true, origin: g.origin, peaks: map[int64]Peak{}, ooms: map[int64]int{}}
	}
	if o.HoldZeroPeaks {
		g.held = map[int64]int64{}
	}
	kills := map[int64]int{}
	for _, ev := range podOOMs {
		kills[g.index(ev.Time.UnixMilli())]++
	}
	// The first interval to recompute: the first not over, or an earlier
	// one a new kill landed in.
	from := c.doneTo
	for idx, n := range kills {
		if idx < from && n != c.ooms[idx] {
			from = idx
		}
	}
	lo, ok := c.intervalStart(&g, ser, start, from)
	if !ok {
		from, lo = 0, start
		clear(c.peaks)
		clear(c.ooms)
	}
	if start >= 0 {
		g.addObserved(ser, lo, end)
	}
	var recent []OOMEvent
	for _, ev := range podOOMs {
		if g.index(ev.Time.UnixMilli()) >= from {
			recent = append(recent, ev)
		}
	}
	g.releaseHeld(recent)
	for _, ev := range recent {
		g.addOOM(ser, start, end, ev, o)
	}
	c.keep(&g, from, kills, until, o)
	for idx, p := range c.peaks {
		if idx < from {
			g.peaks[idx] = &p
		}
	}
	return g.recent(until, o)
}

// intervalStart is the index of the first memory sample of interval from
// or later, checked against the grid's own arithmetic (which saturates for
// times ages apart); false where it does not hold.
func (c *peakCache) intervalStart(g *peakGrid, ser *Series, start int, from int64) (int, bool) {
	if from == 0 || start < 0 {
		return start, from == 0
	}
	t := workload.AddSat(g.origin, workload.MulSat(from, g.iv))
	if t == math.MaxInt64 {
		return 0, false
	}
	lo := max(ser.Search(t), start)
	if lo < len(ser.Time) && g.index(ser.Time[lo]) < from || lo > start && g.index(ser.Time[lo-1]) >= from {
		return 0, false
	}
	return lo, true
}

// keep stores the recomputed intervals that are over, with their kills,
// and drops those that have left the lookback (recent would drop them).
func (c *peakCache) keep(g *peakGrid, from int64, kills map[int64]int, until time.Time, o Options) {
	for idx := range c.peaks {
		if idx >= from {
			delete(c.peaks, idx)
		}
	}
	for idx := range c.ooms {
		if idx >= from {
			delete(c.ooms, idx)
		}
	}
	// Interval idx is over once its end, origin + (idx+1)·iv, is at or
	// before until.
	done := from
	if d := subMillis(until.UnixMilli(), c.origin); d != math.MaxInt64 && until.UnixMilli() >= c.origin {
		done = max(from, d/g.iv)
	}
	for idx, p := range g.peaks {
		if idx < done {
			c.peaks[idx] = *p
		}
	}
	for idx, n := range kills {
		if idx >= from && idx < done {
			c.ooms[idx] = n
		}
	}
	c.doneTo = done
	cutoff := time.Time{}
	if o.MemoryIntervals > 0 {
		cutoff = until.Add(-workload.MulSat(o.MemoryInterval, int64(o.MemoryIntervals)))
	}
	for idx, p := range c.peaks {
		if !p.End.After(cutoff) {
			// Its kill count stays: a new kill there is still noticed.
			delete(c.peaks, idx)
		}
	}
}
