package prometheus

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestOptionsFromFlags(t *testing.T) {
	var p Flags
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	p.AddFlags(fs)
	require.NoError(t, fs.Parse([]string{
		"--prometheus-url", "https://thanos.example/",
		"--prometheus-header", "X-Scope-OrgID=team-a",
		"--prometheus-header", "x-extra=a=b",
		"--prometheus-param", "dedup=true",
		"--prometheus-param", "partial_response=false",
		"--prometheus-metric", "memory=container_memory_rss",
		"--prometheus-label", "namespace=exported_namespace",
		"--prometheus-retries", "0",
		"--prometheus-step", "1m",
		"--prometheus-max-response-size", "64Mi",
		"--prometheus-cpu-resolution", "0",
	}))
	require.NoError(t, p.Validate())
	o, err := p.Options()
	require.NoError(t, err)
	assert.Equal(t, []string{"team-a"}, o.Headers["X-Scope-Orgid"])
	assert.Equal(t, []string{"a=b"}, o.Headers["X-Extra"], "only the first = separates")
	assert.Equal(t, "true", o.Params.Get("dedup"))
	assert.Equal(t, "false", o.Params.Get("partial_response"))
	assert.Equal(t, "container_memory_rss", o.Names.Memory)
	assert.Equal(t, "exported_namespace", o.Names.NamespaceLabel)
	assert.Equal(t, DefaultNames().CPU, o.Names.CPU)
	assert.Equal(t, -1, o.Retries, "0 on the command line is no retry")
	assert.Equal(t, time.Minute, o.Step)
	assert.Equal(t, 64*workload.MiB, o.MaxResponseSize)
	assert.Equal(t, time.Duration(-1), o.CPUResolution, "0 on the command line is no CPU shapes")

	// The default leaves the limit to the collector, which derives it
	// from the points per response.
	var d Flags
	fs = pflag.NewFlagSet("test", pflag.ContinueOnError)
	d.AddFlags(fs)
	require.NoError(t, fs.Parse([]string{"--prometheus-url", "http://p", "--prometheus-max-points", "1000000"}))
	o, err = d.Options()
	require.NoError(t, err)
	assert.Zero(t, o.MaxResponseSize)
	assert.Equal(t, DefaultCPUResolution, o.CPUResolution)
	assert.Equal(t, "auto", fs.Lookup("prometheus-max-response-size").DefValue)
}

// TestFlagsMeansByDefault: backtest reads the means unless the CPU
// resolution is given.
func TestFlagsMeansByDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, -1},
		{[]string{"--prometheus-cpu-resolution", "2m"}, 2 * time.Minute},
	} {
		var p Flags
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		p.AddFlags(fs)
		require.NoError(t, fs.Parse(append([]string{"--prometheus-url", "http://p"}, tc.args...)))
		p.MeansByDefault()
		o, err := p.Options()
		require.NoError(t, err)
		assert.Equal(t, tc.want, o.CPUResolution, "%q", tc.args)
	}
}
