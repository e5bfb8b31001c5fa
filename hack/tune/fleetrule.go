package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sync"
	"time"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// A fleet rule: at each decision, every container's CPU request is
// max(base, newsvendor(λ)) with one price λ for the whole fleet, the
// lowest on a grid at which the fleet's in-sample share of time short
// (last 14 days, half-life 24 h, each container weighted by its samples of
// the last day, or equally) is at most a factor × that of a reference rule
// (VPA's p90 + 15 %) on the same usage. Two passes: the first records, per container and decision, the
// request and in-sample risk at every λ; the second replays the chosen λ.

// lambdaGrid is the prices tried, in cores; FINE=1 takes a grid of 10 %
// steps instead.
var lambdaGrid = func() []float64 {
	if os.Getenv("FINE") == "" {
		return []float64{0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500}
	}
	g := []float64{0}
	for l := 0.1; l < 1000; l *= 1.1 {
		g = append(g, l)
	}
	return g
}()

// probe is one container's in-sample figures at one decision.
type probe struct {
	weight  float64   // samples of the last day
	refRisk float64   // the reference rule's in-sample share short
	x       []float64 // request at each λ
	risk    []float64 // in-sample share short at each λ
}

type fleetTable struct {
	mu sync.Mutex
	by map[string]map[int64]*probe // container → tk → probe
}

func (f *fleetTable) put(k workload.ContainerKey, tk time.Time, p *probe) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.by[k.String()]
	if m == nil {
		m = map[int64]*probe{}
		f.by[k.String()] = m
	}
	m[tk.UnixMilli()] = p
}

// weighted are the last window's samples with their decay weights, sorted.
type vw struct{ v, w float64 }

func weightedSamples(c *cpuCtx, window, halfLife time.Duration) (xs []vw, lastDay float64) {
	return weightedBefore(c, c.tk, window, halfLife)
}

