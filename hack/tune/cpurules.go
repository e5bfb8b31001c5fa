package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"text/tabwriter"
	"time"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// CPU request rules that the estimators cannot yet express: each replaces
// balanced's CPU request (before its short-history widening, floor and
// rounding, which stay) and leaves everything else as balanced has it.
// They run as external policies, reading the container's samples before
// each decision (and, for calibration, what they themselves decided).

// cpuCtx is what a rule sees at one decision.
type cpuCtx struct {
	s      *history.Summary
	series []*history.Series
	tk     time.Time
	st     *cpuState
	key    workload.ContainerKey
	ooms   []history.OOMEvent
}

// cpuState is a rule's memory of one container.
type cpuState struct {
	// past decisions: when, until when, and the candidates' amounts then.
	at, until []time.Time
	cand      [][]float64
}

type cpuRule struct {
	name  string
	value func(c *cpuCtx) float64
}

// hq is the decayed histogram's q-quantile, held at its highest value.
func hq(s *history.Summary, q float64) float64 { return min(s.CPU.Quantile(q), s.CPU.Max()) }

// bal is balanced's CPU request before widening: p98 ≤ p75 × 1.6, ≥ mean, + 5 %.
func bal(s *history.Summary) float64 { return balCap(s, 0.75, 0.6, 0.98) }

func balCap(s *history.Summary, capQ, capM, q float64) float64 {
	return max(min(hq(s, q), (1+capM)*hq(s, capQ)), s.CPU.Mean()) * 1.05
}

// shareAbove is the share of the window's samples above x.
func shareAbove(w *history.Window, x float64) float64 {
	if w.Count == 0 || w.Max <= x {
		return 0
	}
	lo, hi := 0.0, 1.0 // Quantile(lo) ≤ x < Quantile(hi)
	for range 30 {
		m := (lo + hi) / 2
		if w.Quantile(m) <= x {
			lo = m
		} else {
			hi = m
		}
	}
	return 1 - lo
}

// burst is the share of the window's samples above twice its median.
func burst(s *history.Summary) float64 {
	return shareAbove(&s.CPUWindow, 2*s.CPUWindow.Quantile(0.5))
}

