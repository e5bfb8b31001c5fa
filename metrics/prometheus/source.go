package prometheus

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
)

// Source is a Prometheus-compatible API as a recommender.Source: it reads
// the window (End − History, End] of Options, with the pod templates and
// HPAs kube-state-metrics exports.
type Source struct {
	Options Options
	Log     *slog.Logger
	// Sketches, when set, reads the window into the sketches a controller
	// keeps, with these options, a workload's groups at a time, instead of
	// holding every sample (plan's --bounded-memory).
	Sketches *livestate.Options
}

// Load implements recommender.Source. Chunks that kept failing leave their
// samples out and are named in the warnings; the run goes on.
func (s Source) Load(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	if s.Sketches != nil {
		return s.loadSketches(ctx, report)
	}
	res, err := Collect(ctx, s.Options, report, s.Log)
	if err != nil {
		return nil, err
	}
	d := &recommender.Data{Name: res.URL, Store: res.Store, Specs: res.Specs, HPAs: res.HPAs, HPAsKnown: res.HPAsKnown, Summary: res.Summary()}
	for _, f := range res.Failed {
		d.Warnings = append(d.Warnings, "not read, its samples are missing: "+f.Error())
	}
	d.Warnings = append(d.Warnings, res.Warnings...)
	return d, nil
}

// Summary is the one line said about a collection.
func (r *Result) Summary() string {
	var b strings.Builder
	clusters := ""
	if r.Clusters != nil {
		clusters = fmt.Sprintf(" in %d clusters", len(r.Clusters))
	}
	cpu := ""
	switch {
	case r.CPUResolution > 0 && r.Shaped > 0:
		cpu = fmt.Sprintf(" (CPU percentiles of %s rates for %d)", stepString(r.CPUResolution), r.Shaped)
	case r.CPUResolution > 0:
		// Prometheus's rate needs two scrapes within the window.
		cpu = fmt.Sprintf(" (no %s CPU rates: scraped less often?)", stepString(r.CPUResolution))
	}
	fmt.Fprintf(&b, "prometheus %s: %d pod containers%s, %d samples from %s to %s at %s steps%s, %d workload specs from kube-state-metrics; %d queries, %s received (%s on the wire)",
		r.URL, r.Series, clusters, r.Samples, r.First.Format("2006-01-02T15:04Z"), r.Last.Format("2006-01-02T15:04Z"), stepString(r.Step), cpu,
		len(r.Specs), r.Queries, progress.Bytes(r.BytesReceived), progress.Bytes(r.BytesOnWire))
	if r.Retries > 0 || r.Splits > 0 {
		fmt.Fprintf(&b, ", %d retries, %d splits", r.Retries, r.Splits)
	}
	if n := len(r.Failed); n > 0 {
		fmt.Fprintf(&b, "; %d chunks failed", n)
	}
	return b.String()
}

// stepString renders a step as briefly as it is written on the command
// line: 5m, 1h, 30s.
func stepString(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}
