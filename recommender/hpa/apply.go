package hpa

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Loads gives a workload's aggregate load before until from its
// containers; false when it is not known.
type Loads func(k workload.Key, containers []workload.ContainerKey, until time.Time) (Load, bool)

// StoreLoads reads the loads from samples (Aggregate).
func StoreLoads(st *history.Store) Loads {
	return func(_ workload.Key, containers []workload.ContainerKey, until time.Time) (Load, bool) {
		return Aggregate(st, containers, time.Time{}, until), true
	}
}

// Apply adds every scalable workload's Autoscaling to a copy of the plan,
// from the loads before the plan's time, and, where the HPA it
// recommends scales on CPU utilization, sets the containers' CPU requests
// from the same model (SetPodCPU): a workload with an HPA on CPU never gets
// a request that contradicts it. Where the model recommends nothing for a
// workload whose current HPA scales on CPU (too little aggregate load),
// its containers keep their CPU requests rather than take the per-pod
// policy's. hpas are the workloads' HPAs; known says the source knows them
// all.
func Apply(plan workload.Plan, loads Loads, hpas []workload.HPA, known bool, o Options) workload.Plan {
	byKey := map[workload.Key]workload.HPA{}
	for _, h := range hpas {
		if _, dup := byKey[h.Target]; !dup {
			byKey[h.Target] = h
		}
	}
	until := plan.Generated.Add(time.Millisecond)
	out := plan
	out.Workloads = make([]workload.WorkloadPlan, len(plan.Workloads))
	copy(out.Workloads, plan.Workloads)
	// Workloads are independent and their replays CPU-bound: one per core.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, wp := range plan.Workloads {
		if !Scalable(wp.Key.Kind) {
			continue
		}
		in := Input{Key: wp.Key, Critical: wp.Critical, Replicas: wp.Replicas, Known: known}
		if h, ok := byKey[wp.Key]; ok {
			in.Current = &h
		}
		var keys []workload.ContainerKey
		for _, c := range wp.Containers {
			if c.Init && !c.Sidecar {
				continue
			}
			keys = append(keys, workload.ContainerKey{Workload: wp.Key, Container: c.Name})
			in.PodCPU = workload.AddSat(in.PodCPU, c.Current.Requests.CPU)
			in.PodMemory = workload.AddSat(in.PodMemory, c.Recommended().Requests.Memory)
			in.PlanPodCPU = workload.AddSat(in.PlanPodCPU, c.Recommended().Requests.CPU)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			l, ok := loads(wp.Key, keys, until)
			if !ok {
				l = Load{MemoryCorrelation: math.NaN()}
			}
			in.Load = l
			a := Recommend(in, o)
			wp.Autoscaling = &a
			switch {
			case a.PodCPU > 0 && a.Recommended != nil && a.Recommended.Utilization("cpu") > 0:
				wp = SetPodCPU(wp, a.PodCPU, fmt.Sprintf("chosen with the HPA (CPU target %d %%): the pod's CPU request is %s, sized from the workload's aggregate load, not per-pod usage the HPA regulates (R10)",
					a.Recommended.Utilization("cpu"), a.PodCPU))
			case in.Current != nil && in.Current.Utilization("cpu") > 0:
				// The model could not size the pod (too little aggregate
				// load): a request from per-pod usage, which the HPA keeps
				// near its target, is the first turn of the spiral.
				var changed bool
				wp, changed = keepPodCPU(wp, fmt.Sprintf("kept at the current request: HPA %s scales on CPU at %d %% of it, and without a recommendation for the two together (see the HPA's reasons) a request from per-pod usage, which the HPA regulates, would move its scaling point (R10)",
					in.Current.Name, in.Current.Utilization("cpu")))
				if changed {
					a.Reasons = append(a.Reasons, fmt.Sprintf("the containers' CPU requests stay as they are: HPA %s scales on CPU at %d %% of them and is not re-sized with them", in.Current.Name, in.Current.Utilization("cpu")))
				}
			}
			out.Workloads[i] = wp
		}()
	}
	wg.Wait()
	return out
}

