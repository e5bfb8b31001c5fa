package cluster

import (
	"context"
	"fmt"
	"time"

	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/metrics/metricsserver"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/statestore"
	"rightsize.dev/rightsize/recommender/workload"
)

// MetricsServer is a cluster's metrics-server as a recommender.Source: it
// discovers the workloads, then samples PodMetrics every Interval for
// Duration, adding to the history earlier runs kept in StateDir.
type MetricsServer struct {
	Cluster            Config
	Interval, Duration time.Duration
	// StateDir holds the history between runs; "" keeps none (said in a
	// warning).
	StateDir string
	// Now and After are the sampler's and the state store's clock; nil
	// means the wall clock.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Load implements recommender.Source. Discovery must reach the cluster;
// after that, what fails (the state store, some polls) becomes a warning
// and the run goes on with what it has. History sampled before an
// interruption is saved.
func (m MetricsServer) Load(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	inv, warnings, err := m.Cluster.Discover(ctx)
	if err != nil {
		return nil, err
	}
	host := m.Cluster.REST.Host
	d := &recommender.Data{Name: "metrics-server at " + host, Store: history.NewStore(), Specs: inv.Specs, Bounds: bounds(inv), HPAs: inv.HPAs, HPAsKnown: true, Warnings: warnings}
	// One rule decides which containers are recommended for, here and in
	// the recommender.
	selected := func(ck workload.ContainerKey) (workload.Settings, bool) {
		return workload.ContainerSettings(inv.Specs, ck)
	}
	settings := func(ck workload.ContainerKey) workload.Settings { s, _ := selected(ck); return s }

	sinks := []metricsserver.Sink{d.Store}
	state, kept := m.openState(d, inv.ContainerKeys(), selected)
	if state != nil {
		defer state.Close()
		sinks = append(sinks, state)
	}

	mc, err := metricsclient.NewForConfig(m.Cluster.REST)
	if err != nil {
		return nil, fmt.Errorf("metrics client: %w", err)
	}
	sampler := &metricsserver.Sampler{
		API: mc.MetricsV1beta1(), Namespace: inv.Namespace, Resolver: inv, Settings: settings, Sinks: sinks,
		Interval: m.Interval, Duration: m.Duration, Now: m.Now, After: m.After, Log: m.Cluster.Log, Progress: report,
	}
	res, runErr := sampler.Run(ctx)
	if state != nil {
		// Saved even when interrupted: what was sampled is history.
		if err := state.Save(); err != nil {
			d.Warnings = append(d.Warnings, "history not saved: "+err.Error())
		}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.Warnings = append(d.Warnings, runErr.Error()+"; recommending from the history kept so far")
	}
	if res.FailedPolls > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d of %d metrics-server polls failed (last: %v)", res.FailedPolls, res.Polls, res.LastError))
	}
	d.Store.Finalize()
	d.Summary = fmt.Sprintf("%s: %d workloads; sampled every %s for %s: %d polls, %d pods, %d new samples; %d samples kept from earlier runs",
		d.Name, len(inv.Specs), m.Interval, m.Duration, res.Polls, res.Pods, res.Samples, kept)
	if state != nil {
		d.Summary += " (" + state.Path() + ")"
	}
	return d, nil
}

// openState opens the cluster's state store and fills the run's history
// with what earlier runs kept of the selected containers. Without a store
// the run goes on, with a warning.
func (m MetricsServer) openState(d *recommender.Data, keys []workload.ContainerKey, selected func(workload.ContainerKey) (workload.Settings, bool)) (*statestore.Store, int) {
	if m.StateDir == "" {
		d.Warnings = append(d.Warnings, "no state directory (set --state-dir): history is not kept between runs")
		return nil, 0
	}
	st, warnings, err := statestore.Open(statestore.Options{Dir: m.StateDir, Name: Name(m.Cluster.REST.Host), Now: m.Now})
	d.Warnings = append(d.Warnings, warnings...)
	if err != nil {
		d.Warnings = append(d.Warnings, err.Error()+": history is not kept by this run")
		return nil, 0
	}
	st.Touch(keys...)
	return st, st.Fill(d.Store, selected)
}

// WithSpecs adds a cluster's workload specs and bounds to the history of
// another source. A cluster that cannot be read is a warning: the specs
// then come from the usage source alone.
type WithSpecs struct {
	Usage   recommender.Source
	Cluster Config
}

// Load implements recommender.Source.
func (w WithSpecs) Load(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	d, err := w.Usage.Load(ctx, report)
	if err != nil {
		return nil, err
	}
	inv, warnings, err := w.Cluster.Discover(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.Warnings = append(d.Warnings, "cluster: "+err.Error()+"; workload specs come from the usage source alone")
		return d, nil
	}
	d.Warnings = append(d.Warnings, warnings...)
	d.Specs, d.Bounds, d.HPAs, d.HPAsKnown = inv.Specs, bounds(inv), inv.HPAs, true
	return d, nil
}
