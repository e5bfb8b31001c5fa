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
	if len(w.values) == 0 {
		return 0
	}
	if !w.sorted {
		slices.Sort(w.values)
		w.sorted = true
	}
	if !(q >= 0) {
		q = 0 // NaN too: the int conversion below needs a finite number
	}
	q = min(q, 1)
	pos := q * float64(len(w.values)-1)
	lo := int(math.Floor(pos))
	if lo >= len(w.values)-1 {
		return w.values[len(w.values)-1]
	}
	frac := pos - float64(lo)
	if frac == 0 || w.values[lo] == w.values[lo+1] {
		// Exact as it is, and no Inf − Inf = NaN between infinite values.
		return w.values[lo]
	}
	return w.values[lo] + frac*(w.values[lo+1]-w.values[lo])
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
func Summarize(key workload.ContainerKey, series []*Series, ooms []OOMEvent, until time.Time, o Options) (*Summary, error) {
	cpu, err := sketch.New(o.CPU)
	if err != nil {
		return nil, fmt.Errorf("cpu histogram: %w", err)
	}
	mem, err := sketch.New(o.Memory)
	if err != nil {
		return nil, fmt.Errorf("memory histogram: %w", err)
	}
	s := &Summary{Key: key, Until: until, CPU: cpu, MemoryPeaks: mem}
	u := until.UnixMilli()
	windowStart := int64(math.MinInt64)
	if o.Window > 0 {
		windowStart = until.Add(-o.Window).UnixMilli()
	}
	cpuStart := int64(math.MinInt64)
	if o.CPULookback > 0 {
		cpuStart = until.Add(-o.CPULookback).UnixMilli()
	}
	nowStart := until.Add(-time.Hour).UnixMilli()
	var lastSettingsAt int64 = math.MinInt64
	var cpuFirst, memFirst int64
	// Observed time is summed in milliseconds: a Duration overflows past
	// 292 years, which one far-off timestamp is enough to span.
	var effective int64
	var throttledSum float64
	// The histograms take their decay reference from the first sample they
	// see; feeding the oldest pod first keeps every weight ≥ 1 relative to
	// it, far from the epsilon below which buckets are ignored.
	series = slices.Clone(series)
	slices.SortStableFunc(series, func(a, b *Series) int {
		if a.Len() == 0 || b.Len() == 0 {
			return b.Len() - a.Len()
		}
		return cmp.Compare(a.Time[0], b.Time[0])
	})
	for _, ser := range series {
		end := ser.Search(u)
		if end == 0 {
			continue
		}
		s.Pods++
		if ser.Time[end-1] >= nowStart {
			s.PodsNow++
		}
		first, last := time.UnixMilli(ser.Time[0]).UTC(), time.UnixMilli(ser.Time[end-1]).UTC()
		if s.First.IsZero() || first.Before(s.First) {
			s.First = first
		}
		if last.After(s.Last) {
			s.Last = last
		}
		if ser.Time[end-1] > lastSettingsAt {
			lastSettingsAt = ser.Time[end-1]
			s.Current = ser.SettingsAt(end - 1)
		}
		// The usual step of what was seen before until: later samples are
		// not the decision's to know.
		stepCap := workload.MulSat(medianStepMillis(ser.Time[max(end-recentSteps-1, 0):end]), 2)
		var covered int64
		if n := end - ser.Search(windowStart); n > 0 {
			s.CPUWindow.values = slices.Grow(s.CPUWindow.values, n)
			s.MemoryWindow.values = slices.Grow(s.MemoryWindow.values, n)
		}
		for i := 0; i < end; i++ {
			t := ser.Time[i]
			if i > 0 && stepCap > 0 {
				covered = workload.AddSat(covered, min(subMillis(t, ser.Time[i-1]), stepCap))
			}
			if v := ser.CPU[i]; !math.IsNaN(v) {
				if s.CPUSamples == 0 || t < cpuFirst {
					cpuFirst = t
				}
				s.CPUSamples++
				if t >= cpuStart {
					cpu.Add(float64(v), o.CPUSampleWeight, time.UnixMilli(t))
				}
				if t >= windowStart {
					s.CPUWindow.add(float64(v), t)
				}
			}
			if v := ser.Memory[i]; !math.IsNaN(v) {
				if s.MemorySamples == 0 || t < memFirst {
					memFirst = t
				}
				s.MemorySamples++
				if t >= windowStart {
					s.MemoryWindow.add(float64(v), t)
				}
			}
			if v := ser.Throttled[i]; !isNaN32(v) && t >= windowStart {
				s.ThrottledSamples++
				throttledSum += float64(v)
			}
		}
		effective = workload.AddSat(effective, covered)
		s.Peaks = append(s.Peaks, podPeaks(ser, end, ooms, until, o)...)
	}
	if s.ThrottledSamples > 0 {
		// A share: whatever the samples held, the mean stays in [0, 1].
		s.Throttled = throttledSum / float64(s.ThrottledSamples)
		if !(s.Throttled >= 0) {
			s.Throttled = 0
		}
		s.Throttled = min(s.Throttled, 1)
	}
	if s.CPUSamples > 0 {
		s.CPUFirst = time.UnixMilli(cpuFirst).UTC()
	}
	if s.MemorySamples > 0 {
		s.MemoryFirst = time.UnixMilli(memFirst).UTC()
	}
	s.CPUWindow.finish()
	s.MemoryWindow.finish()
	for _, ev := range ooms {
		if ev.Time.Before(until) {
			s.OOMs = append(s.OOMs, ev)
		}
	}
	for _, p := range s.Peaks {
		mem.Add(float64(p.Bytes), 1, p.End)
	}
	// Pods of one workload overlap in time: count at most the span, so three
	// replicas do not triple the evidence, but a CronJob's short runs add up.
	// Sub saturates, as does millisDuration.
	s.Observed = min(millisDuration(effective), s.Last.Sub(s.First))
	days := s.Observed.Hours() / 24
	s.Confidence = confidence(days)
	return s, nil
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

// podPeaks returns one pod's per-interval memory peaks, OOM bumps included,
// for the intervals inside the lookback.
func podPeaks(ser *Series, end int, ooms []OOMEvent, until time.Time, o Options) []Peak {
	start := -1
	for i := 0; i < end; i++ {
		if !math.IsNaN(ser.Memory[i]) {
			start = i
			break
		}
	}
	var podOOMs []OOMEvent
	for _, ev := range ooms {
		if ev.Pod == ser.Pod && ev.Time.Before(until) {
			podOOMs = append(podOOMs, ev)
		}
	}
	if start < 0 && len(podOOMs) == 0 {
		return nil
	}
	var origin int64
	switch {
	case start >= 0:
		origin = ser.Time[start]
	default:
		origin = podOOMs[0].Time.UnixMilli()
	}
	for _, ev := range podOOMs {
		origin = min(origin, ev.Time.UnixMilli())
	}
	iv := max(o.MemoryInterval.Milliseconds(), 1)
	// Every time here is at or after origin; the differences saturate
	// rather than wrap for times hundreds of millions of years apart.
	index := func(t int64) int64 { return subMillis(t, origin) / iv }
	peaks := map[int64]*Peak{}
	get := func(idx int64) *Peak {
		p := peaks[idx]
		if p == nil {
			end := workload.AddSat(origin, workload.MulSat(workload.AddSat(idx, 1), iv))
			p = &Peak{Pod: ser.Pod, End: time.UnixMilli(end).UTC()}
			peaks[idx] = p
		}
		return p
	}
	if start >= 0 {
		for i := start; i < end; i++ {
			v := ser.Memory[i]
			if math.IsNaN(v) {
				continue
			}
			p := get(index(ser.Time[i]))
			b := workload.BytesOf(v)
			p.Observed = max(p.Observed, b)
			p.Bytes = max(p.Bytes, b)
		}
	}
	for _, ev := range podOOMs {
		t := ev.Time.UnixMilli()
		idx := index(t)
		// The interval's peak so far: samples up to the kill only.
		var sofar workload.Bytes
		if start >= 0 {
			lo := ser.Search(workload.AddSat(origin, workload.MulSat(idx, iv)))
			for i := lo; i < end && ser.Time[i] <= t; i++ {
				if v := ser.Memory[i]; !math.IsNaN(v) {
					sofar = max(sofar, workload.BytesOf(float64(v)))
				}
			}
		}
		m := max(ev.Limit, sofar, ev.Usage)
		// Near the int64 range the bump saturates instead of wrapping
		// into a negative peak.
		bump := max(workload.BytesOf(math.Ceil(float64(m)*o.OOMBumpRatio)), workload.AddSat(m, o.OOMMinBump))
		p := get(idx)
		p.Bytes = max(p.Bytes, bump)
		p.OOM = true
	}
	out := make([]Peak, 0, len(peaks))
	cutoff := time.Time{}
	if o.MemoryIntervals > 0 {
		cutoff = until.Add(-workload.MulSat(o.MemoryInterval, int64(o.MemoryIntervals)))
	}
	for _, p := range peaks {
		if p.End.After(cutoff) {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Peak) int { return a.End.Compare(b.End) })
	return out
}
