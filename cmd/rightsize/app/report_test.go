package app

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/report/cost"
)

// demoEnd is midnight after the demo data's newest sample.
const demoEnd = "2026-11-15T00:00:00Z"

func TestReportOnDemoData(t *testing.T) {
	code, out, errOut := run(t, "report")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 1, "one line on stderr says the demo data is used")
	assert.Contains(t, lines[0], "using embedded demo data")
	assert.True(t, strings.HasPrefix(out, "## Weekly cost report\n"), "Markdown by default")
	for _, want := range []string{"**2026-11-08 00:00 → 2026-11-15 00:00 UTC** (7d)", "### Top savings", "### Risks", "no HorizontalPodAutoscalers known (usage file; pass --hpa)"} {
		assert.Contains(t, out, want)
	}
	// A file's "now" is its newest sample (23:55) rounded up to the hour.
	code, fixed, errOut := run(t, "report", "--end", demoEnd)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, fixed, out)
}

func TestReportWritesFiles(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name   string
		args   []string
		file   string
		prefix string
	}{
		{"html from the extension, {end} in the name", []string{"--out", filepath.Join(dir, "cost-{end}.html")}, "cost-2026-11-15.html", "<!DOCTYPE html>"},
		{"json from the extension", []string{"--out", filepath.Join(dir, "cost.json")}, "cost.json", "{\n  \"apiVersion\": \"rightsize.dev/v1alpha1\",\n  \"kind\": \"CostReport\""},
		{"format flag wins", []string{"--format", "csv", "--out", filepath.Join(dir, "cost.txt")}, "cost.txt", "scope,name,namespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"report", "--end", demoEnd}, tc.args...)...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, out)
			path := filepath.Join(dir, tc.file)
			assert.Contains(t, errOut, "to "+path)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(data), tc.prefix), "%.80s", data)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "no temporary files left behind")
}

// reportJSON runs the report as JSON and decodes the parts the tests read.
func reportJSON(t *testing.T, args ...string) (doc struct {
	Currency string `json:"currency"`
	Prices   struct {
		CPU    float64 `json:"cpuPerCoreHour"`
		Memory float64 `json:"memoryPerGiBHour"`
	} `json:"prices"`
	Totals struct {
		Requested float64 `json:"requested"`
		CPU       struct {
			Requested float64 `json:"requestedCoreHours"`
		} `json:"cpu"`
		Memory struct {
			Requested float64 `json:"requestedGiBHours"`
		} `json:"memory"`
	} `json:"totals"`
	Teams []struct {
		Name string `json:"name"`
	} `json:"teams"`
	Profile string `json:"profile"`
}) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"report", "--end", demoEnd, "--format", "json"}, args...)...)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	return doc
}

func TestReportPricing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pricing.yaml")
	require.NoError(t, os.WriteFile(file, []byte("currency: EUR\ncpu: 0.05\nmemory: 0.002\n"), 0o644))

	def := reportJSON(t)
	assert.Equal(t, "USD", def.Currency)
	assert.Equal(t, 0.031611, def.Prices.CPU)
	assert.Equal(t, 0.004237, def.Prices.Memory)

	cases := []struct {
		name         string
		args         []string
		currency     string
		cpu, memory  float64
		sameRequests bool
	}{
		{"flags", []string{"--price-cpu", "0.1", "--price-memory", "0.01", "--currency", "GBP"}, "GBP", 0.1, 0.01, true},
		{"file", []string{"--pricing", file}, "EUR", 0.05, 0.002, true},
		{"explicit flags win over the file", []string{"--pricing", file, "--price-cpu", "0.2"}, "EUR", 0.2, 0.002, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := reportJSON(t, tc.args...)
			assert.Equal(t, tc.currency, doc.Currency)
			assert.Equal(t, tc.cpu, doc.Prices.CPU)
			assert.Equal(t, tc.memory, doc.Prices.Memory)
			assert.Equal(t, def.Totals.CPU.Requested, doc.Totals.CPU.Requested, "prices change money, not resource-hours")
			assert.InDelta(t, doc.Totals.CPU.Requested*tc.cpu+doc.Totals.Memory.Requested*tc.memory, doc.Totals.Requested, 0.01)
		})
	}
}

func TestReportGroupByLabelWithoutSpecs(t *testing.T) {
	doc := reportJSON(t, "--group-by-label", "team", "--profile", "krr")
	assert.Equal(t, "krr", doc.Profile)
	require.Len(t, doc.Teams, 1)
	assert.Equal(t, "(no label)", doc.Teams[0].Name, "usage files carry no labels")
}

