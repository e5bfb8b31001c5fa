package cost

import (
	_ "embed" // the page's template and style
	"fmt"
	"html/template"
	"io"
)

var (
	//go:embed report.html.tmpl
	pageTemplate string
	//go:embed report.css
	pageCSS string

	page = template.Must(template.New("report").Parse(pageTemplate))
)

// htmlChart is a chart as the template places it.
type htmlChart struct {
	ID, Caption string
	SVG         template.HTML
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and SVG charts, no script and nothing fetched, readable on a phone and
// printable.
func WriteHTML(w io.Writer, r *Report) error {
	charts, err := r.Charts()
	if err != nil {
		return err
	}
	data := struct {
		view
		CSS    template.CSS
		Charts map[string]htmlChart
	}{view: r.view(), CSS: template.CSS(pageCSS), Charts: map[string]htmlChart{}}
	for _, c := range charts {
		// The SVG is drawn here from escaped text (vgsvg escapes every
		// label), so it is safe to inline as is.
		data.Charts[c.ID] = htmlChart{ID: c.ID, Caption: c.Caption, SVG: template.HTML(withTitle(c.SVG, c.Alt))}
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("rendering html: %w", err)
	}
	return nil
}
