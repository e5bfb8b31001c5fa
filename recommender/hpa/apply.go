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
// a request that contradicts it. hpas are the workloads' HPAs; known says
// the source knows them all.
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
			if a.PodCPU > 0 && a.Recommended != nil && a.Recommended.Utilization("cpu") > 0 {
				wp = SetPodCPU(wp, a.PodCPU, fmt.Sprintf("chosen with the HPA (CPU target %d %%): the pod's CPU request is %s, sized from the workload's aggregate load, not per-pod usage the HPA regulates (R10)",
					a.Recommended.Utilization("cpu"), a.PodCPU))
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
		if want != before.Requests.CPU {
			r.Reasons = append(append([]string{}, r.Reasons...), fmt.Sprintf("cpu request %s → %s: %s", before.Requests.CPU, want, reason))
		}
		c.Recommendation = r
		cs[i] = c
	}
	wp.Containers = cs
	return wp
}
