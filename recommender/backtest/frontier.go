package backtest

import (
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
	// The lower envelope, over λ, of the lines idle − ρ·x·total + λ·short
	// for the current ρ: line i is the cheapest from λ = from[i], its
	// intercept and slope at km[2i] and km[2i+1], its candidate hull[i].
	// The bisection reads only from and km: intercept and slope side by
	// side are one cache line to fetch, not two.
	from []float64
	km   []float64
	hull []int32
	rho  float64

	x     []float64 // candidate requests, cores
	idle  []float64 // idle core-hours at x[j]
	short []float64 // short hours at x[j]; strictly decreasing
	total float64   // Σ dt, hours
	usage float64   // Σ u·dt, core-hours
}

// choice is a cell's place in budgetLambda's bisection on λ: the hull
// positions of its best candidates at the bracket's ends, lo and hi, and at
// the last midpoint, with that line's intercept and slope. The position
// only grows with λ, so a midpoint's lies between the ends', and once they
// meet the cell's candidate is known without a search. Choices are kept
// apart from the cells, each worker's side by side, read in order: the
// bisection visits every cell 28 times per ρ, and reaching into the cells'
// slices each time was most of its cost.
type choice struct {
	lo, hi, mid int32
	// The line at mid: intercept and slope (short time).
	k, short float64
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
	f := newFleet(cells, lambdaMax)
	out := make([]Bound, 0, len(risks))
	for _, beta := range risks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if beta < 0 || beta >= 1 {
			return nil, fmt.Errorf("risk %v outside [0, 1)", beta)
		}
		out = append(out, bound(f, beta))
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
		slices.SortFunc(ss, func(a, b cellSample) int {
			// cmp.Compare without its NaN cases (there are none): the
			// same answers, so the same order.
			if a.u < b.u {
				return -1
			}
			if a.u > b.u {
				return 1
			}
			return 0
		})
		// The candidates go to the gatherer's scratch columns first, then
		// to one allocation of their size: they are far fewer than the
		// samples, and the cells are kept until the bound is computed.
		c := cell{x: g.x[:0], idle: g.idle[:0], short: g.short[:0]}
		for _, x := range ss {
			c.total += x.dt
			c.usage += x.u * x.dt
			if x.u > g.maxUse { // max, for values not NaN from 0
				g.maxUse = x.u
			}
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
// of memory of their size: the cells are kept until the bound is computed
// (newFleet gives them room for the envelopes).
func (c *cell) own() {
	m := len(c.x)
	f := make([]float64, 3*m)
	copy(f[0:m], c.x)
	copy(f[m:2*m], c.idle)
	copy(f[2*m:3*m], c.short)
	c.x, c.idle, c.short = f[0:m:m], f[m:2*m:2*m], f[2*m:3*m:3*m]
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
// The intercepts idle − ρ·x·total fall while fewer than ρ of the cell's
// time lies below x, and rise after: the candidates before the lowest
// intercept are as short and costlier than it at every λ ≥ 0, and the pass
// starts at the lowest. The envelope it builds is the full pass's from that
// line on, to the bit: the full pass keeps the line (a later line meets it
// at some λ > 0, and the full pass's own start for it is at or below 0,
// where it meets an earlier and costlier line), and the lines after it see
// the same stack above it. Where rounding could break that (an intercept
// after the lowest that is not higher, a meeting point that rounds to 0),
// prepare makes the full pass instead. The positions on the envelope differ
// by the lines left out, which only the bisection's brackets hold, made
// afresh for each ρ; its choice at every λ > 0 is the same line.
func (c *cell) prepare(rho float64) {
	c.rho = rho
	x, idle, total := c.x, c.idle, c.total
	// The last candidate of the falling run of intercepts from the first:
	// the lowest intercept, if those after it are all higher.
	j0 := 0
	if len(x) > 1 {
		k0 := idle[0] - rho*x[0]*total
		for j := 1; j < len(x); j++ {
			k := idle[j] - rho*x[j]*total
			if !(k <= k0) {
				break
			}
			j0, k0 = j, k
		}
	}
	if j0 > 0 && c.envelope(rho, j0, true) {
		return
	}
	c.envelope(rho, 0, false)
}

// envelope is prepare's pass from candidate start. With check, it reports
// false where the start's line would not hold (see prepare).
//
// It runs once per cell and ρ, the bound's inner loop: the slices are
// locals so that the appends do not reload them, and the top line's
// intercept and slope are read from the stack.
func (c *cell) envelope(rho float64, start int, check bool) bool {
	hull, from, km := c.hull[:0], c.from[:0], c.km[:0]
	x, idle, short, total := c.x, c.idle, c.short, c.total
	for j := start; j < len(x); j++ {
		// Candidate j's line: intercept idle − ρ·x·total, slope short.
		m, k := short[j], idle[j]-rho*x[j]*total
		f := math.Inf(-1)
		for n := len(hull); n > 0; n = len(hull) {
			// Where line j gets cheaper than the top: kt + mt·λ = k + m·λ.
			f = (k - km[2*n-2]) / (km[2*n-1] - m)
			if f > from[n-1] {
				if check && n == 1 && !(f > 0) {
					return false
				}
				break
			}
			if check && n == 1 {
				return false
			}
			hull, from, km = hull[:n-1], from[:n-1], km[:2*n-2]
			f = math.Inf(-1)
		}
		hull, from, km = append(hull, int32(j)), append(from, f), append(km, k, m)
	}
	c.hull, c.from, c.km = hull, from, km
	return true
}

// best returns the candidate minimising idle(r) − ρ·r·t + λ·short(r) for the
// prepared ρ, with the minimum, and its position on the hull.
func (c *cell) best(lambda float64) (j int, value float64, at int32) {
	return c.bestIn(lambda, 0, int32(len(c.from)-1))
}

// bestIn is best knowing that the position lies in [lo, hi].
func (c *cell) bestIn(lambda float64, lo, hi int32) (j int, value float64, at int32) {
	at = c.position(lambda, lo, hi)
	j = int(c.hull[at])
	return j, c.km[2*at] + lambda*c.km[2*at+1], at
}

// position is the envelope's line at λ, knowing that it lies in [lo, hi]:
// the last one whose range starts at or below λ (the first starts at −∞).
func (c *cell) position(lambda float64, lo, hi int32) int32 {
	// The first position in (lo, hi] whose line starts above λ, or hi + 1.
	from := c.from
	a, b := lo+1, hi+1
	for a < b {
		h := int32(uint32(a+b) >> 1)
		if from[h] > lambda {
			b = h
		} else {
			a = h + 1
		}
	}
	return a - 1
}

// sums is one pass over the cells at (ρ, λ): the dual's sum and the
// allocation's figures.
type sums struct{ dual, req, use, idle, short, total float64 }

// workers splits cells between goroutines; each cell is independent.
func workers(cells []cell) int { return min(runtime.GOMAXPROCS(0), max(len(cells)/64, 1)) }

// fleet is the cells as the bound's passes go over them. Worker w takes
// the cells w, w+n, w+2n, … (n workers) and adds up their figures in that
// order; the fleet keeps each worker's cells, and their choices, side by
// side, so that the workers walk memory of their own.
type fleet struct {
	cells   []cell
	choices []choice
	// Worker w has cells[parts[w]:parts[w+1]].
	parts []int
	// Σ u·dt and Σ dt over the cells as a pass adds them: the same at
	// every (ρ, λ).
	use, total float64
	// The ends of λ's bisection, λmax·2^-48 and λmax.
	lambdaLo, lambdaHi float64
	// At the prepared ρ: each cell's choice once the bisection has its
	// ends (the positions at both, the line at the lower), and the sums at
	// the ends. They do not depend on the risk.
	start          []choice
	loSums, hiSums sums
	// Each worker's sums, reused from pass to pass.
	sums, hiParts []sums
}

func newFleet(cells []cell, lambdaMax float64) *fleet {
	n := workers(cells)
	f := &fleet{cells: make([]cell, 0, len(cells)), choices: make([]choice, len(cells)), start: make([]choice, len(cells)),
		parts: make([]int, n+1), sums: make([]sums, n), hiParts: make([]sums, n),
		// λ spans many orders of magnitude (cores per hour of risk): the
		// bisection halves its logarithm, from λmax·2^-48 (as good as 0)
		// to λmax.
		lambdaLo: lambdaMax * math.Exp2(-48), lambdaHi: lambdaMax}
	for w := range n {
		var use, total float64
		for i := w; i < len(cells); i += n {
			f.cells = append(f.cells, cells[i])
			use += cells[i].usage
			total += cells[i].total
		}
		f.parts[w+1] = len(f.cells)
		f.use += use
		f.total += total
	}
	// Each worker's cells' envelopes in one block, in the order it goes
	// over them: every step on ρ writes them all, and the bisection on λ
	// reads them.
	f.run(func(_, a, b int) {
		m := 0
		for i := a; i < b; i++ {
			m += len(f.cells[i].x)
		}
		fs, hs := make([]float64, 3*m), make([]int32, m)
		for i := a; i < b; i++ {
			c := &f.cells[i]
			m := len(c.x)
			c.from, c.km = fs[0:0:m], fs[m:m:3*m]
			c.hull = hs[:0:m]
			fs, hs = fs[3*m:], hs[m:]
		}
	})
	return f
}

// run calls do for each worker's share of the cells, from a to b, in
// parallel.
func (f *fleet) run(do func(w, a, b int)) {
	var wg sync.WaitGroup
	for w := 1; w < len(f.parts)-1; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(w, f.parts[w], f.parts[w+1])
		}()
	}
	do(0, 0, f.parts[1])
	wg.Wait()
}

// prepareAll builds every cell's envelope for ρ and, while the cell is at
// hand, finds its lines at both ends of λ's bisection: every risk's
// bisection at this ρ starts there. Only with full does it sum the
// allocations' requests and idle time.
func (f *fleet) prepareAll(rho float64, full bool) {
	lo, hi := f.lambdaLo, f.lambdaHi
	f.run(func(w, a, b int) {
		var pl, ph sums
		cells, start := f.cells[a:b], f.start[a:b]
		for i := range cells {
			c := &cells[i]
			c.prepare(rho)
			last := int32(len(c.from) - 1)
			atHi, atLo := c.position(hi, 0, last), c.position(lo, 0, last)
			kHi, shortHi := c.km[2*atHi], c.km[2*atHi+1]
			kLo, shortLo := c.km[2*atLo], c.km[2*atLo+1]
			ph.dual += kHi + hi*shortHi
			ph.short += shortHi
			pl.dual += kLo + lo*shortLo
			pl.short += shortLo
			if full {
				j := c.hull[atHi]
				ph.req += c.x[j] * c.total
				ph.idle += c.idle[j]
				j = c.hull[atLo]
				pl.req += c.x[j] * c.total
				pl.idle += c.idle[j]
			}
			start[i] = choice{lo: atLo, hi: atHi, mid: atLo, k: kLo, short: shortLo}
		}
		f.sums[w], f.hiParts[w] = pl, ph
	})
	f.loSums, f.hiSums = f.add(f.sums), f.add(f.hiParts)
}

// add sums the workers' parts in their order, with the fleet's usage and
// time.
func (f *fleet) add(parts []sums) sums {
	s := sums{use: f.use, total: f.total}
	for _, p := range parts {
		s.dual += p.dual
		s.req += p.req
		s.idle += p.idle
		s.short += p.short
	}
	return s
}

// bracket says where evaluate looks for each cell's best candidate.
type bracket int

const (
	anywhere bracket = iota // the whole hull
	between                 // between the bisection's ends, choice.lo and choice.hi
)

// settling is what the last pass's midpoints become before a pass looks:
// the bisection's new end, if any.
type settling int

const (
	unsettled settling = iota
	settleLo
	settleHi
)

// evaluate runs the per-cell minimisations for the prepared ρ in parallel,
// noting each cell's candidate in its choice, after making each choice's
// last midpoint an end of the bracket as settle says. The partial sums go
// worker by worker, in a fixed order, so that the figures do not depend on
// timing. Only with full does it sum the allocation's requests and idle
// time, which the bisections on ρ do not need.
func (f *fleet) evaluate(lambda float64, where bracket, settle settling, full bool) sums {
	f.run(func(w, a, b int) {
		// The sums in locals, not in a sums, which lives in memory: each
		// addition waited for the last one's store.
		var dual, short, req, idle float64
		cells, choices := f.cells[a:b], f.choices[a:b]
		for i := range choices {
			ch := &choices[i]
			switch settle {
			case settleLo:
				ch.lo = ch.mid
			case settleHi:
				ch.hi = ch.mid
			}
			if where == anywhere || ch.lo != ch.hi {
				c := &cells[i]
				if where == anywhere {
					ch.mid = c.position(lambda, 0, int32(len(c.from)-1))
				} else {
					ch.mid = c.position(lambda, ch.lo, ch.hi)
				}
				ch.k, ch.short = c.km[2*ch.mid], c.km[2*ch.mid+1]
			} // else the ends met: the line at mid is theirs
			dual += ch.k + lambda*ch.short
			short += ch.short
			if full {
				c := &cells[i]
				j := c.hull[ch.mid]
				req += c.x[j] * c.total
				idle += c.idle[j]
			}
		}
		f.sums[w] = sums{dual: dual, short: short, req: req, idle: idle}
	})
	return f.add(f.sums)
}

// budgetLambda bisects for the smallest λ whose allocation at ρ keeps short
// time within β·T. The dual Σ min(…) − λβT is concave in λ with
// supergradient short(λ) − βT, so the same λ also maximises the dual: the
// tightest certificate and the allocation come from one search. It returns
// the dual's best value found and the allocation within the budget.
func budgetLambda(f *fleet, rho, beta float64) (dual float64, within sums) {
	f.prepareAll(rho, true)
	return f.searchLambda(beta, true)
}

// searchLambda is budgetLambda for the cells' prepared ρ, made with the
// same full.
func (f *fleet) searchLambda(beta float64, full bool) (dual float64, within sums) {
	// The ends are prepareAll's: each cell's positions there bracket its
	// position at every λ between.
	lo, hi := f.lambdaLo, f.lambdaHi
	loSums, hiSums := f.loSums, f.hiSums
	copy(f.choices, f.start)
	where, settle := between, unsettled
	for range 26 {
		mid := math.Sqrt(lo * hi)
		// Each cell's position at mid lies between those at the ends
		// while mid does (it may not, by rounding, where lo·hi overflows).
		if !(lo <= mid && mid <= hi) {
			where = anywhere
		}
		s := f.evaluate(mid, where, settle, full)
		if s.short > beta*s.total {
			lo, loSums, settle = mid, s, settleLo
		} else {
			hi, hiSums, settle = mid, s, settleHi
		}
	}
	// The top of the dual lies between lo and hi.
	return max(loSums.dual-lo*beta*loSums.total, hiSums.dual-hi*beta*hiSums.total), hiSums
}

// slacks returns the bound's slack (Bound.Slack) at each risk, by
// bisection on ρ. The risks' bisections run side by side and, where several
// stand at the same ρ (all at the first step, risks close together for a
// few more), share its envelopes, the costliest part of a step.
func slacks(f *fleet, betas []float64) []float64 {
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
			f.prepareAll(rho, false)
			for j := i; j < len(betas); j++ {
				if stepped[j] || (lo[j]+hi[j])/2 != rho {
					continue
				}
				stepped[j] = true
				if d, _ := f.searchLambda(betas[j], false); d > 0 {
					lo[j] = rho // some λ proves slack ρ unreachable
				} else {
					hi[j] = rho
				}
			}
		}
	}
	return lo
}

func bound(f *fleet, beta float64) Bound {
	lo := slacks(f, []float64{beta})[0]
	b := Bound{Insufficient: beta, Slack: lo}
	// A reachable allocation at the bound's ρ, within the budget.
	_, s := budgetLambda(f, lo, beta)
	b.Achieved = CPU{RequestCoreHours: s.req, UsageCoreHours: s.use, Slack: ratio(s.idle, s.req), Insufficient: ratio(s.short, s.total)}
	return b
}
