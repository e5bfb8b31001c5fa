package cost

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/report"
	"rightsize.dev/rightsize/report/pricing"
)

// TestHTMLIsSelfContained checks without a browser what the browser test
// checks with one: every section and chart is there, and nothing is
// fetched or run.
func TestHTMLIsSelfContained(t *testing.T) {
	in := demoInputWithTeams(t)
	in.Title = `Prod <EU> & "friends"`
	r, err := Build(in)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	page := buf.String()

	assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	assert.Contains(t, page, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
	assert.Contains(t, page, "<title>Prod &lt;EU&gt; &amp; &#34;friends&#34; · 2026-11-08 00:00 → 2026-11-15 00:00 UTC</title>", "the title is escaped")
	assert.Contains(t, page, "@media print")
	assert.NotContains(t, page, "<script")
	assert.NotContains(t, page, "<?xml")
	assert.NotRegexp(t, regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`), page, "no external resource")
	assert.NotRegexp(t, regexp.MustCompile(`(?i)url\((["']?)(https?:)?//`), page, "no external CSS resource")
	assert.NotContains(t, page, "ZgotmplZ", "nothing the template refused to render")
	for _, id := range []string{"headline", "namespaces", "daily", "savings", "teams", "risks", "qos", "hpa", "workloads", "confidence", "method"} {
		assert.Contains(t, page, `<section id="`+id+`"`)
	}
	for _, id := range []string{"cost-by-namespace", "daily-cost", "savings-by-workload"} {
		assert.Regexp(t, `<figure id="`+id+`">\n<svg width="\d+" height="\d+" viewBox="[^"]+"\s+xmlns="http://www.w3.org/2000/svg"`, page)
	}
	for _, class := range []string{"wide", "narrow"} {
		assert.Equal(t, 3, strings.Count(page, ` class="`+class+`" role="img"><title>`), "a %s drawing of each chart", class)
	}
	assert.Equal(t, 6, strings.Count(page, "</svg>"))
	assert.Contains(t, page, `<td class="name" data-label="Team">storefront</td>`)
	// Pods that ran in the period and replicas that run now are told
	// apart, so 26 beside 12 contradict nothing.
	assert.Contains(t, page, `<div class="note">7 workloads, 26 pods ran in the period</div>`)
	assert.Contains(t, page, `<th class="num">Replicas today</th>`)
	assert.Contains(t, page, `<td class="num" data-label="Replicas today">12</td>`)
	assert.Contains(t, page, `<code>shop/<wbr>StatefulSet/<wbr>orders-db</code>`, "a name breaks after its slashes")
	assert.Contains(t, page, `<td data-label="QoS"><span class="change"><span class="nw">Burstable →</span> <span class="nw">Guaranteed</span></span></td>`,
		"a QoS change breaks after its arrow only")
}

// TestBreakableAndArrowEscape: the helpers that let names and changes
// wrap escape what they are given.
func TestBreakableAndArrowEscape(t *testing.T) {
	assert.Equal(t, template.HTML(`ns/<wbr>Deployment/<wbr>a&lt;b&gt;&amp;`), breakable("ns/Deployment/a<b>&"))
	assert.Equal(t, template.HTML(`&lt;i&gt;`), arrow("<i>"))
	assert.Equal(t, template.HTML(`<span class="change"><span class="nw">1 &amp; 2 →</span> <span class="nw">&lt;3&gt; → 4</span></span>`), arrow("1 & 2 → <3> → 4"))
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want report.Format
	}{{"html", report.HTML}, {"HTM", report.HTML}, {"md", report.Markdown}, {"markdown", report.Markdown}, {" csv ", report.CSV}, {"json", report.JSON}} {
		f, err := report.CostOutput.Parse(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, f, tc.in)
	}
	_, err := report.CostOutput.Parse("pdf")
	assert.EqualError(t, err, `unknown report format "pdf": valid formats are markdown, html, csv, json`)

	for name, want := range map[string]report.Format{"/reports/cost.html": report.HTML, "week.MD": report.Markdown, "a.b.csv": report.CSV, "x.json": report.JSON} {
		f, ok := report.CostOutput.ForFile(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, f, name)
	}
	for _, name := range []string{"", "report", "report.txt"} {
		_, ok := report.CostOutput.ForFile(name)
		assert.False(t, ok, name)
	}

	r := demoReport(t)
	for _, f := range report.CostOutput.List {
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, r, f), f)
		assert.NotEmpty(t, buf.Bytes(), f)
	}
	assert.Error(t, Write(&bytes.Buffer{}, r, "pdf"))
}

func TestMoneyFormatting(t *testing.T) {
	for _, tc := range []struct {
		currency string
		v        float64
		want     string
	}{
		{"USD", 1234567.891, "$1,234,567.89"},
		{"EUR", -3.1, "-€3.10"},
		{"CHF", 12, "12.00 CHF"},
		{"", 0.004, "0.00"},
		{"GBP", 999.995, "£1,000.00"},
	} {
		assert.Equal(t, tc.want, fmtMoney(tc.currency, pricing.Money(tc.v)))
	}
	assert.Equal(t, "n/a", fmtChange(5, 0))
	assert.Equal(t, "+2.5%", signedChange(102.5, 100))
	assert.Equal(t, "-50%", signedChange(50, 100))
	assert.Equal(t, "±0%", signedChange(100.01, 100))
	assert.Equal(t, "<1%", fmtShare(0.001))
	assert.Equal(t, "~352Mi", fmtMemory(369098752+1))
	assert.Equal(t, "6d 23h", humanDuration(167*time.Hour))
}
