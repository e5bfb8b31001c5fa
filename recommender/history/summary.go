package history

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

// Options say how samples are reduced. Profiles carry their own.
type Options struct {
	// CPU lays out and decays the CPU usage histogram.
	CPU sketch.Options
	// CPUSampleWeight is each CPU sample's weight before decay (VPA: 0.1).
	CPUSampleWeight float64
	// CPULookback limits the CPU histogram to recent samples; 0 = all.
	CPULookback time.Duration
	// Memory lays out and decays the histogram of memory peaks.
	Memory sketch.Options
	// MemoryInterval is the length of a peak interval (default 24 h); each
	// pod contributes one peak per interval, intervals aligned to its first
	// memory sample.
	MemoryInterval time.Duration
	// MemoryIntervals is how many intervals back peaks count (default 8);
	// 0 = all.
	MemoryIntervals int
	// OOMBumpRatio and OOMMinBump turn an OOM kill into a synthetic peak of
	// max(ratio·m, m + min) where m is the larger of the limit in force and
	// the interval's peak so far (R6: OOMKilled → raise the memory limit).
	OOMBumpRatio float64
	OOMMinBump   workload.Bytes
	// HoldZeroPeaks keeps at 0 the peak of an interval whose first memory
	// sample is 0: later samples and OOM kills in it do not raise it. The
	// real VPA recommender behaves so (its ContainerState replaces an
	// interval's peak only while that peak is non-zero); the `vpa` profile
	// sets it to reproduce the recommender. An OOM kill before the
	// interval's first sample opens it with its bump as usual. Off by
	// default.
	HoldZeroPeaks bool
	// Window is the lookback of the exact window statistics; 0 = all.
	Window time.Duration
}

// DefaultOptions returns the defaults: VPA-compatible layout with a 24 h
// half-life, 24 h × 8 memory peaks and a 14-day exact window.
func DefaultOptions() Options {
	return Options{
		CPU:             sketch.Options{FirstBucket: 0.001, Growth: 1.04, Max: 1000, HalfLife: 24 * time.Hour},
		CPUSampleWeight: 1,
		Memory:          sketch.Options{FirstBucket: 1 << 20, Growth: 1.04, Max: 1e13, HalfLife: 24 * time.Hour},
		MemoryInterval:  24 * time.Hour,
		MemoryIntervals: 8,
		OOMBumpRatio:    1.2,
		OOMMinBump:      100 * workload.MiB,
		Window:          14 * 24 * time.Hour,
	}
}

// Validate reports every invalid option at once.
func (o Options) Validate() error {
	var errs []error
	if err := o.CPU.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("cpu histogram: %w", err))
	}
	if err := o.Memory.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("memory histogram: %w", err))
	}
	if o.CPUSampleWeight <= 0 {
		errs = append(errs, errors.New("cpu sample weight must be positive"))
	}
	if o.MemoryInterval <= 0 {
		errs = append(errs, errors.New("memory interval must be positive"))
	}
	if o.MemoryIntervals < 0 || o.CPULookback < 0 || o.Window < 0 {
		errs = append(errs, errors.New("lookbacks must not be negative"))
	}
	if o.OOMBumpRatio < 1 {
		errs = append(errs, errors.New("oom bump ratio must be at least 1"))
	}
	return errors.Join(errs...)
}

// OOMEvent is one OOM kill of a pod's container.
type OOMEvent struct {
	Time time.Time
	Pod  string
	// Limit is the memory limit in force when it happened (0 = none known).
	Limit workload.Bytes
	// Usage is the working set observed at the kill (0 = unknown).
	Usage workload.Bytes
}

// Peak is the highest memory working set of one pod in one interval.
type Peak struct {
	Pod string
	// End is the end of the interval.
	End time.Time
	// Bytes is the peak, raised by an OOM bump where an OOM happened.
	Bytes workload.Bytes
	// Observed is the highest sample actually seen.
	Observed workload.Bytes
	OOM      bool
}

