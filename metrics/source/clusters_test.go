package source

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus"
)

// TestClustersFromPrometheus: --clusters reads some clusters of a store
// only with the label that tells them apart, and becomes the collector's
// clusters; with the label the store stands alone, whatever cluster is
// configured, whose specs would name no cluster.
func TestClustersFromPrometheus(t *testing.T) {
	kubeconfig := map[string]string{"KUBECONFIG": "/nonexistent/kubeconfig"}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		label    string
		clusters []string
		err      string
	}{
		{name: "no label", args: []string{"--prometheus-url", "http://p:9090", "--clusters", "a,b"},
			err: "--clusters needs --prometheus-cluster-label with --prometheus-url"},
		{name: "a label", args: []string{"--prometheus-url", "http://p:9090", "--prometheus-cluster-label", "cluster"}, label: "cluster"},
		{name: "a label and clusters", args: []string{"--prometheus-url", "http://p:9090", "--prometheus-cluster-label", "k8s_cluster", "--clusters", `"",b,a`},
			label: "k8s_cluster", clusters: []string{"", "b", "a"}},
		{name: "a label beside a configured cluster", env: kubeconfig, args: []string{"--prometheus-url", "http://p:9090", "--prometheus-cluster-label", "cluster", "--clusters", "a"},
			label: "cluster", clusters: []string{"a"}},
		{name: "an invalid label", args: []string{"--prometheus-url", "http://p:9090", "--prometheus-cluster-label", "pod"},
			err: `--prometheus-cluster-label: cluster label "pod" is the pod label already`},
		{name: "a label without a URL", args: []string{"--prometheus-cluster-label", "cluster"}, err: "--prometheus-cluster-label need --prometheus-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := flagsFor(t, tt.env, tt.args...)
			err := s.Validate()
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			src, err := s.Open(slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			require.IsType(t, prometheus.Source{}, src)
			o := src.(prometheus.Source).Options
			assert.Equal(t, tt.label, o.Names.ClusterLabel)
			assert.Equal(t, tt.clusters, o.Clusters)
		})
	}
}
