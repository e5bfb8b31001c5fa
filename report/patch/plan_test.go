package patch

import (
	"rightsize.dev/rightsize/recommender/workload"
)

func res(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
	return workload.Resources{CPU: cpu, Memory: mem}
}

func settings(req, lim workload.Resources) workload.Settings {
	return workload.Settings{Requests: req, Limits: lim}
}

func recommend(req, lim workload.Resources) workload.Recommendation {
	return workload.Recommendation{HasCPU: true, HasMemory: true, Target: settings(req, lim), Confidence: 0.9}
}

var (
	mi = workload.MiB
	gi = workload.GiB
)

// Workloads of the test plan, by key.
var (
	apiKey      = workload.Key{Namespace: "payments", Kind: workload.Deployment, Name: "api"}
	frontendKey = workload.Key{Namespace: "web", Kind: workload.Deployment, Name: "frontend"}
	dbKey       = workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}
	reportKey   = workload.Key{Namespace: "batch", Kind: workload.CronJob, Name: "nightly-report"}
	debugKey    = workload.Key{Namespace: "default", Kind: workload.Pod, Name: "debug"}
	exporterKey = workload.Key{Namespace: "monitoring", Kind: workload.DaemonSet, Name: "node-exporter"}
)

// testPlan has a Deployment with a sidecar and an unchanged container, a
// Deployment whose only change is a removed CPU limit, a StatefulSet with an
// init container, a CronJob with a CPU-only recommendation, a bare Pod and a
// DaemonSet that stays as it is.
func testPlan() workload.Plan {
	return workload.Plan{
		Profile: "documents",
		Workloads: []workload.WorkloadPlan{
			{Key: apiKey, Replicas: 3, Containers: []workload.ContainerPlan{
				{Name: "envoy", Init: true, Sidecar: true,
					Current:        settings(res(100, 128*mi), res(200, 256*mi)),
					Recommendation: recommend(res(150, 128*mi), res(150, 128*mi))},
				{Name: "app",
					Current:        settings(res(500, 512*mi), res(1000, gi)),
					Recommendation: recommend(res(750, 768*mi), res(750, 768*mi))},
				{Name: "log-shipper",
					Current:        settings(res(50, 64*mi), res(100, 128*mi)),
					Recommendation: recommend(res(50, 64*mi), res(100, 128*mi))},
			}},
			{Key: frontendKey, Replicas: 2, Containers: []workload.ContainerPlan{
				{Name: "nginx",
					Current:        settings(res(250, 256*mi), res(2000, 512*mi)),
					Recommendation: recommend(res(250, 256*mi), res(0, 512*mi))},
			}},
			{Key: dbKey, Replicas: 2, Containers: []workload.ContainerPlan{
				{Name: "init-schema", Init: true,
					Current:        settings(res(500, 256*mi), res(0, 0)),
					Recommendation: recommend(res(100, 64*mi), res(0, 128*mi))},
				{Name: "postgres",
					Current:        settings(res(2000, 4*gi), res(4000, 8*gi)),
					Recommendation: recommend(res(1200, 3*gi), res(0, 6*gi))},
			}},
			{Key: reportKey, Replicas: 1, Containers: []workload.ContainerPlan{
				{Name: "report",
					Current: settings(res(1000, 2*gi), res(0, 3*gi)),
					Recommendation: workload.Recommendation{
						HasCPU: true, Target: settings(res(250, 0), res(500, 0)), Confidence: 0.4,
					}},
			}},
			{Key: debugKey, Replicas: 1, Containers: []workload.ContainerPlan{
				{Name: "shell", Recommendation: recommend(res(50, 64*mi), res(0, 128*mi))},
			}},
			{Key: exporterKey, Replicas: 5, Containers: []workload.ContainerPlan{
				{Name: "node-exporter",
					Current:        settings(res(100, 64*mi), res(100, 64*mi)),
					Recommendation: recommend(res(100, 64*mi), res(100, 64*mi))},
			}},
		},
	}
}

// workloadPlan returns the test plan's workload with key k.
func workloadPlan(k workload.Key) workload.WorkloadPlan {
	for _, wp := range testPlan().Workloads {
		if wp.Key == k {
			return wp
		}
	}
	panic("no workload " + k.String())
}
