package cluster

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
)

type usage struct {
	d   *recommender.Data
	err error
}

func (u usage) Load(context.Context, progress.Func) (*recommender.Data, error) { return u.d, u.err }

// unreachable is a cluster nobody listens at: port 1 of the loopback.
func unreachable() Config {
	return Config{REST: &rest.Config{Host: "https://127.0.0.1:1"}}
}

func TestWithSpecsKeepsTheUsageWhenTheClusterCannotBeRead(t *testing.T) {
	d := &recommender.Data{Name: "prometheus http://p", Store: history.NewStore(), Warnings: []string{"chunk failed"}}
	got, err := WithSpecs{Usage: usage{d: d}, Cluster: unreachable()}.Load(context.Background(), nil)
	require.NoError(t, err)
	assert.Same(t, d, got)
	assert.Nil(t, got.Specs)
	assert.Nil(t, got.Bounds, "no bounds without a cluster")
	require.Len(t, got.Warnings, 2)
	assert.Equal(t, "chunk failed", got.Warnings[0])
	assert.Contains(t, got.Warnings[1], "cluster https://127.0.0.1:1: reaching the cluster")
	assert.Contains(t, got.Warnings[1], "workload specs come from the usage source alone")
}

func TestWithSpecsPassesUsageErrorsOn(t *testing.T) {
	boom := errors.New("boom")
	_, err := WithSpecs{Usage: usage{err: boom}, Cluster: unreachable()}.Load(context.Background(), nil)
	assert.ErrorIs(t, err, boom)
}

func TestMetricsServerNeedsTheCluster(t *testing.T) {
	_, err := MetricsServer{Cluster: unreachable(), StateDir: t.TempDir()}.Load(context.Background(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cluster https://127.0.0.1:1")
}

func TestDiscoverWithoutConfiguration(t *testing.T) {
	_, _, err := Config{}.Discover(context.Background())
	assert.Error(t, err)
}
