package patch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestClusterDir(t *testing.T) {
	for in, want := range map[string]string{
		"":        "",
		"prod-eu": "prod-eu",
		"arn:aws:eks:eu-west-1:123456789012:cluster/prod": "arn_aws_eks_eu-west-1_123456789012_cluster_prod",
		"..":     "__",
		".":      "_",
		"a/../b": "a_.._b",
		"über":   "__ber",
	} {
		assert.Equal(t, want, ClusterDir(in), in)
	}
}

// TestWriteClusters: a plan of two clusters is written as two directories,
// each with its own kustomization.yaml and only its workloads' patches; one
// of a single unnamed cluster into the directory itself.
func TestWriteClusters(t *testing.T) {
	base := testPlan()
	p := base
	p.Workloads = nil
	for i, wp := range base.Workloads {
		wp.Key.Cluster = []string{"prod-eu", "prod-us"}[i%2]
		p.Workloads = append(p.Workloads, wp)
	}
	dir := t.TempDir()
	dirs, err := WriteClusters(dir, p)
	require.NoError(t, err)
	require.Len(t, dirs, 2)
	for i, d := range dirs {
		assert.Equal(t, []string{"prod-eu", "prod-us"}[i], d.Cluster)
		assert.Equal(t, filepath.Join(dir, d.Cluster), d.Dir)
		require.NotEmpty(t, d.Written)
		assert.Equal(t, KustomizationFile, d.Written[len(d.Written)-1])
		for _, name := range d.Written {
			_, err := os.Stat(filepath.Join(d.Dir, name))
			assert.NoError(t, err)
		}
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "nothing but the clusters' directories")

	one, err := WriteClusters(t.TempDir(), base)
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Empty(t, one[0].Cluster)
	assert.Equal(t, filepath.Dir(filepath.Join(one[0].Dir, "x")), one[0].Dir, "the directory itself")

	clash := p
	clash.Workloads = append([]workload.WorkloadPlan(nil), p.Workloads...)
	clash.Workloads[0].Key.Cluster = "prod/eu"
	clash.Workloads[1].Key.Cluster = "prod:eu"
	_, err = WriteClusters(t.TempDir(), clash)
	assert.ErrorContains(t, err, `clusters "prod/eu" and "prod:eu" would share the patch directory`)
}
