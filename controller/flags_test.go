package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLeaseNamespaceAndIdentity(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	assert.Equal(t, "ops", LeaseNamespace("ops", env(map[string]string{"POD_NAMESPACE": "pod-ns"})), "the flag first")
	assert.Equal(t, "pod-ns", LeaseNamespace("", env(map[string]string{"POD_NAMESPACE": "pod-ns"})))
	assert.Equal(t, DefaultLeaseNamespace, LeaseNamespace("", env(nil)))

	assert.Equal(t, "a", Identity("a", env(map[string]string{"POD_NAME": "p"})), "the flag as given")
	id := Identity("", env(map[string]string{"POD_NAME": "rightsize-7d9f-x"}))
	assert.True(t, strings.HasPrefix(id, "rightsize-7d9f-x_"), id)
	assert.NotEqual(t, id, Identity("", env(map[string]string{"POD_NAME": "rightsize-7d9f-x"})), "a restarted process is another identity")
}

func TestFlagsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" for valid
	}{
		{"defaults", nil, ""},
		{"prometheus", []string{"--prometheus-url", "http://prom:9090", "--prometheus-backfill", "2d", "--prometheus-delay", "30s"}, ""},
		{"prometheus flags without a URL", []string{"--prometheus-backfill", "2d"}, "need --prometheus-url"},
		{"election order", []string{"--renew-deadline", "20s"}, "want --retry-period (2s) < --renew-deadline (20s) < --lease-duration (15s)"},
		{"no interval", []string{"--interval", "0s"}, "--interval must be positive"},
		{"small checkpoint", []string{"--checkpoint-max-size", "1000"}, "--checkpoint-max-size must be at least"},
		{"threshold", []string{"--event-threshold", "0"}, "--event-threshold 0: want a positive fraction"},
		{"log format", []string{"--log-format", "xml"}, `--log-format "xml"`},
		{"listen", []string{"--listen", "8080"}, `--listen "8080"`},
		{"delay", []string{"--prometheus-url", "http://prom:9090", "--prometheus-delay", "0s"}, "--prometheus-delay must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewFlags()
			fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
			o.AddFlags(fs)
			require.NoError(t, fs.Parse(tc.args))
			err := o.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	o := NewFlags()
	assert.Equal(t, 14*24*time.Hour, o.Backfill)
}
