package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/report"
)

func TestPrometheusFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"flags without the URL", []string{"plan", "--prometheus-step", "1m", "--prometheus-selector", `cluster="a"`},
			[]string{"--prometheus-selector, --prometheus-step need --prometheus-url"}},
		{"input and prometheus", []string{"plan", "--input", "x.csv", "--prometheus-url", "http://p:9090"},
			[]string{"--input and --prometheus-url exclude each other"}},
		{"credentials in the URL", []string{"plan", "--prometheus-url", "http://admin:hunter2@p:9090"},
			[]string{"must not hold credentials"}},
		{"header without value", []string{"backtest", "--prometheus-url", "http://p", "--prometheus-header", "X-Scope-OrgID"},
			[]string{`--prometheus-header "X-Scope-OrgID": want NAME=VALUE`}},
		{"unknown metric key", []string{"plan", "--prometheus-url", "http://p", "--prometheus-metric", "gpu=x"},
			[]string{`--prometheus-metric "gpu=x": want KEY=NAME with KEY one of cpu, memory`}},
		{"bad label name", []string{"plan", "--prometheus-url", "http://p", "--prometheus-label", "pod=pod-name"},
			[]string{`name pod: "pod-name" is not a valid name`}},
		{"bad selector", []string{"plan", "--prometheus-url", "http://p", "--prometheus-selector", "cluster=prod"},
			[]string{"selector: label cluster: expected a quoted value"}},
		{"step in milliseconds", []string{"plan", "--prometheus-url", "http://p", "--prometheus-step", "1500ms"},
			[]string{"whole number of seconds"}},
		{"header value with a line break", []string{"plan", "--prometheus-url", "http://p", "--prometheus-header", "X-Scope-OrgID=a\r\nX-Evil: hunter2"},
			[]string{`--prometheus-header "X-Scope-OrgID": the value holds a control character`}},
		{"header name with a space", []string{"plan", "--prometheus-url", "http://p", "--prometheus-header", "X Scope=a"},
			[]string{`--prometheus-header "X…": not a valid header name`}},
		{"a header the client sets", []string{"plan", "--prometheus-url", "http://p", "--prometheus-header", "Authorization=Bearer hunter2"},
			[]string{`--prometheus-header "Authorization": set by the HTTP client itself`}},
		{"HTTP config file missing", []string{"plan", "--prometheus-url", "http://p", "--prometheus-http-config-file", "/nonexistent/http.yml"},
			[]string{"reading the HTTP client configuration file: open /nonexistent/http.yml"}},
		{"response size not a size", []string{"plan", "--prometheus-url", "http://p", "--prometheus-max-response-size", "lots"},
			[]string{`invalid size "lots"`}},
		{"response size too small", []string{"plan", "--prometheus-url", "http://p", "--prometheus-max-response-size", "1Ki"},
			[]string{"max response size 1Ki is too small for any answer: at least 64Ki"}},
		{"several at once", []string{"report", "--prometheus-url", "ftp://p", "--prometheus-concurrency", "0", "--prometheus-cert-file", "c.pem"},
			[]string{"must be positive", "http://", "both a certificate file and a key file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			assert.Equal(t, 2, code, "a usage error")
			assert.Empty(t, out)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
			assert.NotContains(t, errOut, "hunter2")
		})
	}
}

