package cost

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"image/color"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"rightsize.dev/rightsize/report/pricing"
)

// Chart is one figure of the HTML report: an SVG document ready to inline.
type Chart struct {
	// ID is stable ("cost-by-namespace", "daily-cost",
	// "savings-by-workload"); the HTML uses it as the figure's id.
	ID, Title string
	// Caption says how to read the chart; Alt lists its figures in words
	// for screen readers.
	Caption, Alt string
	// SVG is drawn as wide as the page's column on a desktop; Narrow is
	// the same chart drawn for a phone, whose screen scales it down a
	// little, where SVG's text would shrink past reading.
	SVG, Narrow []byte
}

// chartBars is how many bars a chart shows before the rest become "other".
const chartBars = 8

// Colours that stay apart for the common kinds of colour blindness
// (Okabe–Ito) and print legibly in grey.
var (
	colUsed      = color.RGBA{0x00, 0x72, 0xB2, 0xff} // blue
	colIdle      = color.RGBA{0xA6, 0xCE, 0xE3, 0xff} // light blue
	colRequested = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colSave      = color.RGBA{0x00, 0x9E, 0x73, 0xff} // green
	colExtra     = color.RGBA{0xD5, 0x5E, 0x00, 0xff} // vermilion
	colGrid      = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colOther     = color.RGBA{0x8c, 0x8c, 0x8c, 0xff}
)

// The widths charts are drawn at, in points (¾ of a CSS pixel): the page's
// column at its widest (64rem less its padding, 992 px), and 480 px, which
// keeps 11-point text legible when a phone scales the chart down to the
// 360 px of its column.
const (
	wideWidth   vg.Length = 744
	narrowWidth vg.Length = 360
)

// barHeight is the height of a row of a bar chart: a chart is as tall as
// its bars need, plus barMargin for the axis, plus its legend's strip.
const (
	barHeight vg.Length = 24
	barMargin vg.Length = 60
)

// drawBoth draws a chart at both widths.
func drawBoth(c *Chart, drawAt func(width vg.Length) ([]byte, error)) error {
	var err error
	if c.SVG, err = drawAt(wideWidth); err != nil {
		return err
	}
	c.Narrow, err = drawAt(narrowWidth)
	return err
}

func sans(size vg.Length) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
}

// newPlot returns a plot with the report's fonts, no title (the HTML
// figure caption carries it) and a light grid.
func newPlot() *plot.Plot {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(11)
		a.LineStyle.Color = colGrid
		a.Tick.LineStyle.Color = colGrid
	}
	p.Legend.TextStyle.Font = sans(11)
	p.Legend.Top = true
	return p
}

// newLegend returns a legend drawn above the plot, not over its data.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = sans(11)
	l.Top = true
	return l
}

