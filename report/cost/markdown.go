package cost

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/report"
)

// Lists and tables are capped so that the message fits a chat post; the
// HTML, CSV and JSON reports have everything.
const (
	markdownRisks = 12
	markdownRows  = 10
)

// more says what a capped list left out.
func more(n int) string { return fmt.Sprintf("… and %d more in the HTML or JSON report", n) }

// WriteMarkdown writes the report as GitHub-flavoured Markdown short
// enough for a chat message or a pull request: the headline, the top
// savings, the risks, and the breakdowns, without charts.
func WriteMarkdown(w io.Writer, r *Report) error {
	v := r.view()
	bw := bufio.NewWriter(w)
	for _, section := range []func(io.Writer, *view){mdHeadline, mdSavings, mdRisks, mdGroups, mdQoS, mdHPAs, mdConfidence} {
		section(bw, &v)
	}
	fmt.Fprintf(bw, "\n<sub>Prices: %s. Idle is max(request − usage, 0) per sample; savings price today's minus the recommended requests over the pod-hours each container ran.</sub>\n", mdText(v.Prices))
	return bw.Flush()
}

// mdHeadline is the title, the period and the headline figures.
func mdHeadline(bw io.Writer, v *view) {
	fmt.Fprintf(bw, "## %s\n\n", mdText(v.Title))
	fmt.Fprintf(bw, "**%s** (%s) · source %s · profile %s\n\n", mdText(v.Period), mdText(v.PeriodLength), mdCode(v.Source), mdCode(v.Profile))
	fmt.Fprintln(bw, "| | This period | Previous | Change |")
	fmt.Fprintln(bw, "|---|---:|---:|---:|")
	for i, h := range v.Headline {
		label, now := mdText(h.Label), mdText(h.Now)
		if i == len(v.Headline)-1 {
			label, now = "**"+label+"**", "**"+now+"**"
		}
		fmt.Fprintln(bw, mdRow(label, now, mdText(h.Before), mdText(h.Change)))
	}
	fmt.Fprintf(bw, "\n%s. Idle is %s of requested. Potential savings: %s.\n", mdText(capitalize(v.Counts)), mdText(v.IdleShare), mdText(v.SavingsNote))
}

// mdSavings is the top savings and the workloads that would cost more.
func mdSavings(bw io.Writer, v *view) {
	fmt.Fprint(bw, "\n### Top savings\n\n")
	if len(v.TopSavings) == 0 {
		fmt.Fprintln(bw, "No workload would save by applying its recommendations.")
	} else {
		fmt.Fprintln(bw, "| Workload | Replicas | CPU request / pod | Memory request / pod | Savings |")
		fmt.Fprintln(bw, "|---|---:|---|---|---:|")
		for _, s := range v.TopSavings {
			fmt.Fprintln(bw, mdRow(mdCode(s.Workload)+lowMark(s), mdText(s.Replicas), mdText(s.CPU), mdText(s.Memory), mdText(s.Savings)))
		}
	}
	if len(v.ExtraCost) > 0 {
		var items []string
		for _, s := range v.ExtraCost {
			items = append(items, fmt.Sprintf("%s%s %s", mdCode(s.Workload), lowMark(s), mdText(s.Savings)))
		}
		fmt.Fprintf(bw, "\nWould cost more (under-provisioned): %s.\n", strings.Join(items, ", "))
	}
}

// mdRisks lists the risks, capped.
func mdRisks(bw io.Writer, v *view) {
	fmt.Fprintf(bw, "\n### Risks (%d)\n\n", len(v.Risks))
	if len(v.Risks) == 0 {
		fmt.Fprintln(bw, "No OOM kills, throttling, usage above requests, missing settings or BestEffort pods in this period.")
	}
	for i, k := range v.Risks {
		if i == markdownRisks {
			fmt.Fprintf(bw, "- %s\n", more(len(v.Risks)-markdownRisks))
			break
		}
		where := mdCode(k.Workload)
		if k.Container != "" {
			where += " " + mdCode(k.Container)
		}
		fmt.Fprintf(bw, "- **%s** %s: %s (%s)\n", mdText(k.Severity), where, mdText(k.Detail), mdText(k.Rule))
	}
}

// mdGroups is the cost by cluster where several are named, by namespace
// and, where a team label is set, by team.
func mdGroups(bw io.Writer, v *view) {
	if len(v.Clusters) > 0 {
		fmt.Fprint(bw, "\n### Cost by cluster\n\n")
		writeGroupTable(bw, "Cluster", v.Clusters, false)
	}
	fmt.Fprint(bw, "\n### Cost by namespace\n\n")
	writeGroupTable(bw, "Namespace", v.Namespaces, true)
	if v.TeamLabel != "" {
		fmt.Fprintf(bw, "\n### Cost by team (label %s)\n\n", mdCode(v.TeamLabel))
		writeGroupTable(bw, "Team", v.Teams, false)
	}
}

