// Command forecast explores CPU request rules that do not fit the profile
// machinery — rules that couple containers (a fleet risk budget), calibrate
// themselves on their own past errors, or extrapolate trends — on the shared
// traces, next to the balanced rule and hindsight. docs/policy.md ("Explored
// outside the profiles") records its tables.
//
// It works on exact, decay-weighted samples instead of the histograms the
// profiles use, so its balanced row sits about a point of slack from the
// backtest's; compare rows within one table, not across tools. Figures are
// CPU slack / insufficient (%) for all containers and for the tuning and
// held-out halves of hack/tune.
//
//	go run ./hack/forecast -data ../shared/data/gcd-2011.csv.gz
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"time"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/backtest"
)

const (
	day      = int64(24 * 3600 * 1000) // ms
	halfLife = float64(day)            // the balanced profile's 24 h
	lookback = 14 * day
)

// sample is one CPU sample: time (ms), usage (cores) and weight (scoring
// weight dt for future samples, decay weight for past ones).
type sample struct {
	t    int64
	u, w float64
}

// dist is a weighted sample set sorted by usage.
type dist struct {
	s    []sample
	wsum float64
}

func newDist(s []sample) *dist {
	d := &dist{s: s}
	sort.Slice(d.s, func(a, b int) bool { return d.s[a].u < d.s[b].u })
	for _, x := range d.s {
		d.wsum += x.w
	}
	return d
}

func (d *dist) quantile(q float64) float64 {
	if len(d.s) == 0 {
		return 0
	}
	acc := 0.0
	for _, x := range d.s {
		acc += x.w
		if acc >= q*d.wsum {
			return x.u
		}
	}
	return d.s[len(d.s)-1].u
}

func (d *dist) mean() float64 {
	s := 0.0
	for _, x := range d.s {
		s += x.u * x.w
	}
	return s / d.wsum
}

// cell is one container at one decision: its decayed past and the samples
// the decision is scored on.
type cell struct {
	all    []sample // every sample of the container, by time, w = dt
	t      int64    // decision time
	past   *dist
	future []sample
	half   int
}

// history builds the decayed past of a container as of t.
func history(all []sample, t int64) *dist {
	var s []sample
	for _, x := range all {
		if x.t < t && x.t >= t-lookback {
			s = append(s, sample{x.t, x.u, math.Exp2(float64(x.t-t) / halfLife)})
		}
	}
	return newDist(s)
}

func between(all []sample, lo, hi int64) []sample {
	var out []sample
	for _, x := range all {
		if x.t >= lo && x.t < hi {
			out = append(out, x)
		}
	}
	return out
}

// load returns cells[decision][container] with W = 7 d, R = 24 h.
func load(path string) ([][]*cell, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, _, err := usagecsv.Load(f, path)
	if err != nil {
		return nil, err
	}
	first, last := st.Span()
	var dec []int64
	for t := first.Add(7 * 24 * time.Hour); t.Before(last); t = t.Add(24 * time.Hour) {
		dec = append(dec, t.UnixMilli())
	}
	dec = append(dec, last.UnixMilli()+1)
	cells := make([][]*cell, len(dec)-1)
	for _, key := range st.Containers() {
		var all []sample
		for _, s := range st.Series(key) {
			step := 2 * s.MedianStep().Milliseconds()
			for i := range s.Time {
				if u := float64(s.CPU[i]); u == u {
					dt := 0.0
					if i > 0 {
						dt = float64(min(s.Time[i]-s.Time[i-1], step)) / float64(time.Hour.Milliseconds())
					}
					all = append(all, sample{s.Time[i], u, dt})
				}
			}
		}
		sort.Slice(all, func(a, b int) bool { return all[a].t < all[b].t })
		for k := range cells {
			c := &cell{all: all, t: dec[k], past: history(all, dec[k]), future: between(all, dec[k], dec[k+1]), half: backtest.Half(key)}
			if len(c.past.s) >= 30 {
				cells[k] = append(cells[k], c)
			}
		}
	}
	return cells, nil
}