// TestPrometheusHTTPConfigFile: the file's settings reach the server, and
// a flag that sets what the file sets is a usage error naming both.
func TestPrometheusHTTPConfigFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("tok-s3cret\n"), 0o600))
	file := filepath.Join(dir, "http.yml")
	require.NoError(t, os.WriteFile(file, []byte("authorization:\n  credentials_file: token\n"+
		"http_headers:\n  X-Scope-OrgID:\n    values: [team-a]\ntls_config:\n  insecure_skip_verify: false\n"), 0o600))

	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":[]}`)
	}))
	t.Cleanup(srv.Close)
	code, _, errOut := run(t, "plan", "--prometheus-url", srv.URL, "--prometheus-http-config-file", file, "--prometheus-param", "dedup=true")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no container series match", "the server answered")
	assert.NotContains(t, errOut, "s3cret")
	mu.Lock()
	require.NotEmpty(t, seen)
	for _, h := range seen {
		assert.Equal(t, "Bearer tok-s3cret", h.Get("Authorization"))
		assert.Equal(t, "team-a", h.Get("X-Scope-OrgID"))
	}
	mu.Unlock()

	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--prometheus-bearer-token-file", "/t"}, "--prometheus-bearer-token-file and --prometheus-http-config-file (authorization) both set authentication: give one"},
		{[]string{"--prometheus-username", "u", "--prometheus-password-file", "/p"}, "--prometheus-username, --prometheus-password-file and --prometheus-http-config-file (authorization) both set authentication"},
		{[]string{"--prometheus-insecure-skip-verify"}, "--prometheus-insecure-skip-verify and --prometheus-http-config-file (tls_config.insecure_skip_verify) both set certificate verification"},
		{[]string{"--prometheus-header", "x-scope-orgid=team-b"}, "--prometheus-header X-Scope-Orgid and --prometheus-http-config-file (http_headers.X-Scope-OrgID) both set header X-Scope-Orgid"},
	} {
		args := append([]string{"plan", "--prometheus-url", "http://p", "--prometheus-http-config-file", file}, tt.flags...)
		code, out, errOut := run(t, args...)
		assert.Equal(t, 2, code, "a usage error: %v", tt.flags)
		assert.Empty(t, out)
		assert.Contains(t, errOut, tt.want)
	}
	// Settings the file leaves out are the flags' to make.
	code, _, errOut = run(t, "plan", "--prometheus-url", srv.URL, "--prometheus-http-config-file", file, "--prometheus-header", "X-Extra=b")
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "no container series match")
	mu.Lock()
	assert.Equal(t, "b", seen[len(seen)-1].Get("X-Extra"))
	mu.Unlock()
}

func TestPrometheusUnreachable(t *testing.T) {
	code, _, errOut := run(t, "plan", "--prometheus-url", "http://127.0.0.1:1", "--prometheus-retries", "0")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "rightsize: prometheus http://127.0.0.1:1: listing namespaces: not reachable")
}