// mdQoS is the QoS classes today and recommended.
func mdQoS(bw io.Writer, v *view) {
	fmt.Fprint(bw, "\n### QoS classes\n\n")
	fmt.Fprintln(bw, "| Class | Workloads today | Replicas today | Workloads recommended | Replicas recommended |")
	fmt.Fprintln(bw, "|---|---:|---:|---:|---:|")
	for _, q := range v.QoS {
		fmt.Fprintln(bw, mdRow(mdText(q.Class), q.Workloads, q.Pods, q.WorkloadsAfter, q.PodsAfter))
	}
}

// mdHPAs is the HPA section: coverage, the HPAs in place and the ones
// recommended where there is none, capped.
func mdHPAs(bw io.Writer, v *view) {
	fmt.Fprint(bw, "\n### Horizontal autoscaling\n\n")
	fmt.Fprint(bw, mdText(v.HPA.Coverage))
	if v.HPA.Note != "" {
		fmt.Fprintf(bw, ": %s", mdText(v.HPA.Note))
	}
	fmt.Fprintln(bw, ".")
	if len(v.HPA.Existing) > 0 {
		fmt.Fprintln(bw)
	}
	for i, e := range v.HPA.Existing {
		if i == markdownRows {
			fmt.Fprintf(bw, "- %s\n", more(len(v.HPA.Existing)-markdownRows))
			break
		}
		if e.Notes != "" {
			fmt.Fprintf(bw, "- %s: %s — %s\n", mdCode(e.Workload), mdText(e.HPA), mdText(e.Notes))
			continue
		}
		fmt.Fprintf(bw, "- %s: %s → %s%s\n", mdCode(e.Workload), mdText(e.HPA), mdText(e.Recommended), mdText(replayNote(e)))
	}
	if len(v.HPA.Suggested) > 0 {
		fmt.Fprint(bw, "\nRecommended where there is none, the most expensive first:\n\n")
		for i, s := range v.HPA.Suggested {
			if i == markdownRows {
				fmt.Fprintf(bw, "- %s\n", more(len(v.HPA.Suggested)-markdownRows))
				break
			}
			fmt.Fprintf(bw, "- %s (%s): %s → %s%s\n", mdCode(s.Workload), replicas(s.Replicas), mdText(s.Why), mdText(s.HPA), mdText(replayNote(s)))
		}
	}
	if len(v.HPA.Existing) > 0 || len(v.HPA.Suggested) > 0 {
		fmt.Fprintf(bw, "\n%s\n", mdText(v.HPA.Behavior))
	}
}

// mdConfidence lists the low-confidence recommendations, capped.
func mdConfidence(bw io.Writer, v *view) {
	fmt.Fprint(bw, "\n### Confidence\n\n")
	for i, c := range v.Confidence {
		if i == markdownRows {
			fmt.Fprintf(bw, "- %s\n", more(len(v.Confidence)-markdownRows))
			break
		}
		fmt.Fprintf(bw, "- %s\n", mdText(c))
	}
}

func writeGroupTable(w io.Writer, what string, rows []groupRow, code bool) {
	fmt.Fprintf(w, "| %s | Workloads | Requested | Used | Idle | Savings | Requested vs. prev. |\n", what)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for i, g := range rows {
		if i == markdownRows {
			fmt.Fprintf(w, "| %s | | | | | | |\n", more(len(rows)-markdownRows))
			break
		}
		name := mdText(g.Name)
		if code {
			name = mdCode(g.Name)
		}
		fmt.Fprintln(w, mdRow(name, g.Workloads, mdText(g.Requested), mdText(g.Used), mdText(g.Idle)+" ("+mdText(g.IdleShare)+")", mdText(g.Savings), mdText(g.Change)))
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "| no usage in this period | | | | | | |")
	}
}

func lowMark(s savingRow) string {
	if s.Low {
		return " (" + mdText(s.Confidence) + ")"
	}
	return ""
}

// Names in the report come from outside data (usage files, clusters,
// pricing files), so everything but the fixed text is escaped: mdCode for
// names, mdText for the rest, and mdRow for each table row. Each writes
// control and format characters as Go escapes (untrusted.Escape): a line
// break would end a table row, list item or heading, and the others would
// reach a chat or a terminal as they are.

// mdCode renders a name as a code span; an empty one as a dash.
func mdCode(s string) string {
	if s == "" {
		return "—"
	}
	return report.MarkdownCode(s)
}

// mdText escapes free text.
func mdText(s string) string { return report.MarkdownText(s) }

// mdRow renders one table row of cells already escaped with mdText or
// mdCode: a "|" in a cell would start a new cell, even in a code span.
func mdRow(cells ...string) string {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(untrusted.Escape(c), "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// replayNote renders an HPA row's pod CPU request and replays:
// " (pod CPU 180m; replayed: 3696 → 1870 replica-hours, 665 → 337
// core-hours, saturated 0.0 % → 0.0 %)".
func replayNote(r hpaRow) string {
	var parts []string
	if r.PodCPU != "" && r.PodCPU != "—" {
		parts = append(parts, "pod CPU "+r.PodCPU)
	}
	if r.ReplicaHours != "" && r.ReplicaHours != "—" {
		parts = append(parts, "replayed: "+r.ReplicaHours+" replica-hours, "+r.CoreHours+" core-hours, saturated "+r.Saturated)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func replicas(n string) string {
	if n == "1" {
		return "1 replica"
	}
	return n + " replicas"
}
