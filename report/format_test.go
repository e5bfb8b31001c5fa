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
