package history

import (
	"math"
	"time"
)

// highs is a sliding window's maximum: the samples no later sample is
// higher than, in time order, so their values decrease. The highest since
// any time is the first one at or after it. To stay bounded, a sample in
// the same clock hour as the last one kept is merged into it: the kept high
// holds until the later time, never past its hour, so a window's high is never understated and is
// overstated only while the window starts within that hour. Random usage
// keeps about ln(samples) highs; a steady fall at most one an hour.
//
// The newest high, while samples come in its hour, is kept apart (top):
// such a sample only raises or extends it, and the highs of s it outranks
// are let go when it joins s. The highs are then s up to the first of its
// last ones at or below top, and top.
type highs struct {
	s []timedHigh
	// top is the newest high when topIn, 1 + its hour, is above 0. Every
	// high of s is of an earlier hour, so none would merge with it.
	top   timedHigh
	topIn int64
	// sMax is at least the time of every high of s.
	sMax int64
}

type timedHigh struct {
	t int64 // Unix ms, not negative
	v float64
}

const highMergeMs = int64(time.Hour / time.Millisecond)

// addTop adds sample v at t (Unix ms, not negative) if it falls in top's
// hour, and reports whether it did: the common case, inline.
func (h *highs) addTop(t int64, v float64) bool {
	if t/highMergeMs+1 != h.topIn {
		return false
	}
	if v >= h.top.v {
		h.top = timedHigh{t, v}
	} else {
		h.top.t = max(h.top.t, t)
	}
	return true
}

// add adds sample v at t (Unix ms, not negative), one addTop did not
// take: callers try addTop first.
func (h *highs) add(t int64, v float64) {
	h.flush()
	s := h.s
	n := len(s)
	for n > 0 && s[n-1].v <= v {
		n--
	}
	hour := t / highMergeMs
	switch {
	case n > 0 && hour == s[n-1].t/highMergeMs:
		s[n-1].t = max(s[n-1].t, t)
		h.sMax = max(h.sMax, t)
		h.s = s[:n]
	case n == 0 || h.sMax/highMergeMs < hour:
		// Every high left is of an earlier hour: keep the sample apart.
		if h.s = s[:n]; n == 0 {
			h.sMax = math.MinInt64
		}
		h.top, h.topIn = timedHigh{t, v}, hour+1
	default:
		h.s = append(s[:n], timedHigh{t, v})
		h.sMax = max(h.sMax, t)
	}
}

// kept is how many highs of s the top leaves: s's last ones up to the top's
// value are let go when it joins.
func (h *highs) kept() int {
	n := len(h.s)
	if h.topIn > 0 {
		for n > 0 && h.s[n-1].v <= h.top.v {
			n--
		}
	}
	return n
}

// flush moves the top into s.
func (h *highs) flush() {
	if h.topIn == 0 {
		return
	}
	h.s = append(h.s[:h.kept()], h.top)
	h.sMax = max(h.sMax, h.top.t)
	h.topIn = 0
}

// len is the number of highs.
func (h *highs) len() int {
	if h.topIn > 0 {
		return h.kept() + 1
	}
	return len(h.s)
}

// all yields the highs in time order.
func (h *highs) all(yield func(timedHigh) bool) {
	for _, x := range h.s[:h.kept()] {
		if !yield(x) {
			return
		}
	}
	if h.topIn > 0 {
		yield(h.top)
	}
}

// since is the highest value at or after from (Unix ms), 0 without one.
func (h *highs) since(from int64) float64 {
	for x := range h.all {
		if x.t >= from {
			return x.v
		}
	}
	return 0
}

// drop lets go of the highs before cut.
func (h *highs) drop(cut int64) {
	if len(h.s) > 0 && h.s[0].t >= cut {
		return // nor the top, of a later hour
	}
	s := h.s[:h.kept()] // the rest would go with the top
	i := 0
	for i < len(s) && s[i].t < cut {
		i++
	}
	h.s = append(h.s[:0], s[i:]...)
	if h.topIn > 0 && i == len(s) && h.top.t < cut {
		h.topIn = 0
	}
	if len(h.s) == 0 {
		h.sMax = math.MinInt64
	}
}

// push appends x, as decoded: oldest first, before any add.
func (h *highs) push(x timedHigh) {
	if len(h.s) == 0 {
		h.sMax = math.MinInt64
	}
	h.s = append(h.s, x)
	h.sMax = max(h.sMax, x.t)
}
