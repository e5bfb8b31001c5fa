package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

var tableHeader = []string{"WORKLOAD", "CONTAINER", "CPU REQ", "CPU LIM", "MEM REQ", "MEM LIM", "QOS", "CONF"}

// The columns a "no recommendation" note spans: the four resource columns.
const noRecFirst, noRecEnd = 2, 6

// writeTable writes aligned text: one row per container, then the totals and
// the workloads' notes.
func writeTable(w io.Writer, p workload.Plan) error {
	ws := sortedWorkloads(p)
	var rows []row
	for _, wp := range ws {
		rows = append(rows, rowsOf(wp)...)
	}

	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t"))
	for _, r := range rows {
		name := r.workload
		if r.critical {
			name += " (critical)"
		}
		cells := []string{name, r.container, r.cpuReq, r.cpuLim, r.memReq, r.memLim, r.qos, r.conf}
		if r.noRec != "" {
			// Left empty here and filled in below, so that the note does
			// not widen the columns.
			clear(cells[noRecFirst:noRecEnd])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	start, end := columnStart(lines[0], noRecFirst), columnStart(lines[0], noRecEnd)
	// A reason cut to fit its cell is given whole among the notes.
	var cut []string
	for i, r := range rows {
		if r.noRec != "" {
			lines[i+1] = overlay(lines[i+1], r.noRec, start, end)
			if len([]rune(r.noRec)) > end-start-2 {
				cut = append(cut, "  "+r.of+": container "+r.container+": "+r.noRec)
			}
		}
	}

	bw := bufio.NewWriter(w)
	for _, l := range lines {
		fmt.Fprintln(bw, strings.TrimRight(l, " "))
	}
	t := totalsOf(p)
	fmt.Fprintf(bw, "\n%s\n%s\n", totalsLine(t, "   "), countsLine(t, "   "))
	if l := pricesLine(p); l != "" {
		fmt.Fprintln(bw, l)
	}
	if err := writeHPATable(bw, ws); err != nil {
		return err
	}
	var notes []string
	for _, wp := range ws {
		for _, n := range wp.Notes {
			notes = append(notes, "  "+wp.Key.Printable()+": "+untrusted.Escape(n))
		}
	}
	notes = append(notes, cut...)
	if len(notes) > 0 {
		fmt.Fprintf(bw, "\nnotes:\n%s\n", strings.Join(notes, "\n"))
	}
	return bw.Flush()
}

// columnStart returns the rune offset of column i in the aligned header line.
// Header names are ASCII and unique, so their byte offset is the rune offset.
func columnStart(header string, i int) int {
	return strings.Index(header, tableHeader[i])
}

// overlay writes text over line's runes [start, end), truncated to leave the
// column padding, keeping the rest of the line aligned.
func overlay(line, text string, start, end int) string {
	r := []rune(line)
	if start < 0 || end > len(r) || end-start < 4 {
		return line
	}
	t := []rune(truncate(text, end-start-2))
	cell := make([]rune, end-start)
	for i := range cell {
		cell[i] = ' '
	}
	copy(cell, t)
	return string(r[:start]) + string(cell) + string(r[end:])
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeHPATable writes the scalable workloads' HPAs, today and
// recommended, with the replays' replica-hours and saturated time; nothing
// when no workload has one.
func writeHPATable(w io.Writer, ws []workload.WorkloadPlan) error {
	rows := hpaRows(ws)
	if len(rows) == 0 {
		return nil
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(hpaHeader, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join([]string{r.workload, r.current, r.recommended, r.podCPU, r.replicaHours, r.coreHours, r.saturated}, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(l, " "))
	}
	fmt.Fprintln(w, hpaLegend)
	return nil
}
