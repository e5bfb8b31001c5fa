package prometheus

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr []string
	}{
		{"minimal", Options{URL: "http://prometheus:9090"}, nil},
		{"with path", Options{URL: "https://mimir.example/prometheus", Step: time.Minute, History: 7 * 24 * time.Hour}, nil},
		{"empty URL", Options{}, []string{"the Prometheus URL is empty"}},
		{"no scheme", Options{URL: "prometheus:9090"}, []string{"must start with http:// or https://"}},
		{"credentials in the URL", Options{URL: "http://admin:hunter2@prometheus:9090"}, []string{"must not hold credentials"}},
		{"query in the URL", Options{URL: "http://prometheus:9090/?dedup=true"}, []string{"use the params option"}},
		{"step not whole seconds", Options{URL: "http://p", Step: 1500 * time.Millisecond}, []string{"whole number of seconds"}},
		{"step longer than history", Options{URL: "http://p", Step: 2 * time.Hour, History: time.Hour}, []string{"longer than the history"}},
		{"cpu resolution of 2 minutes", Options{URL: "http://p", CPUResolution: 2 * time.Minute}, nil},
		{"no cpu shapes", Options{URL: "http://p", CPUResolution: -1}, nil},
		{"cpu resolution not dividing an hour", Options{URL: "http://p", CPUResolution: 7 * time.Minute}, []string{"cpu resolution 7m0s must be a whole number of seconds that divides an hour"}},
		{"cpu resolution not whole seconds", Options{URL: "http://p", CPUResolution: 1500 * time.Millisecond}, []string{"cpu resolution 1.5s"}},
		{"token and basic auth", Options{URL: "http://p", BearerToken: "t", Username: "u"}, []string{"exclude each other"}},
		{"password without user", Options{URL: "http://p", PasswordFile: "/x"}, []string{"a password needs a username"}},
		{"cert without key", Options{URL: "http://p", CertFile: "/c"}, []string{"both a certificate file and a key file"}},
		{"bad header", Options{URL: "http://p", Headers: http.Header{"Bad Header": {"x"}}}, []string{`header "Bad Header"`}},
		{"bad selector", Options{URL: "http://p", Selector: `cluster=prod`}, []string{"selector: label cluster: expected a quoted value"}},
		{"bad name", Options{URL: "http://p", Names: Names{CPU: "not a metric", PodLabel: "pod-name"}}, []string{`name cpu: "not a metric"`, `name pod: "pod-name"`}},
		{"everything at once", Options{URL: "ftp://x", Step: -time.Second, Concurrency: -1}, []string{"http://", "whole number of seconds", "must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestSetName(t *testing.T) {
	n := DefaultNames()
	require.NoError(t, n.SetName("cpu", "my_cpu_total"))
	require.NoError(t, n.SetName("namespace", "k8s_namespace"))
	assert.Equal(t, "my_cpu_total", n.CPU)
	assert.Equal(t, "k8s_namespace", n.NamespaceLabel)
	err := n.SetName("gpu", "x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown name "gpu"`)
	assert.Len(t, MetricKeys(), 21)
	assert.Equal(t, []string{"namespace", "pod", "container", "ksm-namespace", "ksm-pod", "ksm-container"}, LabelKeys())

	var partial Names
	partial.Memory = "mem"
	partial.PodLabel = "pod_name"
	full := partial.withDefaults()
	assert.Equal(t, "mem", full.Memory)
	assert.Equal(t, DefaultNames().CPU, full.CPU, "empty names take the defaults")
	assert.Equal(t, "pod", full.KSMPodLabel, "kube-state-metrics labels have their own defaults")
	assert.Equal(t, DefaultNames().HPAInfo, full.HPAInfo)

	// The HPA series are renamed as the others are.
	require.NoError(t, n.SetName("hpa-info", "ksm_hpa_info"))
	require.NoError(t, n.SetName("hpa-target-metric", "ksm_hpa_target"))
	p := promql{n: n}
	assert.Contains(t, p.hpaInfo(), "(ksm_hpa_info{")
	assert.Contains(t, p.hpaTargets(), "(ksm_hpa_target{")
	require.NoError(t, n.SetName("hpa-max-replicas", "ksm_hpa_max"))
	assert.Contains(t, p.hpaReplicas(n.HPAMaxReplicas), "(ksm_hpa_max{")
}

func TestRedactedURL(t *testing.T) {
	assert.Equal(t, "https://host:9090/prom", RedactedURL("https://user:secret@host:9090/prom?api_key=secret#x"))
	assert.Equal(t, "(invalid URL)", RedactedURL("::"))
}

func TestCompressionAuto(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":                 false,
		"::1":                       false,
		"localhost":                 false,
		"10.0.3.7":                  false,
		"192.168.1.20":              false,
		"fd00::1":                   false,
		"prometheus":                false,
		"prometheus.monitoring.svc": false,
		"prometheus.monitoring.svc.cluster.local": false,
		"thanos.corp.internal":                    false,
		"prometheus.example.com":                  true,
		"203.0.113.9":                             true,
		"prometheus-prod-01-eu.grafana.net":       true,
	} {
		assert.Equal(t, want, CompressionAuto.compress(host), host)
		assert.Equal(t, want, Compression("").compress(host), "the zero value is auto")
	}
	assert.True(t, CompressionOn.compress("127.0.0.1"))
	assert.False(t, CompressionOff.compress("prometheus.example.com"))
	require.Error(t, Options{URL: "http://p", Compression: "gzip"}.Validate())
}

func TestParseHeaderAndParam(t *testing.T) {
	headers := []struct {
		in, name, value, wantErr string
	}{
		{"X-Scope-OrgID=team-a", "X-Scope-Orgid", "team-a", ""},
		{" x-extra =a=b", "X-Extra", "a=b", ""},
		{"X-Tab=a\tb", "X-Tab", "a\tb", ""},
		{"X-Scope-OrgID", "", "", `"X-Scope-OrgID": want NAME=VALUE`},
		{"Authorization: Bearer s3cret", "", "", `"Authorization…": want NAME=VALUE`},
		{"Authorization: Bearer s3cret==", "", "", `"Authorization…": not a valid header name`},
		{"X-Scope-OrgID=a\r\nAuthorization: s3cret", "", "", `"X-Scope-OrgID": the value holds a control character`},
		{"=s3cret", "", "", `"": want NAME=VALUE`},
	}
	for _, tt := range headers {
		name, value, err := ParseHeader(tt.in)
		if tt.wantErr != "" {
			require.Error(t, err, tt.in)
			assert.Equal(t, tt.wantErr, err.Error())
			assert.NotContains(t, err.Error(), "s3cret", "the value is never cited")
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, [2]string{tt.name, tt.value}, [2]string{name, value}, tt.in)
	}
	params := []struct {
		in, name, value, wantErr string
	}{
		{"dedup=true", "dedup", "true", ""},
		{"match[]=up{a=\"b\"}", "match[]", `up{a="b"}`, ""},
		{"empty=", "empty", "", ""},
		{"api_key:s3cret", "", "", `"api_key…": want NAME=VALUE`},
		{"=s3cret", "", "", `"": want NAME=VALUE`},
	}
	for _, tt := range params {
		name, value, err := ParseParam(tt.in)
		if tt.wantErr != "" {
			require.Error(t, err, tt.in)
			assert.Equal(t, tt.wantErr, err.Error())
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, [2]string{tt.name, tt.value}, [2]string{name, value}, tt.in)
	}
	err := Options{URL: "http://p", Headers: http.Header{"X-Scope-Orgid": {"a\nb"}}}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `header "X-Scope-Orgid": the value holds a control character`)
}

// TestOptionsShapes: shapes are read where the rates' window is shorter
// than a step and a step no longer than an hour.
func TestOptionsShapes(t *testing.T) {
	for _, tc := range []struct {
		step, res time.Duration
		want      bool
	}{
		{5 * time.Minute, time.Minute, true},
		{5 * time.Minute, 0, true}, // the default, 1m
		{5 * time.Minute, -1, false},
		{time.Minute, 0, false}, // the steps are as fine already
		{time.Hour, 2 * time.Minute, true},
		{2 * time.Hour, time.Minute, false},
		{5 * time.Minute, 5 * time.Minute, false},
	} {
		o := Options{URL: "http://p", Step: tc.step, CPUResolution: tc.res}.withDefaults()
		assert.Equal(t, tc.want, o.shapes(), "step %s, resolution %s", tc.step, tc.res)
	}
}
