package cost

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"rightsize.dev/rightsize/report/pricing"
)

var csvHeader = []string{
	"scope", "name", "namespace", "kind", "workload", "team", "node_pool", "currency",
	"period_start", "period_end", "pod_hours",
	"requested_cost", "used_cost", "idle_cost", "savings",
	"cpu_requested_core_hours", "cpu_used_core_hours", "cpu_idle_core_hours",
	"memory_requested_gib_hours", "memory_used_gib_hours", "memory_idle_gib_hours",
	"previous_requested_cost", "previous_used_cost", "previous_idle_cost", "previous_savings",
}

// WriteCSV writes one row per scope in long form for spreadsheets: the
// total, each namespace, each team (with --group-by-label), each workload,
// then each day of the period. Money has four decimals, resource-hours
// three; a day's savings are its requested minus its recommended cost, and
// days carry neither hours nor previous figures.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	period := []string{csvText(r.Pricing.Currency), r.Period.Start.Format(time.RFC3339), r.Period.End.Format(time.RFC3339)}
	row := func(scope, name, ns, kind, wl, team, pool string, c Cost, prev *Cost) []string {
		rec := []string{scope}
		for _, text := range []string{name, ns, kind, wl, team, pool} {
			rec = append(rec, csvText(text))
		}
		rec = append(rec, period...)
		rec = append(rec, hours(c.Usage.PodHours),
			money(c.Requested), money(c.Used), money(c.Idle), money(c.Savings),
			hours(float64(c.Usage.CPU.Requested)), hours(float64(c.Usage.CPU.Used)), hours(float64(c.Usage.CPU.Idle)),
			hours(float64(c.Usage.Memory.Requested)), hours(float64(c.Usage.Memory.Used)), hours(float64(c.Usage.Memory.Idle)))
		if prev == nil || !r.HasPrevious {
			return append(rec, "", "", "", "")
		}
		return append(rec, money(prev.Requested), money(prev.Used), money(prev.Idle), money(prev.Savings))
	}
	records := [][]string{row("total", "total", "", "", "", "", "", r.Totals.Cost, &r.PreviousTotals.Cost)}
	for _, g := range r.Clusters {
		records = append(records, row("cluster", g.Name, "", "", "", "", "", g.Cost, &g.Previous))
	}
	for _, g := range r.Namespaces {
		records = append(records, row("namespace", g.Name, g.Name, "", "", "", "", g.Cost, &g.Previous))
	}
	for _, g := range r.Teams {
		records = append(records, row("team", g.Name, "", "", "", g.Name, "", g.Cost, &g.Previous))
	}
	for _, wc := range r.Workloads {
		records = append(records, row("workload", wc.Key.String(), wc.Key.Namespace, string(wc.Key.Kind), wc.Key.Name, wc.Team, wc.NodePool, wc.Cost, &wc.Previous))
	}
	for _, d := range r.Daily {
		c := Cost{Breakdown: pricing.Breakdown{Requested: d.Requested, Used: d.Used, Idle: d.Idle}, Savings: d.Requested - d.Recommended}
		rec := row("day", d.Start.Format("2006-01-02"), "", "", "", "", "", c, nil)
		rec[8], rec[9] = d.Start.Format(time.RFC3339), d.Start.Add(24*time.Hour).Format(time.RFC3339)
		// Pod-hours and resource-hours are not kept per day.
		for _, i := range []int{10, 15, 16, 17, 18, 19, 20} {
			rec[i] = ""
		}
		records = append(records, rec)
	}
	if err := cw.WriteAll(records); err != nil {
		return err
	}
	return cw.Error()
}

// csvText defuses a text cell that a spreadsheet would run as a formula
// ("=HYPERLINK(…)", "@SUM(…)", "+cmd|…"): names come from outside data, so
// one that starts with = + - @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets read as "text" (OWASP's advice for CSV
// injection). Figures are written by this package and left alone, so
// negative amounts stay numbers.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func money(m pricing.Money) string { return strconv.FormatFloat(float64(m), 'f', 4, 64) }
func hours(v float64) string       { return strconv.FormatFloat(v, 'f', 3, 64) }
