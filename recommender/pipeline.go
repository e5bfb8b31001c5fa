package recommender

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// A Source loads usage history and what it knows of the workloads: a usage
// file or the demo data (metrics/usagecsv), Prometheus (metrics/prometheus),
// metrics-server sampled into a state store with the cluster's specs and
// bounds (metrics/cluster).
type Source interface {
	// Load reads the history. report, when set, is told how it advances;
	// the caller draws it.
	Load(ctx context.Context, report progress.Func) (*Data, error)
}

// Data is what a Source loaded for a run.
type Data struct {
	// Name says where the history came from: a file, "demo", a URL.
	Name  string
	Store *history.Store
	// States is the history kept without samples, a controller's: when
	// set it is used instead of Store, and the HPA recommendations need
	// Loads.
	States *history.States
	// Loads are the workloads' aggregate loads kept with States (nil:
	// no HPA recommendations from States).
	Loads hpa.Loads
	// ForgetLoad, when set, drops a workload's load from Loads: a
	// pipeline that plans the data once (Pipeline.Once) calls it once
	// the workload's HPA is recommended.
	ForgetLoad func(workload.Key)
	// LoadsErr, when set, reports a load Loads could not read whole (one
	// kept in a file, hpa.Spill): the plan is then an error.
	LoadsErr func() error
	// Snapshot is States as they stood at the instant the source was
	// asked to keep (livestate.Options.SnapshotAt): a report's plan as of
	// the previous period's end, from the same reading. Nil unless asked.
	Snapshot *history.States
	// Specs are the workloads' pod templates where the source knows them
	// (a cluster, kube-state-metrics); nil for usage files.
	Specs map[workload.Key]workload.Spec
	// Bounds are a cluster's LimitRanges, ResourceQuotas, VPAs and HPAs
	// (R10, R13–R15); nil when no cluster was read.
	Bounds *constraints.Input
	// HPAs are the workloads' HorizontalPodAutoscalers where the source
	// knows them: a cluster's, kube-state-metrics', a --hpa file's. nil
	// when the source cannot know them (HPAsKnown false).
	HPAs      []workload.HPA
	HPAsKnown bool
	// Critical are workloads the source marks critical (R8) besides those
	// a spec marks: the demo data's.
	Critical []workload.Key
	// Recorded says the history was recorded before the run (a file, the
	// demo): its "now" is its newest sample, not the wall clock.
	Recorded bool
	// Summary is the one line said about the data.
	Summary string
	// Warnings are further lines: skipped chunks, missing permissions,
	// history not kept.
	Warnings []string

	// memoryPeaks are the highest memory usage per container in Store,
	// found once for every plan made from the data (R16).
	memoryPeaks map[workload.ContainerKey]workload.Bytes
}

// Pipeline is the whole of a run: load (Source) → summarize → profile →
// HPAs with the requests they scale (R9–R11) → constraints (R10, R13–R16)
// → plan. plan, report, backtest and the
// controller all run it; each step is timed and logged.
type Pipeline struct {
	Source      Source
	Recommender Recommender
	// Progress, when set, is told how loading advances.
	Progress progress.Func
	// Autoscaling configures the HPA recommendations; the zero value is
	// hpa.DefaultOptions.
	Autoscaling hpa.Options
	// Once says the data is planned once: Plan lets go of what each step
	// is done with as it goes — the containers' sketches (States,
	// Snapshot) once the profile has sized them, a workload's load once
	// its HPA is recommended — so that a fleet's sketches and loads are
	// not all held beside the plan. The Data cannot be planned again.
	Once bool
}

// Run loads the history and computes the plan as of end (zero: just after
// the newest sample).
func (p *Pipeline) Run(ctx context.Context, end time.Time) (*Data, workload.Plan, error) {
	d, err := p.Load(ctx)
	if err != nil {
		return nil, workload.Plan{}, err
	}
	plan, err := p.Plan(ctx, d, end)
	if err != nil {
		return nil, workload.Plan{}, err
	}
	return d, plan, nil
}

