package backtest

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEnvelopeMatchesScan checks the lower envelope against a plain scan of
// every candidate, on random cells with ties, zero usage and zero weights.
func TestEnvelopeMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 200 {
		n := 1 + rng.IntN(30)
		type smp struct{ u, dt float64 }
		ss := make([]smp, n)
		for i := range ss {
			ss[i] = smp{u: math.Round(rng.ExpFloat64()*4) / 4, dt: float64(rng.IntN(3)) / 12}
		}
		if trial%7 == 0 {
			ss[0].u = 0
		}
		// Sorted by usage, as hindsightCells builds them.
		for i := 1; i < n; i++ {
			for j := i; j > 0 && ss[j].u < ss[j-1].u; j-- {
				ss[j], ss[j-1] = ss[j-1], ss[j]
			}
		}
		var c cell
		for _, x := range ss {
			c.total += x.dt
		}
		if ss[0].u > 0 {
			c.add(0, 0, c.total)
		}
		var below, useBelow float64
		for i, x := range ss {
			below += x.dt
			useBelow += x.u * x.dt
			if i+1 < n && ss[i+1].u == x.u {
				continue
			}
			c.add(x.u, x.u*below-useBelow, c.total-below)
		}
		rho := rng.Float64()
		c.prepare(rho)
		for _, lambda := range []float64{0, 0.01, 0.3, 1, 2.5, 10, 1e3} {
			// The scan: every request in {0} ∪ samples, costed from scratch.
			want := math.Inf(1)
			for _, r := range append([]float64{0}, func() []float64 {
				var v []float64
				for _, x := range ss {
					v = append(v, x.u)
				}
				return v
			}()...) {
				var idle, short float64
				for _, x := range ss {
					idle += max(r-x.u, 0) * x.dt
					if x.u > r {
						short += x.dt
					}
				}
				want = min(want, idle-rho*r*c.total+lambda*short)
			}
			_, got, _ := c.best(lambda)
			assert.InDelta(t, want, got, 1e-9, "trial %d, λ %v", trial, lambda)
		}
		// Searching between the positions of a lower and a higher λ finds
		// what searching the whole hull does.
		lambdas := []float64{0, 0.01, 0.3, 1, 2.5, 10, 1e3}
		for a, la := range lambdas {
			_, _, lo := c.best(la)
			for _, lb := range lambdas[a:] {
				_, _, hi := c.best(lb)
				for _, l := range []float64{la, (la + lb) / 2, lb} {
					j, v, at := c.best(l)
					j2, v2, at2 := c.bestIn(l, lo, hi)
					assert.Equal(t, []any{j, v, at}, []any{j2, v2, at2}, "trial %d, λ %v in [%v, %v]", trial, l, la, lb)
				}
			}
		}
	}
}

// randomCells returns cells built as hindsightCells builds them, from
// random samples with ties and zero weights.
func randomCells(rng *rand.Rand, n int) ([]cell, float64) {
	var g cellGatherer
	for range n {
		var ss []cellSample
		for range 1 + rng.IntN(60) {
			ss = append(ss, cellSample{u: math.Round(rng.ExpFloat64()*8) / 8, dt: float64(rng.IntN(4)) / 12})
		}
		slices.SortFunc(ss, func(a, b cellSample) int { return cmp.Compare(a.u, b.u) })
		var c cell
		for _, x := range ss {
			c.total += x.dt
			c.usage += x.u * x.dt
			g.maxUse = max(g.maxUse, x.u)
			if x.dt > 0 && (g.minDt == 0 || x.dt < g.minDt) {
				g.minDt = x.dt
			}
		}
		if ss[0].u > 0 {
			c.add(0, 0, c.total)
		}
		var below, useBelow float64
		for i, x := range ss {
			below += x.dt
			useBelow += x.u * x.dt
			if i+1 < len(ss) && ss[i+1].u == x.u {
				continue
			}
			c.add(x.u, x.u*below-useBelow, c.total-below)
		}
		g.maxTotal = max(g.maxTotal, c.total)
		g.cells = append(g.cells, c)
	}
	return g.cells, g.lambdaMax()
}