// Window holds the exact values of one resource over the lookback window.
type Window struct {
	values      []float64
	sorted      bool
	Count       int
	Mean, Max   float64
	First, Last time.Time

	// Summarize's fast path: times in Unix ms and a plain sum, turned into
	// First, Last and Mean by finish.
	firstMs, lastMs int64
	sum             float64

	// hist answers Quantile for a window kept without its values (an
	// Accumulator's).
	hist *sketch.Histogram
	// lazy supplies the sorted values on the first Quantile, for a window
	// an Incremental keeps sorted only when asked.
	lazy *lazyValues
}

// Span is the time from the window's first to its last sample.
func (w *Window) Span() time.Duration {
	if w.Count == 0 {
		return 0
	}
	return w.Last.Sub(w.First)
}

// Quantile returns the q-quantile by linear interpolation between the
// closest ranks (numpy's default), 0 for an empty window.
func (w *Window) Quantile(q float64) float64 {
	if len(w.values) == 0 && w.lazy != nil && w.Count > 0 {
		w.values, w.sorted = w.lazy.sorted(), true
	}
	if len(w.values) == 0 {
		if w.hist != nil && w.Count > 0 {
			return min(w.hist.Quantile(q), w.hist.Max())
		}
		return 0
	}
	if !w.sorted {
		slices.Sort(w.values)
		w.sorted = true
	}
	return SortedQuantile(w.values, q)
}

// SortedQuantile is Window.Quantile of values already sorted: the
// q-quantile by linear interpolation between the closest ranks, 0 for
// none. A backtest's oracle takes it of each interval's samples.
func SortedQuantile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	if !(q >= 0) {
		q = 0 // NaN too: the int conversion below needs a finite number
	}
	q = min(q, 1)
	pos := q * float64(len(values)-1)
	lo := int(math.Floor(pos))
	if lo >= len(values)-1 {
		return values[len(values)-1]
	}
	frac := pos - float64(lo)
	if frac == 0 || values[lo] == values[lo+1] {
		// Exact as it is, and no Inf − Inf = NaN between infinite values.
		return values[lo]
	}
	return values[lo] + frac*(values[lo+1]-values[lo])
}

// add is Add without finish, for Summarize's hot path: only the ends (in
// Unix ms) and a sum are kept until finish.
func (w *Window) add(v float64, ms int64) {
	if w.Count == 0 {
		w.firstMs, w.lastMs = ms, ms
	} else {
		w.firstMs, w.lastMs = min(w.firstMs, ms), max(w.lastMs, ms)
	}
	w.values = append(w.values, v)
	w.Count++
	w.sum += v
	w.Max = max(w.Max, v)
}

// finish sets First, Last and Mean after add.
func (w *Window) finish() {
	if w.Count == 0 {
		return
	}
	w.First, w.Last = time.UnixMilli(w.firstMs).UTC(), time.UnixMilli(w.lastMs).UTC()
	w.Mean = w.sum / float64(w.Count)
}

// Add adds one value observed at t.
func (w *Window) Add(v float64, t time.Time) {
	w.add(v, t.UnixMilli())
	w.finish()
}

// Summary is what a policy decides from for one workload container.
type Summary struct {
	Key workload.ContainerKey
	// Until is the instant of the decision: only samples before it count.
	Until time.Time
	// Pods is the number of pods with samples; PodsNow those sampled in
	// the last hour before Until (the current replica count, roughly).
	Pods, PodsNow int
	// First and Last are the first and last sample times (any resource).
	First, Last               time.Time
	CPUSamples, MemorySamples int
	CPUFirst, MemoryFirst     time.Time
	CPU                       *sketch.Histogram
	MemoryPeaks               *sketch.Histogram
	Peaks                     []Peak
	CPUWindow, MemoryWindow   Window
	OOMs                      []OOMEvent
	// Throttled is the mean share of throttled CFS periods over the window;
	// ThrottledSamples says how many samples reported it.
	Throttled        float64
	ThrottledSamples int
	// Observed is the time the pods were observed: sample steps summed over
	// pods (gaps longer than twice the usual step do not count), at most the
	// span from First to Last.
	Observed time.Duration
	// Confidence in [0, 1]: 1 − 2^(−days/2), where days is the time the
	// pods were observed (gaps longer than twice the usual step do not
	// count), summed over pods but at most the history's span.
	Confidence float64
	// Current is the latest recorded setting.
	Current workload.Settings
}

