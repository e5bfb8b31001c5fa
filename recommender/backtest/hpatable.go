package backtest

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"rightsize.dev/rightsize/recommender/workload"
)

// WriteHPATable writes an HPA backtest for a terminal: each workload's
// setups side by side, then the totals per group. Workload names come from
// the input and are printed through workload.PrintableName.
func WriteHPATable(w io.Writer, r HPAReport) error {
	fmt.Fprintf(w, "HPA replay: %d workloads, each recommended from the first half of its history and replayed over the second (sync %s, start-up %s)\n\n",
		len(r.Workloads), r.Sync, r.StartUp)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tCLASS\tSETUP\tPOD CPU\tSCALING\tREPLICA·h\tCORE·h\tSATURATED\tABOVE TARGET\tEVENTS\tPEAK PODS")
	var notes []string
	for _, wl := range r.Workloads {
		name := wl.Workload.Printable()
		if wl.Note != "" {
			notes = append(notes, fmt.Sprintf("%s: %s", name, wl.Note))
		}
		for _, s := range wl.Setups {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%s\t%d\t%d\n", name, wl.Class, s.Setup,
				workload.Millicores(s.PodCPUMillicores), scaling(s), s.ReplicaHours, s.CoreHours, pct(s.Saturated), aboveTarget(s), s.Events, s.PeakReplicas)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	fmt.Fprintln(w, "\nTotals (saturated and above target weighted by the hours replayed):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tSETUP\tWORKLOADS\tREPLICA·h\tCORE·h\tSATURATED\tABOVE TARGET\tEVENTS")
	for _, t := range r.Totals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%s\t%s\t%d\n", t.Group, t.Setup, t.Workloads, t.ReplicaHours, t.CoreHours, pct(t.Saturated), pct(t.AboveTarget), t.Events)
	}
	return tw.Flush()
}

// scaling describes a setup's scaling: an HPA's target and bounds or a
// fixed count.
func scaling(s HPASetup) string {
	if s.CPUTarget > 0 {
		return fmt.Sprintf("HPA %d %% %d–%d, down %s", s.CPUTarget, s.MinReplicas, s.MaxReplicas, s.ScaleDownWindow)
	}
	return fmt.Sprintf("%d pods", s.Replicas)
}

// aboveTarget is "-" for a fixed count, which has no target.
func aboveTarget(s HPASetup) string {
	if s.CPUTarget == 0 {
		return "-"
	}
	return pct(s.AboveTarget)
}

var hpaCSVHeader = []string{
	"group", "namespace", "kind", "workload", "class", "setup", "workloads", "pod_cpu_millicores", "cpu_target", "min_replicas", "max_replicas", "scale_down_window", "replicas",
	"hours", "replica_hours", "core_hours", "saturated", "above_target", "events", "peak_replicas", "note",
}

// WriteHPACSV writes one row per workload and setup (group "workload"; a
// workload with no setup replayed has one row with an empty setup and its
// note), then one per total (namespace, kind and workload empty).
func WriteHPACSV(w io.Writer, r HPAReport) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(hpaCSVHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	figures := func(h HPAFigures) []string {
		return []string{f(h.Hours), f(h.ReplicaHours), f(h.CoreHours), f(h.Saturated), f(h.AboveTarget), i(h.Events), i(h.PeakReplicas)}
	}
	for _, wl := range r.Workloads {
		k := wl.Workload
		if len(wl.Setups) == 0 {
			row := []string{"workload", k.Namespace, string(k.Kind), k.Name, wl.Class, "", "1", "", "", "", "", "", ""}
			if err := cw.Write(append(append(row, figures(HPAFigures{})...), wl.Note)); err != nil {
				return err
			}
		}
		for _, s := range wl.Setups {
			row := []string{"workload", k.Namespace, string(k.Kind), k.Name, wl.Class, s.Setup, "1", strconv.FormatInt(s.PodCPUMillicores, 10),
				i(s.CPUTarget), i(s.MinReplicas), i(s.MaxReplicas), s.ScaleDownWindow, i(s.Replicas)}
			if err := cw.Write(append(append(row, figures(s.HPAFigures)...), wl.Note)); err != nil {
				return err
			}
		}
	}
	for _, t := range r.Totals {
		row := []string{t.Group, "", "", "", "", t.Setup, i(t.Workloads), "", "", "", "", "", ""}
		if err := cw.Write(append(append(row, figures(t.HPAFigures)...), "")); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
