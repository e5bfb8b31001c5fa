package cost

import (
	"fmt"
	"io"

	"rightsize.dev/rightsize/report"
)

// Write writes r to w in format f, one of report.CostOutput.
func Write(w io.Writer, r *Report, f report.Format) error {
	var err error
	switch f {
	case report.HTML:
		err = WriteHTML(w, r)
	case report.Markdown:
		err = WriteMarkdown(w, r)
	case report.CSV:
		err = WriteCSV(w, r)
	case report.JSON:
		err = WriteJSON(w, r)
	default:
		return fmt.Errorf("unknown report format %q", f)
	}
	if err != nil {
		return fmt.Errorf("writing %s report: %w", f, err)
	}
	return nil
}