// Charts draws the report's charts.
func (r *Report) Charts() ([]Chart, error) {
	var out []Chart
	for _, f := range []func() (Chart, error){r.namespaceChart, r.dailyChart, r.savingsChart} {
		c, err := f()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// bar is one labelled bar.
type bar struct {
	label     string
	values    [2]float64 // stacked: the first at the axis, the second on it
	total     float64
	highlight bool
	// other sums the bars left out; it does not set the scale.
	other bool
}

// topBars keeps the first n bars and sums the rest into "other".
func topBars(bars []bar, n int) []bar {
	if len(bars) <= n {
		return bars
	}
	other := bar{label: fmt.Sprintf("other (%d)", len(bars)-n+1), other: true}
	for _, b := range bars[n-1:] {
		other.values[0] += b.values[0]
		other.values[1] += b.values[1]
		other.total += b.total
	}
	return append(bars[:n-1:n-1], other)
}

func (r *Report) namespaceChart() (Chart, error) {
	var bars []bar
	for _, g := range r.Namespaces {
		bars = append(bars, bar{label: g.Name, values: [2]float64{float64(g.Used), float64(g.Idle)}, total: float64(g.Requested)})
	}
	bars = topBars(bars, chartBars)
	if len(bars) == 0 {
		bars = []bar{{label: "(no usage)"}}
	}
	c := Chart{ID: "cost-by-namespace", Title: "Cost by namespace",
		Caption: fmt.Sprintf("Requested cost per namespace this period: used (dark) and idle (light). Beyond %d namespaces the rest are summed in grey.", chartBars)}
	var alt []string
	for _, b := range bars {
		alt = append(alt, fmt.Sprintf("%s %s requested, %s used", b.label, r.Money(pricing.Money(b.total)), r.Money(pricing.Money(b.values[0]))))
	}
	c.Alt = "Requested cost per namespace this period, split into used and idle: " + strings.Join(alt, "; ") + "."
	err := drawBoth(&c, func(width vg.Length) ([]byte, error) {
		p := newPlot()
		p.X.Label.Text = "requested cost this period (" + r.Pricing.Currency + "): used + idle"
		return r.horizontalBars(p, bars, []string{"used", "idle"}, [2]color.Color{colUsed, colIdle}, width)
	})
	return c, err
}

func (r *Report) savingsChart() (Chart, error) {
	var bars []bar
	for _, w := range r.Workloads {
		if w.Savings >= minSavings || w.Savings <= -minSavings {
			bars = append(bars, bar{label: workloadName(w.Key), values: [2]float64{float64(w.Savings)}, total: float64(w.Savings), highlight: w.Savings < 0})
		}
	}
	if len(bars) > chartBars {
		// Keep the largest amounts either way; the small ones near zero
		// become "other".
		slices.SortStableFunc(bars, func(a, b bar) int { return cmp.Compare(math.Abs(b.total), math.Abs(a.total)) })
		other := bar{label: fmt.Sprintf("other (%d)", len(bars)-chartBars+1), other: true}
		for _, b := range bars[chartBars-1:] {
			other.values[0] += b.values[0]
			other.total += b.total
		}
		bars = bars[: chartBars-1 : chartBars-1]
		slices.SortStableFunc(bars, func(a, b bar) int { return cmp.Compare(b.total, a.total) })
		bars = append(bars, other)
	} else {
		slices.SortStableFunc(bars, func(a, b bar) int { return cmp.Compare(b.total, a.total) })
	}
	c := Chart{ID: "savings-by-workload", Title: "Savings by workload",
		Caption: "What applying the recommendations would have saved this period, per workload; orange bars would cost more, a grey bar sums the rest."}
	var alt []string
	for _, b := range bars {
		alt = append(alt, b.label+" "+r.Money(pricing.Money(b.total)))
	}
	c.Alt = "What applying the recommendations would have saved this period, per workload (negative: it would cost more): " + strings.Join(alt, "; ") + "."
	if len(bars) == 0 {
		c.Alt = "No workload's recommendations change its cost."
		bars = []bar{{label: "(no changes)"}}
	}
	err := drawBoth(&c, func(width vg.Length) ([]byte, error) {
		p := newPlot()
		p.X.Label.Text = "savings this period (" + r.Pricing.Currency + "); negative: costs more"
		return r.horizontalBars(p, bars, nil, [2]color.Color{colSave, colExtra}, width)
	})
	return c, err
}

// horizontalBars draws bars top to bottom in the order given, with each
// bar's total written at its end, in a chart width wide and as tall as its
// bars need. With two series names the bars are stacked and get a legend
// above them; with none, a highlighted bar takes the second colour. The
// named bars set the scale: an "other" bar, drawn in grey, that would not
// fit is cut at the edge with its total written inside it.
func (r *Report) horizontalBars(p *plot.Plot, bars []bar, series []string, cols [2]color.Color, width vg.Length) ([]byte, error) {
	rows := len(bars)
	names := make([]string, rows)
	first, second, marked, grey := make(plotter.Values, rows), make(plotter.Values, rows), make(plotter.Values, rows), make(plotter.Values, rows)
	lo, hi := 0.0, 0.0
	for _, b := range bars {
		if !b.other {
			lo, hi = min(lo, b.total, b.values[0]), max(hi, b.total, b.values[0]+b.values[1])
		}
	}
	span := max(hi-lo, 1e-9)
	xmin, xmax := lo-0.35*span*b2f(lo < 0), hi+0.35*span
	type label struct {
		x, y   float64
		text   string
		right  bool // aligned right of x, else left
		inside bool
	}
	var labels []label
	for i, b := range bars {
		y := len(bars) - 1 - i // the first bar at the top
		names[y] = b.label
		end := b.values[0] + b.values[1]
		l := label{x: end, y: float64(y), text: r.Money(pricing.Money(b.total)), right: end < 0}
		switch {
		case b.other:
			v := min(max(b.total, xmin), xmax)
			grey[y] = v
			if v != b.total {
				l.x, l.inside, l.right = v, true, v > 0
			}
		case series == nil && b.highlight:
			marked[y] = b.values[0]
		default:
			first[y], second[y] = b.values[0], b.values[1]
		}
		labels = append(labels, l)
	}
	p.NominalY(names...)
	p.Y.Tick.Label.Font = sans(11)
	add := func(v plotter.Values, c color.Color, on *plotter.BarChart) (*plotter.BarChart, error) {
		bc, err := plotter.NewBarChart(v, vg.Points(14))
		if err != nil {
			return nil, fmt.Errorf("bar chart: %w", err)
		}
		bc.Horizontal, bc.Color, bc.LineStyle.Width = true, c, 0
		if on != nil {
			bc.StackOn(on)
		}
		p.Add(bc)
		return bc, nil
	}
	b1, err := add(first, cols[0], nil)
	if err != nil {
		return nil, err
	}
	var legend *plot.Legend
	if series != nil {
		b2, err := add(second, cols[1], b1)
		if err != nil {
			return nil, err
		}
		l := newLegend()
		l.Add(series[0], b1)
		l.Add(series[1], b2)
		legend = &l
	} else if _, err := add(marked, cols[1], nil); err != nil {
		return nil, err
	}
	if _, err := add(grey, colOther, nil); err != nil {
		return nil, err
	}
	// Totals at the bars' ends: labels aligned left of their point are
	// pushed right and the others left, so none touches its bar.
	for _, right := range []bool{false, true} {
		var xys plotter.XYLabels
		var styles []text.Style
		for _, l := range labels {
			if l.right != right {
				continue
			}
			xys.XYs = append(xys.XYs, plotter.XY{X: l.x, Y: l.y})
			xys.Labels = append(xys.Labels, l.text)
			st := text.Style{Color: colRequested, Font: sans(10), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: p.TextHandler}
			if right {
				st.XAlign = draw.XRight
			}
			if l.inside {
				st.Color = color.White
			}
			styles = append(styles, st)
		}
		if len(styles) == 0 {
			continue
		}
		ls, err := plotter.NewLabels(xys)
		if err != nil {
			return nil, fmt.Errorf("bar labels: %w", err)
		}
		ls.TextStyle = styles
		ls.Offset = vg.Point{X: 3}
		if right {
			ls.Offset.X = -3
		}
		p.Add(ls)
	}
	p.X.Min, p.X.Max = xmin, xmax
	if lo < 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.5}, {X: 0, Y: float64(len(bars)) - 0.5}})
		if err != nil {
			return nil, fmt.Errorf("zero line: %w", err)
		}
		line.LineStyle.Color = colRequested
		line.LineStyle.Width = vg.Points(0.5)
		p.Add(line)
	}
	p.X.Tick.Marker = moneyTicks{currency: r.Pricing.Currency}
	p.Add(verticalGrid())
	return render(p, width, barMargin+barHeight*vg.Length(rows), legend)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func verticalGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Horizontal.Color = nil
	g.Vertical.Color = colGrid
	g.Vertical.Width = vg.Points(0.5)
	return g
}

