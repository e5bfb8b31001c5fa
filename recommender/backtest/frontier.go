package backtest

import (
	"context"
	"fmt"
	"math"
	"slices"
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

// dual is the Lagrangian lower bound on min (I − ρQ) subject to S ≤ βT.
func dual(cells []cell, rho, lambda, beta float64) float64 {
	var sum, total float64
	for i := range cells {
		_, _, _, v := cells[i].best(rho, lambda)
		sum += v
		total += cells[i].total
	}
	return sum - lambda*beta*total
}

// ruledOut reports whether some λ proves slack ρ unreachable at risk β. The
// dual is concave in λ, so a ternary search over [0, λmax] finds its top;
// beyond λmax (cores) every cell already covers all its samples.
func ruledOut(cells []cell, rho, beta, lambdaMax float64) bool {
	lo, hi := 0.0, lambdaMax
	for range 50 {
		m1, m2 := lo+(hi-lo)/3, hi-(hi-lo)/3
		if dual(cells, rho, m1, beta) < dual(cells, rho, m2, beta) {
			lo = m1
		} else {
			hi = m2
		}
		if dual(cells, rho, lo, beta) > 0 {
			return true
		}
	}
	return dual(cells, rho, (lo+hi)/2, beta) > 0
}

func bound(cells []cell, beta, lambdaMax float64) Bound {
	// 2^-14 of slack is well below the figures' two decimals.
	lo, hi := 0.0, 1.0
	for range 14 {
		mid := (lo + hi) / 2
		if ruledOut(cells, mid, beta, lambdaMax) {
			lo = mid
		} else {
			hi = mid
		}
	}
	b := Bound{Insufficient: beta, Slack: lo}
	b.Achieved = achieve(cells, lo, beta, lambdaMax)
	return b
}

// achieve finds a hindsight allocation at risk ≤ β: per cell the request
// minimising idle − ρ·r·t + λ·short at the bound's ρ, with the smallest λ
// (bisected) whose short time stays within the budget.
func achieve(cells []cell, rho, beta, lambdaMax float64) CPU {
	eval := func(lambda float64) CPU {
		var req, use, idle, short, total float64
		for i := range cells {
			c := &cells[i]
			r, id, sh, _ := c.best(rho, lambda)
			req += r * c.total
			idle += id
			short += sh
			total += c.total
			use += c.usage
		}
		return CPU{RequestCoreHours: req, UsageCoreHours: use, Slack: ratio(idle, req), Insufficient: ratio(short, total)}
	}
	lo, hi := 0.0, lambdaMax
	for range 60 {
		mid := (lo + hi) / 2
		if eval(mid).Insufficient > beta {
			lo = mid
		} else {
			hi = mid
		}
	}
	return eval(hi)
}
