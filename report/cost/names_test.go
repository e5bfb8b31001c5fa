package cost

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// Names as a usage file or a pricing file could carry them: each tries to
// end a table row, a list item or a heading, open HTML, make a link, or
// start a spreadsheet formula.
const (
	evilNamespace = "shop|x\n<script>alert(1)</script>"
	evilName      = "=cmd|' /C calc'!A0\n| injected | row |"
	evilContainer = "app`\n- **forged item**\x1b[2J"
	evilTeam      = "+team|x\n[click](https://evil.example)"
	evilPool      = "@SUM(1+1)"
	evilCurrency  = "-X|<b>"
	evilTitle     = "Report\n# Forged heading <i>x</i> \u202egpj.exe"
)

// craftedReport is the scenario's report with every name from outside
// data replaced by a hostile one.
func craftedReport(t *testing.T) *Report {
	t.Helper()
	r, err := Build(scenario(t))
	require.NoError(t, err)
	rename := func(k workload.Key) workload.Key {
		if k == web {
			return workload.Key{Namespace: evilNamespace, Kind: k.Kind, Name: evilName}
		}
		return k
	}
	fix := func(ws []WorkloadCost) {
		for i := range ws {
			ws[i].Key = rename(ws[i].Key)
			ws[i].Team, ws[i].NodePool = evilTeam, evilPool
		}
	}
	fix(r.Workloads)
	fix(r.TopSavings)
	fix(r.ExtraCost)
	for i := range r.Namespaces {
		r.Namespaces[i].Name = evilNamespace
	}
	for i := range r.Teams {
		r.Teams[i].Name = evilTeam
	}
	for i := range r.Risks {
		r.Risks[i].Workload = rename(r.Risks[i].Workload)
		r.Risks[i].Container = evilContainer
		r.Risks[i].Detail += " " + evilContainer
	}
	for i := range r.HPA.Existing {
		r.HPA.Existing[i].Target = rename(web)
		r.HPA.Existing[i].Metrics = []workload.MetricTarget{{Resource: "requests|\n<x>", AverageValue: "1k\n- forged"}}
	}
	for i := range r.HPA.Suggested {
		r.HPA.Suggested[i].Workload = rename(web)
	}
	r.HPA.Note = "note\n## forged"
	r.Confidence = append(r.Confidence, rename(web).String()+": container "+evilContainer+" has little history")
	r.Title, r.Source, r.TeamLabel = evilTitle, "usage`|.csv\n# forged", "team\n|"
	r.Pricing.Currency = evilCurrency
	return r
}

// TestMarkdownEscapesNames: hostile names stay inside their table cell,
// list item or heading, open no HTML, make no link, and reach the chat
// with their control characters escaped.
func TestMarkdownEscapesNames(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteMarkdown(&buf, craftedReport(t)))
	out := buf.String()

	for _, forged := range []string{"| injected", "- **forged item**", "# Forged heading", "## forged", "# forged", "- forged"} {
		for _, line := range strings.Split(out, "\n") {
			assert.False(t, strings.HasPrefix(line, forged), "a name started the line %q", line)
		}
	}
	// Code spans show their content as is (GitHub reads no HTML or link in
	// them); outside them nothing may open HTML or make a link.
	var text strings.Builder
	for i, part := range strings.Split(strings.ReplaceAll(out, "\\`", ""), "`") {
		if i%2 == 0 {
			text.WriteString(part)
		}
	}
	for _, raw := range []string{"<script", "<b>", "<i>", "<x>", "[click]("} {
		assert.NotContains(t, text.String(), raw)
	}
	for _, raw := range []string{"\x1b", "\u202e"} {
		assert.NotContains(t, out, raw)
	}
	assert.Contains(t, out, `&lt;script&gt;`)
	assert.Contains(t, out, `\x1b[2J`)
	assert.Contains(t, out, `\u202e`)

	// Every row of a table has as many cells as its header.
	cells := func(line string) int {
		n := 0
		for i := 1; i < len(line); i++ {
			if line[i] == '|' && line[i-1] != '\\' {
				n++
			}
		}
		return n
	}
	want := -1
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = -1
			continue
		}
		if want < 0 {
			want = cells(line)
			continue
		}
		assert.Equal(t, want, cells(line), "row %q", line)
	}
}

// TestCSVDefusesFormulas: no text cell starts a spreadsheet formula, and
// hostile names do not add rows or columns.
func TestCSVDefusesFormulas(t *testing.T) {
	r := craftedReport(t)
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, r))
	records, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 2+len(r.Namespaces)+len(r.Teams)+len(r.Workloads)+len(r.Daily))
	for _, rec := range records[1:] {
		require.Len(t, rec, len(csvHeader))
		for i, cell := range rec[1:8] { // name … currency
			if cell != "" {
				assert.NotContains(t, "=+-@\t\r", cell[:1], "column %s: %q", csvHeader[i+1], cell)
			}
		}
	}
	row := records[2+len(r.Namespaces)+len(r.Teams)] // after the header and the total
	assert.Equal(t, []string{"workload", evilNamespace, "'" + evilName, "'" + evilTeam, "'" + evilPool, "'" + evilCurrency},
		[]string{row[0], row[2], row[4], row[5], row[6], row[7]})
	for _, rec := range records[1:] {
		assert.NotContains(t, rec[14], "'", "figures stay numbers")
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"shop":        "shop",
		"=1+1":        "'=1+1",
		"+cmd|x":      "'+cmd|x",
		"-2":          "'-2",
		"@SUM(A1)":    "'@SUM(A1)",
		"\t=1":        "'\t=1",
		"\r=1":        "'\r=1",
		"a=1":         "a=1",
		"(no label)":  "(no label)",
		"'quoted'":    "'quoted'",
		"ns/Job/etl":  "ns/Job/etl",
		"USD":         "USD",
		"2026-11-08":  "2026-11-08",
		"-team|x\n=1": "'-team|x\n=1",
	} {
		assert.Equal(t, want, csvText(in), "%q", in)
	}
}

// TestHTMLAndJSONEscapeNames: html/template and encoding/json escape the
// same hostile names; the charts' labels are escaped too.
func TestHTMLAndJSONEscapeNames(t *testing.T) {
	r := craftedReport(t)
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, r))
	for _, raw := range []string{"<script", "<b>", "<i>", "<x>"} {
		assert.NotContains(t, page.String(), raw)
	}
	assert.Contains(t, page.String(), "&lt;script&gt;")
	assert.Contains(t, page.String(), "<text", "the charts are there")

	var doc bytes.Buffer
	require.NoError(t, WriteJSON(&doc, r))
	assert.NotContains(t, doc.String(), "<script")
	var d Document
	require.NoError(t, json.Unmarshal(doc.Bytes(), &d))
	assert.Equal(t, evilName, d.Workloads[0].Name, "names survive as they are")
}
