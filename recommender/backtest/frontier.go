package backtest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

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

// cell is the scored CPU samples of one container in one interval: one
// request covers all of them (every pod of a workload shares its template's
// setting). Only requests at 0 or at a sample value can be optimal (between
// two values the objective is linear in r and short time drops at each), so
// a cell keeps those candidates, ascending, with what each would cost.
type cell struct {
	x     []float64 // candidate requests, cores
	idle  []float64 // idle core-hours at x[j]
	short []float64 // short hours at x[j]; strictly decreasing
	total float64   // Σ dt, hours
	usage float64   // Σ u·dt, core-hours

	// The lower envelope, over λ, of the lines idle − ρ·x·total + λ·short
	// for the current ρ: hull[i] is the cheapest candidate from λ = from[i].
	rho  float64
	hull []int32
	from []float64
	k    []float64 // intercepts of the hull's lines
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
	first, last := st.Span()
	sch, err := newSchedule(first, last, o)
	if err != nil {
		return nil, err
	}
	cells, lambdaMax := hindsightCells(st, sch, o)
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
func hindsightCells(st *history.Store, sch schedule, o Options) ([]cell, float64) {
	var cells []cell
	var maxUse, maxTotal float64
	minDt := math.Inf(1)
	for _, k := range st.Containers() {
		if o.Include != nil && !o.Include(k) {
			continue
		}
		// The replay's container: its series with their weight caps.
		ctr := newContainer(k, st.Series(k), 0)
		// A cell is one of the replay's intervals; an empty one has none.
		sch.intervals(ctr.series, func(_ int64, lo, hi []int) {
			type sample struct{ u, dt float64 }
			var ss []sample
			for si, s := range ctr.series {
				for i := max(lo[si], 1); i < hi[si]; i++ {
					u := s.CPU[i]
					if u != u {
						continue
					}
					ss = append(ss, sample{float64(u), ctr.weight(si, i)})
				}
			}
			if len(ss) == 0 {
				return
			}
			slices.SortFunc(ss, func(a, b sample) int { return cmp.Compare(a.u, b.u) })
			var c cell
			for _, x := range ss {
				c.total += x.dt
				c.usage += x.u * x.dt
				maxUse = max(maxUse, x.u)
				if x.dt > 0 {
					minDt = min(minDt, x.dt)
				}
			}
			if ss[0].u > 0 {
				c.add(0, 0, c.total) // no request: all of the time short
			}
			var below, useBelow float64 // Σ dt and Σ u·dt of samples ≤ the candidate
			for i, x := range ss {
				below += x.dt
				useBelow += x.u * x.dt
				if i+1 < len(ss) && ss[i+1].u == x.u {
					continue
				}
				c.add(x.u, x.u*below-useBelow, c.total-below)
			}
			maxTotal = max(maxTotal, c.total)
			cells = append(cells, c)
		})
	}
	if len(cells) == 0 || math.IsInf(minDt, 1) {
		return cells, 1
	}
	return cells, 2 * (maxUse + 1) * (maxTotal/minDt + 1)
}

func (c *cell) add(x, idle, short float64) {
	if n := len(c.short); n > 0 && short >= c.short[n-1] {
		return // a sample weighing nothing: the lower candidate is as short and less idle
	}
	c.x, c.idle, c.short = append(c.x, x), append(c.idle, idle), append(c.short, short)
}

// prepare builds the cell's lower envelope for ρ. The lines come in order
// of decreasing slope (short time), so one pass with a stack does it: a line
// whose range of λ is empty once a flatter one arrives is dropped.
func (c *cell) prepare(rho float64) {
	c.rho = rho
	c.hull, c.from, c.k = c.hull[:0], c.from[:0], c.k[:0]
	for j := range c.x {
		m, k := c.short[j], c.line(j)
		from := math.Inf(-1)
		for n := len(c.hull); n > 0; n = len(c.hull) {
			// Where line j gets cheaper than the top: kt + mt·λ = k + m·λ.
			from = (k - c.k[n-1]) / (c.short[c.hull[n-1]] - m)
			if from > c.from[n-1] {
				break
			}
			c.hull, c.from, c.k = c.hull[:n-1], c.from[:n-1], c.k[:n-1]
			from = math.Inf(-1)
		}
		c.hull, c.from, c.k = append(c.hull, int32(j)), append(c.from, from), append(c.k, k)
	}
}

// line is candidate j's intercept: idle − ρ·x·total.
func (c *cell) line(j int) float64 { return c.idle[j] - c.rho*c.x[j]*c.total }

// best returns the candidate minimising idle(r) − ρ·r·t + λ·short(r) for the
// prepared ρ, with the minimum.
func (c *cell) best(lambda float64) (j int, value float64) {
	i := max(sort.Search(len(c.from), func(i int) bool { return c.from[i] > lambda })-1, 0)
	j = int(c.hull[i])
	return j, c.k[i] + lambda*c.short[j]
}

// sums is one pass over the cells at (ρ, λ): the dual's sum and the
// allocation's figures.
type sums struct{ dual, req, use, idle, short, total float64 }

// workers splits cells between goroutines; each cell is independent.
func workers(cells []cell) int { return min(runtime.GOMAXPROCS(0), max(len(cells)/64, 1)) }

// prepareAll builds every cell's envelope for ρ.
func prepareAll(cells []cell, rho float64) {
	n := workers(cells)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cells); i += n {
				cells[i].prepare(rho)
			}
		}()
	}
	wg.Wait()
}

// evaluate runs the per-cell minimisations for the prepared ρ in parallel.
func evaluate(cells []cell, lambda float64) sums {
	n := workers(cells)
	parts := make([]sums, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p sums
			for i := w; i < len(cells); i += n {
				c := &cells[i]
				j, v := c.best(lambda)
				p.dual += v
				p.req += c.x[j] * c.total
				p.use += c.usage
				p.idle += c.idle[j]
				p.short += c.short[j]
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
	prepareAll(cells, rho)
	// λ spans many orders of magnitude (cores per hour of risk): bisect its
	// logarithm, from λmax·2^-48 (as good as 0) to λmax.
	lo, hi := lambdaMax*math.Exp2(-48), lambdaMax
	hiSums := evaluate(cells, hi)
	loSums := evaluate(cells, lo)
	for range 26 {
		mid := math.Sqrt(lo * hi)
		s := evaluate(cells, mid)
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
	// 2^-17 of slack is well below the figures' two decimals.
	lo, hi := 0.0, 1.0
	for range 17 {
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