// tally accumulates the scored figures.
type tally struct{ req, idle, dt, short float64 }

func (t *tally) score(future []sample, r float64) {
	for _, x := range future {
		t.req += r * x.w
		t.idle += max(r-x.u, 0) * x.w
		t.dt += x.w
		if x.u > r {
			t.short += x.w
		}
	}
}

// fleetRule decides the requests of all containers at one decision.
type fleetRule func(cs []*cell) []float64

// perContainer lifts a one-container rule.
func perContainer(f func(c *cell) float64) fleetRule {
	return func(cs []*cell) []float64 {
		out := make([]float64, len(cs))
		for i, c := range cs {
			out[i] = f(c)
		}
		return out
	}
}

func row(w io.Writer, name string, cells [][]*cell, rule fleetRule) {
	var ts [3]tally
	for _, cs := range cells {
		for i, r := range rule(cs) {
			r = math.Ceil(r*1000) / 1000 // millicores, as the profiles round
			ts[0].score(cs[i].future, r)
			ts[1+cs[i].half].score(cs[i].future, r)
		}
	}
	fmt.Fprintf(w, "| %s |", name)
	for _, t := range ts {
		fmt.Fprintf(w, " %.2f / %.2f |", 100*t.idle/t.req, 100*t.short/t.dt)
	}
	fmt.Fprintln(w)
}

// balanced is the profile's CPU request rule on exact samples.
func balanced(d *dist, margin, capMargin float64) float64 {
	return max(min(d.quantile(0.98), (1+capMargin)*d.quantile(0.75)), d.mean()) * (1 + margin)
}

// lagrangian returns the request minimising idle(r) + λ·risk(r) on d, with
// the risk it predicts; idle in cores, risk a share, λ in cores.
func lagrangian(d *dist, lambda float64) (r, risk float64) {
	var below, useBelow float64
	best := math.Inf(1)
	for j, x := range d.s {
		below += x.w
		useBelow += x.w * x.u
		if j+1 < len(d.s) && d.s[j+1].u == x.u {
			continue
		}
		idle := (x.u*below - useBelow) / d.wsum
		rk := (d.wsum - below) / d.wsum
		if v := idle + lambda*rk; v < best {
			best, r, risk = v, x.u, rk
		}
	}
	return r, risk
}

// budget spends a fleet risk budget β where it saves most cores: one λ for
// all containers, found by bisection so the predicted risk averages β.
func budget(beta, margin float64, of func(c *cell) *dist) fleetRule {
	return func(cs []*cell) []float64 {
		ds := make([]*dist, len(cs))
		for i, c := range cs {
			ds[i] = of(c)
		}
		lo, hi := -8.0, 4.0
		for range 40 {
			mid := (lo + hi) / 2
			var risk float64
			for _, d := range ds {
				_, rk := lagrangian(d, math.Pow(10, mid))
				risk += rk
			}
			if risk/float64(len(ds)) > beta {
				lo = mid
			} else {
				hi = mid
			}
		}
		out := make([]float64, len(cs))
		for i, d := range ds {
			r, _ := lagrangian(d, math.Pow(10, hi))
			out[i] = r * (1 + margin)
		}
		return out
	}
}

// calibrated picks the one λ whose decisions on each of the last J days,
// from the history before each, would have been short τ of the time.
func calibrated(J int, tau float64) fleetRule {
	return func(cs []*cell) []float64 {
		type past struct {
			d      *dist
			future []sample
		}
		var ps []past
		for j := 1; j <= J; j++ {
			for _, c := range cs {
				pt := c.t - int64(j)*day
				if d := history(c.all, pt); len(d.s) >= 288 {
					ps = append(ps, past{d, between(c.all, pt, pt+day)})
				}
			}
		}
		lo, hi := -6.0, 4.0
		for range 30 {
			mid := (lo + hi) / 2
			var t tally
			for _, p := range ps {
				r, _ := lagrangian(p.d, math.Pow(10, mid))
				t.score(p.future, r)
			}
			if t.short > tau*t.dt {
				lo = mid
			} else {
				hi = mid
			}
		}
		out := make([]float64, len(cs))
		for i, c := range cs {
			out[i], _ = lagrangian(c.past, math.Pow(10, hi))
		}
		return out
	}
}

