package backtest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
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

// choice is a cell's place in budgetLambda's bisection on λ: the hull
// positions of its best candidates at the bracket's ends, lo and hi, and at
// the last midpoint, with that candidate's figures. The position only grows
// with λ, so a midpoint's lies between the ends', and once they meet the
// cell's candidate is known without a search. Choices are kept apart from
// the cells, one cache line each, read in order: the bisection visits every
// cell 28 times per ρ, and reaching into the cells' slices each time was
// most of its cost.
type choice struct {
	lo, hi, mid int32
	// The candidate at mid: intercept, request, idle and short time.
	k, x, idle, short float64
	// The cell's Σ dt and Σ u·dt.
	total, usage float64
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
// cell covers all its samples.
func hindsightCells(st *history.Store, sch schedule, o Options) ([]cell, float64) {
	var g cellGatherer
	for _, k := range st.Containers() {
		if o.Include != nil && !o.Include(k) {
			continue
		}
		// The replay's container: its series with their weight caps.
		g.add(newContainer(k, st.Series(k), 0), sch)
	}
	return g.cells, g.lambdaMax()
}

// cellGatherer collects containers' cells, with what the λ bound needs.
type cellGatherer struct {
	cells            []cell
	maxUse, maxTotal float64
	minDt            float64 // 0: none yet
	// Scratch space reused from cell to cell.
	buf            []cellSample
	x, idle, short []float64
}

// cellSample is one scored CPU sample: usage and weight (hours).
type cellSample struct{ u, dt float64 }

// merge appends o's cells to g's, in that order.
func (g *cellGatherer) merge(o *cellGatherer) {
	g.cells = append(g.cells, o.cells...)
	g.maxUse, g.maxTotal = max(g.maxUse, o.maxUse), max(g.maxTotal, o.maxTotal)
	if o.minDt > 0 && (g.minDt == 0 || o.minDt < g.minDt) {
		g.minDt = o.minDt
	}
}

// lambdaMax is a λ large enough that every cell covers all its samples:
// raising a request from one sample value to the next costs at most the
// step × the cell's time in idle and saves at least the shortest dt in
// short time.
func (g *cellGatherer) lambdaMax() float64 {
	if len(g.cells) == 0 || g.minDt == 0 {
		return 1
	}
	return 2 * (g.maxUse + 1) * (g.maxTotal/g.minDt + 1)
}

// add gathers the cells of one container: one per replay interval holding
// CPU samples.
func (g *cellGatherer) add(ctr *container, sch schedule) {
	sch.intervals(ctr.series, func(_ int64, lo, hi []int) {
		ss := g.buf[:0]
		for si, s := range ctr.series {
			for i := max(lo[si], 1); i < hi[si]; i++ {
				u := s.CPU[i]
				if u != u {
					continue
				}
				ss = append(ss, cellSample{float64(u), ctr.weight(si, i)})
			}
		}
		g.buf = ss
		if len(ss) == 0 {
			return
		}
		slices.SortFunc(ss, func(a, b cellSample) int { return cmp.Compare(a.u, b.u) })
		// The candidates go to the gatherer's scratch columns first, then
		// to one allocation of their size: they are far fewer than the
		// samples, and the cells are kept until the bound is computed.
		c := cell{x: g.x[:0], idle: g.idle[:0], short: g.short[:0]}
		for _, x := range ss {
			c.total += x.dt
			c.usage += x.u * x.dt
			g.maxUse = max(g.maxUse, x.u)
			if x.dt > 0 && (g.minDt == 0 || x.dt < g.minDt) {
				g.minDt = x.dt
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
		g.maxTotal = max(g.maxTotal, c.total)
		g.x, g.idle, g.short = c.x, c.idle, c.short
		c.own()
		g.cells = append(g.cells, c)
	})
}

// own moves the cell's candidates, built in scratch space, to one block
// of memory of their size, with room for the envelope: the cells are kept
// until the bound is computed, and its passes over them, some 500 per risk,
// run faster on a cell's data side by side.
func (c *cell) own() {
	m := len(c.x)
	f := make([]float64, 5*m)
	copy(f[0:m], c.x)
	copy(f[m:2*m], c.idle)
	copy(f[2*m:3*m], c.short)
	c.x, c.idle, c.short = f[0:m:m], f[m:2*m:2*m], f[2*m:3*m:3*m]
	c.from, c.k = f[3*m:3*m:4*m], f[4*m:4*m:5*m]
	c.hull = make([]int32, 0, m)
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
//
// It runs once per cell and ρ, the bound's inner loop: the slices are
// locals so that the appends do not reload them, and the top line's slope
// is read from short directly.
func (c *cell) prepare(rho float64) {
	c.rho = rho
	hull, from, ks := c.hull[:0], c.from[:0], c.k[:0]
	x, idle, short, total := c.x, c.idle, c.short, c.total
	for j := range x {
		// Candidate j's line: intercept idle − ρ·x·total, slope short.
		m, k := short[j], idle[j]-rho*x[j]*total
		f := math.Inf(-1)
		for n := len(hull); n > 0; n = len(hull) {
			// Where line j gets cheaper than the top: kt + mt·λ = k + m·λ.
			f = (k - ks[n-1]) / (short[hull[n-1]] - m)
			if f > from[n-1] {
				break
			}
			hull, from, ks = hull[:n-1], from[:n-1], ks[:n-1]
			f = math.Inf(-1)
		}
		hull, from, ks = append(hull, int32(j)), append(from, f), append(ks, k)
	}
	c.hull, c.from, c.k = hull, from, ks
}

// best returns the candidate minimising idle(r) − ρ·r·t + λ·short(r) for the
// prepared ρ, with the minimum, and its position on the hull.
func (c *cell) best(lambda float64) (j int, value float64, at int32) {
	return c.bestIn(lambda, 0, int32(len(c.from)-1))
}

// bestIn is best knowing that the position lies in [lo, hi]: the last one
// whose line starts at or below λ (the first starts at −∞).
func (c *cell) bestIn(lambda float64, lo, hi int32) (j int, value float64, at int32) {
	// The first position in (lo, hi] whose line starts above λ, or hi + 1.
	a, b := lo+1, hi+1
	for a < b {
		h := int32(uint32(a+b) >> 1)
		if c.from[h] > lambda {
			b = h
		} else {
			a = h + 1
		}
	}
	at = a - 1
	j = int(c.hull[at])
	return j, c.k[at] + lambda*c.short[j], at
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

// bracket says where evaluate looks for each cell's best candidate.
type bracket int

const (
	anywhere bracket = iota // the whole hull
	between                 // between the bisection's ends, choice.lo and choice.hi
)

// evaluate runs the per-cell minimisations for the prepared ρ in parallel,
// noting each cell's candidate in its choice. The partial sums go worker by
// worker, in a fixed order, so that the figures do not depend on timing.
func evaluate(cells []cell, choices []choice, lambda float64, where bracket) sums {
	n := workers(cells)
	parts := make([]sums, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p sums
			for i := w; i < len(cells); i += n {
				ch := &choices[i]
				if where == anywhere || ch.lo != ch.hi {
					ch.choose(&cells[i], lambda, where)
				} // else the ends met: the candidate at mid is theirs
				p.dual += ch.k + lambda*ch.short
				p.req += ch.x * ch.total
				p.use += ch.usage
				p.idle += ch.idle
				p.short += ch.short
				p.total += ch.total
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

// choose finds cell c's best candidate at λ and makes it the midpoint's.
func (ch *choice) choose(c *cell, lambda float64, where bracket) {
	var j int
	if where == between {
		j, _, ch.mid = c.bestIn(lambda, ch.lo, ch.hi)
	} else {
		j, _, ch.mid = c.best(lambda)
	}
	ch.k, ch.x, ch.idle, ch.short = c.k[ch.mid], c.x[j], c.idle[j], c.short[j]
	ch.total, ch.usage = c.total, c.usage
}

// budgetLambda bisects for the smallest λ whose allocation at ρ keeps short
// time within β·T. The dual Σ min(…) − λβT is concave in λ with
// supergradient short(λ) − βT, so the same λ also maximises the dual: the
// tightest certificate and the allocation come from one search. It returns
// the dual's best value found and the allocation within the budget.
func budgetLambda(cells []cell, choices []choice, rho, beta, lambdaMax float64) (dual float64, within sums) {
	prepareAll(cells, rho)
	return searchLambda(cells, choices, beta, lambdaMax)
}

// searchLambda is budgetLambda for the cells' prepared ρ.
func searchLambda(cells []cell, choices []choice, beta, lambdaMax float64) (dual float64, within sums) {
	// λ spans many orders of magnitude (cores per hour of risk): bisect its
	// logarithm, from λmax·2^-48 (as good as 0) to λmax.
	lo, hi := lambdaMax*math.Exp2(-48), lambdaMax
	hiSums := evaluate(cells, choices, hi, anywhere)
	settle(choices, true)
	loSums := evaluate(cells, choices, lo, anywhere)
	settle(choices, false)
	where := between
	for range 26 {
		mid := math.Sqrt(lo * hi)
		// Each cell's position at mid lies between those at the ends
		// while mid does (it may not, by rounding, where lo·hi overflows).
		if !(lo <= mid && mid <= hi) {
			where = anywhere
		}
		s := evaluate(cells, choices, mid, where)
		if s.short > beta*s.total {
			lo, loSums = mid, s
		} else {
			hi, hiSums = mid, s
		}
		settle(choices, s.short <= beta*s.total)
	}
	// The top of the dual lies between lo and hi.
	return max(loSums.dual-lo*beta*loSums.total, hiSums.dual-hi*beta*hiSums.total), hiSums
}

// slacks returns the bound's slack (Bound.Slack) at each risk, by
// bisection on ρ. The risks' bisections run side by side and, where several
// stand at the same ρ (all at the first step, risks close together for a
// few more), share its envelopes, the costliest part of a step.
func slacks(cells []cell, betas []float64, lambdaMax float64) []float64 {
	choices := make([]choice, len(cells))
	lo, hi := make([]float64, len(betas)), make([]float64, len(betas))
	for i := range hi {
		hi[i] = 1
	}
	// 2^-17 of slack is well below the figures' two decimals.
	for range 17 {
		stepped := make([]bool, len(betas))
		for i := range betas {
			if stepped[i] {
				continue
			}
			rho := (lo[i] + hi[i]) / 2
			prepareAll(cells, rho)
			for j := i; j < len(betas); j++ {
				if stepped[j] || (lo[j]+hi[j])/2 != rho {
					continue
				}
				stepped[j] = true
				if d, _ := searchLambda(cells, choices, betas[j], lambdaMax); d > 0 {
					lo[j] = rho // some λ proves slack ρ unreachable
				} else {
					hi[j] = rho
				}
			}
		}
	}
	return lo
}

// settle makes the last midpoint an end of the bracket: hi where it is true.
func settle(choices []choice, hi bool) {
	for i := range choices {
		ch := &choices[i]
		if hi {
			ch.hi = ch.mid
		} else {
			ch.lo = ch.mid
		}
	}
}

func bound(cells []cell, beta, lambdaMax float64) Bound {
	lo := slacks(cells, []float64{beta}, lambdaMax)[0]
	b := Bound{Insufficient: beta, Slack: lo}
	// A reachable allocation at the bound's ρ, within the budget.
	_, s := budgetLambda(cells, make([]choice, len(cells)), lo, beta, lambdaMax)
	b.Achieved = CPU{RequestCoreHours: s.req, UsageCoreHours: s.use, Slack: ratio(s.idle, s.req), Insufficient: ratio(s.short, s.total)}
	return b
}
