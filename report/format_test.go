package report

import (
	"bytes"
	"strings"
	"testing"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"table": Table, "json": JSON, "yaml": YAML, "csv": CSV, "markdown": Markdown,
		"JSON": JSON, " Yaml ": YAML, "yml": YAML, "md": Markdown,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil {
		t.Fatal("ParseFormat(xml) succeeded")
	}
	for _, f := range PlanFormats {
		if !strings.Contains(err.Error(), string(f)) {
			t.Errorf("error %q does not list %s", err, f)
		}
	}
}

func TestWritePlanFormats(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePlan(&buf, testPlan(), "xml"); err == nil {
		t.Error("WritePlan with an unknown format succeeded")
	}
	buf.Reset()
	if err := WritePlan(&buf, testPlan(), "md"); err != nil || !strings.HasPrefix(buf.String(), "## rightsize plan") {
		t.Errorf("WritePlan(md) = %v, %.40q", err, buf.String())
	}
	for _, f := range PlanFormats {
		buf.Reset()
		if err := WritePlan(&buf, workload.Plan{}, f); err != nil {
			t.Errorf("%s of an empty plan: %v", f, err)
		}
	}
}

func TestTableWidth(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePlan(&buf, testPlan(), Table); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if n := len([]rune(l)); n > 160 {
			t.Errorf("line of %d columns: %s", n, l)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space: %q", l)
		}
	}
}

// TestFormatsPerCommand: each command accepts only its own formats and
// their aliases, and names itself in the error.
func TestFormatsPerCommand(t *testing.T) {
	for _, tc := range []struct {
		set     Formats
		in      string
		want    Format
		wantErr string
	}{
		{PlanOutput, "yml", YAML, ""},
		{PlanOutput, "html", "", `unknown output format "html": valid formats are table, json, yaml, csv, markdown`},
		{PlanOutput, "htm", "", `unknown output format "htm"`},
		{CostOutput, "htm", HTML, ""},
		{CostOutput, "md", Markdown, ""},
		{CostOutput, "yaml", "", `unknown report format "yaml": valid formats are markdown, html, csv, json`},
		{CostOutput, "table", "", `unknown report format "table"`},
	} {
		got, err := tc.set.Parse(tc.in)
		if tc.wantErr == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s formats: Parse(%q) = %q, %v; want %q", tc.set.Noun, tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s formats: Parse(%q) error %v, want %q", tc.set.Noun, tc.in, err, tc.wantErr)
		}
	}
	if f, ok := PlanOutput.ForFile("plan.yml"); !ok || f != YAML {
		t.Errorf("PlanOutput.ForFile(plan.yml) = %q, %v", f, ok)
	}
	if _, ok := CostOutput.ForFile("report.yaml"); ok {
		t.Error("CostOutput.ForFile(report.yaml) accepted a format the cost report does not write")
	}
}