func (r *Report) dailyChart() (Chart, error) {
	c := Chart{ID: "daily-cost", Title: "Requested and used cost per day",
		Caption: "Cost per day of the requested and the used resources; dashed: the requests the recommendations would set, for the same pods."}
	p := newPlot()
	p.Y.Label.Text = "cost per day (" + r.Pricing.Currency + ")"
	var req, used, rec plotter.XYs
	var ticks []plot.Tick
	var alt []string
	days := r.Daily
	if len(days) == 0 {
		days = []Day{{Start: r.Period.Start}}
	}
	for i, d := range days {
		x := float64(i)
		req = append(req, plotter.XY{X: x, Y: float64(d.Requested)})
		used = append(used, plotter.XY{X: x, Y: float64(d.Used)})
		rec = append(rec, plotter.XY{X: x, Y: float64(d.Recommended)})
		ticks = append(ticks, plot.Tick{Value: x, Label: d.Start.Format("Mon 2")})
		alt = append(alt, fmt.Sprintf("%s %s requested, %s used", d.Start.Format("Mon 2 Jan"), r.Money(d.Requested), r.Money(d.Used)))
	}
	c.Alt = "Cost per day of the requested and the used resources, and of the requests the recommendations would set: " + strings.Join(alt, "; ") + "."
	for _, s := range []struct {
		name string
		xys  plotter.XYs
		col  color.Color
		dash bool
	}{
		{"requested", req, colRequested, false},
		{"with the recommendations", rec, colSave, true},
		{"used", used, colUsed, false},
	} {
		line, points, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return c, fmt.Errorf("daily chart: %w", err)
		}
		line.Color, line.Width = s.col, vg.Points(1.5)
		if s.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		points.Color, points.Radius = s.col, vg.Points(2)
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(s.name, line)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.3, float64(max(len(days)-1, 1))+0.3
	p.Y.Min = 0
	p.Y.Max *= 1.25 // room for the legend
	p.Y.Tick.Marker = moneyTicks{currency: r.Pricing.Currency}
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal.Color = colGrid
	g.Horizontal.Width = vg.Points(0.5)
	p.Add(g)
	err := drawBoth(&c, func(width vg.Length) ([]byte, error) { return render(p, width, vg.Points(250), nil) })
	return c, err
}

