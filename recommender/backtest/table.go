package backtest

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes the results side by side, one row a profile.
func WriteTable(w io.Writer, res []Result) error {
	if len(res) > 0 {
		win := res[0].Window
		fmt.Fprintf(w, "replay %s → %s, warm-up %s, interval %s, %d decisions, %d containers\n\n",
			win.Start.Format("2006-01-02 15:04"), win.End.Format("2006-01-02 15:04"), win.Warmup, win.Interval, res[0].Decisions, res[0].Containers)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tCOVERED\tCPU SLACK\tCPU INSUFF.\tCPU THROTTLED\tCPU REQ core·h\tMEM SLACK\tMEM INSUFF.\tOOM EPISODES (CONTAINERS)\tMEM REQ GiB·h")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.1f\t%s\t%s\t%d (%d)\t%.1f\n",
			r.Profile, r.Covered, pct(r.CPU.Slack), pct(r.CPU.Insufficient), pct(r.CPU.Throttled), r.CPU.RequestCoreHours,
			pct(r.Memory.Slack), pct(r.Memory.Insufficient), r.Memory.OOMEvents, r.Memory.ContainersWithOOM, r.Memory.RequestGiBHours)
	}
	return tw.Flush()
}

func pct(v float64) string { return fmt.Sprintf("%.2f %%", 100*v) }
