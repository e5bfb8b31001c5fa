package report

import (
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

func res(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
	return workload.Resources{CPU: cpu, Memory: mem}
}

func settings(req, lim workload.Resources) workload.Settings {
	return workload.Settings{Requests: req, Limits: lim}
}

// testPlan covers what the formats must show: several workloads, a critical
// one with a QoS change, a sidecar, an init container without a
// recommendation, a removed CPU limit, a partial recommendation with low
// confidence, a BestEffort pod and a workload that stays as it is.
func testPlan() workload.Plan {
	mi, gi := workload.MiB, workload.GiB
	return workload.Plan{
		Profile:   "documents",
		Source:    "testdata/usage.csv",
		Generated: time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC),
		Workloads: []workload.WorkloadPlan{
			{
				Key:      workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"},
				Replicas: 2, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Autoscaling: &workload.Autoscaling{
					Reasons: []string{"no HPA: a StatefulSet without one keeps a fixed replica count (R9)"},
					Load:    workload.AggregateLoad{Trough: 1, Median: 1.2, Peak: 1.5, Rise: 1.02, Reaction: 90 * time.Second, Samples: 4032},
					Replays: []workload.Replay{
						{Setup: "defaults", PodCPU: 1200, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 1008, CoreHours: 1209.6, Events: 2, PeakReplicas: 3}},
						{Setup: "fixed", PodCPU: 1200, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 672, CoreHours: 806.4, PeakReplicas: 2}},
					},
				},
				Containers: []workload.ContainerPlan{
					{
						Name: "init-schema", Init: true, Samples: 3,
						Current: settings(res(100, 64*mi), res(0, 0)),
						Recommendation: workload.Recommendation{
							Reasons: []string{"only 3 samples over 15m; need at least 30 spanning 24h", "init containers run briefly; their peaks are rarely sampled"},
						},
					},
					{
						Name: "postgres", Samples: 20160,
						Current: settings(res(2000, 4*gi), res(4000, 8*gi)),
						Recommendation: workload.Recommendation{
							HasCPU: true, HasMemory: true,
							Target:     settings(res(1200, 3*gi), res(0, 6*gi)),
							LowerBound: res(900, 2560*mi), UpperBound: res(1800, 4*gi),
							Confidence: 0.87,
							Reasons: []string{
								"cpu request 1200m = mean usage 1.13 cores rounded up (R1)",
								"cpu limit removed: CPU is compressible, throttling costs more than it saves (R4)",
								"memory limit 6Gi = peak 4.1Gi × 1.5 (R2), ratio 2 to the request (R3)",
							},
						},
					},
				},
			},
			{
				Key:      workload.Key{Namespace: "payments", Kind: workload.Deployment, Name: "api"},
				Replicas: 3, Critical: true,
				QoSCurrent: workload.Burstable, QoSRecommended: workload.Guaranteed,
				Notes: []string{"QoS Burstable → Guaranteed: critical service (R8)"},
				Autoscaling: &workload.Autoscaling{
					Current: &workload.HPA{
						Name: "api", Target: workload.Key{Namespace: "payments", Kind: workload.Deployment, Name: "api"},
						MinReplicas: 2, MaxReplicas: 10,
						Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}, {Resource: "requests_per_second", AverageValue: "1k"}},
					},
					Recommended: &workload.HPA{
						Name: "api", Target: workload.Key{Namespace: "payments", Kind: workload.Deployment, Name: "api"},
						MinReplicas: 5, MaxReplicas: 20,
						Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}, {Resource: "memory", AverageUtilization: 80}},
						Behavior: workload.Behavior{
							ScaleUp: &workload.ScalingRules{Policies: []workload.ScalingPolicy{
								{Type: workload.PercentPolicy, Value: 100, Period: 30 * time.Second},
								{Type: workload.PodsPolicy, Value: 5, Period: time.Minute},
							}, Select: workload.SelectMax},
							ScaleDown: &workload.ScalingRules{StabilizationWindow: 5 * time.Minute, Policies: []workload.ScalingPolicy{
								{Type: workload.PercentPolicy, Value: 50, Period: time.Minute},
							}},
						},
					},
					Reasons: []string{
						"minReplicas 5: critical workload (R9, R10)",
						"cpu target 70 %: the load rises at most 1.21× within the 90s reaction time (R10)",
					},
					Load:   workload.AggregateLoad{Trough: 0.8, Median: 2.1, Peak: 6.35, Rise: 1.214, Reaction: 90 * time.Second, Samples: 4032},
					PodCPU: 900,
					Replays: []workload.Replay{
						{Setup: "current", PodCPU: 600, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 2100.04, CoreHours: 1260.02, Saturated: 0.0123, AboveTarget: 0.2, Events: 140, PeakReplicas: 10}},
						{Setup: "defaults", PodCPU: 900, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 1900, CoreHours: 1710, Saturated: 0.0004, AboveTarget: 0.03, Events: 60, PeakReplicas: 12}},
						{Setup: "recommended", PodCPU: 900, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 1720.5, CoreHours: 1548.45, Saturated: 0.0006, AboveTarget: 0.04, Events: 48, PeakReplicas: 11}},
					},
				},
				Containers: []workload.ContainerPlan{
					{
						Name: "envoy", Init: true, Sidecar: true, Samples: 8640,
						Current: settings(res(100, 128*mi), res(200, 256*mi)),
						Recommendation: workload.Recommendation{
							HasCPU: true, HasMemory: true,
							Target:     settings(res(150, 128*mi), res(150, 128*mi)),
							LowerBound: res(100, 96*mi), UpperBound: res(250, 192*mi),
							Confidence: 0.9,
							Reasons:    []string{"requests = limits for Guaranteed (R7, R8)"},
						},
					},
					{
						Name: "app", Samples: 8640,
						Current: settings(res(500, 512*mi), res(1000, gi)),
						Recommendation: workload.Recommendation{
							HasCPU: true, HasMemory: true,
							Target:     settings(res(750, 768*mi), res(750, 768*mi)),
							LowerBound: res(600, 640*mi), UpperBound: res(1100, gi),
							Confidence: 0.92,
							Reasons:    []string{"cpu 750m = p95 usage (R1) and limit = request for Guaranteed (R7, R8)", "memory 768Mi covers peak 690Mi <= limit (R2)"},
						},
					},
				},
			},
			{
				Key:      workload.Key{Namespace: "batch", Kind: workload.CronJob, Name: "nightly-report"},
				Replicas: 1, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{{
					Name: "report", Samples: 42,
					Current: settings(res(1000, 2*gi), res(0, 0)),
					Recommendation: workload.Recommendation{
						HasCPU:     true,
						Target:     settings(res(250, 0), res(500, 0)),
						LowerBound: res(200, 0), UpperBound: res(400, 0),
						Confidence: 0.35,
						Reasons:    []string{"cpu 250m = mean of 7 runs (R1); limit 500m = peak × 1.25 (R2)", "memory: not enough samples to change it"},
					},
				}},
			},
			{
				Key:      workload.Key{Namespace: "default", Kind: workload.Pod, Name: "debug"},
				Replicas: 1, QoSCurrent: workload.BestEffort, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{{
					Name: "shell", Samples: 500,
					Recommendation: workload.Recommendation{
						HasCPU: true, HasMemory: true,
						Target:     settings(res(50, 100_000_000), res(0, 200_000_000)),
						LowerBound: res(20, 64*mi), UpperBound: res(100, 128*mi),
						Confidence: 0.6,
						Reasons:    []string{"set requests for production containers (R5)"},
					},
				}},
			},
			{
				Key:      workload.Key{Namespace: "monitoring", Kind: workload.DaemonSet, Name: "node-exporter"},
				Replicas: 5, QoSCurrent: workload.Guaranteed, QoSRecommended: workload.Guaranteed,
				Containers: []workload.ContainerPlan{{
					Name: "node-exporter", Samples: 40320,
					Current: settings(res(100, 64*mi), res(100, 64*mi)),
					Recommendation: workload.Recommendation{
						HasCPU: true, HasMemory: true,
						Target:     settings(res(100, 64*mi), res(100, 64*mi)),
						LowerBound: res(80, 48*mi), UpperBound: res(150, 96*mi),
						Confidence: 1,
						Reasons:    []string{"current settings already fit usage"},
					},
				}},
			},
		},
	}
}
