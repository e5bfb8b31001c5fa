package backtest

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"rightsize.dev/rightsize/recommender/workload"
)

// WriteTable writes the results side by side, one row a profile. Where the
// results carry hindsight bounds, CPU HEADROOM is each profile's slack above
// the lowest slack hindsight reaches at the same insufficient time.
func WriteTable(w io.Writer, res []Result) error {
	if len(res) > 0 {
		win := res[0].Window
		fmt.Fprintf(w, "replay %s → %s, warm-up %s, interval %s, %d decisions, %d containers\n\n",
			win.Start.Format("2006-01-02 15:04"), win.End.Format("2006-01-02 15:04"), win.Warmup, win.Interval, res[0].Decisions, res[0].Containers)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	headroom := false
	for _, r := range res {
		headroom = headroom || r.CPU.HindsightSlack != nil
	}
	head := "PROFILE\tCOVERED\tCPU SLACK\tCPU INSUFF.\t"
	if headroom {
		head += "CPU HEADROOM\t"
	}
	fmt.Fprintln(tw, head+"CPU THROTTLED\tCPU REQ core·h\tMEM SLACK\tMEM INSUFF.\tOOM EPISODES (CONTAINERS)\tMEM REQ GiB·h\tMEM LIMIT SLACK")
	var uncovered []string
	for _, r := range res {
		if r.Covered == 0 {
			// No container scored: zeros would read as perfect.
			uncovered = append(uncovered, workload.PrintableName(r.Profile))
			dash := strings.Repeat("—\t", 8)
			if headroom {
				dash += "—\t"
			}
			fmt.Fprintf(tw, "%s\t0\t%s—\n", workload.PrintableName(r.Profile), dash)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t", workload.PrintableName(r.Profile), r.Covered, pct(r.CPU.Slack), pct(r.CPU.Insufficient))
		if headroom {
			h := "-"
			if r.CPU.HindsightSlack != nil {
				h = fmt.Sprintf("%.2f pts", 100*(r.CPU.Slack-*r.CPU.HindsightSlack))
			}
			fmt.Fprintf(tw, "%s\t", h)
		}
		limSlack := "-" // no limit set anywhere
		if r.Memory.LimitGiBHours > 0 {
			limSlack = pct(r.Memory.LimitSlack)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%d (%d)\t%.1f\t%s\n",
			pct(r.CPU.Throttled), r.CPU.RequestCoreHours,
			pct(r.Memory.Slack), pct(r.Memory.Insufficient), r.Memory.OOMEvents, r.Memory.ContainersWithOOM, r.Memory.RequestGiBHours, limSlack)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(uncovered) > 0 {
		why := "no container had a recommendation to score"
		if len(uncovered) == 1 && uncovered[0] == Current {
			why = "the history records no requests or limits to score"
		}
		fmt.Fprintf(w, "\n— for %s: %s.\n", strings.Join(uncovered, ", "), why)
	}
	if i := slices.IndexFunc(res, func(r Result) bool { return r.Profile == Oracle }); i >= 0 && len(res) > 1 {
		o := res[i]
		var gaps []string
		for _, r := range res {
			if r.Profile == Oracle || r.CPU.RequestCoreHours == 0 {
				continue
			}
			gaps = append(gaps, fmt.Sprintf("%s %+.2f / %+.2f", workload.PrintableName(r.Profile), 100*(r.CPU.Slack-o.CPU.Slack), 100*(r.CPU.Insufficient-o.CPU.Insufficient)))
		}
		if len(gaps) > 0 {
			fmt.Fprintf(w, "\nCPU against the oracle (slack / insufficient, points): %s\n", strings.Join(gaps, ", "))
		}
	}
	if headroom {
		_, err := fmt.Fprintln(w, "\nCPU HEADROOM: slack above the lowest that any once-per-interval request reaches at the same\ninsufficient time knowing the future (the hindsight bound, docs/backtest.md); what better\nforecasting could still win.")
		return err
	}
	return nil
}

func pct(v float64) string { return fmt.Sprintf("%.2f %%", 100*v) }

// ranked returns a result's containers by idle CPU core-hours and by CPU
// time short, most first.
func ranked(r Result) (byIdle, byShort []ContainerResult) {
	byIdle = slices.Clone(r.ByContainer)
	slices.SortStableFunc(byIdle, func(a, b ContainerResult) int { return cmp.Compare(b.CPUIdleCoreHours, a.CPUIdleCoreHours) })
	byShort = slices.Clone(r.ByContainer)
	slices.SortStableFunc(byShort, func(a, b ContainerResult) int { return cmp.Compare(b.CPUShortHours, a.CPUShortHours) })
	return byIdle, byShort
}

// Top keeps each result's n containers with the most idle CPU core-hours
// and the n with the most CPU time short (the two lists may overlap), most
// idle first: where a profile wastes and where it pinches.
func Top(res []Result, n int) []Result {
	out := make([]Result, len(res))
	for i, r := range res {
		out[i] = r
		byIdle, byShort := ranked(r)
		seen := map[string]bool{}
		var keep []ContainerResult
		for _, list := range [][]ContainerResult{byIdle[:min(n, len(byIdle))], byShort[:min(n, len(byShort))]} {
			for _, c := range list {
				if !seen[c.Container] {
					seen[c.Container] = true
					keep = append(keep, c)
				}
			}
		}
		out[i].ByContainer = keep
	}
	return out
}

// WriteTop writes, per profile, the n containers with the most idle CPU and
// the n with the most time short. Container names come from the input and
// are printed through workload.PrintableName.
func WriteTop(w io.Writer, res []Result, n int) error {
	for _, r := range res {
		if len(r.ByContainer) == 0 {
			continue
		}
		// The fleet's idle core-hours: slack × requested.
		idle := r.CPU.Slack * r.CPU.RequestCoreHours
		byIdle, byShort := ranked(r)
		fmt.Fprintf(w, "\n%s: most idle CPU\n", workload.PrintableName(r.Profile))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTAINER\tIDLE core·h\tSHARE OF FLEET IDLE\tSLACK\tINSUFF.")
		for _, c := range byIdle[:min(n, len(byIdle))] {
			fmt.Fprintf(tw, "  %s\t%.1f\t%s\t%s\t%s\n", workload.PrintableName(c.Container), c.CPUIdleCoreHours, pct(ratio(c.CPUIdleCoreHours, idle)), pct(c.CPU.Slack), pct(c.CPU.Insufficient))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: most CPU time short\n", workload.PrintableName(r.Profile))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTAINER\tSHORT h\tINSUFF.\tSLACK")
		for _, c := range byShort[:min(n, len(byShort))] {
			if c.CPUShortHours == 0 {
				break
			}
			fmt.Fprintf(tw, "  %s\t%.1f\t%s\t%s\n", workload.PrintableName(c.Container), c.CPUShortHours, pct(c.CPU.Insufficient), pct(c.CPU.Slack))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
