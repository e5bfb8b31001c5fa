package cost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"rightsize.dev/rightsize/internal/atomicfile"

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

// Delivery says where a report goes: a file or standard output, and a
// webhook.
type Delivery struct {
	Format report.Format
	// Path is the file to write, "{end}" replaced by the period's end
	// date; empty for Stdout.
	Path   string
	Stdout io.Writer
	// Log is told what was written where.
	Log io.Writer
	// WebhookURL, when set, is posted the report as Markdown through
	// Client.
	WebhookURL string
	Client     *http.Client
}

// Deliver writes the report where d says. A file is written atomically,
// so a failed run never leaves half a report where last week's was.
func Deliver(ctx context.Context, r *Report, d Delivery) error {
	var out bytes.Buffer
	if err := Write(&out, r, d.Format); err != nil {
		return err
	}
	if d.Path == "" {
		if _, err := d.Stdout.Write(out.Bytes()); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	} else {
		path := strings.ReplaceAll(d.Path, "{end}", r.Period.End.UTC().Format("2006-01-02"))
		if err := atomicfile.WriteFile(path, out.Bytes(), 0o644); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
		fmt.Fprintf(d.Log, "wrote the %s report for %s → %s UTC to %s\n", d.Format,
			r.Period.Start.Format("2006-01-02 15:04"), r.Period.End.Format("2006-01-02 15:04"), path)
	}
	if d.WebhookURL == "" {
		return nil
	}
	md := out.Bytes()
	if d.Format != report.Markdown {
		var b bytes.Buffer
		if err := Write(&b, r, report.Markdown); err != nil {
			return err
		}
		md = b.Bytes()
	}
	if err := Post(ctx, d.Client, d.WebhookURL, md); err != nil {
		return err
	}
	fmt.Fprintln(d.Log, "posted the Markdown report to the webhook")
	return nil
}
