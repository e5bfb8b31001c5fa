package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// LowConfidence is the confidence below which the human formats flag a
// recommendation as "low".
const LowConfidence = 0.5

// row is one container's cells as the table and markdown formats show them.
type row struct {
	workload, container            string
	critical                       bool
	cpuReq, cpuLim, memReq, memLim string
	qos, conf                      string
	// noRec says why the container has no recommendation; empty when it has one.
	noRec string
	// of names the row's workload on every row (workload only on the first).
	of string
}

// rowsOf returns the rows of a workload: the workload and its QoS class are
// named on the first row only.
func rowsOf(wp workload.WorkloadPlan) []row {
	rows := make([]row, 0, len(wp.Containers))
	for i, c := range wp.Containers {
		cur, rec := c.Current, c.Recommended()
		r := row{
			of:        wp.Key.Printable(),
			container: containerName(c),
			// Limits go without a percentage: they matter as a ceiling, and
			// the narrower cells keep a line within 160 columns.
			cpuReq: change(cur.Requests.CPU, rec.Requests.CPU, workload.Millicores.String, true),
			cpuLim: change(cur.Limits.CPU, rec.Limits.CPU, workload.Millicores.String, false),
			memReq: change(cur.Requests.Memory, rec.Requests.Memory, memory, true),
			memLim: change(cur.Limits.Memory, rec.Limits.Memory, memory, false),
			conf:   confidence(c),
		}
		if !hasRecommendation(c) {
			r.conf = "—"
			r.noRec = "no recommendation"
			if len(c.Recommendation.Reasons) > 0 {
				// Reasons read "cpu: no recommendation: too little history (…)":
				// keep what follows the repeated words.
				why := c.Recommendation.Reasons[0]
				if _, after, ok := strings.Cut(why, "no recommendation: "); ok {
					why = after
				}
				r.noRec += ": " + untrusted.Escape(why)
			}
		}
		if i == 0 {
			r.workload, r.critical = wp.Key.Printable(), wp.Critical
			r.qos = qosCell(wp)
		}
		rows = append(rows, r)
	}
	return rows
}

// containerName is the container's printable name, marked when it is an
// init or sidecar container.
func containerName(c workload.ContainerPlan) string {
	name := workload.PrintableName(c.Name)
	switch {
	case c.Sidecar:
		return name + " (sidecar)"
	case c.Init:
		return name + " (init)"
	}
	return name
}

// change renders a setting before and after: "500m → 120m (-76%)", "1 → none"
// for a removed limit, the bare value when it stays, "—" when never set.
func change[A workload.Millicores | workload.Bytes](cur, rec A, show func(A) string, withPercent bool) string {
	switch {
	case cur <= 0 && rec <= 0:
		return "—"
	case cur == rec:
		return show(cur)
	case rec <= 0:
		return show(cur) + " → none"
	case cur <= 0:
		return "none → " + show(rec)
	}
	s := show(cur) + " → " + show(rec)
	if withPercent {
		s += " (" + percent(float64(cur), float64(rec)) + ")"
	}
	return s
}

// percent renders the relative change from a to b, a > 0.
func percent(a, b float64) string {
	p := math.Round((b - a) / a * 100)
	if p == 0 {
		return "~0%"
	}
	return fmt.Sprintf("%+.0f%%", p)
}

// memory renders a memory amount as its quantity string when that is short,
// and rounded to MiB (marked "~") when only a long byte count would be exact.
func memory(b workload.Bytes) string {
	if b < workload.MiB || b%workload.MiB == 0 {
		return b.String()
	}
	return "~" + strconv.FormatFloat(b.MiB(), 'f', 0, 64) + "Mi"
}

func qosCell(wp workload.WorkloadPlan) string {
	cur := untrusted.Escape(string(wp.QoSCurrent))
	if cur == "" {
		cur = "—"
	}
	if qosChanged(wp) {
		return cur + " → " + untrusted.Escape(string(wp.QoSRecommended)) + " *"
	}
	return cur
}

// confidence renders the CONF cell: two decimals, flagged when low.
func confidence(c workload.ContainerPlan) string {
	v := strconv.FormatFloat(c.Recommendation.Confidence, 'f', 2, 64)
	if c.Recommendation.Confidence < LowConfidence {
		return "low " + v
	}
	return v
}

// totalsLine renders the footer's totals:
// "CPU requests: 12.5 → 4.2 cores (-66%)   memory requests: 20.0 → 14.1 GiB (-30%)".
func totalsLine(t planTotals, sep string) string {
	return "CPU requests: " + total(float64(t.current.CPU.Cores()), float64(t.recommendedReq.CPU.Cores()), "cores") +
		sep + "memory requests: " + total(t.current.Memory.GiB(), t.recommendedReq.Memory.GiB(), "GiB")
}

// total renders a total before and after; both numbers share the precision
// the larger one needs.
func total(cur, rec float64, unit string) string {
	prec := 2
	if max(cur, rec) >= 10 {
		prec = 1
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	if f(cur) == f(rec) {
		return f(cur) + " " + unit + " (no change)"
	}
	s := f(cur) + " → " + f(rec) + " " + unit
	if cur > 0 {
		s += " (" + percent(cur, rec) + ")"
	}
	return s
}

// countsLine renders the footer's counts of containers and QoS changes.
func countsLine(t planTotals, sep string) string {
	return fmt.Sprintf("containers: %d with a recommendation, %d without, %d would change%sQoS class changes: %d %s",
		t.recommended, t.without, t.changed, sep, t.qosChanges, plural(t.qosChanges, "workload", "workloads"))
}

// pricesLine names the fleet's price of time short of each profile that
// set one above 0 (a price of 0 raises nothing), "" when none did: "CPU
// requests raised where time short is cheap to avoid, at the fleet's
// price: 2 cores (balanced)".
func pricesLine(p workload.Plan) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(p.CPUPrices)) {
		if price := p.CPUPrices[name]; price > 0 {
			parts = append(parts, strconv.FormatFloat(price, 'g', 4, 64)+" cores ("+untrusted.Escape(name)+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "CPU requests raised where time short is cheap to avoid, at the fleet's price: " + strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
