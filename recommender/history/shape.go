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

// ShapePoints is how many quantiles a shape holds.
const ShapePoints = 9

// ShapeLevels are the quantiles a shape holds: the body in quarters, the
// tail where the profiles read it (p90 to p99), and both extremes.
var ShapeLevels = [ShapePoints]float64{0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 1}

// shapeMass is the share of a sample's weight each level's value takes:
// half the mass between it and each neighbouring level. The cumulative
// weight through level i is then midway between levels i and i+1, so that
// the histogram's quantile at any of the levels is that level's value.
var shapeMass = func() (m [ShapePoints]float64) {
	for i := range ShapePoints {
		lo, hi := ShapeLevels[i], ShapeLevels[i]
		if i > 0 {
			lo = ShapeLevels[i-1]
		}
		if i+1 < ShapePoints {
			hi = ShapeLevels[i+1]
		}
		m[i] = (hi - lo) / 2
	}
	return m
}()

// CPUShape is one hour's CPU shape.
type CPUShape struct {
	// End is the hour's end, Unix ms.
	End int64
	// Q holds the quantiles at ShapeLevels, in cores.
	Q [ShapePoints]float32
}

// Valid reports whether the quantiles are finite, non-negative and in
// order, as quantiles of one set of rates are.
func (s *CPUShape) Valid() bool {
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
	for i, q := range s.Q {
		h.Add(float64(q), w*shapeMass[i], tm)
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

// ShapeAt returns the shape whose hour holds t (Unix ms), nil where none
// does. The shapes must be sorted (Finalize).
func (s *Series) ShapeAt(t int64) *CPUShape {
	i, _ := slices.BinarySearchFunc(s.Shapes, t, func(sh CPUShape, t int64) int {
		switch {
		case sh.End < t:
			return -1
		case sh.End > t:
			return 1
		}
		return 0
	})
	if i < len(s.Shapes) && s.Shapes[i].covers(t) {
		return &s.Shapes[i]
	}
	return nil
}

// ShapeTolerance is how far a percentile of the CPU histogram fed with
// shapes may be from the same percentile of the short-window rates
// themselves, relative: the histogram's bucket width (5 %) and the
// shape's coarseness between its levels.
const ShapeTolerance = 0.10
