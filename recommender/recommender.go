package recommender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// Recommender turns usage history into a plan with one profile.
type Recommender struct {
	Profile policy.Profile
	// Critical lists workloads that get the Guaranteed class (R8) besides
	// those a spec marks critical.
	Critical map[workload.Key]bool
	Logger   *slog.Logger
	// Now returns the wall clock; it is used only to time the steps.
	Now func() time.Time
}

// Input is one run's data.
type Input struct {
	// Source names where the history came from (a file, "demo", a URL).
	Source string
	Store  *history.Store
	// States, when set, is the history kept without samples (a
	// controller's); it is used instead of Store.
	States *history.States
	// End is the decision instant: only samples before it count. Zero means
	// just after the newest sample.
	End time.Time
	// Specs are the workloads' pod templates where a cluster or
	// kube-state-metrics supplied them; without one a workload's containers
	// and settings come from the samples.
	Specs map[workload.Key]workload.Spec
	// Once lets go of each container's history in States as soon as its
	// workload is planned: States cannot answer for them afterwards.
	Once bool
}

// RunOnce computes the plan.
func (r *Recommender) RunOnce(ctx context.Context, in Input) (workload.Plan, error) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	if err := r.Profile.Validate(); err != nil {
		return workload.Plan{}, fmt.Errorf("profile %s: %w", r.Profile.Name, err)
	}
	start := now()

	until := in.End
	var keys []workload.ContainerKey
	if in.States != nil {
		keys = in.States.Containers()
		if until.IsZero() {
			until = in.States.Last().Add(time.Millisecond)
		}
	} else {
		keys = in.Store.Containers()
		if until.IsZero() {
			_, last := in.Store.Span()
			until = last.Add(time.Millisecond)
		}
	}

	groups := groupByWorkload(keys, in.Specs)
	log.Debug("grouped containers", "workloads", len(groups), "containers", len(keys), "took", now().Sub(start))

	step := now()
	plan := workload.Plan{Profile: r.Profile.Name, Source: in.Source, Generated: until.Add(-time.Millisecond).UTC()}
	profiles := make([]policy.Profile, len(groups))
	notes := make([]string, len(groups))
	for i, g := range groups {
		profiles[i], notes[i] = r.profileFor(g.spec)
		if p := profiles[i]; in.States != nil && p.Name != r.Profile.Name && p.History != in.States.Options() {
			// A history kept as sketches answers only the options it was
			// kept with: the run's profile's.
			notes[i] = fmt.Sprintf("annotation %s=%s names a profile whose history options differ from those this history was kept with; sized with %s",
				workload.ProfileKey, p.Name, r.Profile.Name)
			profiles[i] = r.Profile
		}
	}
	prices, err := fleetPrices(ctx, groups, profiles, in, until)
	if err != nil {
		return workload.Plan{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(prices)) {
		log.Debug("fleet price of time short", "profile", name, "cores", prices[name])
	}
	if len(prices) > 0 {
		plan.CPUPrices = prices
	}
	for i, g := range groups {
		if err := ctx.Err(); err != nil {
			return workload.Plan{}, err
		}
		p, note := profiles[i], notes[i]
		wi, err := r.workloadInput(g, in, until, p)
		if err != nil {
			return workload.Plan{}, err
		}
		if price, ok := prices[p.Name]; ok {
			wi.CPUPrice, wi.CPUPriced = price, true
		}
		wp := policy.PlanWorkload(p, wi)
		if in.Once && in.States != nil {
			for _, ck := range g.containers {
				in.States.Delete(ck)
			}
		}
		wp.Profile = p.Name
		if note != "" {
			wp.Notes = append(wp.Notes, note)
		}
		plan.Workloads = append(plan.Workloads, wp)
	}
	log.Debug("applied profile", "profile", r.Profile.Name, "workloads", len(plan.Workloads), "took", now().Sub(step))
	return plan, nil
}

// fleetPrices returns the fleet's price of time short for each profile
// that sets one (policy.FleetPrice), from the containers it sizes: a pass
// over their summaries before the plan's own.
func fleetPrices(ctx context.Context, groups []group, profiles []policy.Profile, in Input, until time.Time) (map[string]float64, error) {
	type fleet struct {
		price policy.FleetPrice
		risk  policy.FleetRisk
	}
	fleets := map[string]*fleet{}
	for i, g := range groups {
		p := profiles[i]
		if p.CPUFleetPrice == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := fleets[p.Name]
		if f == nil {
			f = &fleet{price: *p.CPUFleetPrice}
			fleets[p.Name] = f
		}
		for _, ck := range g.containers {
			s, err := summarizeCPU(in, ck, until, p)
			if err != nil {
				return nil, fmt.Errorf("summarizing %s: %w", ck, err)
			}
			if pr, ok := policy.Probe(p, s); ok {
				f.risk.Add(pr)
			}
		}
	}
	prices := map[string]float64{}
	for name, f := range fleets {
		if price, ok := f.risk.Price(f.price); ok {
			prices[name] = price
		}
	}
	return prices, nil
}