// HasCPU and HasMemory report whether any sample of the resource was seen.
func (s *Summary) HasCPU() bool    { return s.CPUSamples > 0 }
func (s *Summary) HasMemory() bool { return s.MemorySamples > 0 }

// OOMsFromSeries lists the OOM kills recorded in the samples before until.
func OOMsFromSeries(series []*Series, until time.Time) []OOMEvent {
	var out []OOMEvent
	u := until.UnixMilli()
	for _, s := range series {
		for i := 0; i < s.Len() && s.Time[i] < u; i++ {
			if !s.OOM[i] {
				continue
			}
			ev := OOMEvent{Time: time.UnixMilli(s.Time[i]).UTC(), Pod: s.Pod, Limit: s.SettingsAt(i).Limits.Memory}
			if m := s.Memory[i]; !math.IsNaN(m) {
				ev.Usage = workload.BytesOf(m)
			}
			out = append(out, ev)
		}
	}
	return out
}

// Summarize reduces the samples of one workload container taken before
// until. OOM events come from the caller: recorded kills (OOMsFromSeries) when
// reading history, replayed ones in a backtest.
//
// Each part of the summary is its own function, run pod by pod: the pods
// and the current settings (addPod), the CPU histogram and window (addCPU),
// the memory window (addMemory), throttling (addThrottling), the time
// observed behind the confidence (observedMillis) and the memory peaks with
// their OOM bumps (podPeaks); finish derives the rest. The memory trend is
// fitted when a policy asks for it (Summary.MemoryTrend).
func Summarize(key workload.ContainerKey, series []*Series, ooms []OOMEvent, until time.Time, o Options) (*Summary, error) {
	return summarizeParts(key, series, ooms, until, o, false)
}

// SummarizeCPU is Summarize's CPU figures alone (see
// Incremental.SummarizeCPU): what a reader of the CPU request needs,
// without reading memory, throttling or peaks.
func SummarizeCPU(key workload.ContainerKey, series []*Series, until time.Time, o Options) (*Summary, error) {
	return summarizeParts(key, series, nil, until, o, true)
}

func summarizeParts(key workload.ContainerKey, series []*Series, ooms []OOMEvent, until time.Time, o Options, cpuOnly bool) (*Summary, error) {
	cpu, err := sketch.New(o.CPU)
	if err != nil {
		return nil, fmt.Errorf("cpu histogram: %w", err)
	}
	s := &Summary{Key: key, Until: until, CPU: cpu}
	if !cpuOnly {
		if s.MemoryPeaks, err = sketch.New(o.Memory); err != nil {
			return nil, fmt.Errorf("memory histogram: %w", err)
		}
	}
	z := newSummarizer(s, o)
	for _, ser := range oldestFirst(series) {
		end := ser.Search(z.until)
		if end == 0 {
			continue
		}
		z.addPod(ser, end)
		z.addCPU(ser, end)
		if cpuOnly {
			continue
		}
		z.addMemory(ser, end)
		z.addThrottling(ser, end)
		z.observed = workload.AddSat(z.observed, observedMillis(ser, end))
		z.s.Peaks = append(z.s.Peaks, podPeaks(ser, end, ooms, until, o)...)
	}
	if cpuOnly {
		if s.CPUSamples > 0 {
			s.CPUFirst = time.UnixMilli(z.cpuFirst).UTC()
		}
		s.CPUWindow.finish()
		return s, nil
	}
	z.finish(ooms)
	return s, nil
}

// summarizer is a Summary being built, with the bounds of its parts and the
// running figures they keep between pods. Times are Unix milliseconds.
type summarizer struct {
	s *Summary
	o Options
	// until ends every part; windowStart starts the exact windows and the
	// throttled share, cpuStart the CPU histogram, nowStart "the last hour"
	// of PodsNow.
	until, windowStart, cpuStart, nowStart int64
	// lastSettingsAt is the newest sample time whose settings are Current.
	lastSettingsAt int64
	// cpuFirst and memFirst are the first sample times of each resource.
	cpuFirst, memFirst int64
	// observed is the time the pods were observed, summed in milliseconds:
	// a Duration overflows past 292 years, which one far-off timestamp is
	// enough to span.
	observed     int64
	throttledSum float64
}

