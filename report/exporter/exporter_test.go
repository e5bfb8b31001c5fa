package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func plan() workload.Plan {
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	return workload.Plan{Generated: time.Unix(1_800_000_000, 0), Workloads: []workload.WorkloadPlan{{Key: web, Containers: []workload.ContainerPlan{
		{Name: "app",
			Current: workload.Settings{Requests: workload.Resources{CPU: 1000, Memory: workload.GiB}, Limits: workload.Resources{Memory: workload.GiB}},
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Confidence: 0.9,
				Target:     workload.Settings{Requests: workload.Resources{CPU: 250, Memory: 512 * workload.MiB}, Limits: workload.Resources{Memory: 768 * workload.MiB}},
				LowerBound: workload.Resources{CPU: 200, Memory: 400 * workload.MiB}, UpperBound: workload.Resources{CPU: 400, Memory: 700 * workload.MiB}}},
		{Name: "bad\xffname"}, // no recommendation, nothing set: no series but none broken either
	}}}}
}

func TestPlansCollect(t *testing.T) {
	var p Plans
	assert.Zero(t, testutil.CollectAndCount(&p), "nothing before the first plan")
	pl := plan()
	pl.CPUPrices = map[string]float64{"balanced": 7}
	p.Publish(pl)
	want := `
# HELP rightsize_confidence Confidence of the container's recommendation, 0 to 1: it grows with the span and density of history.
# TYPE rightsize_confidence gauge
rightsize_confidence{container="app",kind="Deployment",namespace="shop",workload="web"} 0.9
# HELP rightsize_current_cpu_cores The container's CPU request and limit today, in cores; absent where unset.
# TYPE rightsize_current_cpu_cores gauge
rightsize_current_cpu_cores{container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 1
# HELP rightsize_current_memory_bytes The container's memory request and limit today, in bytes; absent where unset.
# TYPE rightsize_current_memory_bytes gauge
rightsize_current_memory_bytes{container="app",kind="Deployment",namespace="shop",resource_type="limit",workload="web"} 1.073741824e+09
rightsize_current_memory_bytes{container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 1.073741824e+09
# HELP rightsize_recommendation_cpu_cores Recommended CPU in cores: the target request and limit, and the request's lower and upper bounds.
# TYPE rightsize_recommendation_cpu_cores gauge
rightsize_recommendation_cpu_cores{bound="lower",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 0.2
rightsize_recommendation_cpu_cores{bound="target",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 0.25
rightsize_recommendation_cpu_cores{bound="upper",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 0.4
# HELP rightsize_recommendation_memory_bytes Recommended memory in bytes: the target request and limit, and the request's lower and upper bounds.
# TYPE rightsize_recommendation_memory_bytes gauge
rightsize_recommendation_memory_bytes{bound="lower",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 4.194304e+08
rightsize_recommendation_memory_bytes{bound="target",container="app",kind="Deployment",namespace="shop",resource_type="limit",workload="web"} 8.05306368e+08
rightsize_recommendation_memory_bytes{bound="target",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 5.36870912e+08
rightsize_recommendation_memory_bytes{bound="upper",container="app",kind="Deployment",namespace="shop",resource_type="request",workload="web"} 7.340032e+08
# HELP rightsize_fleet_cpu_price_cores The fleet's price of time short that raised CPU requests where it was cheap to avoid, per profile, in cores per unit share of time short.
# TYPE rightsize_fleet_cpu_price_cores gauge
rightsize_fleet_cpu_price_cores{profile="balanced"} 7
# HELP rightsize_plan_generated_timestamp_seconds When the published plan was made (its newest sample for recorded history), in Unix seconds.
# TYPE rightsize_plan_generated_timestamp_seconds gauge
rightsize_plan_generated_timestamp_seconds 1.8e+09
`
	require.NoError(t, testutil.CollectAndCompare(&p, strings.NewReader(want)))
	problems, err := testutil.CollectAndLint(&p)
	require.NoError(t, err)
	assert.Empty(t, problems)

	// A workload gone from the next plan is gone from the metrics.
	p.Publish(workload.Plan{})
	assert.Zero(t, testutil.CollectAndCount(&p, "rightsize_recommendation_cpu_cores"))
}

func TestHealth(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	now := time.Unix(1_800_000_000, 0)
	h, err := NewHealth(reg, func() time.Time { return now })
	require.NoError(t, err)
	h.CollectionErrors.WithLabelValues("metrics-server").Inc()
	h.SamplesIngested.Add(40)
	h.CycleDuration.Observe(0.3)
	h.Leader.Set(1)
	h.OOMKilled(workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}, 2)
	h.OOMKilled(workload.ContainerKey{}, 0)
	now = now.Add(90 * time.Second)
	assert.InDelta(t, 90, testutil.ToFloat64(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"}, h.checkpointAge)), 1e-9, "since the start")
	h.Checkpointed(now.Add(-30 * time.Second))
	assert.InDelta(t, 30, h.checkpointAge(), 1e-9)
	assert.InDelta(t, 2, testutil.ToFloat64(h.OOMKills), 1e-9)
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)

	_, err = NewHealth(reg, nil)
	assert.Error(t, err, "registered twice")
}