// plainBudgetLambda is budgetLambda as first written: every cell searched
// on its whole envelope at every λ, its figures read from the cell.
func plainBudgetLambda(cells []cell, rho, beta, lambdaMax float64) (float64, sums) {
	for i := range cells {
		cells[i].prepare(rho)
	}
	eval := func(lambda float64) sums {
		n := workers(cells)
		parts := make([]sums, n)
		for w := range n {
			var p sums
			for i := w; i < len(cells); i += n {
				c := &cells[i]
				j, v, _ := c.best(lambda)
				p.dual += v
				p.req += c.x[j] * c.total
				p.use += c.usage
				p.idle += c.idle[j]
				p.short += c.short[j]
				p.total += c.total
			}
			parts[w] = p
		}
		var s sums
		for _, p := range parts {
			s.dual += p.dual
			s.req += p.req
			s.use += p.use
			s.idle += p.idle
			s.short += p.short
			s.total += p.total
		}
		return s
	}
	lo, hi := lambdaMax*math.Exp2(-48), lambdaMax
	hiSums, loSums := eval(hi), eval(lo)
	for range 26 {
		mid := math.Sqrt(lo * hi)
		if s := eval(mid); s.short > beta*s.total {
			lo, loSums = mid, s
		} else {
			hi, hiSums = mid, s
		}
	}
	return max(loSums.dual-lo*beta*loSums.total, hiSums.dual-hi*beta*hiSums.total), hiSums
}

// TestBisectionMatchesPlain: the bracketed λ bisection, on cells in one
// block or not, gives the plain one's figures to the bit, and so the same
// bound.
func TestBisectionMatchesPlain(t *testing.T) {
	cases := []struct {
		name  string
		cells int
		pack  bool
	}{
		{"one cell", 1, false},
		{"few cells", 7, false},
		{"many cells, two workers", 300, false},
		{"many cells, each in one block", 300, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.cells), 9))
			cells, lambdaMax := randomCells(rng, tc.cells)
			if tc.pack {
				for i := range cells {
					cells[i].own()
				}
			}
			f := newFleet(cells, lambdaMax)
			for _, rho := range []float64{0, 0.13, 0.5, 0.87} {
				for _, beta := range []float64{0, 0.01, 0.05, 0.3} {
					wantD, wantS := plainBudgetLambda(cells, rho, beta, lambdaMax)
					gotD, gotS := budgetLambda(f, rho, beta)
					assert.Equal(t, math.Float64bits(wantD), math.Float64bits(gotD), "ρ %v, β %v: dual", rho, beta)
					assert.Equal(t, wantS, gotS, "ρ %v, β %v", rho, beta)
				}
			}
		})
	}
}

// TestEnvelopeFromLowestIsTheFullOne: prepare's envelope, started at the
// lowest intercept, chooses at every λ > 0 the line the full pass chooses,
// with the same value to the bit, on random cells with ties, zero usage
// and zero weights, and at ρ where the intercepts tie.
func TestEnvelopeFromLowestIsTheFullOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	cells, lambdaMax := randomCells(rng, 400)
	// Intercepts that fall, rise and fall lower (rounding could make
	// such): the pass from the first low one gives way to the full one.
	cells = append(cells, cell{x: []float64{0, 1, 2, 3}, idle: []float64{5, 3, 4, 2}, short: []float64{4, 3, 2, 1}, total: 4},
		cell{x: []float64{0, 1, 2, 3, 4}, idle: []float64{5, 3, 3.5, 2.9, 9}, short: []float64{4, 3, 2, 1, 0}, total: 4})
	lambdas := []float64{lambdaMax * math.Exp2(-48), 1e-9, 1e-3, 0.01, 0.3, 1, 2.5, 10, 1e3, lambdaMax}
	for i := range cells {
		c := &cells[i]
		var full cell
		full.x, full.idle, full.short, full.total = c.x, c.idle, c.short, c.total
		rhos := []float64{0, 0.01, 0.13, 0.25, 0.5, 0.75, 0.87, 0.999, rng.Float64()}
		if c.total > 0 {
			// Where the time below a candidate is exactly ρ of it.
			for j := range c.short {
				rhos = append(rhos, 1-c.short[j]/c.total)
			}
		}
		for _, rho := range rhos {
			c.prepare(rho)
			full.envelope(rho, 0, false)
			for _, l := range lambdas {
				j, v, _ := c.best(l)
				wj, wv, _ := full.best(l)
				assert.Equal(t, wj, j, "cell %d, ρ %v, λ %v", i, rho, l)
				assert.Equal(t, math.Float64bits(wv), math.Float64bits(v), "cell %d, ρ %v, λ %v", i, rho, l)
			}
		}
	}
}