func newSummarizer(s *Summary, o Options) summarizer {
	z := summarizer{
		s: s, o: o, until: s.Until.UnixMilli(),
		windowStart: math.MinInt64, cpuStart: math.MinInt64,
		nowStart:       s.Until.Add(-time.Hour).UnixMilli(),
		lastSettingsAt: math.MinInt64,
		cpuFirst:       math.MaxInt64, memFirst: math.MaxInt64,
	}
	if o.Window > 0 {
		z.windowStart = s.Until.Add(-o.Window).UnixMilli()
	}
	if o.CPULookback > 0 {
		z.cpuStart = s.Until.Add(-o.CPULookback).UnixMilli()
	}
	return z
}

// oldestFirst orders the series by their first sample. The histograms take
// their decay reference from the first sample they see; feeding the oldest
// pod first keeps every weight ≥ 1 relative to it, far from the epsilon
// below which buckets are ignored.
func oldestFirst(series []*Series) []*Series {
	series = slices.Clone(series)
	slices.SortStableFunc(series, func(a, b *Series) int {
		if a.Len() == 0 || b.Len() == 0 {
			return b.Len() - a.Len()
		}
		return cmp.Compare(a.Time[0], b.Time[0])
	})
	return series
}

// addPod counts the pod (PodsNow: sampled in the last hour, the current
// replica count), widens First and Last, and takes the pod's latest
// recorded settings as Current where they are the newest seen.
func (z *summarizer) addPod(ser *Series, end int) {
	s := z.s
	s.Pods++
	lastMs := ser.Time[end-1]
	if lastMs >= z.nowStart {
		s.PodsNow++
	}
	first, last := time.UnixMilli(ser.Time[0]).UTC(), time.UnixMilli(lastMs).UTC()
	if s.First.IsZero() || first.Before(s.First) {
		s.First = first
	}
	if last.After(s.Last) {
		s.Last = last
	}
	if lastMs > z.lastSettingsAt {
		z.lastSettingsAt = lastMs
		s.Current = ser.SettingsAt(end - 1)
	}
}

// addCPU feeds one pod's CPU samples to the decaying histogram (those inside
// CPULookback, each weighing CPUSampleWeight, as their hour's shape where
// the series has one) and to the exact window.
func (z *summarizer) addCPU(ser *Series, end int) {
	h, w, weight := z.s.CPU, &z.s.CPUWindow, z.o.CPUSampleWeight
	w.reserve(ser, end, z.windowStart)
	// Locals, not fields: the loop calls out, and fields would be reloaded.
	cpuStart, windowStart := z.cpuStart, z.windowStart
	n, first := 0, z.cpuFirst
	times := ser.Time[:end]
	shapes := shapeCursor{shapes: ser.Shapes}
	for i, v := range ser.CPU[:end] {
		if math.IsNaN(v) {
			continue
		}
		t := times[i]
		first = min(first, t)
		n++
		if t >= cpuStart {
			if sh := shapes.at(t); sh != nil {
				sh.addTo(h, weight, time.UnixMilli(t))
			} else {
				h.Add(v, weight, time.UnixMilli(t))
			}
		}
		if t >= windowStart {
			w.add(v, t)
		}
	}
	z.s.CPUSamples += n
	z.cpuFirst = first
}

// addMemory adds one pod's memory samples to the exact window; the peaks
// histogram is fed from the per-interval peaks (podPeaks) instead.
func (z *summarizer) addMemory(ser *Series, end int) {
	w := &z.s.MemoryWindow
	w.reserve(ser, end, z.windowStart)
	windowStart := z.windowStart
	n, first := 0, z.memFirst
	times := ser.Time[:end]
	for i, v := range ser.Memory[:end] {
		if math.IsNaN(v) {
			continue
		}
		t := times[i]
		first = min(first, t)
		n++
		if t >= windowStart {
			w.add(v, t)
		}
	}
	z.s.MemorySamples += n
	z.memFirst = first
}

// addThrottling sums one pod's throttled shares of CFS periods inside the
// window; a share at or above a profile's threshold raises the CPU limit (R6).
func (z *summarizer) addThrottling(ser *Series, end int) {
	windowStart := z.windowStart
	n, sum := 0, z.throttledSum
	times := ser.Time[:end]
	for i, v := range ser.Throttled[:end] {
		if !isNaN32(v) && times[i] >= windowStart {
			n++
			sum += float64(v)
		}
	}
	z.s.ThrottledSamples += n
	z.throttledSum = sum
}

