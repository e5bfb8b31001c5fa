package hpafile

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

// boundsSource is a source with a cluster's bounds and HPAs.
type boundsSource struct{ d recommender.Data }

func (s boundsSource) Load(context.Context, progress.Func) (*recommender.Data, error) {
	d := s.d
	return &d, nil
}

// TestHPAFileReplacesTheSourcesHPAs: the file's HPAs replace what a
// cluster source found, among its bounds too, and make them known; the
// source's own data is left alone.
func TestHPAFileReplacesTheSourcesHPAs(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "hpa", "demo-hpas.yaml")
	old := workload.HPA{Name: "old", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api"}, MinReplicas: 1, MaxReplicas: 2}
	bounds := &constraints.Input{HPAs: []workload.HPA{old}}
	src := Source{Source: boundsSource{recommender.Data{Name: "cluster", Summary: "read", Bounds: bounds, HPAs: []workload.HPA{old}, HPAsKnown: true}}, Path: file}
	d, err := src.Load(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, d.HPAs, 1)
	assert.Equal(t, "web", d.HPAs[0].Name)
	assert.True(t, d.HPAsKnown)
	require.Len(t, d.Bounds.HPAs, 1)
	assert.Equal(t, "web", d.Bounds.HPAs[0].Name)
	assert.Equal(t, "old", bounds.HPAs[0].Name, "the source's bounds are not written to")
	assert.Equal(t, "read; 1 HPA from "+file, d.Summary)
}

// TestMissingFileFailsFirst: a missing file fails before the history is
// read.
func TestMissingFileFailsFirst(t *testing.T) {
	loaded := false
	src := Source{Source: loadFunc(func() { loaded = true }), Path: filepath.Join(t.TempDir(), "none.yaml")}
	_, err := src.Load(context.Background(), nil)
	require.ErrorContains(t, err, "--hpa: ")
	assert.False(t, loaded)
}

type loadFunc func()

func (f loadFunc) Load(context.Context, progress.Func) (*recommender.Data, error) {
	f()
	return &recommender.Data{}, nil
}
