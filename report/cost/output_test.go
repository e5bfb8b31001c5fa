package cost

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/report"
)

func TestOutputFormat(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name, format, path string
		want               report.Format
		err                string
	}{
		{name: "default", want: report.Markdown},
		{name: "--format", format: "HTML", want: report.HTML},
		{name: "alias", format: "md", want: report.Markdown},
		{name: "unknown --format", format: "pdf", err: `unknown report format "pdf"`},
		{name: "from the extension", path: filepath.Join(dir, "r.csv"), want: report.CSV},
		{name: "no extension", path: filepath.Join(dir, "report"), want: report.Markdown},
		{name: "no extension, --format", format: "json", path: filepath.Join(dir, "report"), want: report.JSON},
		{name: "the same twice", format: "json", path: filepath.Join(dir, "r.json"), want: report.JSON},
		{name: "{end} in the directory is not checked", path: filepath.Join(dir, "{end}", "r.html"), want: report.HTML},
		{name: "extension against --format", format: "csv", path: filepath.Join(dir, "r.html"), err: "r.html is html, --format says csv"},
		{name: "extension of no report format", path: filepath.Join(dir, "r.pdf"), err: ".pdf names no report format (.md, .html, .csv, .json, or say --format)"},
		{name: "any extension with --format", format: "markdown", path: filepath.Join(dir, "r.txt"), want: report.Markdown},
		{name: "missing directory", path: filepath.Join(missing, "r.md"), err: "the directory " + missing + " does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OutputFormat(tc.format, tc.path)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
