package recommender_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// BenchmarkPlanStates is the controller's plan step: 1,000 Deployments of
// 10 pods, one container each, after 30 minutes at 30 s (its benchmark's
// setting), planned from their accumulators with specs and loads.
func BenchmarkPlanStates(b *testing.B) {
	prof, err := policy.ByName(policy.DefaultName)
	require.NoError(b, err)
	states, err := history.NewStates(prof.History)
	require.NoError(b, err)
	loads := map[workload.Key]*hpa.LoadState{}
	specs := map[workload.Key]workload.Spec{}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const workloads, pods = 1000, 10
	end := t0.Add(30 * time.Minute)
	for w := range workloads {
		k := workload.Key{Namespace: fmt.Sprintf("ns-%d", w%20), Kind: workload.Deployment, Name: fmt.Sprintf("app-%d", w)}
		set := workload.Settings{Requests: workload.Resources{CPU: 100, Memory: 128 * workload.MiB}, Limits: workload.Resources{Memory: 256 * workload.MiB}}
		specs[k] = workload.Spec{Key: k, Replicas: pods, Containers: []workload.ContainerSpec{{Name: "app", Settings: set}}}
		ls, _ := hpa.NewLoadState(5*time.Minute, 14*24*time.Hour)
		loads[k] = ls
		ck := workload.ContainerKey{Workload: k, Container: "app"}
		for at := t0; at.Before(end); at = at.Add(30 * time.Second) {
			for p := range pods {
				smp := workload.Sample{Time: at, Pod: fmt.Sprintf("app-%d-abc-%d", w, p), CPU: workload.Cores(0.05 + 0.001*float64(p)), HasCPU: true,
					Memory: workload.Bytes(100e6 + 1e5*float64(p)), HasMemory: true, Settings: set}
				states.Add(ck, smp)
				ls.AddSample("app", smp)
			}
		}
	}
	d := &recommender.Data{Name: "bench", States: states, Specs: specs, HPAsKnown: true,
		Loads: func(k workload.Key, _ []workload.ContainerKey, until time.Time) (hpa.Load, bool) {
			l := loads[k]
			if l == nil {
				return hpa.Load{}, false
			}
			return l.Load(until.Add(-14*24*time.Hour), until), true
		}}
	p := &recommender.Pipeline{Recommender: recommender.Recommender{Profile: prof}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		plan, err := p.Plan(context.Background(), d, end)
		if err != nil || len(plan.Workloads) != workloads {
			b.Fatalf("%d workloads, %v", len(plan.Workloads), err)
		}
	}
}