// finish derives what needs every pod: the throttled share, first sample
// times, window means, the OOM kills seen, the peaks histogram, and the
// observed time and confidence.
func (z *summarizer) finish(ooms []OOMEvent) {
	s := z.s
	s.Throttled = throttledShare(z.throttledSum, s.ThrottledSamples)
	if s.CPUSamples > 0 {
		s.CPUFirst = time.UnixMilli(z.cpuFirst).UTC()
	}
	if s.MemorySamples > 0 {
		s.MemoryFirst = time.UnixMilli(z.memFirst).UTC()
	}
	s.CPUWindow.finish()
	s.MemoryWindow.finish()
	for _, ev := range ooms {
		if ev.Time.Before(s.Until) {
			s.OOMs = append(s.OOMs, ev)
		}
	}
	for _, p := range s.Peaks {
		s.MemoryPeaks.Add(float64(p.Bytes), 1, p.End)
	}
	// Pods of one workload overlap in time: count at most the span, so three
	// replicas do not triple the evidence, but a CronJob's short runs add up.
	// Sub saturates, as does millisDuration.
	s.Observed = min(millisDuration(z.observed), s.Last.Sub(s.First))
	s.Confidence = confidence(s.Observed.Hours() / 24)
}

// throttledShare is the mean of n throttled shares summing to sum: a share,
// so whatever the samples held it stays in [0, 1]; 0 without samples.
func throttledShare(sum float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	v := sum / float64(n)
	if !(v >= 0) { // NaN too
		v = 0
	}
	return min(v, 1)
}

// observedMillis is the time one pod was observed before end: its sample
// steps summed, each at most twice the usual step, so a gap does not count
// as observation. The usual step is that of what was seen before the
// decision: later samples are not the decision's to know.
func observedMillis(ser *Series, end int) int64 {
	stepCap := workload.MulSat(medianStepMillis(ser.Time[max(end-recentSteps-1, 0):end]), 2)
	if stepCap <= 0 {
		return 0
	}
	var covered int64
	for i := 1; i < end; i++ {
		covered = workload.AddSat(covered, min(subMillis(ser.Time[i], ser.Time[i-1]), stepCap))
	}
	return covered
}

// reserve makes room in w for the samples of ser from start (Unix ms) to
// end.
func (w *Window) reserve(ser *Series, end int, start int64) {
	if n := end - ser.Search(start); n > 0 {
		w.values = slices.Grow(w.values, n)
	}
}

// confidence is 1 − 2^(−days/2), held within [0, 1] whatever days holds.
func confidence(days float64) float64 {
	c := 1 - math.Exp2(-days/2)
	if !(c >= 0) { // NaN too
		return 0
	}
	return min(c, 1)
}

// MedianStepMillis returns the median time between consecutive samples in
// milliseconds, 0 with fewer than two samples. Unlike MedianStep it cannot
// overflow: samples centuries apart give a step of centuries.
func (s *Series) MedianStepMillis() int64 { return medianStepMillis(s.Time) }

// medianStepMillis is the median difference of consecutive sorted times.
func medianStepMillis(times []int64) int64 {
	if len(times) < 2 {
		return 0
	}
	steps := make([]int64, len(times)-1)
	for i := 1; i < len(times); i++ {
		steps[i-1] = subMillis(times[i], times[i-1])
	}
	slices.Sort(steps)
	return steps[len(steps)/2]
}

// subMillis returns a − b for a ≥ b, held at math.MaxInt64 where the
// difference of two Unix-millisecond times does not fit.
func subMillis(a, b int64) int64 {
	if d := a - b; d >= 0 {
		return d
	}
	return math.MaxInt64
}

// millisDuration converts milliseconds to a Duration, saturating at the
// largest one (about 292 years).
func millisDuration(ms int64) time.Duration {
	if ms > int64(math.MaxInt64/time.Millisecond) {
		return math.MaxInt64
	}
	if ms < int64(math.MinInt64/time.Millisecond) {
		return math.MinInt64
	}
	return time.Duration(ms) * time.Millisecond
}
