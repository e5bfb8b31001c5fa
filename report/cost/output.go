package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"rightsize.dev/rightsize/report"
)

// OutputFormat is the format a report is written in: format (--format)
// if given, else that of the extension of path (--out), else Markdown. An
// extension of another report format than format says, or one of no
// report format without format, is an error (a .pdf of Markdown helps
// nobody). path's directory must exist unless it holds {end}, which
// Deliver fills in.
func OutputFormat(format, path string) (report.Format, error) {
	f := report.Markdown
	if format != "" {
		var err error
		if f, err = report.CostOutput.Parse(format); err != nil {
			return "", err
		}
	}
	if path == "" {
		return f, nil
	}
	if dir := filepath.Dir(path); !strings.Contains(dir, "{end}") {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", fmt.Errorf("--out %s: the directory %s does not exist", path, dir)
		}
	}
	ext := filepath.Ext(path)
	if ext == "" {
		return f, nil
	}
	byExt, ok := report.CostOutput.ForFile(path)
	switch {
	case !ok && format == "":
		return "", fmt.Errorf("--out %s: %s names no report format (.md, .html, .csv, .json, or say --format)", path, ext)
	case ok && format != "" && byExt != f:
		return "", fmt.Errorf("--out %s is %s, --format says %s", path, byExt, f)
	case ok:
		f = byExt
	}
	return f, nil
}
