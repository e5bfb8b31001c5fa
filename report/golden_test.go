package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

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
			checkGolden(t, filepath.Join("testdata", goldenFiles[f]), buf.Bytes())
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./report/ -update to refresh):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestEveryFormatHasGolden(t *testing.T) {
	for _, f := range PlanFormats {
		if goldenFiles[f] == "" {
			t.Errorf("format %s has no golden file", f)
		}
	}
}
