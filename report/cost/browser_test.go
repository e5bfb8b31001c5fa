package cost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageCheck is what the page reports about itself once loaded.
type pageCheck struct {
	Sections []struct {
		ID         string  `json:"id"`
		TextLength int     `json:"textLength"`
		Height     float64 `json:"height"`
	} `json:"sections"`
	// Charts are the figures, each with the one chart of its own that is
	// shown (Shown counts them).
	Charts []struct {
		ID     string  `json:"id"`
		Shown  int     `json:"shown"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
		Paths  int     `json:"paths"`
		Texts  int     `json:"texts"`
	} `json:"charts"`
	// Column is the width of main's content box.
	Column float64 `json:"column"`
	// Overflows lists every table, figure, chart or cell that reaches
	// beyond its container or scrolls inside it.
	Overflows   []string `json:"overflows"`
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	// QoSLines is the most lines a cell of the "All workloads" table's
	// QoS column takes.
	QoSLines int `json:"qosLines"`
}

const checkScript = `(() => {
  const out = {sections: [], charts: [], overflows: [], scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
  const main = document.querySelector('main');
  const ms = getComputedStyle(main), mr = main.getBoundingClientRect();
  const left = mr.left + parseFloat(ms.paddingLeft), right = mr.right - parseFloat(ms.paddingRight);
  out.column = right - left;
  const shown = el => el.getClientRects().length > 0;
  const name = el => (el.closest('section') || {}).id + ' ' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.replace(/ /g, '.') : '') +
    (el.dataset && el.dataset.label ? '[' + el.dataset.label + ']' : '');
  for (const s of document.querySelectorAll('main > section')) {
    const h = s.querySelector('h2');
    const text = s.innerText.slice(h ? h.innerText.length : 0).trim();
    out.sections.push({id: s.id, textLength: text.length, height: s.getBoundingClientRect().height});
  }
  for (const f of document.querySelectorAll('figure')) {
    const svgs = [...f.querySelectorAll('svg')].filter(shown);
    const svg = svgs[0];
    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    out.charts.push({id: f.id, shown: svgs.length, width: r.width, height: r.height,
      paths: svg ? svg.querySelectorAll('path').length : 0, texts: svg ? svg.querySelectorAll('text').length : 0});
  }
  // Beyond the column, or wider than the box it scrolls in.
  for (const el of main.querySelectorAll('table, figure, svg, .scroll, .cards, td, th')) {
    if (!shown(el)) continue;
    const head = el.closest('thead');
    if (head && head.getBoundingClientRect().width <= 1) continue; // a phone's tables hide their heads
    const r = el.getBoundingClientRect();
    if (r.left < left - 0.5 || r.right > right + 0.5) {
      out.overflows.push(name(el) + ': spans ' + Math.round(r.left) + '–' + Math.round(r.right) + ' px, the column ' + Math.round(left) + '–' + Math.round(right));
    } else if (el.scrollWidth !== undefined && el.scrollWidth > el.clientWidth + 1) {
      out.overflows.push(name(el) + ': ' + el.scrollWidth + ' px wide inside ' + el.clientWidth);
    }
  }
  out.qosLines = 0;
  for (const td of document.querySelectorAll('#workloads td[data-label="QoS"]')) {
    const range = document.createRange();
    range.selectNodeContents(td);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    out.qosLines = Math.max(out.qosLines, tops.size);
  }
  return out;
})()`

// TestIntegrationBrowserRendersReport renders the HTML report in Debian's
// Chromium, headless, at a phone's width (390 px) and a desktop's (1,200
// px). It fails on any console message, script error or error log entry, on
// any request for something other than the page itself (the page must be
// self-contained), on a missing or empty chart, a chart not as wide as the
// column, on a section without content, when the page scrolls sideways,
// when a table, chart or cell reaches beyond the column or scrolls inside
// its box, and when a QoS change of the "All workloads" table takes more
// than two lines. The screenshots are written to the test's temporary
// directory, or to $REPORT_SCREENSHOT_DIR when set.
func TestIntegrationBrowserRendersReport(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if testing.Short() {
			t.Skip("chromium not installed (-short)")
		}
		t.Fatal("chromium not found: apt-get install -y chromium (or set CHROMIUM to the browser binary); -short skips this test")
	}
	in := demoInputWithTeams(t)
	r, err := Build(in)
	require.NoError(t, err)
	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, r))
	dir := t.TempDir()
	shots := os.Getenv("REPORT_SCREENSHOT_DIR")
	if shots == "" {
		shots = dir
	}
	path := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(path, page.Bytes(), 0o644))
	pageURL := "file://" + path

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := startBrowser(t, bin)
	session, err := b.openPage(ctx)
	require.NoError(t, err)
	start := b.eventCount()

	wantSections := []string{"headline", "namespaces", "daily", "savings", "teams", "risks", "qos", "hpa", "workloads", "confidence", "method"}
	wantCharts := []string{"cost-by-namespace", "daily-cost", "savings-by-workload"}
	for _, vp := range []struct {
		name          string
		width, height int
		mobile        bool
	}{
		{"phone", 390, 844, true},
		{"desktop", 1200, 900, false},
	} {
		t.Run(vp.name, func(t *testing.T) {
			_, err := b.call(ctx, session, "Emulation.setDeviceMetricsOverride", map[string]any{
				"width": vp.width, "height": vp.height, "deviceScaleFactor": 1, "mobile": vp.mobile,
			})
			require.NoError(t, err)
			from := b.eventCount()
			_, err = b.call(ctx, session, "Page.navigate", map[string]any{"url": pageURL})
			require.NoError(t, err)
			_, err = b.waitEvent(ctx, session, "Page.loadEventFired", from)
			require.NoError(t, err)

			var res struct {
				Result struct {
					Value pageCheck `json:"value"`
				} `json:"result"`
				ExceptionDetails json.RawMessage `json:"exceptionDetails"`
			}
			_, err = b.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": checkScript, "returnByValue": true}, &res)
			require.NoError(t, err)
			require.Empty(t, res.ExceptionDetails)
			got := res.Result.Value

			var ids []string
			for _, s := range got.Sections {
				ids = append(ids, s.ID)
				assert.Greater(t, s.TextLength, 20, "section %s has no content", s.ID)
			}
			assert.Equal(t, wantSections, ids)
			var charts []string
			for _, c := range got.Charts {
				charts = append(charts, c.ID)
				assert.Equal(t, 1, c.Shown, "chart %s: one drawing shown", c.ID)
				assert.InDelta(t, got.Column, c.Width, 1, "chart %s is as wide as the column", c.ID)
				assert.Greater(t, c.Height, 80.0, "chart %s height", c.ID)
				assert.GreaterOrEqual(t, c.Paths, 10, "chart %s draws next to nothing", c.ID)
				assert.GreaterOrEqual(t, c.Texts, 5, "chart %s has no labels", c.ID)
			}
			assert.Equal(t, wantCharts, charts)
			assert.LessOrEqual(t, got.ScrollWidth, got.InnerWidth, "the page scrolls sideways at %d px", vp.width)
			assert.Empty(t, got.Overflows, "overflowing at %d px", vp.width)
			assert.Greater(t, got.QoSLines, 0, "the QoS cells are found")
			assert.LessOrEqual(t, got.QoSLines, 2, "a QoS change takes at most two lines")

			var metrics struct {
				CSSContentSize struct {
					Width, Height float64
				} `json:"cssContentSize"`
			}
			_, err = b.call(ctx, session, "Page.getLayoutMetrics", nil, &metrics)
			require.NoError(t, err)
			var shot struct {
				Data string `json:"data"`
			}
			_, err = b.call(ctx, session, "Page.captureScreenshot", map[string]any{
				"format": "png", "captureBeyondViewport": true,
				"clip": map[string]any{"x": 0, "y": 0, "width": vp.width, "height": metrics.CSSContentSize.Height, "scale": 1},
			}, &shot)
			require.NoError(t, err)
			png, err := base64.StdEncoding.DecodeString(shot.Data)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "screenshot is a PNG")
			out := filepath.Join(shots, "report-"+vp.name+".png")
			require.NoError(t, os.WriteFile(out, png, 0o644))
			t.Logf("screenshot: %s (%d bytes, %.0f px high)", out, len(png), metrics.CSSContentSize.Height)
		})
	}

	t.Run("print", func(t *testing.T) {
		var pdf struct {
			Data string `json:"data"`
		}
		_, err := b.call(ctx, session, "Page.printToPDF", map[string]any{"printBackground": false}, &pdf)
		require.NoError(t, err)
		data, err := base64.StdEncoding.DecodeString(pdf.Data)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(data, []byte("%PDF")), "printing gives a PDF")
		assert.Greater(t, len(data), 10000)
	})

	for _, e := range b.eventsSince(start) {
		switch e.Method {
		case "Runtime.consoleAPICalled", "Runtime.exceptionThrown":
			t.Errorf("console: %s %s", e.Method, e.Params)
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Text, URL string
				} `json:"entry"`
			}
			_ = json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				t.Errorf("log %s: %s %s", p.Entry.Level, p.Entry.Text, p.Entry.URL)
			}
		case "Network.requestWillBeSent":
			var p struct {
				Request struct{ URL string } `json:"request"`
			}
			_ = json.Unmarshal(e.Params, &p)
			if p.Request.URL != pageURL && !strings.HasPrefix(p.Request.URL, "data:") {
				t.Errorf("the page fetched %s: it must be self-contained", p.Request.URL)
			}
		}
	}
}
