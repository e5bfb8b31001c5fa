// Command tune replays the shared traces through variants of the balanced
// profile, on one half of the containers (the tuning half) and on the other
// (the held-out half), so a choice made on one half is checked on the other.
//
//	go run ./hack/tune -data ../shared/data
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

func main() {
	data := flag.String("data", "../shared/data", "folder with the shared traces")
	interval := flag.Duration("interval", 24*time.Hour, "decision interval R")
	only := flag.String("only", "", "run only the variants whose name matches this regular expression (balanced is always run)")
	warmup := flag.Duration("warmup", 7*24*time.Hour, "warm-up W")
	files := flag.String("files", "gcd-2011.csv.gz,azure-2017-cpu.csv.gz,bitbrains-2013-7.csv.gz", "comma-separated traces in -data")
	cpu := flag.String("cpu", "", "replay the CPU request rules of cpurules.go whose name matches this regular expression, beside vpa and balanced, instead of the variants")
	headroom := flag.Bool("headroom", false, "report each variant's CPU headroom (slack above the hindsight bound at its own risk)")
	fleet := flag.Bool("fleet", false, "replay the fleet rules of fleetrule.go matching -only (one price of time short for the whole fleet at each decision) beside vpa and balanced")
	flag.Parse()
	traceFiles = strings.Split(*files, ",")
	withHeadroom = *headroom
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tune: -only:", err)
		os.Exit(2)
	}
	if *fleet {
		if err := runFleet(*data, *interval, *warmup, re); err != nil {
			fmt.Fprintln(os.Stderr, "tune:", err)
			os.Exit(1)
		}
		return
	}
	if *cpu != "" {
		cre, err := regexp.Compile(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tune: -cpu:", err)
			os.Exit(2)
		}
		if err := runCPU(*data, *interval, *warmup, cre); err != nil {
			fmt.Fprintln(os.Stderr, "tune:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*data, *interval, *warmup, re); err != nil {
		fmt.Fprintln(os.Stderr, "tune:", err)
		os.Exit(1)
	}
}

var (
	traceFiles   []string
	withHeadroom bool
)

// cell is one variant's CPU figures on one half of one trace, against vpa's.
type cell struct{ slack, insuff, vpaSlack, vpaInsuff float64 }

func run(dir string, interval, warmup time.Duration, only *regexp.Regexp) error {
	var variants []policy.Profile // balanced first
	for _, v := range Variants() {
		if v.Name == "balanced" || only.MatchString(v.Name) {
			variants = append(variants, v)
		}
	}
	cells := make([][]cell, len(variants))
	for _, file := range traceFiles {
		st, err := load(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		for h, name := range []string{"tuning half", "held-out half"} {
			o := backtest.DefaultOptions()
			o.Interval = interval
			o.Warmup = warmup
			o.Include = func(k workload.ContainerKey) bool { return backtest.Half(k) == h }
			o.Headroom = withHeadroom
			ref, err := backtest.Run(context.Background(), st, []string{"vpa", "krr", "oracle", "current"}, o)
			if err != nil {
				return err
			}
			res, err := backtest.RunProfiles(context.Background(), st, variants, o)
			if err != nil {
				return err
			}
			fmt.Printf("\n## %s — %s (%d containers)\n\n", file, name, ref[0].Containers)
			print(append(ref, res...))
			// What hindsight allows at vpa's and at balanced's risk: the
			// floor under any once-per-interval rule (backtest.HindsightBound).
			bounds, err := backtest.HindsightBound(context.Background(), st, []float64{ref[0].CPU.Insufficient, res[0].CPU.Insufficient}, o)
			if err != nil {
				return err
			}
			fmt.Printf("hindsight bound on CPU slack: %.2f at vpa's insufficient (%.2f), %.2f at balanced's (%.2f)\n",
				100*bounds[0].Slack, 100*bounds[0].Insufficient, 100*bounds[1].Slack, 100*bounds[1].Insufficient)
			for i, r := range res {
				cells[i] = append(cells[i], cell{100 * r.CPU.Slack, 100 * r.CPU.Insufficient, 100 * ref[0].CPU.Slack, 100 * ref[0].CPU.Insufficient})
			}
		}
	}
	fmt.Printf("\n## CPU against vpa on every half (slack/insufficient; * = better on both)\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for i, v := range variants {
		wins := 0
		fmt.Fprintf(tw, "%s", v.Name)
		for _, c := range cells[i] {
			mark := ""
			if c.slack < c.vpaSlack && c.insuff <= c.vpaInsuff {
				mark = "*"
				wins++
			}
			fmt.Fprintf(tw, "\t%.2f/%.2f%s", c.slack, c.insuff, mark)
		}
		fmt.Fprintf(tw, "\t%d\n", wins)
	}
	tw.Flush()
	return nil
}

func print(res []backtest.Result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tcpu slack\tcpu insuff\tcpu headroom\tmem slack\tmem insuff\tOOM (ctrs)\tmem req GiB·h")
	for _, r := range res {
		hr := "—"
		if r.CPU.HindsightSlack != nil {
			hr = fmt.Sprintf("%.2f", 100*(r.CPU.Slack-*r.CPU.HindsightSlack))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%.2f\t%.2f\t%d (%d)\t%.0f\n", r.Profile, 100*r.CPU.Slack, 100*r.CPU.Insufficient, hr,
			100*r.Memory.Slack, 100*r.Memory.Insufficient, r.Memory.OOMEvents, r.Memory.ContainersWithOOM, r.Memory.RequestGiBHours)
	}
	tw.Flush()
}

func load(path string) (*history.Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, _, err := usagecsv.Load(f, path)
	return st, err
}

// Variants are the profiles compared; edit freely while exploring.
func Variants() []policy.Profile {
	var out []policy.Profile
	add := func(name string, f func(p *policy.Profile)) {
		p := policy.Balanced()
		p.Name = name
		if strings.HasPrefix(name, "mem ") || strings.HasPrefix(name, "balanced before") {
			// The memory variants of issue 15 start from the memory
			// rules before it, so each row reads as one change to them.
			p.MemoryRequest = policy.Estimate{Source: policy.MemoryPeaks, Stat: policy.Quantile, Q: 0.9, Margin: 0.05}
			p.MemoryLimit = policy.LimitRule{Mode: policy.FromEstimate, Estimate: policy.Estimate{Source: policy.MemoryPeaks, Stat: policy.Max, Margin: 0.3}, MinRatio: 1}
		}
		f(&p)
		out = append(out, p)
	}
	add("balanced", func(p *policy.Profile) {})
	// balanced before issue 15: memory request p90 of daily peaks + 5 %,
	// limit the highest daily peak × 1.3, no upper bound on the ratio.
	add("balanced before #15", func(p *policy.Profile) {})
	for _, f := range []func() policy.Profile{policy.Savings, policy.Reliability} {
		p := f()
		out = append(out, p)
	}
	// CPU: the fleet's price of time short at other shares of VPA's
	// rule's risk, and balanced as it was before the price.
	for _, f := range []float64{0.6, 0.7, 0.8, 0.9, 1} {
		add(fmt.Sprintf("cpu fleet price at %.1f × vpa's risk", f), func(p *policy.Profile) { p.CPUFleetPrice = &policy.FleetPrice{RiskFactor: f} })
	}
	add("cpu balanced before the fleet price", func(p *policy.Profile) { p.CPUFleetPrice, p.CPURequest.CapMargin = nil, 0.6 })
	add("cpu fleet price 0.85, p98≤p75×1.3", func(p *policy.Profile) { p.CPURequest.CapMargin = 0.3 })
	add("cpu fleet price 0.8, p98≤p75×1.3", func(p *policy.Profile) {
		p.CPURequest.CapMargin, p.CPUFleetPrice = 0.3, &policy.FleetPrice{RiskFactor: 0.8}
	})
	add("cpu fleet price 0.85, p98≤p75×1.6 +3%", func(p *policy.Profile) { p.CPURequest.CapMargin, p.CPURequest.Margin = 0.6, 0.03 })
	add("cpu fleet price 1, +3%", func(p *policy.Profile) {
		p.CPURequest.Margin, p.CPUFleetPrice = 0.03, &policy.FleetPrice{RiskFactor: 1}
	})
	// CPU: bitbrains' VMs are short more often under balanced than vpa.
	add("cpu floor 25m", func(p *policy.Profile) { p.Floor.CPU = 25 })
	add("cpu floor 50m", func(p *policy.Profile) { p.Floor.CPU = 50 })
	add("cpu p98≤p75×2", func(p *policy.Profile) { p.CPURequest.CapMargin = 1.0 })
	add("cpu p98≤p90×1.3", func(p *policy.Profile) { p.CPURequest.CapQ, p.CPURequest.CapMargin = 0.9, 0.3 })
	add("cpu +10%", func(p *policy.Profile) { p.CPURequest.Margin = 0.10 })
	add("cpu half-life 48h", func(p *policy.Profile) { p.History.CPU.HalfLife = 48 * time.Hour })
	// Memory: jumps. Limits within R3 (≤ 2 × request) unless named.
	add("mem limit ≤2×req", func(p *policy.Profile) { p.MemoryLimit.MaxRatio = 2 })
	add("mem limit 14d max×1.3", func(p *policy.Profile) {
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 0.3}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem limit 14d max×1.5", func(p *policy.Profile) {
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 0.5}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem limit 2×req", func(p *policy.Profile) { p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2 })
	add("mem limit 1.5×req", func(p *policy.Profile) { p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 1.5, 1.5 })
	add("mem all peaks, limit max×1.5", func(p *policy.Profile) {
		p.History.MemoryIntervals = 0
		p.History.Window = 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 0.5}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req p98 peaks, limit 14d max×1.5", func(p *policy.Profile) {
		p.MemoryRequest.Q = 0.98
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 0.5}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req max peak, limit 2×req", func(p *policy.Profile) {
		p.MemoryRequest = policy.Estimate{Source: policy.MemoryPeaks, Stat: policy.Max, Margin: 0.05}
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
	})
	add("mem req max peak, limit 1.5×req", func(p *policy.Profile) {
		p.MemoryRequest = policy.Estimate{Source: policy.MemoryPeaks, Stat: policy.Max, Margin: 0.05}
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 1.5, 1.5
	})
	add("cpu p98≤p90×1.25", func(p *policy.Profile) { p.CPURequest.CapQ, p.CPURequest.CapMargin = 0.9, 0.25 })
	add("cpu p98≤p90×1.2", func(p *policy.Profile) { p.CPURequest.CapQ, p.CPURequest.CapMargin = 0.9, 0.2 })
	add("mem req p95 peaks, limit 14d max×1.5", func(p *policy.Profile) {
		p.MemoryRequest.Q = 0.95
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 0.5}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req p98 peaks, limit 2×req", func(p *policy.Profile) {
		p.MemoryRequest.Q = 0.98
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
	})
	add("mem req p98 peaks+0, limit 14d max×2", func(p *policy.Profile) {
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.98, 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MaxRatio = 2
	})
	add("cpu ≥p90", func(p *policy.Profile) { p.CPURequest.AtLeastQ = 0.9 })
	add("cpu ≥p85", func(p *policy.Profile) { p.CPURequest.AtLeastQ = 0.85 })
	add("cpu ≥p80", func(p *policy.Profile) { p.CPURequest.AtLeastQ = 0.8 })
	add("cpu floor 50m, p98≤p75×2", func(p *policy.Profile) { p.Floor.CPU = 50; p.CPURequest.CapMargin = 1.0 })
	add("mem req p98+0 all peaks, limit 14d max×2", func(p *policy.Profile) {
		p.History.MemoryIntervals = 0
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.98, 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req p98+0 hl72h, limit 14d max×2", func(p *policy.Profile) {
		p.History.Memory.HalfLife = 72 * time.Hour
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.98, 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req p98+2, limit 14d max×2", func(p *policy.Profile) {
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.98, 0.02
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MaxRatio = 2
	})
	add("mem req p98+0, limit 14d max×2 held at 2×req", func(p *policy.Profile) {
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.98, 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
	})
	add("mem req p99+0, limit 14d max×2", func(p *policy.Profile) {
		p.MemoryRequest.Q, p.MemoryRequest.Margin = 0.99, 0
		p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: 1.0}
		p.MemoryLimit.MaxRatio = 2
	})
	for _, m := range []float64{0, 0.02, 0.05} {
		for _, share := range []float64{0.5, 0.6} {
			add(fmt.Sprintf("mem req p98+%.0f ≥%.1f×14d max, limit 2×req", 100*m, share), func(p *policy.Profile) {
				p.MemoryRequest.Q, p.MemoryRequest.Margin, p.MemoryRequest.AtLeastMaxShare = 0.98, m, share
				p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
			})
		}
		add(fmt.Sprintf("mem req p98+%.0f ≥0.5×all-history max, limit 2×req", 100*m), func(p *policy.Profile) {
			p.History.Window = 0
			p.MemoryRequest.Q, p.MemoryRequest.Margin, p.MemoryRequest.AtLeastMaxShare = 0.98, m, 0.5
			p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
		})
	}
	add("mem req p90+5 ≥0.5×14d max, limit 2×req", func(p *policy.Profile) {
		p.MemoryRequest.AtLeastMaxShare = 0.5
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
	})
	for _, q := range []float64{0.5, 0.8, 0.95} {
		add(fmt.Sprintf("mem req p%.0f+5 ≥0.5×14d max, limit 2×req", 100*q), func(p *policy.Profile) {
			p.MemoryRequest.Q, p.MemoryRequest.AtLeastMaxShare = q, 0.5
			p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
		})
	}
	for _, lm := range []float64{0.3, 0.5} {
		add(fmt.Sprintf("mem req p90+5 ≥0.5×14d max, limit 14d max×%.1f in [1,2]×req", 1+lm), func(p *policy.Profile) {
			p.MemoryRequest.AtLeastMaxShare = 0.5
			p.MemoryLimit.Estimate = policy.Estimate{Source: policy.MemoryWindow, Stat: policy.Max, Margin: lm}
			p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 1, 2
		})
	}
	// Memory against vpa's slack, now that vpa's memory matches the real
	// recommender's: balanced's rules with the request's quantile moved.
	for _, q := range []float64{0.7, 0.75, 0.8, 0.85} {
		add(fmt.Sprintf("memory request p%.0f of daily peaks (balanced otherwise)", 100*q), func(p *policy.Profile) { p.MemoryRequest.Q = q })
	}
	add("cpu floor 100m", func(p *policy.Profile) { p.Floor.CPU = 100 })
	add("cpu floor 50m ≥p85", func(p *policy.Profile) { p.Floor.CPU = 50; p.CPURequest.AtLeastQ = 0.85 })
	add("cpu floor 100m ≥p80", func(p *policy.Profile) { p.Floor.CPU = 100; p.CPURequest.AtLeastQ = 0.8 })
	add("cpu floor 200m", func(p *policy.Profile) { p.Floor.CPU = 200 })
	add("cpu floor 100m, p98≤p75×2", func(p *policy.Profile) { p.Floor.CPU = 100; p.CPURequest.CapMargin = 1.0 })
	add("cpu floor 100m, +3%", func(p *policy.Profile) { p.Floor.CPU = 100; p.CPURequest.Margin = 0.03 })
	add("cpu floor 200m, p98≤p75×1.5", func(p *policy.Profile) { p.Floor.CPU = 200; p.CPURequest.CapMargin = 0.5 })
	add("mem req p50 peaks, limit 2×req", func(p *policy.Profile) {
		p.MemoryRequest.Q = 0.5
		p.MemoryLimit.MinRatio, p.MemoryLimit.MaxRatio = 2, 2
	})
	return out
}