// Load runs the source.
func (p *Pipeline) Load(ctx context.Context) (*Data, error) {
	if p.Source == nil {
		return nil, fmt.Errorf("no usage source")
	}
	start := p.now()
	d, err := p.Source.Load(ctx, p.Progress)
	if err != nil {
		return nil, err
	}
	switch {
	case d.States != nil:
		p.log().Debug("loaded history", "source", d.Name, "containers", d.States.Len(),
			"specs", len(d.Specs), "cluster bounds", d.Bounds != nil, "took", p.now().Sub(start))
	case d.Store != nil:
		p.log().Debug("loaded history", "source", d.Name, "containers", len(d.Store.Containers()), "samples", d.Store.Samples(),
			"specs", len(d.Specs), "cluster bounds", d.Bounds != nil, "took", p.now().Sub(start))
	default:
		return nil, fmt.Errorf("%s: the source returned no history", d.Name)
	}
	return d, nil
}

// Plan summarizes the loaded history, applies the profile and bounds the
// result by the cluster's objects, as of end (zero: just after the newest
// sample). The report calls it twice, for this period and the one before;
// calls on the same Data are not concurrent.
func (p *Pipeline) Plan(ctx context.Context, d *Data, end time.Time) (workload.Plan, error) {
	r := p.Recommender
	if len(d.Critical) > 0 {
		r.Critical = make(map[workload.Key]bool, len(p.Recommender.Critical)+len(d.Critical))
		for k, v := range p.Recommender.Critical {
			r.Critical[k] = v
		}
		for _, k := range d.Critical {
			r.Critical[k] = true
		}
	}
	sketched := d.States != nil
	if d.Bounds != nil && d.memoryPeaks == nil {
		// R16 needs the memory peaks seen, which only the history has.
		if sketched {
			d.memoryPeaks = d.States.MemoryPeaks()
		} else {
			d.memoryPeaks = constraints.MemoryPeaks(d.Store)
		}
	}
	once := p.Once && sketched
	plan, err := r.RunOnce(ctx, Input{Source: d.Name, Store: d.Store, States: d.States, End: end, Specs: d.Specs, Once: once})
	if err != nil {
		return workload.Plan{}, err
	}
	loads := d.Loads
	if once {
		d.States, d.Snapshot = nil, nil
		if loads != nil && d.ForgetLoad != nil {
			loads = forgetting(loads, d.ForgetLoad)
		}
	}
	start := p.now()
	o := p.Autoscaling
	if o.Replay.Sync <= 0 {
		o = hpa.DefaultOptions
	}
	switch {
	case !sketched:
		plan = hpa.Apply(plan, hpa.StoreLoads(d.Store), d.HPAs, d.HPAsKnown, o)
	case loads != nil:
		plan = hpa.Apply(plan, loads, d.HPAs, d.HPAsKnown, o)
	}
	if d.LoadsErr != nil {
		if err := d.LoadsErr(); err != nil {
			return workload.Plan{}, fmt.Errorf("%s: %w", d.Name, err)
		}
	}
	p.log().Debug("recommended HPAs", "hpas known", d.HPAsKnown, "hpas", len(d.HPAs), "took", p.now().Sub(start))
	if d.Bounds == nil {
		return plan, nil
	}
	start = p.now()
	in := *d.Bounds
	in.MemoryPeaks = d.memoryPeaks
	plan = constraints.Apply(plan, in)
	p.log().Debug("applied cluster constraints", "limitranges", len(in.LimitRanges), "quotas", len(in.Quotas),
		"vpas", len(in.VPAs), "hpas", len(in.HPAs), "took", p.now().Sub(start))
	return plan, nil
}

// forgetting returns loads that forget each workload's load once read.
// hpa.Apply reads them from several goroutines: the lock keeps reads and
// deletes of the sources' map apart.
func forgetting(loads hpa.Loads, forget func(workload.Key)) hpa.Loads {
	var mu sync.Mutex
	return func(k workload.Key, cs []workload.ContainerKey, until time.Time) (hpa.Load, bool) {
		mu.Lock()
		defer mu.Unlock()
		l, ok := loads(k, cs, until)
		forget(k)
		return l, ok
	}
}

func (p *Pipeline) log() *slog.Logger {
	if p.Recommender.Logger != nil {
		return p.Recommender.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (p *Pipeline) now() time.Time {
	if p.Recommender.Now != nil {
		return p.Recommender.Now()
	}
	return time.Now()
}