// moneyTicks labels an axis in the report's currency.
type moneyTicks struct{ currency string }

func (m moneyTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			v, err := strconv.ParseFloat(ticks[i].Label, 64)
			if err == nil {
				ticks[i].Label = fmtAxisMoney(m.currency, v)
			}
		}
	}
	return ticks
}

// fmtAxisMoney drops the cents on round tick values.
func fmtAxisMoney(currency string, v float64) string {
	s := fmtMoney(currency, pricing.Money(v))
	if v == float64(int64(v)) {
		s = strings.Replace(s, ".00", "", 1)
	}
	return s
}

var (
	svgPreamble = regexp.MustCompile(`(?s)^.*?<svg `)
	svgSize     = regexp.MustCompile(`width="([0-9.]+)pt" height="([0-9.]+)pt"`)
)

// render draws p, and a legend in a strip above it when one is given, and
// returns SVG to inline in HTML: no XML prolog, the size in CSS pixels (the
// page's CSS scales it down to the column), and a font list that falls back
// to the fonts of the reader's system.
func render(p *plot.Plot, w, h vg.Length, legend *plot.Legend) ([]byte, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	if legend != nil {
		r := legend.Rectangle(dc)
		strip := r.Max.Y - r.Min.Y + vg.Points(4)
		h += strip
		c = vgsvg.New(w, h)
		dc = draw.New(c)
		legend.Draw(draw.Crop(dc, 0, 0, h-strip, 0))
		dc = draw.Crop(dc, 0, 0, 0, -strip)
	}
	p.Draw(dc)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("rendering svg: %w", err)
	}
	out := svgPreamble.ReplaceAll(buf.Bytes(), []byte("<svg "))
	out = svgSize.ReplaceAllFunc(out, func(m []byte) []byte {
		sub := svgSize.FindSubmatch(m)
		pw, _ := strconv.ParseFloat(string(sub[1]), 64)
		ph, _ := strconv.ParseFloat(string(sub[2]), 64)
		return fmt.Appendf(nil, `width="%.0f" height="%.0f"`, pw*4/3, ph*4/3)
	})
	out = bytes.ReplaceAll(out, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	return out, nil
}

// inlineSVG puts a class and an accessible title into an SVG document.
func inlineSVG(svg []byte, class, title string) []byte {
	i := bytes.IndexByte(svg, '>')
	if i < 0 {
		return svg
	}
	out := make([]byte, 0, len(svg)+len(class)+len(title)+48)
	out = append(out, svg[:i]...)
	if class != "" {
		out = append(out, ` class="`...)
		out = append(out, html.EscapeString(class)...)
		out = append(out, '"')
	}
	out = append(out, ` role="img"><title>`...)
	out = append(out, html.EscapeString(title)...)
	out = append(out, "</title>"...)
	return append(out, svg[i+1:]...)
}
