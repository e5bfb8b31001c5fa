package cost

import (
	"math"
	"strconv"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// currencySymbols are written before the amount; other currencies are
// written as their code after it.
var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}

// Money renders an amount in the report's currency with two decimals and
// thousands separators: "$1,234.50", "-€3.10", "12.00 CHF".
func (r *Report) Money(m pricing.Money) string { return fmtMoney(r.Pricing.Currency, m) }

func fmtMoney(currency string, m pricing.Money) string {
	v := math.Round(float64(m)*100) / 100
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := groupThousands(strconv.FormatFloat(v, 'f', 2, 64))
	if sym, ok := currencySymbols[currency]; ok {
		return sign + sym + s
	}
	if currency == "" {
		return sign + s
	}
	return sign + s + " " + currency
}

// groupThousands puts commas into the integer part of a decimal number.
func groupThousands(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// fmtChange renders the relative change from prev to cur: "+2.4%", "-10%",
// "n/a" without a previous amount.
func fmtChange(cur, prev pricing.Money) string {
	if prev <= 0 {
		return "n/a"
	}
	p := float64((cur - prev) / prev * 100)
	switch {
	case math.Abs(p) < 0.05:
		return "±0%"
	case math.Abs(p) < 10:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// signedChange adds a "+" to positive changes.
func signedChange(cur, prev pricing.Money) string {
	s := fmtChange(cur, prev)
	if s != "n/a" && !strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "±") {
		s = "+" + s
	}
	return s
}

// fmtShare renders a share of 1 as a whole percentage, or "<1%".
func fmtShare(v float64) string {
	if v > 0 && v < 0.005 {
		return "<1%"
	}
	return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + "%"
}

func fmtCPU(m workload.Millicores) string {
	if m <= 0 {
		return "none"
	}
	return m.String()
}

// fmtMemory renders a memory amount as its quantity string when that is
// short, else rounded to MiB and marked "~".
func fmtMemory(b workload.Bytes) string {
	switch {
	case b <= 0:
		return "none"
	case b < workload.MiB || b%workload.MiB == 0:
		return b.String()
	}
	return "~" + strconv.FormatFloat(b.MiB(), 'f', 0, 64) + "Mi"
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// fmtWindow renders a window for headings: "2026-11-08 00:00 → 2026-11-15 00:00 UTC".
func fmtWindow(w Window) string {
	return fmtTime(w.Start) + " → " + fmtTime(w.End) + " UTC"
}

// workloadName is a workload's short name for charts: "namespace/name",
// and "@cluster" after it where one is named.
func workloadName(k workload.Key) string {
	if k.Cluster != "" {
		return k.Namespace + "/" + k.Name + "@" + k.Cluster
	}
	return k.Namespace + "/" + k.Name
}
