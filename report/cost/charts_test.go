package cost

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// svgTexts parses an SVG document and returns its text elements; parsing
// fails on anything that is not well-formed XML.
func svgTexts(t *testing.T, svg []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var texts []string
	inText := false
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "well-formed SVG")
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, strings.TrimSpace(string(el)))
			}
		case xml.EndElement:
			inText = false
		case xml.ProcInst:
			t.Errorf("an inline SVG must not carry an XML prolog")
		}
	}
	assert.Equal(t, "svg", root)
	return texts
}

func TestChartsOnDemoData(t *testing.T) {
	r := demoReport(t)
	charts, err := r.Charts()
	require.NoError(t, err)
	require.Len(t, charts, 3)
	want := map[string][]string{
		"cost-by-namespace":   {"shop", "$56.56", "used", "idle", "requested cost this period (USD): used + idle"},
		"daily-cost":          {"Sun 8", "Sat 14", "requested", "used", "with the recommendations", "cost per day (USD)"},
		"savings-by-workload": {"shop/web", "shop/api", r.Money(workloadCost(t, r, web).Savings), "-$0.08"},
	}
	for _, c := range charts {
		t.Run(c.ID, func(t *testing.T) {
			assert.True(t, bytes.HasPrefix(c.SVG, []byte("<svg ")), "starts with <svg")
			assert.Regexp(t, `^<svg width="\d+" height="\d+" viewBox=`, string(c.SVG))
			assert.Contains(t, string(c.SVG), "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
			texts := svgTexts(t, c.SVG)
			for _, w := range want[c.ID] {
				assert.Contains(t, texts, w)
			}
			assert.NotEmpty(t, c.Title)
			assert.NotEmpty(t, c.Caption)
			assert.NotEmpty(t, c.Alt)
			titled := inlineSVG(c.SVG, "wide", "a <b> & c")
			assert.Contains(t, string(titled), `class="wide" role="img"><title>a &lt;b&gt; &amp; c</title>`)
			svgTexts(t, titled)
		})
	}
}

// TestSavingsChartFoldsTheRest checks that beyond chartBars workloads the
// smallest amounts become one "other" bar and the bars stay sorted.
func TestSavingsChartFoldsTheRest(t *testing.T) {
	r := &Report{Pricing: pricing.Defaults()}
	for i := range 12 {
		s := pricing.Money(float64(i+1) * 1.5)
		if i%4 == 0 {
			s = -s
		}
		r.Workloads = append(r.Workloads, WorkloadCost{Key: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: fmt.Sprintf("w%02d", i)}, Cost: Cost{Savings: s}})
	}
	c, err := r.savingsChart()
	require.NoError(t, err)
	texts := svgTexts(t, c.SVG)
	// Savings are 1.5, 3, …, 18, every fourth negative. The seven largest
	// in absolute value stay (w05 to w11); w00 to w04 become "other":
	// -1.5 + 3 + 4.5 + 6 - 7.5 = 4.5.
	assert.Contains(t, texts, "other (5)")
	assert.Contains(t, texts, "$4.50")
	for _, kept := range []string{"ns/w11", "ns/w10", "ns/w09", "ns/w08", "ns/w07", "ns/w06", "ns/w05"} {
		assert.Contains(t, texts, kept)
	}
	assert.NotContains(t, texts, "ns/w04")
	assert.Contains(t, c.Alt, ": ns/w11 $18.00; ns/w10 $16.50; ns/w09 $15.00; ns/w07 $12.00; ns/w06 $10.50; ns/w05 $9.00; ns/w08 -$13.50; other (5) $4.50.",
		"sorted by savings, the rest at the bottom")
	assert.Contains(t, string(c.SVG), "fill:#8C8C8C", "the rest is grey")
}