// TestPrometheusHostileServer runs plan against servers that redirect the
// credentials elsewhere or answer with terminal escapes: the command fails
// with the hosts named and the escapes escaped, and the other host gets
// nothing.
func TestPrometheusHostileServer(t *testing.T) {
	var mu sync.Mutex
	var stolen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Header.Get("X-Scope-OrgID"))
		mu.Unlock()
	}))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(redirecting.Close)
	escaping := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"\u001b[2J\u0007gone"}`)
	}))
	t.Cleanup(escaping.Close)

	tests := []struct {
		name, url, want string
	}{
		{"redirect to another host", redirecting.URL, strings.TrimPrefix(redirecting.URL, "http://") + " redirects to another host, http://" + strings.TrimPrefix(other.URL, "http://") + ": not followed"},
		{"escape sequences in the error", escaping.URL, `listing namespaces: bad_data: \x1b[2J\agone`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "plan", "--prometheus-url", tt.url, "--prometheus-retries", "0", "--prometheus-header", "X-Scope-OrgID=tenant-s3cret")
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, tt.want)
			assert.NotContains(t, errOut, "\x1b[", "no raw escape")
			assert.NotContains(t, errOut, "s3cret")
		})
	}
	assert.Empty(t, stolen, "the other host got no request")
}

// TestIntegrationPrometheusSource runs plan, backtest and report against a
// real Prometheus holding the demo dataset as cAdvisor and
// kube-state-metrics series, and compares with the same commands on the
// usage CSV: plan and backtest print the same, report runs with the specs
// kube-state-metrics supplied.
func TestIntegrationPrometheusSource(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus (skipped with -short)")
	}
	// Prometheus alone: no cluster adds its specs, whatever the machine has.
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	srv := promtest.Run(t, promtest.NewDemoTSDB(t))
	end := "2026-11-14T23:55:01Z" // just after the newest demo sample
	prom := []string{"--prometheus-url", srv.URL, "--prometheus-selector", `cluster="demo"`, "--end", end}

	t.Run("plan", func(t *testing.T) {
		code, want, errOut := run(t, "plan")
		require.Equal(t, 0, code, errOut)
		code, got, errOut := run(t, append([]string{"plan", "--critical", "shop/StatefulSet/orders-db"}, prom...)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want, got, "the same plan as from the usage CSV")
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		require.Len(t, lines, 1, "one summary line, no progress bar off a terminal for a short run: %s", errOut)
		assert.Contains(t, lines[0], "prometheus "+srv.URL+": 40 pod containers, 53912 samples from 2026-11-01T00:00Z to 2026-11-14T23:55Z at 5m steps (no 1m CPU rates: scraped less often?), 6 workload specs from kube-state-metrics;")
	})

	t.Run("plan --bounded-memory", func(t *testing.T) {
		// Read into sketches: the demo's requests and limits come out as
		// from its samples (the sketches' error stays
		// within the rounding here); the summary says how it was read.
		args := append([]string{"plan", "-o", "json", "--critical", "shop/StatefulSet/orders-db"}, prom...)
		code, sampled, errOut := run(t, args...)
		require.Equal(t, 0, code, errOut)
		code, sketched, errOut := run(t, append(args, "--bounded-memory")...)
		require.Equal(t, 0, code, errOut)
		assert.Regexp(t, `40 pod containers, 53912 samples .*; read into sketches a workload's groups at a time \(at most \d+ samples held\)`, errOut)
		var a, b report.PlanDocument
		require.NoError(t, json.Unmarshal([]byte(sampled), &a))
		require.NoError(t, json.Unmarshal([]byte(sketched), &b))
		require.Len(t, b.Workloads, len(a.Workloads))
		for i, w := range a.Workloads {
			require.Len(t, b.Workloads[i].Containers, len(w.Containers), w.Name)
			for j, c := range w.Containers {
				assert.Equal(t, c.Recommended, b.Workloads[i].Containers[j].Recommended, "%s/%s", w.Name, c.Name)
			}
		}
	})

	t.Run("backtest", func(t *testing.T) {
		// The hindsight bound is a bisection: the last digit may differ
		// with the order of equal sums, so it is left out here.
		args := []string{"backtest", "--profile", "balanced,krr", "--interval", "2d", "--headroom=false"}
		code, want, errOut := run(t, args...)
		require.Equal(t, 0, code, errOut)
		code, got, errOut := run(t, append(args, prom...)...)
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, want, got)
	})

	t.Run("report", func(t *testing.T) {
		code, out, errOut := run(t, append([]string{"report"}, prom...)...)
		require.Equal(t, 0, code, errOut)
		assert.True(t, strings.HasPrefix(out, "## Weekly cost report\n"))
		assert.Contains(t, out, "### Top savings")
	})

	t.Run("HPAs from kube-state-metrics", func(t *testing.T) {
		_, last := promtest.ResizeStore(promtest.ResizeStart).Span()
		code, out, errOut := run(t, "plan", "-o", "json", "--prometheus-url", srv.URL, "--prometheus-selector", `cluster="`+promtest.ResizeCluster+`"`,
			"--end", last.Add(time.Second).Format(time.RFC3339), "--history", "7d")
		require.Equal(t, 0, code, errOut)
		var doc report.PlanDocument
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		var app *report.WorkloadDocument
		for i, w := range doc.Workloads {
			if w.Kind == "Deployment" && w.Name == "app" {
				app = &doc.Workloads[i]
			}
		}
		require.NotNil(t, app, out)
		require.NotNil(t, app.HPA, "a Deployment has an hpa section")
		require.NotNil(t, app.HPA.Current, "kube-state-metrics' HPA on resize/app")
		assert.Equal(t, "app", app.HPA.Current.Name)
		assert.Equal(t, int32(6), app.HPA.Current.MaxReplicas)
		assert.True(t, hasPart(app.HPA.Reasons, "current HPA app: 2–6 pods, 3 now"), "status_current_replicas read: %v", app.HPA.Reasons)
		assert.False(t, hasPart(app.HPA.Reasons, "does not say which HPAs exist"), "kube-state-metrics says: %v", app.HPA.Reasons)
	})

	t.Run("history window", func(t *testing.T) {
		code, _, errOut := run(t, append([]string{"plan", "--history", "2d"}, prom...)...)
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, "samples from 2026-11-13T00:00Z to 2026-11-14T23:55Z")
	})
}