func TestReportWebhook(t *testing.T) {
	const secret = "/hooks/T0/B0/s3cr3t"
	var got []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Text string `json:"text"`
		}
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != secret || json.Unmarshal(body, &msg) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		got = append(got, msg.Text)
		w.WriteHeader(status)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	require.NoError(t, os.WriteFile(urlFile, []byte(srv.URL+secret+"\n"), 0o600))
	out := filepath.Join(dir, "cost.html")

	code, stdout, errOut := run(t, "report", "--end", demoEnd, "--out", out, "--webhook-url-file", urlFile)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, stdout)
	require.Len(t, got, 1)
	assert.True(t, strings.HasPrefix(got[0], "## Weekly cost report\n"), "the webhook gets the Markdown while the file is HTML")
	assert.Contains(t, errOut, "posted the Markdown report to the webhook")
	assert.NotContains(t, errOut, "s3cr3t")
	html, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(html), "<!DOCTYPE html>"))

	status = http.StatusInternalServerError
	code, _, errOut = run(t, "report", "--end", demoEnd, "--webhook-url-file", urlFile)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "webhook answered 500 Internal Server Error")
	assert.NotContains(t, errOut, "s3cr3t")
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("currency: EUR\ncpu: -1\nnamespaces:\n  shop: {gpu: 1}\n"), 0o644))
	empty := filepath.Join(dir, "empty-url")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"period", []string{"--period", "0s"}, 2, []string{"--period must be positive"}},
		{"format", []string{"--format", "pdf"}, 2, []string{`unknown report format "pdf"`}},
		{"negative price", []string{"--price-memory", "-1"}, 2, []string{"must not be negative"}},
		{"empty currency", []string{"--currency", " "}, 2, []string{"--currency must not be empty"}},
		{"profile", []string{"--profile", "fast"}, 2, []string{`unknown profile "fast"`}},
		{"critical", []string{"--critical", "web"}, 2, []string{"NAMESPACE/KIND/NAME"}},
		{"pricing file names file, line and field", []string{"--pricing", bad}, 1, []string{
			bad + ":2: cpu: must not be negative", bad + ":4: namespaces.shop.gpu: unknown field"}},
		{"missing pricing file", []string{"--pricing", filepath.Join(dir, "nope.yaml")}, 1, []string{"nope.yaml"}},
		{"missing webhook file", []string{"--webhook-url-file", filepath.Join(dir, "nope")}, 1, []string{"reading webhook URL"}},
		{"empty webhook file", []string{"--webhook-url-file", empty}, 1, []string{"no webhook URL in the file"}},
		{"output in a missing directory", []string{"--out", filepath.Join(dir, "missing", "r.md")}, 2, []string{
			"--out " + filepath.Join(dir, "missing", "r.md") + ": the directory " + filepath.Join(dir, "missing") + " does not exist"}},
		{"output with no report format's extension", []string{"--out", filepath.Join(dir, "r.pdf")}, 2, []string{".pdf names no report format"}},
		{"output extension against --format", []string{"--out", filepath.Join(dir, "r.html"), "--format", "markdown"}, 2, []string{"is html, --format says markdown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"report"}, tc.args...)...)
			assert.Equal(t, tc.code, code, errOut)
			for _, w := range tc.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
}

// TestReportCronJobArgs parses the deploy CronJob's arguments, with the
// webhook component's, with the real command, so the manifest and the
// flags cannot drift apart.
func TestReportCronJobArgs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "report-cronjob", "cronjob.yaml"))
	require.NoError(t, err)
	var cj batchv1.CronJob
	require.NoError(t, yaml.UnmarshalStrict(data, &cj))
	containers := cj.Spec.JobTemplate.Spec.Template.Spec.Containers
	require.Len(t, containers, 1)
	args := containers[0].Args
	require.Equal(t, "report", args[0])

	comp, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "report-cronjob", "webhook", "kustomization.yaml"))
	require.NoError(t, err)
	var k struct {
		Patches []struct {
			Patch string `json:"patch"`
		} `json:"patches"`
	}
	require.NoError(t, yaml.Unmarshal(comp, &k))
	var extra []string
	for _, p := range k.Patches {
		var ops []struct {
			Op, Path string
			Value    any
		}
		if p.Patch == "" {
			continue
		}
		require.NoError(t, yaml.Unmarshal([]byte(p.Patch), &ops))
		for _, op := range ops {
			if strings.HasSuffix(op.Path, "/args/-") {
				extra = append(extra, op.Value.(string))
			}
		}
	}
	require.NotEmpty(t, extra, "the webhook component adds an argument")

	// Run exactly those arguments, with the mounted paths moved to a
	// temporary directory and the webhook Secret pointing at a test server.
	var posted int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posted++ }))
	defer srv.Close()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "url"), []byte(srv.URL), 0o600))
	moved := strings.NewReplacer("=/reports/", "="+dir+"/", "=/etc/rightsize/webhook/", "="+dir+"/")
	var all []string
	for _, a := range append(args, extra...) {
		all = append(all, moved.Replace(a))
	}
	require.Contains(t, all, "--out="+dir+"/cost-{end}.html", "the report goes to the reports volume")
	require.Contains(t, all, "--webhook-url-file="+dir+"/url", "the webhook URL comes from the Secret's url key")
	code, out, errOut := run(t, all...)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, out)
	assert.Equal(t, 1, posted)
	_, err = os.Stat(filepath.Join(dir, "cost-2026-11-15.html"))
	assert.NoError(t, err)
}

