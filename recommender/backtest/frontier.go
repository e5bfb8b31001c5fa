package backtest

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"rightsize.dev/rightsize/recommender/history"
)

// Bound is what hindsight allows for CPU requests set once per interval: no
// such setting, even one that knows every interval's usage in advance, has
// a fleet slack below Slack while keeping insufficient time at or below
// Insufficient.
type Bound struct {
	// Insufficient is the risk the bound was computed for.
	Insufficient float64 `json:"insufficient"`
	// Slack is the lower bound on the fleet's CPU slack at that risk.
	Slack float64 `json:"slack"`
	// Achieved is a hindsight allocation close to the bound, as a check:
	// its figures are reachable, so the bound is tight to within their gap.
	Achieved CPU `json:"achieved"`
}

// cell is the scored CPU samples of one container in one interval, sorted
// by usage: one request covers all of them (every pod of a workload shares
// its template's setting).
type cell struct {
	use, dt []float64 // cores, hours; ascending use
	total   float64   // Σ dt
	busy    float64   // Σ dt of samples with use > 0: short time at r = 0
	usage   float64   // Σ u·dt
}

// HindsightBound computes, for each risk level, the lowest fleet CPU slack
// that any per-interval, per-container request could reach with the same
// replay, window and weights as Run. It is a yardstick for what statistics
// cannot do: a forecast has to come this close to clairvoyance to match it.
//
// The bound is exact in the sense of weak Lagrangian duality. A slack
// ρ = I/Q (idle over requested core-hours) with insufficient ≤ β is
// reachable only if min over settings of I − ρ·Q subject to S ≤ β·T (S the
// short time, T all scored time) is ≤ 0; for every λ ≥ 0 that minimum is at
// least Σ_cells min_r [idle(r) − ρ·r·t + λ·short(r)] − λ·β·T, a sum of
// independent one-dimensional problems whose minima lie at sample values.
// Where some λ makes this positive, ρ is out of reach; a bisection on ρ
// finds the smallest ρ no λ rules out.
func HindsightBound(ctx context.Context, st *history.Store, risks []float64, o Options) ([]Bound, error) {
	if o.Warmup < 0 || o.Interval <= 0 {
		return nil, fmt.Errorf("warmup must be ≥ 0 and interval > 0 (got %s, %s)", o.Warmup, o.Interval)
	}
	cells, lambdaMax := hindsightCells(st, o)
	out := make([]Bound, 0, len(risks))
	for _, beta := range risks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if beta < 0 || beta >= 1 {
			return nil, fmt.Errorf("risk %v outside [0, 1)", beta)
		}
		out = append(out, bound(cells, beta, lambdaMax))
	}
	return out, nil
}