// workloadInput gathers one workload's containers with their summaries.
// With a spec, its containers (those without samples too) and settings
// count; without one, the containers and settings the samples recorded.
func (r *Recommender) workloadInput(g group, in Input, until time.Time, p policy.Profile) (policy.WorkloadInput, error) {
	wi := policy.WorkloadInput{Key: g.key, Critical: r.Critical[g.key]}
	summaries := map[string]*history.Summary{}
	podsNow := 0
	for _, ck := range g.containers {
		s, err := summarize(in, ck, until, p)
		if err != nil {
			return wi, fmt.Errorf("summarizing %s: %w", ck, err)
		}
		podsNow = max(podsNow, s.PodsNow)
		if s.CPUSamples > 0 || s.MemorySamples > 0 {
			summaries[ck.Container] = s
		}
	}
	if g.spec != nil {
		wi.Replicas = g.spec.Replicas
		wi.Critical = wi.Critical || g.spec.Critical
		for _, c := range g.spec.Containers {
			wi.Containers = append(wi.Containers, policy.ContainerInput{
				Name: c.Name, Init: c.Init, Sidecar: c.Sidecar, Current: c.Settings, Summary: summaries[c.Name],
			})
		}
		return wi, nil
	}
	wi.Replicas = max(podsNow, 1)
	for _, ck := range g.containers {
		ci := policy.ContainerInput{Name: ck.Container, Summary: summaries[ck.Container]}
		if ci.Summary != nil {
			ci.Current = ci.Summary.Current
		}
		wi.Containers = append(wi.Containers, ci)
	}
	return wi, nil
}

// summarize is container ck's summary from the states where the input
// has them, else from the samples.
func summarize(in Input, ck workload.ContainerKey, until time.Time, p policy.Profile) (*history.Summary, error) {
	if in.States != nil {
		s, err := in.States.Summary(ck, until, p.History)
		if errors.Is(err, history.ErrOtherOptions) {
			return nil, fmt.Errorf("profile %s: %w; the history kept here answers profiles with the options of the one it was started with", p.Name, err)
		}
		return s, err
	}
	series := in.Store.Series(ck)
	return history.Summarize(ck, series, history.OOMsFromSeries(series, until), until, p.History)
}

// summarizeCPU is summarize's CPU figures: all a probe of the fleet's price
// reads (history.SummarizeCPU, where the input has samples; a history kept
// as sketches answers whole summaries).
func summarizeCPU(in Input, ck workload.ContainerKey, until time.Time, p policy.Profile) (*history.Summary, error) {
	if in.States != nil {
		return summarize(in, ck, until, p)
	}
	return history.SummarizeCPU(ck, in.Store.Series(ck), until, p.History)
}

// profileFor returns the profile a workload is sized with: the one its
// rightsize.dev/profile annotation names, else the run's. An annotation
// naming no profile is said in a note, and the run's profile is used.
func (r *Recommender) profileFor(spec *workload.Spec) (policy.Profile, string) {
	if spec == nil {
		return r.Profile, ""
	}
	name, ok := spec.Annotations[workload.ProfileKey]
	if !ok || name == r.Profile.Name {
		return r.Profile, ""
	}
	p, err := policy.ByName(name)
	if err != nil {
		return r.Profile, fmt.Sprintf("annotation %s=%s names no profile (known: %s); sized with %s", workload.ProfileKey,
			untrusted.Quote(name, untrusted.MaxQuoted), strings.Join(policy.Names(), ", "), r.Profile.Name)
	}
	return p, ""
}

type group struct {
	key        workload.Key
	containers []workload.ContainerKey
	spec       *workload.Spec
}

// groupByWorkload groups the containers with samples by workload, adding
// the workloads that have a spec but no samples and dropping ignored ones.
func groupByWorkload(keys []workload.ContainerKey, specs map[workload.Key]workload.Spec) []group {
	idx := map[workload.Key]int{}
	var out []group
	at := func(k workload.Key) int {
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, group{key: k})
		}
		return i
	}
	for _, k := range keys {
		i := at(k.Workload)
		out[i].containers = append(out[i].containers, k)
	}
	for k, sp := range specs {
		i := at(k)
		out[i].spec = &sp
	}
	kept := out[:0]
	for _, g := range out {
		if g.spec == nil || g.spec.Recommended() {
			kept = append(kept, g)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].key.Less(kept[j].key) })
	return kept
}