// SetPodCPU sets the CPU requests of a pod's app containers and sidecars so
// they add up to pod, in the proportion the per-container policy
// recommended (or the current requests, or all on the first container),
// scales their bounds alike and keeps each CPU limit at least the request
// (equal for a container whose limit equalled its request: Guaranteed
// stays Guaranteed). reason is added to each changed container's reasons.
func SetPodCPU(wp workload.WorkloadPlan, pod workload.Millicores, reason string) workload.WorkloadPlan {
	cs := make([]workload.ContainerPlan, len(wp.Containers))
	copy(cs, wp.Containers)
	var idx []int
	var rec, cur workload.Millicores
	for i, c := range cs {
		if c.Init && !c.Sidecar {
			continue
		}
		idx = append(idx, i)
		rec = workload.AddSat(rec, c.Recommended().Requests.CPU)
		cur = workload.AddSat(cur, c.Current.Requests.CPU)
	}
	if len(idx) == 0 {
		return wp
	}
	share := func(c workload.ContainerPlan) float64 {
		switch {
		case rec > 0:
			return float64(c.Recommended().Requests.CPU) / float64(rec)
		case cur > 0:
			return float64(c.Current.Requests.CPU) / float64(cur)
		}
		return 0
	}
	assigned := workload.Millicores(0)
	for n, i := range idx {
		c := cs[i]
		s := share(c)
		if rec == 0 && cur == 0 && n == 0 {
			s = 1
		}
		want := workload.Millicores(float64(pod) * s)
		if n == len(idx)-1 {
			want = max(pod-assigned, 0) // what rounding left goes to the last
		}
		want = max(want, 1)
		assigned += want
		cs[i], _ = setCPU(c, want, reason)
	}
	wp.Containers = cs
	return wp
}

// keepPodCPU sets the CPU request of each app container and sidecar that
// has one and a recommended one back to it (limits and bounds as SetPodCPU does); one without a
// request keeps the policy's, which is what lets an HPA on CPU measure
// utilization at all. reason is added to each changed container's
// reasons; changed says whether any was.
func keepPodCPU(wp workload.WorkloadPlan, reason string) (workload.WorkloadPlan, bool) {
	cs := make([]workload.ContainerPlan, len(wp.Containers))
	copy(cs, wp.Containers)
	kept := false
	for i, c := range cs {
		// A container the policy made no CPU recommendation for (too
		// little history) has nothing to keep: it stays without one.
		if (c.Init && !c.Sidecar) || c.Current.Requests.CPU <= 0 || !c.Recommendation.HasCPU {
			continue
		}
		var changed bool
		cs[i], changed = setCPU(c, c.Current.Requests.CPU, reason)
		kept = kept || changed
	}
	wp.Containers = cs
	return wp, kept
}

// setCPU sets a container's recommended CPU request to want: its bounds
// scale alike, a CPU limit stays at least the request (equal where it was
// equal), and reason is added when the request changes.
func setCPU(c workload.ContainerPlan, want workload.Millicores, reason string) (workload.ContainerPlan, bool) {
	before := c.Recommended()
	r := c.Recommendation
	r.HasCPU = true
	if before.Requests.CPU > 0 {
		k := float64(want) / float64(before.Requests.CPU)
		r.LowerBound.CPU = workload.Millicores(float64(r.LowerBound.CPU) * k)
		r.UpperBound.CPU = workload.Millicores(float64(r.UpperBound.CPU) * k)
	}
	r.Target.Requests.CPU = want
	switch lim := before.Limits.CPU; {
	case lim == 0:
		r.Target.Limits.CPU = 0
	case lim == before.Requests.CPU:
		r.Target.Limits.CPU = want
	default:
		r.Target.Limits.CPU = max(lim, want)
	}
	changed := want != before.Requests.CPU
	if changed {
		r.Reasons = append(append([]string{}, r.Reasons...), fmt.Sprintf("cpu request %s → %s: %s", before.Requests.CPU, want, reason))
	}
	c.Recommendation = r
	return c, changed
}