// selfCalibrated scales the decayed q-quantile by the container's own
// one-day-ahead error: the (1−β)-quantile of usage over the quantile
// predicted the day before, over its last six days.
func selfCalibrated(q, beta float64) func(c *cell) float64 {
	return func(c *cell) float64 {
		var ratios []sample
		for j := 1; j <= 6; j++ {
			pt := c.t - int64(j)*day
			h := history(c.all, pt)
			if len(h.s) < 288 {
				break
			}
			b := h.quantile(q)
			if b <= 0 {
				continue
			}
			w := math.Exp2(-float64(j-1) / 3)
			for _, x := range between(c.all, pt, pt+day) {
				ratios = append(ratios, sample{0, x.u / b, x.w * w})
			}
		}
		base := c.past.quantile(q)
		if len(ratios) == 0 {
			return base * 1.2
		}
		return base * newDist(ratios).quantile(1-beta)
	}
}

// detrended divides the last D days by a line through their daily means
// (least squares), takes the balanced rule of the ratios and multiplies by
// the line φ·half a day ahead: φ = 0 detrends only, 1 extrapolates.
func detrended(D int, phi float64) func(c *cell) float64 {
	return func(c *cell) float64 {
		var xs, ys []float64
		for d := 1; d <= D; d++ {
			s := between(c.all, c.t-int64(d)*day, c.t-int64(d-1)*day)
			if len(s) == 0 {
				continue
			}
			var sum float64
			for _, x := range s {
				sum += x.u
			}
			xs, ys = append(xs, -(float64(d)-0.5)), append(ys, sum/float64(len(s)))
		}
		if len(xs) < 3 {
			return balanced(c.past, 0.05, 0.6)
		}
		var mx, my, sxy, sxx float64
		for i := range xs {
			mx, my = mx+xs[i]/float64(len(xs)), my+ys[i]/float64(len(xs))
		}
		for i := range xs {
			sxy += (xs[i] - mx) * (ys[i] - my)
			sxx += (xs[i] - mx) * (xs[i] - mx)
		}
		b := sxy / sxx
		a := my - b*mx
		var ratios []sample
		for _, x := range between(c.all, c.t-int64(D)*day, c.t) {
			level := a + b*float64(x.t-c.t)/float64(day)
			if level <= 0 {
				return balanced(c.past, 0.05, 0.6)
			}
			ratios = append(ratios, sample{x.t, x.u / level, math.Exp2(float64(x.t-c.t) / halfLife)})
		}
		ahead := a + phi*b*0.5
		if ahead <= 0 {
			return balanced(c.past, 0.05, 0.6)
		}
		return balanced(newDist(ratios), 0.05, 0.6) * ahead
	}
}