// TestReportHPAFile: with --hpa the report's HPA section knows the demo's
// web HPA: covered, with the one recommended instead, and no note that
// HPAs are unknown.
func TestReportHPAFile(t *testing.T) {
	file := filepath.Join("..", "..", "..", "testdata", "hpa", "demo-hpas.yaml")
	code, out, errOut := run(t, "report", "--hpa", file, "--format", "json")
	require.Equal(t, 0, code, errOut)
	var doc cost.Document
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	h := doc.HPA
	assert.Empty(t, h.Note)
	assert.Equal(t, 1, h.Covered)
	require.Len(t, h.Existing, 1)
	e := h.Existing[0]
	assert.Equal(t, "web", e.Name)
	assert.Equal(t, 2, e.MinReplicas)
	assert.Equal(t, 10, e.MaxReplicas)
	require.NotNil(t, e.Recommended)
	assert.NotEmpty(t, e.Reasons)
	setups := []string{}
	for _, r := range e.Replays {
		setups = append(setups, r.Setup)
	}
	assert.Contains(t, setups, "current")
	assert.Contains(t, setups, "recommended")
	for _, s := range h.Suggested {
		assert.NotEqual(t, "web", s.Name, "web has an HPA")
	}
}

// TestReportBoundedMemory: --bounded-memory needs a file or Prometheus and
// refuses krr; on the demo file it writes the report the samples give,
// with or without --end (without, it reads the file once for its newest
// sample); a file whose rows are out of order is read again as samples,
// and the report is still the samples'.
func TestReportBoundedMemory(t *testing.T) {
	code, _, errOut := run(t, "report", "--bounded-memory")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "--bounded-memory reads a usage file or Prometheus: give --input or --prometheus-url")

	zr, err := gzip.NewReader(demo.Open())
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "usage.csv")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	code, _, errOut = run(t, "report", "--input", file, "--bounded-memory", "--profile", "krr")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "profile krr takes a quantile of the exact window")

	for _, end := range [][]string{nil, {"--end", demoEnd}, {"--end", "2026-11-12T06:00:00Z"}} {
		args := append([]string{"report", "--input", file, "--format", "json"}, end...)
		code, sampled, errOut := run(t, args...)
		require.Equal(t, 0, code, errOut)
		code, sketched, errOut := run(t, append(args, "--bounded-memory")...)
		require.Equal(t, 0, code, errOut)
		sameReport(t, sampled, sketched, "end %v", end)
		if end == nil {
			assert.Contains(t, errOut, "reading "+file+" for its newest sample")
		} else {
			assert.NotContains(t, errOut, "for its newest sample")
		}
	}

	// The rows of the newest hour first: out of order.
	lines := strings.SplitAfter(string(raw), "\n")
	header, rows := lines[0], lines[1:len(lines)-1]
	require.Equal(t, "", lines[len(lines)-1])
	shuffled := filepath.Join(t.TempDir(), "shuffled.csv")
	require.NoError(t, os.WriteFile(shuffled, []byte(header+strings.Join(append(rows[len(rows)/2:], rows[:len(rows)/2]...), "")), 0o600))
	code, sampled, errOut := run(t, "report", "--input", file, "--format", "json", "--end", demoEnd)
	require.Equal(t, 0, code, errOut)
	code, again, errOut := run(t, "report", "--input", shuffled, "--format", "json", "--end", demoEnd, "--bounded-memory")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "read again keeping every sample")
	sameReport(t, sampled, again)
}

// withoutReplays reads a JSON report and takes out the HPA suggestions'
// replay figures, and the reasons that quote them: the aggregate load kept
// with sketches (float32 on an aligned grid) differs from the samples' in
// the last digits. It returns them apart, in order.
func withoutReplays(t *testing.T, doc string) (map[string]any, []float64) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &m))
	var figures []float64
	hpa, _ := m["hpa"].(map[string]any)
	suggested, _ := hpa["suggested"].([]any)
	for _, s := range suggested {
		s := s.(map[string]any)
		delete(s, "reasons")
		replays, _ := s["replays"].([]any)
		for _, r := range replays {
			r := r.(map[string]any)
			for _, k := range []string{"replicaHours", "coreHours", "saturated"} {
				f, _ := r[k].(float64)
				figures = append(figures, f)
				delete(r, k)
			}
		}
	}
	return m, figures
}

// sameReport holds two JSON reports to the same figures, the HPA replays'
// to within 1 % (or 0.005 of the time saturated).
func sameReport(t *testing.T, want, got string, msg ...any) {
	t.Helper()
	w, wr := withoutReplays(t, want)
	g, gr := withoutReplays(t, got)
	delete(w, "source")
	delete(g, "source")
	assert.Equal(t, w, g, msg...)
	require.Len(t, gr, len(wr), msg...)
	for i := range wr {
		assert.InDelta(t, wr[i], gr[i], max(0.01*wr[i], 0.005), msg...)
	}
}