func weightedBefore(c *cpuCtx, end time.Time, window, halfLife time.Duration) (xs []vw, lastDay float64) {
	lo, hi := end.Add(-window).UnixMilli(), end.UnixMilli()
	day := end.Add(-24 * time.Hour).UnixMilli()
	for _, s := range c.series {
		for i := s.Search(lo); i < s.Len() && s.Time[i] < hi; i++ {
			if v := s.CPU[i]; !math.IsNaN(v) {
				age := float64(hi-s.Time[i]) / float64(halfLife.Milliseconds())
				xs = append(xs, vw{v, math.Exp2(-age)})
				if s.Time[i] >= day {
					lastDay++
				}
			}
		}
	}
	slices.SortFunc(xs, func(a, b vw) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	return xs, lastDay
}

// nvAll returns the newsvendor request at every λ of the grid.
func nvAll(xs []vw, grid []float64) []float64 {
	var tot float64
	for _, x := range xs {
		tot += x.w
	}
	out := make([]float64, len(grid))
	best := make([]float64, len(grid))
	for j := range best {
		best[j] = math.Inf(1)
	}
	var wBelow, wvBelow float64
	for i := 0; i < len(xs); i++ {
		wBelow += xs[i].w
		wvBelow += xs[i].w * xs[i].v
		if i+1 < len(xs) && xs[i+1].v == xs[i].v {
			continue
		}
		r := xs[i].v
		idle, short := (r*wBelow-wvBelow)/tot, (tot-wBelow)/tot
		for j, l := range grid {
			if c := idle + l*short; c < best[j] {
				best[j], out[j] = c, r
			}
		}
	}
	return out
}

// shareShort is the weighted share of xs above x.
func shareShort(xs []vw, x float64) float64 {
	var tot, above float64
	for _, s := range xs {
		tot += s.w
		if s.v > x {
			above += s.w
		}
	}
	if tot == 0 {
		return 0
	}
	return above / tot
}

type fleetRule struct {
	name string
	base func(c *cpuCtx) float64
	ref  func(c *cpuCtx) float64
	// riskFactor scales the reference risk: 1 = the same risk.
	riskFactor float64
	// holdout > 0: risks are those each rule would have had on each of
	// the last holdout days, decided from the samples before that day.
	holdout int
	// hist: the newsvendor and the risks from the decayed CPU histogram
	// instead of the samples; equal: every container weighs the same.
	hist, equal bool
}

// histPoints turns the CPU histogram into weighted points: each bucket's
// midpoint for the idle cost, its end as the candidate request.
func histPoints(c *cpuCtx) (mid, end, w []float64) {
	c.s.CPU.Buckets(func(lo, hi, wt float64) {
		mid = append(mid, (lo+hi)/2)
		end = append(end, hi)
		w = append(w, wt)
	})
	return
}

func nvHist(mid, end, w []float64, grid []float64) []float64 {
	var tot float64
	for _, x := range w {
		tot += x
	}
	out := make([]float64, len(grid))
	best := make([]float64, len(grid))
	for j := range best {
		best[j] = math.Inf(1)
	}
	var wBelow, wvBelow float64
	for i := range mid {
		wBelow += w[i]
		wvBelow += w[i] * mid[i]
		r := end[i]
		idle, short := (r*wBelow-wvBelow)/tot, (tot-wBelow)/tot
		for j, l := range grid {
			if c := idle + l*short; c < best[j] {
				best[j], out[j] = c, r
			}
		}
	}
	return out
}

func shareAboveHist(mid, end, w []float64, x float64) float64 {
	var tot, above float64
	for i := range mid {
		tot += w[i]
		lo := 2*mid[i] - end[i]
		switch {
		case lo >= x:
			above += w[i]
		case end[i] > x*(1+1e-9):
			// uniform within the bucket
			above += w[i] * (end[i] - x) / (end[i] - lo)
		}
	}
	if tot == 0 {
		return 0
	}
	return above / tot
}

// vpaLike is VPA's target rule on weighted samples: p90 + 15 %, ≥ 25m.
func vpaLike(xs []vw) float64 { return max(wq(xs, 0.9)*1.15, 0.025) }

// wq is the weighted q-quantile of sorted xs.
func wq(xs []vw, q float64) float64 {
	var tot float64
	for _, x := range xs {
		tot += x.w
	}
	var c float64
	for _, x := range xs {
		c += x.w
		if c >= q*tot {
			return x.v
		}
	}
	return 0
}

// holdoutProbe decides as of each of the last days from the samples before
// it and counts the samples of that day above each decision.
func holdoutProbe(c *cpuCtx, days int, base float64) *probe {
	p := &probe{x: make([]float64, len(lambdaGrid)), risk: make([]float64, len(lambdaGrid))}
	var n, refAbove float64
	above := make([]float64, len(lambdaGrid))
	for d := 1; d <= days; d++ {
		end := c.tk.Add(-time.Duration(d) * 24 * time.Hour)
		xs, _ := weightedBefore(c, end, 14*24*time.Hour, 24*time.Hour)
		if len(xs) < 30 {
			continue
		}
		nv := nvAll(xs, lambdaGrid)
		ref := vpaLike(xs)
		lo, hi := end.UnixMilli(), end.Add(24*time.Hour).UnixMilli()
		for _, s := range c.series {
			for i := s.Search(lo); i < s.Len() && s.Time[i] < hi; i++ {
				v := s.CPU[i]
				if math.IsNaN(v) {
					continue
				}
				n++
				if v > ref {
					refAbove++
				}
				for j := range nv {
					if v > max(base, nv[j]) {
						above[j]++
					}
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	p.weight, p.refRisk = n, refAbove/n
	for j := range above {
		p.risk[j] = above[j] / n
	}
	return p
}

func fleetRules() []fleetRule {
	vpaRule := func(c *cpuCtx) float64 { return max(hq(c.s, 0.9)*1.15, 0.025) }
	b := func(c *cpuCtx) float64 { return bal(c.s) }
	zero := func(c *cpuCtx) float64 { return 0 }
	bases := []struct {
		name string
		f    func(c *cpuCtx) float64
	}{
		{"bal", b},
		{"bal+3%", func(c *cpuCtx) float64 { return bal(c.s) / 1.05 * 1.03 }},
		{"p98≤p75×1.5", func(c *cpuCtx) float64 { return balCap(c.s, 0.75, 0.5, 0.98) }},
		{"p98≤p75×1.3", func(c *cpuCtx) float64 { return balCap(c.s, 0.75, 0.3, 0.98) }},
		{"none", zero},
	}
	var out []fleetRule
	for _, bs := range bases {
		for _, f := range []float64{0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1} {
			out = append(out, fleetRule{name: fmt.Sprintf("samples max(%s, nv λ*) at %.2f × vpa rule's risk", bs.name, f), base: bs.f, ref: vpaRule, riskFactor: f})
			out = append(out, fleetRule{name: fmt.Sprintf("hist max(%s, nv λ*) at %.2f × vpa rule's risk", bs.name, f), base: bs.f, ref: vpaRule, riskFactor: f, hist: true})
			out = append(out, fleetRule{name: fmt.Sprintf("hist equal max(%s, nv λ*) at %.2f × vpa rule's risk", bs.name, f), base: bs.f, ref: vpaRule, riskFactor: f, hist: true, equal: true})
		}
	}
	for _, d := range []int{1, 3, 7} {
		out = append(out, fleetRule{name: fmt.Sprintf("samples max(bal, nv λ*) at vpa's risk on the last %d days", d), base: b, riskFactor: 1, holdout: d})
		out = append(out, fleetRule{name: fmt.Sprintf("samples nv λ* at vpa's risk on the last %d days", d), base: zero, riskFactor: 1, holdout: d})
	}
	return out
}

type probeReplayer struct {
	key  workload.ContainerKey
	rule fleetRule
	tab  *fleetTable
	// choice, in the second pass: tk → λ index.
	choice map[int64]int
	inner  *cpuReplayer
}

func (r *probeReplayer) Decide(v backtest.View, tk, next time.Time) workload.Recommendation {
	rule := cpuRule{name: r.rule.name, value: func(c *cpuCtx) float64 {
		xs, day := weightedSamples(c, 14*24*time.Hour, 24*time.Hour)
		base := r.rule.base(c)
		if len(xs) == 0 {
			return bal(c.s)
		}
		nv := nvAll(xs, lambdaGrid)
		if r.rule.hist {
			mid, end, w := histPoints(c)
			if len(mid) == 0 {
				return bal(c.s)
			}
			weight := day
			if r.rule.equal {
				weight = 1
			}
			return r.probeOrDecide(c, tk, base, weight, nvHist(mid, end, w, lambdaGrid), func(x float64) float64 { return shareAboveHist(mid, end, w, x) })
		}
		if r.choice == nil && r.rule.holdout > 0 {
			if p := holdoutProbe(c, r.rule.holdout, base); p != nil {
				r.tab.put(r.key, tk, p)
			}
			return bal(c.s)
		}
		return r.probeOrDecide(c, tk, base, day, nv, func(x float64) float64 { return shareShort(xs, x) })
	}}
	if r.inner == nil {
		r.inner = &cpuReplayer{key: r.key, rule: rule}
	}
	r.inner.rule = rule
	return r.inner.Decide(v, tk, next)
}

// probeOrDecide records the container's probe in the first pass (and
// answers balanced's request, which nothing reads), and in the second
// returns max(base, newsvendor) at the price chosen for tk.
func (r *probeReplayer) probeOrDecide(c *cpuCtx, tk time.Time, base, weight float64, nv []float64, share func(float64) float64) float64 {
	if r.choice == nil {
		p := &probe{weight: weight, refRisk: share(r.rule.ref(c)), x: make([]float64, len(nv)), risk: make([]float64, len(nv))}
		for j := range nv {
			p.x[j] = max(base, nv[j])
			p.risk[j] = share(p.x[j])
		}
		r.tab.put(r.key, tk, p)
		return bal(c.s)
	}
	j, ok := r.choice[tk.UnixMilli()]
	if !ok {
		return bal(c.s)
	}
	return max(base, nv[j])
}

// choose picks, per decision time, the lowest λ whose fleet risk is at
// most riskFactor × the reference's.
func choose(tab *fleetTable, riskFactor float64) map[int64]int {
	type agg struct {
		w, ref float64
		risk   []float64
	}
	by := map[int64]*agg{}
	for _, m := range tab.by {
		for tk, p := range m {
			a := by[tk]
			if a == nil {
				a = &agg{risk: make([]float64, len(lambdaGrid))}
				by[tk] = a
			}
			a.w += p.weight
			a.ref += p.weight * p.refRisk
			for j := range p.risk {
				a.risk[j] += p.weight * p.risk[j]
			}
		}
	}
	out := map[int64]int{}
	for tk, a := range by {
		j := len(lambdaGrid) - 1
		for i := range lambdaGrid {
			if a.risk[i] <= riskFactor*a.ref+1e-12 {
				j = i
				break
			}
		}
		out[tk] = j
	}
	return out
}

func runFleet(dir string, interval, warmup time.Duration, only *regexp.Regexp) error {
	var rules []fleetRule
	for _, r := range fleetRules() {
		if only.MatchString(r.name) {
			rules = append(rules, r)
		}
	}
	names := []string{"vpa", "balanced"}
	for _, r := range rules {
		names = append(names, r.name)
	}
	var lambdas []string
	cells, err := eachHalf(dir, interval, warmup, len(names), func(st *history.Store, file string, h int, o backtest.Options) ([]backtest.Result, error) {
		tabs := make([]*fleetTable, len(rules))
		var ext []backtest.External
		for i, r := range rules {
			tabs[i] = &fleetTable{by: map[string]map[int64]*probe{}}
			ext = append(ext, backtest.External{Name: r.name, New: func(k workload.ContainerKey) backtest.Replayer {
				return &probeReplayer{key: k, rule: r, tab: tabs[i]}
			}})
		}
		if _, err := backtest.RunExternal(context.Background(), st, nil, ext, o); err != nil {
			return nil, err
		}
		ext = ext[:0]
		for i, r := range rules {
			ch := choose(tabs[i], r.riskFactor)
			var ls []float64
			for _, j := range ch {
				ls = append(ls, lambdaGrid[j])
			}
			slices.Sort(ls)
			lambdas = append(lambdas, fmt.Sprintf("%s %s half %d: λ %v", file, r.name, h, ls))
			ext = append(ext, backtest.External{Name: r.name, New: func(k workload.ContainerKey) backtest.Replayer {
				return &probeReplayer{key: k, rule: r, choice: ch}
			}})
		}
		return backtest.RunExternal(context.Background(), st, []string{"vpa", "balanced"}, ext, o)
	})
	if err != nil {
		return err
	}
	for _, l := range lambdas {
		fmt.Println(l)
	}
	return printAgainstVPA(names, cells)
}
