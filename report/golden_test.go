package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"rightsize.dev/rightsize/internal/golden"
)

var goldenFiles = map[Format]string{
	Table:    "plan.txt",
	JSON:     "plan.json",
	YAML:     "plan.yaml",
	CSV:      "plan.csv",
	Markdown: "plan.md",
}

func TestGolden(t *testing.T) {
	for _, f := range PlanFormats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePlan(&buf, testPlan(), f); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", goldenFiles[f]), buf.Bytes())
		})
	}
}

func TestEveryFormatHasGolden(t *testing.T) {
	for _, f := range PlanFormats {
		if goldenFiles[f] == "" {
			t.Errorf("format %s has no golden file", f)
		}
	}
}
