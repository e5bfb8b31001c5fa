package app

import (
	"context"
	"io"
	"log/slog"

	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// usageData is loaded history as the report command reads it.
type usageData struct {
	name    string
	demo    bool
	store   *history.Store
	specs   map[workload.Key]workload.Spec
	cluster *clusterData
}

// load runs the source the flags choose.
func (s *sourceOptions) load(ctx context.Context, streams IOStreams, log *slog.Logger) (*usageData, error) {
	src, err := s.source(log)
	if err != nil {
		return nil, err
	}
	d, err := load(ctx, &recommender.Pipeline{Source: src, Recommender: recommender.Recommender{Logger: log}}, streams)
	if err != nil {
		return nil, err
	}
	u := &usageData{name: d.Name, demo: d.Recorded && s.Input == "", store: d.Store, specs: d.Specs}
	if d.Bounds != nil {
		u.cluster = &clusterData{bounds: d.Bounds}
	}
	return u, nil
}

func (d *usageData) report(io.Writer) {}

// clusterData is what a cluster adds to a run besides usage.
type clusterData struct{ bounds *constraints.Input }

func (c *clusterData) constrain(plan workload.Plan, store *history.Store) workload.Plan {
	if c == nil || c.bounds == nil {
		return plan
	}
	in := *c.bounds
	in.MemoryPeaks = constraints.MemoryPeaks(store)
	return constraints.Apply(plan, in)
}

// hpas returns the cluster's HorizontalPodAutoscalers for the cost report.
func (c *clusterData) hpas() []constraints.HPA {
	if c == nil || c.bounds == nil {
		return nil
	}
	return c.bounds.HPAs
}
