package controller

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/exporter"
)

type fakeWatcher struct{ kills []kube.OOMKill }

func (f *fakeWatcher) Start(context.Context) error                  { return nil }
func (f *fakeWatcher) Inventory() (*kube.Inventory, []kube.Warning) { return nil, nil }
func (f *fakeWatcher) OOMKills() []kube.OOMKill                     { return f.kills }

func TestCountOOMKills(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	h, err := exporter.NewHealth(reg, nil)
	require.NoError(t, err)
	w := &fakeWatcher{}
	state, err := livestate.New(livestate.Options{History: history.DefaultOptions()})
	require.NoError(t, err)
	l := &leader{c: &Controller{o: Options{LeaseDuration: 15 * time.Second}, health: h}, log: slog.New(slog.DiscardHandler),
		watcher: w, ooms: map[oomID]int32{}, started: t0, state: state}
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	inv := &kube.Inventory{Pods: map[kube.PodRef]workload.Key{{Namespace: "shop", Name: "web-1"}: web}}
	count := func() float64 {
		return testutil.ToFloat64(h.OOMKills.WithLabelValues("shop", "Deployment", "web", "app"))
	}

	// web's app was sampled before the kills.
	app := workload.ContainerKey{Workload: web, Container: "app"}
	state.Add(app, workload.Sample{Time: t0.Add(-2 * time.Hour), Pod: "web-1", CPU: 0.1, HasCPU: true, Memory: 1e8, HasMemory: true})
	w.kills = []kube.OOMKill{
		{Namespace: "shop", Pod: "web-1", Container: "app", Restarts: 2, At: t0.Add(-time.Hour)},    // before the term
		{Namespace: "shop", Pod: "other-1", Container: "app", Restarts: 1, At: t0.Add(time.Minute)}, // no workload
	}
	l.countOOMKills(inv)
	assert.Zero(t, count(), "a kill the previous leader counted is not counted again")

	w.kills[0].Restarts, w.kills[0].At = 3, t0.Add(2*time.Minute)
	l.countOOMKills(inv)
	l.countOOMKills(inv) // the same kill, seen again
	assert.Equal(t, 1.0, count())

	w.kills[0].Restarts, w.kills[0].At = 4, t0.Add(3*time.Minute)
	l.countOOMKills(inv)
	assert.Equal(t, 2.0, count())

	// The history has every kill of a known workload, the one from before
	// the term too (a failover may have come before its checkpoint), once.
	sum, err := state.States().Summary(app, t0.Add(time.Hour), history.DefaultOptions())
	require.NoError(t, err)
	assert.Len(t, sum.OOMs, 3)
	// A new leader reads the same statuses again: still three.
	l.ooms = map[oomID]int32{}
	l.countOOMKills(inv)
	sum, _ = state.States().Summary(app, t0.Add(time.Hour), history.DefaultOptions())
	assert.Len(t, sum.OOMs, 3)
}
