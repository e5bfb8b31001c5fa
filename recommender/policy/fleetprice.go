package policy

import (
	"math"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/sketch"
)

// FleetPrice raises CPU requests where time short is cheap to avoid, with
// one price of time short for the whole fleet at each decision.
//
// The fleet's share of time short counts every container alike, while its
// idle cores count by size: a small container covered to its tail costs a
// few millicores and takes a whole container's risk away. So each
// container's request is at least the newsvendor request at price λ (the
// request minimising expected idle cores + λ × the share of time short,
// over its decayed usage histogram), and λ is the lowest price at which the
// fleet's in-sample share of time short is at most RiskFactor × what VPA's
// own rule (p90 + 15 %, at least 25m) would have on the same usage: the risk
// this field's users already run. RiskFactor below 1 leaves room for the
// next day: the newsvendor sits on its in-sample risk exactly, where VPA's
// 15 % margin does not. One λ per fleet, not per profile constant: the
// traces measured need from 1 to 50 (docs/policy.md).
type FleetPrice struct {
	RiskFactor float64
}

// priceGrid are the prices tried, in cores per unit share of time short.
// The choice rounds up to the next one, a margin the measurements include.
var priceGrid = [...]float64{0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500}

// VPA's target rule, the reference risk: p90 + 15 %, at least 25m.
const (
	referenceQ      = 0.9
	referenceMargin = 0.15
	referenceFloor  = 0.025
)

// PriceProbe is one container's in-sample figures at one decision: the
// share of time short of its request at every price of the grid, and of
// the reference rule's.
type PriceProbe struct {
	risk      [len(priceGrid)]float64
	reference float64
}

// Probe computes the container's PriceProbe under profile p; false where
// the profile sets no fleet price or the container has too little CPU
// history for a recommendation. It reads the summary's CPU figures only
// (history.SummarizeCPU's).
func Probe(p Profile, s *history.Summary) (PriceProbe, bool) {
	var pr PriceProbe
	if p.CPUFleetPrice == nil || s == nil || !s.HasCPU() || s.CPUWindow.Count < max(p.MinSamples, 1) || s.CPUWindow.Span() < p.MinSpan {
		return pr, false
	}
	b := bucketsOf(s.CPU)
	if len(b.w) == 0 {
		return pr, false
	}
	base := p.CPURequest.estimate(nil, s).Value()
	nv := b.newsvendor(priceGrid[:])
	for j := range priceGrid {
		pr.risk[j] = b.shareAbove(max(base, nv[j]))
	}
	pr.reference = b.shareAbove(max(histogramQuantile(s.CPU, referenceQ)*(1+referenceMargin), referenceFloor))
	return pr, true
}

// FleetRisk sums the probes of one profile's containers at one decision.
// Add them in a fixed order: the sums decide the price.
type FleetRisk struct {
	n         int
	risk      [len(priceGrid)]float64
	reference float64
}

// Add counts one container.
func (f *FleetRisk) Add(pr PriceProbe) {
	f.n++
	for j, r := range pr.risk {
		f.risk[j] += r
	}
	f.reference += pr.reference
}

// Price returns the lowest price of the grid at which the fleet's mean
// in-sample risk is at most fp.RiskFactor × the reference's (the highest
// when none is); false without containers.
func (f *FleetRisk) Price(fp FleetPrice) (float64, bool) {
	if f.n == 0 {
		return 0, false
	}
	target := fp.RiskFactor * f.reference
	for j, r := range f.risk {
		if r <= target*(1+1e-12) {
			return priceGrid[j], true
		}
	}
	return priceGrid[len(priceGrid)-1], true
}

// newsvendorRequest is the request minimising expected idle cores + λ ×
// the share of time short over h, 0 for an empty histogram.
func newsvendorRequest(h *sketch.Histogram, lambda float64) float64 {
	b := bucketsOf(h)
	if len(b.w) == 0 {
		return 0
	}
	return b.newsvendor([]float64{lambda})[0]
}

// buckets are a histogram's buckets with weight: each bucket's weight
// taken as spread evenly between its bounds.
type buckets struct{ lo, hi, w []float64 }

func bucketsOf(h *sketch.Histogram) buckets {
	var b buckets
	h.Buckets(func(lo, hi, w float64) {
		b.lo, b.hi, b.w = append(b.lo, lo), append(b.hi, hi), append(b.w, w)
	})
	return b
}

// newsvendor returns, for each price, the bucket end minimising idle +
// price × short (idle at a bucket's midpoint, short the weight above).
func (b buckets) newsvendor(prices []float64) []float64 {
	var total float64
	for _, w := range b.w {
		total += w
	}
	out := make([]float64, len(prices))
	best := make([]float64, len(prices))
	for j := range best {
		best[j] = math.Inf(1)
	}
	var below, usedBelow float64
	for i, w := range b.w {
		below += w
		usedBelow += w * (b.lo[i] + b.hi[i]) / 2
		r := b.hi[i]
		idle, short := (r*below-usedBelow)/total, (total-below)/total
		for j, l := range prices {
			if c := idle + l*short; c < best[j] {
				best[j], out[j] = c, r
			}
		}
	}
	return out
}

// shareAbove is the share of the weight above x, a bucket holding x
// counted by the part of it above x.
func (b buckets) shareAbove(x float64) float64 {
	var total, above float64
	for i, w := range b.w {
		total += w
		switch lo, hi := b.lo[i], b.hi[i]; {
		case lo >= x:
			above += w
		case hi > x && hi > lo:
			above += w * (hi - x) / (hi - lo)
		}
	}
	if total == 0 {
		return 0
	}
	return above / total
}
