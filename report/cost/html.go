package cost

import (
	_ "embed" // the page's template and style
	"fmt"
	"html/template"
	"io"
	"strings"
)

var (
	//go:embed report.html.tmpl
	pageTemplate string
	//go:embed report.css
	pageCSS string

	page = template.Must(template.New("report").Funcs(template.FuncMap{"breakable": breakable, "arrow": arrow}).Parse(pageTemplate))
)

// breakable escapes a workload's name and lets it break after each slash,
// so that a long name wraps in its cell instead of widening the table.
func breakable(name string) template.HTML {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = template.HTMLEscapeString(p)
	}
	return template.HTML(strings.Join(parts, "/<wbr>"))
}

// arrow escapes a change, "Burstable → Guaranteed" or "500m → 1958m", so
// that it breaks after the arrow only: two lines at most where the column
// is narrow, never a word or a quantity apart.
func arrow(change string) template.HTML {
	before, after, ok := strings.Cut(change, " → ")
	if !ok {
		return template.HTML(template.HTMLEscapeString(change))
	}
	return template.HTML(`<span class="change"><span class="nw">` + template.HTMLEscapeString(before) + ` →</span> <span class="nw">` +
		template.HTMLEscapeString(after) + `</span></span>`)
}

// htmlChart is a chart as the template places it.
type htmlChart struct {
	ID, Caption string
	// Wide fills the column on a desktop, Narrow a phone's: the page's
	// CSS shows one of them.
	Wide, Narrow template.HTML
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
		data.Charts[c.ID] = htmlChart{ID: c.ID, Caption: c.Caption,
			Wide: template.HTML(inlineSVG(c.SVG, "wide", c.Alt)), Narrow: template.HTML(inlineSVG(c.Narrow, "narrow", c.Alt))}
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("rendering html: %w", err)
	}
	return nil
}
