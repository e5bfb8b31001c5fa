package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// writeMarkdown writes a GitHub-flavoured table with the table format's
// columns, the totals, and each container's reasons in a collapsible list,
// for pasting into a pull request or issue.
func writeMarkdown(w io.Writer, p workload.Plan) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "## rightsize plan\n\n%s\n\n", mdMeta(p))
	fmt.Fprintln(bw, "| Workload | Container | CPU req | CPU lim | Mem req | Mem lim | QoS | Conf |")
	fmt.Fprintln(bw, "|---|---|---|---|---|---|---|---|")
	ws := sortedWorkloads(p)
	for _, wp := range ws {
		for _, r := range rowsOf(wp) {
			name := mdCodeCell(r.workload)
			if r.critical {
				name += " **critical**"
			}
			cells := []string{name, mdCodeCell(r.container)}
			conf := r.conf
			if r.noRec != "" {
				conf = r.noRec
			}
			for _, c := range []string{r.cpuReq, r.cpuLim, r.memReq, r.memLim, r.qos, conf} {
				cells = append(cells, mdCell(c))
			}
			fmt.Fprintf(bw, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	t := totalsOf(p)
	fmt.Fprintf(bw, "\n**Totals** (all replicas): %s  \n%s\n", totalsLine(t, " · "), capitalize(countsLine(t, " · ")))
	if l := pricesLine(p); l != "" {
		fmt.Fprintf(bw, "\n%s\n", mdCell(l))
	}
	if rows := hpaRows(ws); len(rows) > 0 {
		fmt.Fprint(bw, "\n### HPAs\n\n")
		fmt.Fprintln(bw, "| Workload | Current | Recommended | Pod CPU | Replica-hours | Core-hours | Saturated |")
		fmt.Fprintln(bw, "|---|---|---|---|---|---|---|")
		for _, r := range rows {
			cells := []string{mdCodeCell(r.workload)}
			for _, c := range []string{r.current, r.recommended, r.podCPU, r.replicaHours, r.coreHours, r.saturated} {
				cells = append(cells, mdCell(c))
			}
			fmt.Fprintf(bw, "| %s |\n", strings.Join(cells, " | "))
		}
		fmt.Fprintf(bw, "\n%s\n", capitalize(hpaLegend))
	}
	if hasDetails(ws) {
		fmt.Fprint(bw, "\n### Reasons\n")
	}
	for _, wp := range ws {
		if !hasDetails([]workload.WorkloadPlan{wp}) {
			continue
		}
		fmt.Fprintf(bw, "\n<details><summary><code>%s</code></summary>\n\n", mdText(wp.Key.Printable()))
		for _, n := range wp.Notes {
			fmt.Fprintf(bw, "> %s\n\n", mdText(untrusted.Escape(n)))
		}
		for _, c := range wp.Containers {
			if len(c.Recommendation.Reasons) == 0 {
				continue
			}
			fmt.Fprintf(bw, "%s\n\n", mdCode(containerName(c)))
			for _, r := range c.Recommendation.Reasons {
				fmt.Fprintf(bw, "- %s\n", mdText(untrusted.Escape(r)))
			}
			fmt.Fprintln(bw)
		}
		if a := wp.Autoscaling; a != nil && len(a.Reasons) > 0 {
			fmt.Fprint(bw, "HPA\n\n")
			for _, r := range a.Reasons {
				fmt.Fprintf(bw, "- %s\n", mdText(untrusted.Escape(r)))
			}
			fmt.Fprintln(bw)
		}
		fmt.Fprint(bw, "</details>\n")
	}
	return bw.Flush()
}

func mdMeta(p workload.Plan) string {
	parts := []string{"Profile " + mdCodeOrDash(workload.PrintableName(p.Profile)), "source " + mdCodeOrDash(workload.PrintableName(p.Source))}
	if !p.Generated.IsZero() {
		parts = append(parts, "generated "+p.Generated.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " · ")
}

func hasDetails(ws []workload.WorkloadPlan) bool {
	for _, wp := range ws {
		if len(wp.Notes) > 0 || wp.Autoscaling != nil && len(wp.Autoscaling.Reasons) > 0 {
			return true
		}
		for _, c := range wp.Containers {
			if len(c.Recommendation.Reasons) > 0 {
				return true
			}
		}
	}
	return false
}

var (
	mdCode = MarkdownCode
	mdText = MarkdownText
)

// mdCodeCell is mdCode for a table cell.
func mdCodeCell(s string) string { return strings.ReplaceAll(mdCode(s), "|", `\|`) }

func mdCodeOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return mdCode(s)
}

// mdCell escapes free text for a table cell.
func mdCell(s string) string { return MarkdownCell(mdText(s)) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