func TestNamespaceChartFoldsTheRest(t *testing.T) {
	r := &Report{Pricing: pricing.Pricing{Currency: "CHF"}}
	group := func(name string, requested float64) Group {
		return Group{Name: name, Cost: Cost{Breakdown: pricing.Breakdown{Requested: pricing.Money(requested), Used: pricing.Money(requested / 3), Idle: pricing.Money(requested * 2 / 3)}}}
	}
	for i := range 7 {
		r.Namespaces = append(r.Namespaces, group(fmt.Sprintf("big%d", i), float64(100-i)))
	}
	for i := range 3 {
		r.Namespaces = append(r.Namespaces, group(fmt.Sprintf("small%d", i), 5))
	}
	insideLabel := regexp.MustCompile(`font-size:10px;fill:#FFFFFF">`)
	c, err := r.namespaceChart()
	require.NoError(t, err)
	texts := svgTexts(t, c.SVG)
	assert.Contains(t, texts, "other (3)")
	assert.Contains(t, texts, "15.00 CHF")
	assert.NotContains(t, texts, "small0")
	assert.Contains(t, texts, "requested cost this period (CHF): used + idle")
	assert.NotRegexp(t, insideLabel, string(c.SVG), "the rest fits the scale: its total is outside its bar")

	// Twenty more namespaces: the rest is far beyond the largest, so its
	// bar is cut at the edge with its total written inside.
	for i := range 20 {
		r.Namespaces = append(r.Namespaces, group(fmt.Sprintf("more%d", i), 90))
	}
	c, err = r.namespaceChart()
	require.NoError(t, err)
	texts = svgTexts(t, c.SVG)
	assert.Contains(t, texts, "other (23)")
	assert.Contains(t, texts, "1,815.00 CHF", "3 × 5 + 20 × 90")
	assert.Regexp(t, insideLabel, string(c.SVG))
}

func TestEmptyReportStillDrawsCharts(t *testing.T) {
	r := &Report{Pricing: pricing.Defaults()}
	charts, err := r.Charts()
	require.NoError(t, err)
	for _, c := range charts {
		assert.NotEmpty(t, svgTexts(t, c.SVG), c.ID)
	}
}

// TestChartsSizedToColumnAndBars: every chart is drawn as wide as the page's
// column on a desktop (992 px) and for a phone (480 px, scaled down), and a
// bar chart is as tall as its bars need: one namespace makes a short chart,
// each more adds a row.
func TestChartsSizedToColumnAndBars(t *testing.T) {
	size := regexp.MustCompile(`^<svg width="(\d+)" height="(\d+)"`)
	dims := func(t *testing.T, svg []byte) (w, h int) {
		t.Helper()
		m := size.FindSubmatch(svg)
		require.NotNil(t, m, "an svg with its size")
		_, err := fmt.Sscan(string(m[1])+" "+string(m[2]), &w, &h)
		require.NoError(t, err)
		return w, h
	}
	charts, err := demoReport(t).Charts()
	require.NoError(t, err)
	for _, c := range charts {
		w, _ := dims(t, c.SVG)
		assert.Equal(t, 992, w, "%s: as wide as the column", c.ID)
		w, _ = dims(t, c.Narrow)
		assert.Equal(t, 480, w, "%s: a phone's drawing", c.ID)
		assert.Equal(t, svgTexts(t, c.SVG), svgTexts(t, c.Narrow), "%s: both drawings say the same", c.ID)
	}

	r := &Report{Pricing: pricing.Defaults()}
	heights := map[int]int{}
	for _, n := range []int{1, 2, 6} {
		r.Namespaces = r.Namespaces[:0]
		for i := range n {
			r.Namespaces = append(r.Namespaces, Group{Name: fmt.Sprintf("ns%d", i), Cost: Cost{Breakdown: pricing.Breakdown{Requested: 30, Used: 10, Idle: 20}}})
		}
		c, err := r.namespaceChart()
		require.NoError(t, err)
		_, h := dims(t, c.SVG)
		_, hn := dims(t, c.Narrow)
		assert.Equal(t, h, hn, "both drawings as tall")
		heights[n] = h
	}
	row := int(barHeight * 4 / 3)
	assert.Equal(t, row, heights[2]-heights[1], "a row per namespace")
	assert.Equal(t, 5*row, heights[6]-heights[1], "a row per namespace")
	assert.LessOrEqual(t, heights[1], 160, "one namespace, one short chart: the legend takes no rows of its own")
}