func main() {
	data := flag.String("data", "../shared/data/gcd-2011.csv.gz", "usage CSV (one of the shared traces)")
	run := flag.String("run", "", "run only the experiments whose name matches this regular expression")
	flag.Parse()
	re, err := regexp.Compile(*run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forecast: -run:", err)
		os.Exit(2)
	}
	cells, err := load(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forecast:", err)
		os.Exit(1)
	}
	w := os.Stdout
	fmt.Fprintf(w, "%s: CPU slack / insufficient (%%)\n\n| rule | all | tuning half | held-out half |\n|---|---|---|---|\n", *data)
	future := func(c *cell) *dist {
		s := append([]sample(nil), c.future...)
		return newDist(s)
	}
	type experiment struct {
		group, name string
		rule        fleetRule
	}
	var exps []experiment
	add := func(group, name string, r fleetRule) { exps = append(exps, experiment{group, name, r}) }
	add("balanced", "balanced (p98 ≤ 1.6 × p75, ≥ mean, + 5 %)", perContainer(func(c *cell) float64 { return balanced(c.past, 0.05, 0.6) }))
	for _, m := range []float64{0, 0.02, 0.08, 0.12} {
		add("balanced", fmt.Sprintf("balanced, + %.0f %%", 100*m), perContainer(func(c *cell) float64 { return balanced(c.past, m, 0.6) }))
	}
	for _, beta := range []float64{0.005, 0.01, 0.02, 0.03} {
		for _, m := range []float64{0, 0.05} {
			add("budget", fmt.Sprintf("fleet budget β = %.1f %%, + %.0f %%", 100*beta, 100*m), budget(beta, m, func(c *cell) *dist { return c.past }))
		}
	}
	for _, tau := range []float64{0.01, 0.02, 0.03} {
		add("calibrated", fmt.Sprintf("fleet budget calibrated on the last 3 days to %.0f %%", 100*tau), calibrated(3, tau))
	}
	for _, beta := range []float64{0.01, 0.02} {
		add("self", fmt.Sprintf("p98 × own one-day-ahead error, β = %.0f %%", 100*beta), perContainer(selfCalibrated(0.98, beta)))
	}
	for _, phi := range []float64{0, 1} {
		add("trend", fmt.Sprintf("detrended over 7 days, φ = %.0f", phi), perContainer(detrended(7, phi)))
	}
	for _, thr := range []float64{1.15, 1.3, 1.5} {
		for _, days := range []int64{1, 2} {
			add("shift", fmt.Sprintf("level shift > ×%.2f: balanced of the last %d day(s) only", thr, days), perContainer(func(c *cell) float64 {
				recent := newDist(between(c.all, c.t-days*day, c.t))
				older := newDist(between(c.all, c.t-7*day, c.t-days*day))
				if len(recent.s) < 100 || len(older.s) < 100 {
					return balanced(c.past, 0.05, 0.6)
				}
				r := recent.quantile(0.5) / older.quantile(0.5)
				if r > thr || r < 1/thr {
					return balanced(recent, 0.05, 0.6)
				}
				return balanced(c.past, 0.05, 0.6)
			}))
		}
	}
	for _, a := range []float64{0, 0.02} {
		for _, k := range []float64{0.25, 0.5, 1} {
			add("daycv", fmt.Sprintf("balanced × (1 + %.2f + %.2f × CV of daily p98s)", a, k), perContainer(func(c *cell) float64 {
				var ps []float64
				for d := int64(1); d <= 7; d++ {
					if s := between(c.all, c.t-d*day, c.t-(d-1)*day); len(s) > 50 {
						ps = append(ps, newDist(s).quantile(0.98))
					}
				}
				cv := 0.0
				if len(ps) >= 3 {
					var m, v float64
					for _, p := range ps {
						m += p / float64(len(ps))
					}
					for _, p := range ps {
						v += (p - m) * (p - m) / float64(len(ps)-1)
					}
					if m > 0 {
						cv = math.Sqrt(v) / m
					}
				}
				return balanced(c.past, 0, 0.6) * (1 + a + k*cv)
			}))
		}
	}
	add("hindsight", "hindsight: next day's p98", perContainer(func(c *cell) float64 { return future(c).quantile(0.98) }))
	for _, beta := range []float64{0.01, 0.02} {
		add("hindsight", fmt.Sprintf("hindsight: fleet budget β = %.0f %% on the next day", 100*beta), budget(beta, 0, future))
	}
	for _, e := range exps {
		if re.MatchString(e.group + " " + e.name) {
			row(w, e.name, cells, e.rule)
		}
	}
}