// recent returns the CPU samples of the last d before tk, sorted.
func recent(c *cpuCtx, d time.Duration) []float64 {
	var out []float64
	lo, hi := c.tk.Add(-d).UnixMilli(), c.tk.UnixMilli()
	for _, s := range c.series {
		for i := s.Search(lo); i < s.Len() && s.Time[i] < hi; i++ {
			if v := s.CPU[i]; !math.IsNaN(v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
}

func quant(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// newsvendor is the request that minimises expected idle cores + λ × the
// share of time short, over the samples of the last window weighted by the
// decay half-life (exact samples).
func newsvendor(c *cpuCtx, lambda float64, window, halfLife time.Duration) float64 {
	xs, _ := weightedBefore(c, c.tk, window, halfLife)
	if len(xs) == 0 {
		return bal(c.s)
	}
	return nvAll(xs, []float64{lambda})[0]
}

// calibrated keeps, per container, the amounts the candidates would have
// requested at each past decision, and takes the first candidate whose share
// of samples above it over the last days is at most tau; the last otherwise.
func calibrated(cands []func(*history.Summary) float64, tau float64, days int) func(c *cpuCtx) float64 {
	return func(c *cpuCtx) float64 {
		st := c.st
		now := make([]float64, len(cands))
		for i, f := range cands {
			now[i] = f(c.s)
		}
		if len(st.at) == 0 {
			// Backfill: what the candidates would have said on the days
			// before the first decision.
			for d := days; d >= 1; d-- {
				t := c.tk.Add(-time.Duration(d) * 24 * time.Hour)
				s, err := history.Summarize(c.key, c.series, nil, t, policy.Balanced().History)
				if err != nil || s.CPUSamples < 30 {
					continue
				}
				v := make([]float64, len(cands))
				for i, f := range cands {
					v[i] = f(s)
				}
				st.at = append(st.at, t)
				st.until = append(st.until, t.Add(24*time.Hour))
				st.cand = append(st.cand, v)
			}
		}
		from := c.tk.Add(-time.Duration(days) * 24 * time.Hour)
		miss := make([]float64, len(cands))
		var n float64
		for k := range st.at {
			if st.at[k].Before(from) {
				continue
			}
			lo, hi := st.at[k].UnixMilli(), min(st.until[k].UnixMilli(), c.tk.UnixMilli())
			for _, s := range c.series {
				for i := s.Search(lo); i < s.Len() && s.Time[i] < hi; i++ {
					v := s.CPU[i]
					if math.IsNaN(v) {
						continue
					}
					n++
					for j := range cands {
						if v > st.cand[k][j] {
							miss[j]++
						}
					}
				}
			}
		}
		st.at = append(st.at, c.tk)
		st.until = append(st.until, c.tk.Add(24*time.Hour))
		st.cand = append(st.cand, now)
		if n == 0 {
			return bal(c.s)
		}
		for j := range cands {
			if miss[j]/n <= tau {
				return now[j]
			}
		}
		return now[len(now)-1]
	}
}

type cpuReplayer struct {
	key  workload.ContainerKey
	rule cpuRule
	st   cpuState
}

func (r *cpuReplayer) Decide(v backtest.View, tk, _ time.Time) workload.Recommendation {
	p := policy.Balanced()
	s, err := history.Summarize(r.key, v.Series, v.OOMs, tk, p.History)
	if err != nil {
		panic(err)
	}
	if s.CPUSamples == 0 && s.MemorySamples == 0 {
		return workload.Recommendation{}
	}
	rec := policy.Apply(p, s, policy.Input{Current: s.Current, ContainersInPod: v.ContainersInPod})
	if !rec.HasCPU {
		return rec
	}
	c := &cpuCtx{s: s, series: v.Series, tk: tk, st: &r.st, key: r.key, ooms: v.OOMs}
	x := r.rule.value(c)
	if s.Confidence < p.FullConfidence {
		x *= 1 + p.ShortHistoryMargin*(1-s.Confidence/p.FullConfidence)
	}
	m := workload.Millicores(math.Ceil(max(x*1000, float64(p.Floor.CPU))))
	rec.Target.Requests.CPU = m
	if l := rec.Target.Limits.CPU; l > 0 && l < 2*m {
		rec.Target.Limits.CPU = 2 * m
	}
	return rec
}

// cpuRules are the rules measured; constants are set from the reasoning in
// their comments, not from the figures.
func cpuRules() []cpuRule {
	var out []cpuRule
	add := func(name string, f func(c *cpuCtx) float64) { out = append(out, cpuRule{name: name, value: f}) }
	add("x balanced (check)", func(c *cpuCtx) float64 { return bal(c.s) })

	// 1. A floor relative to the container's own highest: a container
	// whose bursts are far above its p75 is held back by the cap; a share
	// of its highest keeps it from being short in every burst.
	for _, k := range []float64{0.25, 0.5} {
		add(fmt.Sprintf("≥%.2f×14d max", k), func(c *cpuCtx) float64 { return max(bal(c.s), k*c.s.CPUWindow.Max) })
	}
	for _, k := range []float64{0.5, 0.75} {
		add(fmt.Sprintf("≥%.2f×p99.9", k), func(c *cpuCtx) float64 { return max(bal(c.s), k*hq(c.s, 0.999)) })
	}

	// 2. A cap that depends on how often the container bursts (share of
	// the window's samples above 2 × median): where bursts are a regular
	// state (≥ B of the time) the p98 is taken uncapped.
	for _, b := range []float64{0.1, 0.2, 0.3} {
		add(fmt.Sprintf("uncapped p98 if bursts≥%.0f%%", 100*b), func(c *cpuCtx) float64 {
			if burst(c.s) >= b {
				return max(hq(c.s, 0.98), c.s.CPU.Mean()) * 1.05
			}
			return bal(c.s)
		})
	}
	// ... or the cap's margin grows with the burst share: 1.6 + 4 × share.
	add("cap p75×(1.6+4×bursts)", func(c *cpuCtx) float64 {
		return balCap(c.s, 0.75, 0.6+4*burst(c.s), 0.98)
	})

	// 3. The quantile per container from its own recent miss rate: the
	// leanest candidate that would have been short at most τ of the last
	// week's samples.
	ladder := []func(*history.Summary) float64{
		func(s *history.Summary) float64 { return balCap(s, 0.75, 0.3, 0.98) },
		bal,
		func(s *history.Summary) float64 { return balCap(s, 0.75, 1.0, 0.98) },
		func(s *history.Summary) float64 { return balCap(s, 0.75, 2.0, 0.98) },
		func(s *history.Summary) float64 { return max(hq(s, 0.98), s.CPU.Mean()) * 1.05 },
		func(s *history.Summary) float64 { return max(hq(s, 0.995), s.CPU.Mean()) * 1.05 },
	}
	for _, tau := range []float64{0.02, 0.03, 0.05} {
		for _, days := range []int{3, 7} {
			out = append(out, cpuRule{name: fmt.Sprintf("calibrated τ=%.0f%% %dd", 100*tau, days), value: calibrated(ladder, tau, days)})
		}
	}
	// the same ladder starting at balanced (never leaner than it)
	for _, tau := range []float64{0.02, 0.03} {
		out = append(out, cpuRule{name: fmt.Sprintf("calibrated from balanced τ=%.0f%% 7d", 100*tau), value: calibrated(ladder[1:], tau, 7)})
	}

	// 4. Two windows: the higher of the last day's high quantile and
	// balanced's (a busy last day is covered).
	for _, q := range []float64{0.9, 0.95} {
		for _, d := range []int{1, 2} {
			add(fmt.Sprintf("max(bal, p%.0f of last %dd)", 100*q, d), func(c *cpuCtx) float64 {
				return max(bal(c.s), quant(recent(c, time.Duration(d)*24*time.Hour), q))
			})
		}
	}
	add("max(p98≤p75×1.3, p95 of last 1d)", func(c *cpuCtx) float64 {
		return max(balCap(c.s, 0.75, 0.3, 0.98), quant(recent(c, 24*time.Hour), 0.95)*1.05)
	})

	// 5. Recent days weigh more only for bursty containers (≥ 10 % of
	// samples above 2 × median): their level moves, steady ones' does not.
	for _, hl := range []time.Duration{12 * time.Hour, 6 * time.Hour} {
		add(fmt.Sprintf("half-life %s if bursts≥10%%", hl), func(c *cpuCtx) float64 {
			if burst(c.s) < 0.1 {
				return bal(c.s)
			}
			o := policy.Balanced().History
			o.CPU.HalfLife = hl
			s, err := history.Summarize(c.key, c.series, c.ooms, c.tk, o)
			if err != nil {
				panic(err)
			}
			return bal(s)
		})
	}

	// 6. A fixed price of time short (cores): minimise expected idle +
	// λ × P(short) over the last 14 days' samples, half-life 24 h.
	for _, l := range []float64{0.1, 0.3, 1, 3, 10, 30, 100} {
		add(fmt.Sprintf("newsvendor λ=%g", l), func(c *cpuCtx) float64 {
			return newsvendor(c, l, 14*24*time.Hour, 24*time.Hour)
		})
	}
	// 7. balanced, raised to the fixed-price request: containers that are
	// cheap to cover in cores (small, idle with bursts) are covered; big
	// ones keep balanced's request.
	for _, l := range []float64{0.3, 1, 3, 10} {
		add(fmt.Sprintf("max(bal, newsvendor λ=%g)", l), func(c *cpuCtx) float64 {
			return max(bal(c.s), newsvendor(c, l, 14*24*time.Hour, 24*time.Hour))
		})
	}
	// 8. 7 on a leaner base: the floor takes back the risk a leaner
	// balanced adds where covering is cheap.
	hl12 := func(c *cpuCtx, bursty bool) *history.Summary {
		if bursty && burst(c.s) < 0.1 {
			return c.s
		}
		o := policy.Balanced().History
		o.CPU.HalfLife = 12 * time.Hour
		s, err := history.Summarize(c.key, c.series, c.ooms, c.tk, o)
		if err != nil {
			panic(err)
		}
		return s
	}
	bases := []struct {
		name string
		f    func(c *cpuCtx) float64
	}{
		{"+3%", func(c *cpuCtx) float64 { return bal(c.s) / 1.05 * 1.03 }},
		{"p98≤p75×1.5", func(c *cpuCtx) float64 { return balCap(c.s, 0.75, 0.5, 0.98) }},
		{"p98≤p75×1.4", func(c *cpuCtx) float64 { return balCap(c.s, 0.75, 0.4, 0.98) }},
		{"hl12h if bursts≥10%", func(c *cpuCtx) float64 { return bal(hl12(c, true)) }},
		{"hl12h", func(c *cpuCtx) float64 { return bal(hl12(c, false)) }},
	}
	for _, b := range bases {
		for _, l := range []float64{3, 5, 10} {
			add(fmt.Sprintf("max(bal %s, newsvendor λ=%g)", b.name, l), func(c *cpuCtx) float64 {
				return max(b.f(c), newsvendor(c, l, 14*24*time.Hour, 24*time.Hour))
			})
		}
	}
	add("max(bal, newsvendor λ=5)", func(c *cpuCtx) float64 {
		return max(bal(c.s), newsvendor(c, 5, 14*24*time.Hour, 24*time.Hour))
	})
	// 9. Cover the tail where it is cheap in absolute terms: the p99.5
	// or p99.9 (+ 5 %) where it is at most D above balanced's request.
	for _, b := range []struct {
		name string
		f    func(c *cpuCtx) float64
	}{{"bal", func(c *cpuCtx) float64 { return bal(c.s) }}, {"bal hl12h if bursts≥10%", func(c *cpuCtx) float64 { return bal(hl12(c, true)) }}} {
		for _, q := range []float64{0.995, 0.999} {
			for _, d := range []float64{0.05, 0.1, 0.2} {
				add(fmt.Sprintf("%s; p%.1f if ≤ +%.0fm", b.name, 100*q, 1000*d), func(c *cpuCtx) float64 {
					r := b.f(c)
					if hi := hq(c.s, q) * 1.05; hi > r && hi-r <= d {
						return hi
					}
					return r
				})
			}
		}
	}
	// 10. The fixed-price floor from shorter memory.
	for _, w := range []struct{ win, hl time.Duration }{{3 * 24 * time.Hour, 24 * time.Hour}, {7 * 24 * time.Hour, 24 * time.Hour}, {14 * 24 * time.Hour, 12 * time.Hour}, {14 * 24 * time.Hour, 72 * time.Hour}} {
		for _, l := range []float64{5, 10} {
			add(fmt.Sprintf("max(bal, newsvendor λ=%g over %s hl %s)", l, w.win, w.hl), func(c *cpuCtx) float64 {
				return max(bal(c.s), newsvendor(c, l, w.win, w.hl))
			})
		}
	}
	// 11. Leaner where usage is steady (< 5 % of samples above 2 ×
	// median: the p98 is then close to the body, + 0 % or the p95 is
	// enough), half-life 12 h where bursty, and the fixed-price floor.
	lean := func(c *cpuCtx, steadyQ float64) float64 {
		b := burst(c.s)
		switch {
		case b < 0.05:
			return max(min(hq(c.s, steadyQ), 1.6*hq(c.s, 0.75)), c.s.CPU.Mean())
		case b >= 0.1:
			return bal(hl12(c, false))
		}
		return bal(c.s)
	}
	for _, sq := range []float64{0.98, 0.95} {
		for _, l := range []float64{5, 7, 10} {
			add(fmt.Sprintf("max(steady p%.0f+0 / bursty hl12h, newsvendor λ=%g)", 100*sq, l), func(c *cpuCtx) float64 {
				return max(lean(c, sq), newsvendor(c, l, 14*24*time.Hour, 24*time.Hour))
			})
		}
	}
	add("max(bal, newsvendor λ=7)", func(c *cpuCtx) float64 {
		return max(bal(c.s), newsvendor(c, 7, 14*24*time.Hour, 24*time.Hour))
	})
	return out
}

// runCPU replays the CPU rules matching only beside vpa and balanced on
// both halves of every trace and prints them against vpa.
func runCPU(dir string, interval, warmup time.Duration, only *regexp.Regexp) error {
	var rules []cpuRule
	for _, r := range cpuRules() {
		if only.MatchString(r.name) {
			rules = append(rules, r)
		}
	}
	var ext []backtest.External
	for _, r := range rules {
		ext = append(ext, backtest.External{Name: r.name, New: func(k workload.ContainerKey) backtest.Replayer {
			return &cpuReplayer{key: k, rule: r}
		}})
	}
	names := []string{"vpa", "balanced"}
	for _, r := range rules {
		names = append(names, r.name)
	}
	cells, err := eachHalf(dir, interval, warmup, len(names), func(st *history.Store, file string, h int, o backtest.Options) ([]backtest.Result, error) {
		o.PerContainer = os.Getenv("CPUDUMP") != ""
		res, err := backtest.RunExternal(context.Background(), st, []string{"vpa", "balanced"}, ext, o)
		if err == nil && o.PerContainer {
			dump(st, file, h, res)
		}
		return res, err
	})
	if err != nil {
		return err
	}
	return printAgainstVPA(names, cells)
}

// eachHalf runs replay on both halves of every trace (vpa's result first)
// and returns each result's CPU cells against vpa's, per half.
func eachHalf(dir string, interval, warmup time.Duration, n int, replay func(st *history.Store, file string, h int, o backtest.Options) ([]backtest.Result, error)) ([][]cell, error) {
	cells := make([][]cell, n)
	for _, file := range traceFiles {
		st, err := load(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		for h := range 2 {
			o := backtest.DefaultOptions()
			o.Interval = interval
			o.Warmup = warmup
			o.Include = func(k workload.ContainerKey) bool { return backtest.Half(k) == h }
			res, err := replay(st, file, h, o)
			if err != nil {
				return nil, err
			}
			for i, r := range res {
				cells[i] = append(cells[i], cell{100 * r.CPU.Slack, 100 * r.CPU.Insufficient, 100 * res[0].CPU.Slack, 100 * res[0].CPU.Insufficient})
			}
			fmt.Fprintf(os.Stderr, "%s half %d done\n", file, h)
		}
	}
	return cells, nil
}

// printAgainstVPA prints each rule's CPU slack/insufficient on every half
// against vpa's (the first row), a star where it is better on both.
func printAgainstVPA(names []string, cells [][]cell) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tgcd t\tgcd h\tazure t\tazure h\tbitbrains t\tbitbrains h\twins")
	for i, n := range names {
		wins := 0
		fmt.Fprintf(tw, "%s", n)
		for _, c := range cells[i] {
			mark := ""
			if i > 0 && c.slack < c.vpaSlack && c.insuff <= c.vpaInsuff {
				mark = "*"
				wins++
			}
			fmt.Fprintf(tw, "\t%.2f/%.2f%s", c.slack, c.insuff, mark)
		}
		fmt.Fprintf(tw, "\t%d\n", wins)
	}
	return tw.Flush()
}

// dump prints each container's idle core-hours and hours short per rule,
// with the shape of its usage, for a look at where the risk sits.
func dump(st *history.Store, file string, h int, res []backtest.Result) {
	stats := map[string][5]float64{}
	for _, k := range st.Containers() {
		var vals []float64
		for _, s := range st.Series(k) {
			for _, x := range s.CPU {
				if !math.IsNaN(x) {
					vals = append(vals, x)
				}
			}
		}
		if len(vals) == 0 {
			continue
		}
		slices.Sort(vals)
		var sum float64
		n := 0
		med := quant(vals, 0.5)
		for _, x := range vals {
			sum += x
			if x > 2*med {
				n++
			}
		}
		stats[k.String()] = [5]float64{sum / float64(len(vals)), med, quant(vals, 0.98), vals[len(vals)-1], float64(n) / float64(len(vals))}
	}
	f, _ := os.Create(fmt.Sprintf("/tmp/cpudump-%s-%d.tsv", file, h))
	defer f.Close()
	fmt.Fprint(f, "container\tmean\tmed\tp98\tmax\tburst")
	for _, r := range res {
		fmt.Fprintf(f, "\t%s idle\t%s short%%", r.Profile, r.Profile)
	}
	fmt.Fprintln(f)
	for j, c := range res[0].ByContainer {
		x := stats[c.Container]
		fmt.Fprintf(f, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f", c.Container, x[0], x[1], x[2], x[3], x[4])
		for _, r := range res {
			rc := r.ByContainer[j]
			fmt.Fprintf(f, "\t%.1f\t%.2f", rc.CPUIdleCoreHours, 100*rc.CPU.Insufficient)
		}
		fmt.Fprintln(f)
	}
}
