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
	if start >= 0 {
		g.addObserved(ser, start, end)
	}
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
func (g *peakGrid) addObserved(ser *Series, start, end int) {
	var p *Peak
	last := int64(-1) // index never returns a negative interval
	for i := start; i < end; i++ {
		v := ser.Memory[i]
		if math.IsNaN(v) {
			continue
		}
		// Most samples fall in the interval of the one before.
		if idx := g.index(ser.Time[i]); idx != last {
			p, last = g.get(idx), idx
		}
		b := workload.BytesOf(v)
		p.Observed = max(p.Observed, b)
		p.Bytes = max(p.Bytes, b)
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
