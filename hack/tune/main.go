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
	flag.Parse()
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tune: -only:", err)
		os.Exit(2)
	}
	if err := run(*data, *interval, *warmup, re); err != nil {
		fmt.Fprintln(os.Stderr, "tune:", err)
		os.Exit(1)
	}
}

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
	for _, file := range []string{"gcd-2011.csv.gz", "azure-2017-cpu.csv.gz"} {
		st, err := load(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		for h, name := range []string{"tuning half", "held-out half"} {
			o := backtest.DefaultOptions()
			o.Interval = interval
			o.Warmup = warmup
			o.Include = func(k workload.ContainerKey) bool { return backtest.Half(k) == h }
			ref, err := backtest.Run(context.Background(), st, []string{"vpa", "krr", "oracle"}, o)
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
	fmt.Fprintln(tw, "variant\tcpu slack\tcpu insuff\tmem slack\tmem insuff\tOOM (ctrs)")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d (%d)\n", r.Profile, 100*r.CPU.Slack, 100*r.CPU.Insufficient,
			100*r.Memory.Slack, 100*r.Memory.Insufficient, r.Memory.OOMEvents, r.Memory.ContainersWithOOM)
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
		f(&p)
		out = append(out, p)
	}
	add("balanced", func(p *policy.Profile) {})
	// The alternatives measured; docs/policy.md keeps the table.
	add("p90+10 (first balanced)", func(p *policy.Profile) {
		p.CPURequest = policy.Estimate{Source: policy.CPUHistogram, Stat: policy.Quantile, Q: 0.9, Margin: 0.1}
		p.MemoryLimit.Estimate.Margin = 0.2
	})
	add("p95+5", func(p *policy.Profile) {
		p.CPURequest = policy.Estimate{Source: policy.CPUHistogram, Stat: policy.Quantile, Q: 0.95, Margin: 0.05}
	})
	add("p98+0", func(p *policy.Profile) {
		p.CPURequest = policy.Estimate{Source: policy.CPUHistogram, Stat: policy.Quantile, Q: 0.98}
	})
	add("without the mean floor", func(p *policy.Profile) { p.CPURequest.AtLeastMean = false })
	add("p98≤p80×1.5+5", func(p *policy.Profile) { p.CPURequest.CapQ, p.CPURequest.CapMargin = 0.8, 0.5 })
	add("p98≤p75×1.6+3", func(p *policy.Profile) { p.CPURequest.Margin = 0.03 })
	add("no short-history margin", func(p *policy.Profile) { p.ShortHistoryMargin = 0 })
	add("cpu half-life 12h", func(p *policy.Profile) { p.History.CPU.HalfLife = 12 * time.Hour })
	add("cpu half-life 48h", func(p *policy.Profile) { p.History.CPU.HalfLife = 48 * time.Hour })
	add("memory limit ×1.2", func(p *policy.Profile) { p.MemoryLimit.Estimate.Margin = 0.2 })
	add("memory limit ×1.5", func(p *policy.Profile) { p.MemoryLimit.Estimate.Margin = 0.5 })
	add("memory half-life 12h", func(p *policy.Profile) { p.History.Memory.HalfLife = 12 * time.Hour })
	add("memory half-life 48h", func(p *policy.Profile) { p.History.Memory.HalfLife = 48 * time.Hour })
	add("memory p80 peaks", func(p *policy.Profile) { p.MemoryRequest.Q = 0.8 })
	add("memory p95 peaks", func(p *policy.Profile) { p.MemoryRequest.Q = 0.95 })
	add("memory limit follows a rise 2d ahead", func(p *policy.Profile) { p.MemoryTrend.Horizon = 48 * time.Hour })
	add("memory limit follows a rise 7d ahead", func(p *policy.Profile) { p.MemoryTrend.Horizon = 7 * 24 * time.Hour })
	return out
}
