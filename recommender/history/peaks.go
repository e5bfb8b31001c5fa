package history

import (
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// podPeaks returns one pod's per-interval memory peaks, OOM bumps included,
// for the intervals inside the lookback. Memory is judged by peaks, not
// averages: the working set's peak decides an OOM kill (R4).
func podPeaks(ser *Series, end int, ooms []OOMEvent, until time.Time, o Options) []Peak {
	start := firstMemory(ser, end)
	podOOMs := oomsOf(ser.Pod, ooms, until)
	if start < 0 && len(podOOMs) == 0 {
		return nil
	}
	g := newPeakGrid(ser, start, podOOMs, o.MemoryInterval)
	if o.HoldZeroPeaks {
		g.held = map[int64]int64{}
	}
	if start >= 0 {
		g.addObserved(ser, start, end)
	}
	g.releaseHeld(podOOMs)
	for _, ev := range podOOMs {
		g.addOOM(ser, start, end, ev, o)
	}
	return g.recent(until, o)
}

// firstMemory is the index of the pod's first memory sample before end, -1
// without one.
func firstMemory(ser *Series, end int) int {
	for i := 0; i < end; i++ {
		if !math.IsNaN(ser.Memory[i]) {
			return i
		}
	}
	return -1
}

// oomsOf lists the OOM kills of one pod before until.
func oomsOf(pod string, ooms []OOMEvent, until time.Time) []OOMEvent {
	var out []OOMEvent
	for _, ev := range ooms {
		if ev.Pod == pod && ev.Time.Before(until) {
			out = append(out, ev)
		}
	}
	return out
}

// peakGrid holds one pod's peaks by interval: intervals of iv milliseconds
// aligned to origin, the pod's first memory sample or OOM kill.
type peakGrid struct {
	pod        string
	origin, iv int64
	peaks      map[int64]*Peak
	// held, with Options.HoldZeroPeaks, maps each interval whose first
	// sample was 0 to that sample's time (Unix ms): its peak stays 0.
	held map[int64]int64
}

func newPeakGrid(ser *Series, start int, podOOMs []OOMEvent, interval time.Duration) peakGrid {
	var origin int64
	if start >= 0 {
		origin = ser.Time[start]
	} else {
		origin = podOOMs[0].Time.UnixMilli()
	}
	for _, ev := range podOOMs {
		origin = min(origin, ev.Time.UnixMilli())
	}
	return peakGrid{pod: ser.Pod, origin: origin, iv: max(interval.Milliseconds(), 1), peaks: map[int64]*Peak{}}
}

// index is the interval holding t. Every time here is at or after origin;
// the differences saturate rather than wrap for times hundreds of millions
// of years apart.
func (g *peakGrid) index(t int64) int64 { return subMillis(t, g.origin) / g.iv }

// get returns the peak of interval idx, creating it.
func (g *peakGrid) get(idx int64) *Peak {
	p := g.peaks[idx]
	if p == nil {
		end := workload.AddSat(g.origin, workload.MulSat(workload.AddSat(idx, 1), g.iv))
		p = &Peak{Pod: g.pod, End: time.UnixMilli(end).UTC()}
		g.peaks[idx] = p
	}
	return p
}

// addObserved raises each interval's peak to the highest sample in it.
// With held intervals (HoldZeroPeaks) an interval whose first sample is 0
// keeps a peak of 0; a negative sample, which the real recommender drops,
// opens no interval.
func (g *peakGrid) addObserved(ser *Series, start, end int) {
	var p *Peak
	last := int64(-1) // index never returns a negative interval
	opened, hold := false, false
	for i := start; i < end; i++ {
		v := ser.Memory[i]
		if math.IsNaN(v) {
			continue
		}
		// Most samples fall in the interval of the one before.
		if idx := g.index(ser.Time[i]); idx != last {
			p, last = g.get(idx), idx
			opened, hold = false, false
		}
		b := workload.BytesOf(v)
		if g.held != nil && !opened && v >= 0 {
			// Samples come in time order: the first one opens the interval.
			opened = true
			if b == 0 {
				hold = true
				g.held[last] = ser.Time[i]
			}
		}
		p.Observed = max(p.Observed, b)
		if !hold {
			p.Bytes = max(p.Bytes, b)
		}
	}
}

// releaseHeld lets go the held intervals an OOM kill opened: a kill before
// the interval's first sample sets its peak to the kill's bump, which is
// not 0, so the samples after it count as usual.
func (g *peakGrid) releaseHeld(podOOMs []OOMEvent) {
	for _, ev := range podOOMs {
		t := ev.Time.UnixMilli()
		idx := g.index(t)
		if first, ok := g.held[idx]; ok && t < first {
			delete(g.held, idx)
			p := g.get(idx)
			p.Bytes = max(p.Bytes, p.Observed)
		}
	}
}

// addOOM turns an OOM kill into a synthetic peak in its interval (R6:
// OOMKilled → raise the memory limit): the usage that was killed was above
// what the samples show, so the peak becomes oomBump of the most the
// container is known to have reached — the limit in force, the interval's
// peak up to the kill, the usage at the kill.
func (g *peakGrid) addOOM(ser *Series, start, end int, ev OOMEvent, o Options) {
	t := ev.Time.UnixMilli()
	idx := g.index(t)
	if _, ok := g.held[idx]; ok {
		// Held at 0 (HoldZeroPeaks): the kill adds nothing; the interval
		// still had one.
		g.get(idx).OOM = true
		return
	}
	// The interval's peak so far: samples up to the kill only.
	var sofar workload.Bytes
	if start >= 0 {
		lo := ser.Search(workload.AddSat(g.origin, workload.MulSat(idx, g.iv)))
		for i := lo; i < end && ser.Time[i] <= t; i++ {
			if v := ser.Memory[i]; !math.IsNaN(v) {
				sofar = max(sofar, workload.BytesOf(float64(v)))
			}
		}
	}
	p := g.get(idx)
	p.Bytes = max(p.Bytes, oomBump(max(ev.Limit, sofar, ev.Usage), o.OOMBumpRatio, o.OOMMinBump))
	p.OOM = true
}

// oomBump is the synthetic peak an OOM kill at m bytes counts as:
// max(ratio·m, m + minBump), VPA's rule (R6). Near the int64 range it
// saturates instead of wrapping into a negative peak.
func oomBump(m workload.Bytes, ratio float64, minBump workload.Bytes) workload.Bytes {
	return max(workload.BytesOf(math.Ceil(float64(m)*ratio)), workload.AddSat(m, minBump))
}

// recent returns the peaks of the last MemoryIntervals intervals before
// until (all with 0), oldest first.
func (g *peakGrid) recent(until time.Time, o Options) []Peak {
	out := make([]Peak, 0, len(g.peaks))
	cutoff := time.Time{}
	if o.MemoryIntervals > 0 {
		cutoff = until.Add(-workload.MulSat(o.MemoryInterval, int64(o.MemoryIntervals)))
	}
	for _, p := range g.peaks {
		if p.End.After(cutoff) {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Peak) int { return a.End.Compare(b.End) })
	return out
}