// hindsightCells gathers the cells and a λ (cores) large enough that every
// cell covers all its samples: raising a request from one sample value to
// the next costs at most the step × the cell's time in idle and saves at
// least the shortest dt in short time.
func hindsightCells(st *history.Store, o Options) ([]cell, float64) {
	first, last := st.Span()
	var decisions []time.Time
	for t := first.Add(o.Warmup); t.Before(last); t = t.Add(o.Interval) {
		decisions = append(decisions, t)
	}
	var cells []cell
	var maxUse, maxTotal float64
	minDt := math.Inf(1)
	for _, k := range st.Containers() {
		if o.Include != nil && !o.Include(k) {
			continue
		}
		series := st.Series(k)
		for d, tk := range decisions {
			next := last.Add(time.Millisecond)
			if d+1 < len(decisions) {
				next = decisions[d+1]
			}
			type sample struct{ u, dt float64 }
			var ss []sample
			for _, s := range series {
				step := 2 * s.MedianStep().Milliseconds()
				lo, hi := s.Search(tk.UnixMilli()), s.Search(next.UnixMilli())
				for i := max(lo, 1); i < hi; i++ {
					u := s.CPU[i]
					if u != u {
						continue
					}
					dt := float64(min(s.Time[i]-s.Time[i-1], step)) / float64(time.Hour.Milliseconds())
					ss = append(ss, sample{float64(u), dt})
				}
			}
			if len(ss) == 0 {
				continue
			}
			slices.SortFunc(ss, func(a, b sample) int { return cmpFloat(a.u, b.u) })
			c := cell{use: make([]float64, len(ss)), dt: make([]float64, len(ss))}
			for i, x := range ss {
				c.use[i], c.dt[i] = x.u, x.dt
				c.total += x.dt
				c.usage += x.u * x.dt
				if x.u > 0 {
					c.busy += x.dt
				}
				maxUse = max(maxUse, x.u)
				if x.dt > 0 {
					minDt = min(minDt, x.dt)
				}
			}
			maxTotal = max(maxTotal, c.total)
			cells = append(cells, c)
		}
	}
	if len(cells) == 0 || math.IsInf(minDt, 1) {
		return cells, 1
	}
	return cells, 2 * (maxUse + 1) * (maxTotal/minDt + 1)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// best returns the request minimising idle(r) − ρ·r·t + λ·short(r) over the
// cell, with its idle core-hours and short hours. Between two sample values
// the objective is linear in r and short(r) drops at each value, so the
// minimum sits at 0 or at a sample value.
func (c *cell) best(rho, lambda float64) (r, idle, short, value float64) {
	r, idle, short, value = 0, 0, c.busy, lambda*c.busy
	var below, useBelow float64 // Σ dt and Σ u·dt of samples ≤ candidate
	for j := 0; j < len(c.use); j++ {
		below += c.dt[j]
		useBelow += c.dt[j] * c.use[j]
		if j+1 < len(c.use) && c.use[j+1] == c.use[j] {
			continue
		}
		x := c.use[j]
		id := x*below - useBelow
		sh := c.total - below
		v := id - rho*x*c.total + lambda*sh
		if v < value {
			r, idle, short, value = x, id, sh, v
		}
	}
	return r, idle, short, value
}

// sums is one pass over the cells at (ρ, λ): the dual's sum and the
// allocation's figures.
type sums struct{ dual, req, use, idle, short, total float64 }

// evaluate runs the per-cell minimisations in parallel; each cell is
// independent.
func evaluate(cells []cell, rho, lambda float64) sums {
	workers := min(runtime.GOMAXPROCS(0), max(len(cells)/64, 1))
	parts := make([]sums, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p sums
			for i := w; i < len(cells); i += workers {
				c := &cells[i]
				r, id, sh, v := c.best(rho, lambda)
				p.dual += v
				p.req += r * c.total
				p.use += c.usage
				p.idle += id
				p.short += sh
				p.total += c.total
			}
			parts[w] = p
		}()
	}
	wg.Wait()
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

// budgetLambda bisects for the smallest λ whose allocation at ρ keeps short
// time within β·T. The dual Σ min(…) − λβT is concave in λ with
// supergradient short(λ) − βT, so the same λ also maximises the dual: the
// tightest certificate and the allocation come from one search. It returns
// the dual's best value found and the allocation within the budget.
func budgetLambda(cells []cell, rho, beta, lambdaMax float64) (dual float64, within sums) {
	// λ spans many orders of magnitude (cores per hour of risk): bisect its
	// logarithm, from λmax·2^-48 (as good as 0) to λmax.
	lo, hi := lambdaMax*math.Exp2(-48), lambdaMax
	hiSums := evaluate(cells, rho, hi)
	loSums := evaluate(cells, rho, lo)
	for range 26 {
		mid := math.Sqrt(lo * hi)
		s := evaluate(cells, rho, mid)
		if s.short > beta*s.total {
			lo, loSums = mid, s
		} else {
			hi, hiSums = mid, s
		}
	}
	// The top of the dual lies between lo and hi.
	return max(loSums.dual-lo*beta*loSums.total, hiSums.dual-hi*beta*hiSums.total), hiSums
}

func bound(cells []cell, beta, lambdaMax float64) Bound {
	// 2^-20 of slack is well below the figures' two decimals.
	lo, hi := 0.0, 1.0
	for range 20 {
		mid := (lo + hi) / 2
		if d, _ := budgetLambda(cells, mid, beta, lambdaMax); d > 0 {
			lo = mid // some λ proves slack mid unreachable
		} else {
			hi = mid
		}
	}
	b := Bound{Insufficient: beta, Slack: lo}
	// A reachable allocation at the bound's ρ, within the budget.
	_, s := budgetLambda(cells, lo, beta, lambdaMax)
	b.Achieved = CPU{RequestCoreHours: s.req, UsageCoreHours: s.use, Slack: ratio(s.idle, s.req), Insufficient: ratio(s.short, s.total)}
	return b
}
