package history

import (
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/sketch"
)

// A CPU shape is one hour of a pod container's CPU usage as the quantiles
// of its short-window rates (one-minute ones, say), computed where the raw
// samples are: a metrics store answers a few points an hour however often
// it scraped. A CPU sample of the series (a step's mean) whose hour has a
// shape weighs in the CPU histogram as that shape instead of as its own
// value: its weight is spread over the shape's points. The histogram's
// percentiles are then those of the short-window rates, which a step's
// mean flattens (docs/prometheus.md, "CPU at the scrape's resolution"),
// while the samples keep the means the HPA loads, the exact windows and
// the cost figures add up.

// ShapeSpan is the time one CPU shape covers: (End − ShapeSpan, End].
const ShapeSpan = time.Hour

// ShapePoints is how many values a shape holds.
const ShapePoints = 9

// A shape holds, of an hour of n windows' rates, the values at ranks
// (0 the lowest, n−1 the highest) spread over the body — the lowest, the
// quartiles, p90 and p95 — and the three highest exactly: the tail the
// profiles read (p98, p99) lies among an hour's highest few windows, where
// a quantile between two of them would be a value none of them had.
var (
	shapeBody = [...]float64{0, 0.25, 0.5, 0.75, 0.9, 0.95}
)

const shapeTop = ShapePoints - len(shapeBody)

// shapeRanks are the ranks a shape of an hour of n windows holds, in
// order (equal ones where n is small).
func shapeRanks(n int) (r [ShapePoints]float64) {
	top := float64(max(n, 1) - 1)
	for i, p := range shapeBody {
		// Below the three highest, which stay apart where they can.
		r[i] = max(min(math.Round(p*top), top-float64(shapeTop)), 0)
	}
	for j := range shapeTop {
		r[len(shapeBody)+j] = max(top-float64(shapeTop-1-j), 0)
	}
	for i := 1; i < ShapePoints; i++ {
		r[i] = max(r[i], r[i-1])
	}
	return r
}

// ShapeLevels returns the quantile levels (PromQL's φ, rank/(n−1)) a
// shape of an hour of n windows holds: quantile_over_time at these levels
// gives the values at shapeRanks exactly, without interpolation.
func ShapeLevels(n int) (l [ShapePoints]float64) {
	r := shapeRanks(n)
	for i := range l {
		if n > 1 {
			l[i] = r[i] / float64(n-1)
		} else {
			l[i] = 1
		}
	}
	return l
}

// shapeMass returns the share of a sample's weight each of a shape's
// values takes: the ranks from halfway to its lower neighbour to halfway
// to its upper one (from −½ and to n−½ at the ends), over n. An hour's
// two highest windows take 1/n each, as each of n samples would; the
// third, the ranks down to halfway to p95.
func shapeMass(n int) (m [ShapePoints]float64) {
	r := shapeRanks(n)
	nf := float64(max(n, 1))
	lo := -0.5
	for i := range ShapePoints {
		hi := nf - 0.5
		if i+1 < ShapePoints {
			hi = (r[i] + r[i+1]) / 2
		}
		m[i] = (hi - lo) / nf
		lo = hi
	}
	return m
}

// CPUShape is one hour's CPU shape.
type CPUShape struct {
	// End is the hour's end, Unix ms.
	End int64
	// N is the number of windows of an hour at the resolution read
	// (ShapeSpan over the window): the values are at shapeRanks(N).
	N uint16
	// Q holds the values at ShapeLevels(N), in cores.
	Q [ShapePoints]float32
}

// Valid reports whether the quantiles are finite, non-negative and in
// order, as quantiles of one set of rates are.
func (s *CPUShape) Valid() bool {
	if s.N < 2 {
		return false
	}
	prev := float32(0)
	for _, q := range s.Q {
		if !(q >= prev) || q > math.MaxFloat32 {
			return false
		}
		prev = q
	}
	return true
}

// covers reports whether the sample at t (Unix ms) lies in the shape's
// hour.
func (s *CPUShape) covers(t int64) bool {
	return t <= s.End && t > s.End-ShapeSpan.Milliseconds()
}

// addTo spreads a sample's weight w at tm over the shape's points.
func (s *CPUShape) addTo(h *sketch.Histogram, w float64, tm time.Time) {
	m := shapeMass(int(s.N))
	for i, q := range s.Q {
		h.Add(float64(q), w*m[i], tm)
	}
}

// AddShape records an hour's CPU shape of the series; an invalid one is
// dropped and reported false. Shapes may come in any order; Finalize
// orders them and keeps the first of each hour.
func (s *Series) AddShape(sh CPUShape) bool {
	if !sh.Valid() {
		return false
	}
	s.Shapes = append(s.Shapes, sh)
	return true
}

// sortShapes orders the shapes by hour and drops repeated hours, keeping
// the first.
func (s *Series) sortShapes() {
	if len(s.Shapes) < 2 {
		return
	}
	slices.SortStableFunc(s.Shapes, func(a, b CPUShape) int {
		switch {
		case a.End < b.End:
			return -1
		case a.End > b.End:
			return 1
		}
		return 0
	})
	s.Shapes = slices.CompactFunc(s.Shapes, func(a, b CPUShape) bool { return a.End == b.End })
}

// shapeCursor finds the shapes of samples in time order.
type shapeCursor struct {
	shapes []CPUShape
}

// at returns the shape whose hour holds t (Unix ms), nil where none does;
// t must not go back.
func (c *shapeCursor) at(t int64) *CPUShape {
	if len(c.shapes) == 0 {
		return nil
	}
	for len(c.shapes) > 0 && c.shapes[0].End < t {
		c.shapes = c.shapes[1:]
	}
	if len(c.shapes) > 0 && c.shapes[0].covers(t) {
		return &c.shapes[0]
	}
	return nil
}

// ShapeAt returns the shape whose hour holds t (Unix ms), nil where none
// does. The shapes must be sorted (Finalize).
func (s *Series) ShapeAt(t int64) *CPUShape {
	if i := s.shapeIndex(t); i < len(s.Shapes) && s.Shapes[i].covers(t) {
		return &s.Shapes[i]
	}
	return nil
}

// shapeIndex is the index of the first shape whose hour ends at t or
// later.
func (s *Series) shapeIndex(t int64) int {
	i, _ := slices.BinarySearchFunc(s.Shapes, t, func(sh CPUShape, t int64) int {
		switch {
		case sh.End < t:
			return -1
		case sh.End > t:
			return 1
		}
		return 0
	})
	return i
}

// ShapeTolerance is how far a percentile of the CPU histogram fed with
// shapes may be from the same percentile of the short-window rates
// themselves, relative: the histogram's bucket width (5 %) and the
// shape's coarseness between its ranks.
const ShapeTolerance = 0.10
