package recommender

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

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
	// End is the decision instant: only samples before it count. Zero means
	// just after the newest sample.
	End time.Time
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
	if until.IsZero() {
		_, last := in.Store.Span()
		until = last.Add(time.Millisecond)
	}

	groups := groupByWorkload(in.Store.Containers())
	log.Debug("grouped containers", "workloads", len(groups), "containers", len(in.Store.Containers()), "took", now().Sub(start))

	step := now()
	plan := workload.Plan{Profile: r.Profile.Name, Source: in.Source, Generated: until.Add(-time.Millisecond).UTC()}
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return workload.Plan{}, err
		}
		wi := policy.WorkloadInput{Key: g.key, Critical: r.Critical[g.key]}
		for _, ck := range g.containers {
			series := in.Store.Series(ck)
			s, err := history.Summarize(ck, series, history.OOMsFromSeries(series, until), until, r.Profile.History)
			if err != nil {
				return workload.Plan{}, fmt.Errorf("summarizing %s: %w", ck, err)
			}
			wi.Replicas = max(wi.Replicas, s.PodsNow)
			ci := policy.ContainerInput{Name: ck.Container, Current: s.Current}
			if s.CPUSamples > 0 || s.MemorySamples > 0 {
				ci.Summary = s
			}
			wi.Containers = append(wi.Containers, ci)
		}
		if wi.Replicas == 0 {
			wi.Replicas = 1
		}
		plan.Workloads = append(plan.Workloads, policy.PlanWorkload(r.Profile, wi))
	}
	log.Debug("applied profile", "profile", r.Profile.Name, "workloads", len(plan.Workloads), "took", now().Sub(step))
	return plan, nil
}

type group struct {
	key        workload.Key
	containers []workload.ContainerKey
}

func groupByWorkload(keys []workload.ContainerKey) []group {
	idx := map[workload.Key]int{}
	var out []group
	for _, k := range keys {
		i, ok := idx[k.Workload]
		if !ok {
			i = len(out)
			idx[k.Workload] = i
			out = append(out, group{key: k.Workload})
		}
		out[i].containers = append(out[i].containers, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.Less(out[j].key) })
	return out
}
