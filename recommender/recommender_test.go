package recommender

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestRunOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	idle := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "idle"}
	skip := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "skip"}
	st := history.NewStore()
	for i := 0; i < 3*288; i++ {
		for _, pod := range []string{"web-1", "web-2"} {
			st.Add(workload.ContainerKey{Workload: web, Container: "app"}, workload.Sample{
				Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: pod,
				CPU: 0.2, HasCPU: true, Memory: 200 * workload.MiB, HasMemory: true,
				Settings: workload.Settings{Requests: workload.Resources{CPU: 1000, Memory: workload.GiB}},
			})
		}
		st.Add(workload.ContainerKey{Workload: skip, Container: "app"}, workload.Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: "skip-1", CPU: 1, HasCPU: true})
	}
	st.Finalize()

	r := &Recommender{Profile: policy.Balanced()}

	t.Run("from samples alone", func(t *testing.T) {
		plan, err := r.RunOnce(context.Background(), Input{Source: "test", Store: st})
		require.NoError(t, err)
		require.Len(t, plan.Workloads, 2)
		w := plan.Workloads[1]
		assert.Equal(t, web, w.Key)
		assert.Equal(t, 2, w.Replicas, "pods sampled in the last hour")
		require.Len(t, w.Containers, 1)
		assert.Equal(t, workload.Millicores(1000), w.Containers[0].Current.Requests.CPU, "current settings from the recorded columns")
		assert.True(t, w.Containers[0].Recommendation.HasCPU)
		assert.Equal(t, t0.Add((3*288-1)*5*time.Minute), plan.Generated)
	})

	t.Run("specs supply containers, settings, replicas and criticality", func(t *testing.T) {
		specs := map[workload.Key]workload.Spec{
			web: {Key: web, Replicas: 4, Critical: true, Containers: []workload.ContainerSpec{
				{Name: "app", Settings: workload.Settings{Requests: workload.Resources{CPU: 500}}},
				{Name: "proxy", Sidecar: true, Init: true},
			}},
			idle: {Key: idle, Replicas: 1, Containers: []workload.ContainerSpec{{Name: "app"}}},
			skip: {Key: skip, Ignore: true},
		}
		plan, err := r.RunOnce(context.Background(), Input{Source: "test", Store: st, Specs: specs})
		require.NoError(t, err)
		require.Len(t, plan.Workloads, 2, "the ignored workload is dropped")
		assert.Equal(t, idle, plan.Workloads[0].Key)
		assert.False(t, plan.Workloads[0].Containers[0].Recommendation.HasCPU, "no samples, no guess")
		w := plan.Workloads[1]
		assert.Equal(t, 4, w.Replicas)
		assert.True(t, w.Critical)
		require.Len(t, w.Containers, 2)
		assert.Equal(t, workload.Millicores(500), w.Containers[0].Current.Requests.CPU, "the spec's settings win")
		assert.True(t, w.Containers[1].Sidecar)
		assert.Contains(t, w.Notes, "cannot reach Guaranteed (R8): no full recommendation for proxy")
	})

	t.Run("end limits what is seen", func(t *testing.T) {
		plan, err := r.RunOnce(context.Background(), Input{Store: st, End: t0.Add(10 * time.Minute)})
		require.NoError(t, err)
		c := plan.Workloads[1].Containers[0]
		assert.Equal(t, 4, c.Samples, "two samples from each of two pods")
		assert.False(t, c.Recommendation.HasCPU, "four samples are too few")
	})
}

// TestFleetPrice checks the plan's fleet step: one price for every
// workload a profile sizes, set by the fleet's in-sample risk, raising the
// request of a small bursty container (cheap to cover) and not that of a
// large steady one; a fleet of the steady one alone needs no price.
func TestFleetPrice(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	small := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "cron-ish"}, Container: "app"}
	big := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "db"}, Container: "app"}
	build := func(keys ...workload.ContainerKey) *history.Store {
		st := history.NewStore()
		for i := 0; i < 7*288; i++ {
			at := t0.Add(time.Duration(i) * 5 * time.Minute)
			for _, k := range keys {
				cpu := 4.0 + 0.1*float64(i%7) // steady, large
				if k == small {
					cpu = 0.01 // idle, with a burst to 0.3 core one sample in ten
					if i%10 == 0 {
						cpu = 0.3
					}
				}
				st.Add(k, workload.Sample{Time: at, Pod: k.Workload.Name + "-1", CPU: workload.Cores(cpu), HasCPU: true})
			}
		}
		st.Finalize()
		return st
	}
	cpuOf := func(t *testing.T, plan workload.Plan, name string) (workload.Millicores, string) {
		t.Helper()
		for _, w := range plan.Workloads {
			if w.Key.Name == name {
				c := w.Containers[0]
				return c.Recommendation.Target.Requests.CPU, c.Recommendation.Reasons[0]
			}
		}
		t.Fatalf("no workload %s", name)
		return 0, ""
	}
	r := &Recommender{Profile: policy.Balanced()}
	plan, err := r.RunOnce(context.Background(), Input{Store: build(small, big)})
	require.NoError(t, err)
	got, why := cpuOf(t, plan, "cron-ish")
	assert.GreaterOrEqual(t, got, workload.Millicores(300), "the burst is covered: %s", why)
	assert.Contains(t, why, "at the fleet's price")
	_, why = cpuOf(t, plan, "db")
	assert.NotContains(t, why, "raised to", "the steady container keeps its own request")

	// Without the fleet step (a profile without a price) the small one
	// stays at its cap, short in every burst.
	noPrice := policy.Balanced()
	noPrice.CPUFleetPrice = nil
	plain, err := (&Recommender{Profile: noPrice}).RunOnce(context.Background(), Input{Store: build(small, big)})
	require.NoError(t, err)
	got, _ = cpuOf(t, plain, "cron-ish")
	assert.Less(t, got, workload.Millicores(300))
}
