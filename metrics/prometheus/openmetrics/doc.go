// Package openmetrics renders usage history as the series cAdvisor and
// kube-state-metrics would have exported for it, in the OpenMetrics text
// format that `promtool tsdb create-blocks-from openmetrics` loads into a
// Prometheus TSDB. Tests and benchmarks use it to put known data into a
// real Prometheus and check that the collector reads back what went in.
//
// Each sample of a pod container becomes:
//
//   - container_cpu_usage_seconds_total: a counter that grows by CPU × step
//     over the window ending at the sample, with a point at the window's
//     start where the previous sample is not there, so that a rate over
//     one step returns the sample's CPU exactly;
//   - container_memory_working_set_bytes: the sample's memory;
//   - container_cpu_cfs_periods_total and _throttled_periods_total: 10
//     periods a second, the throttled share as recorded;
//   - kube_pod_container_info, kube_pod_container_resource_requests and
//     _limits (as set at the sample), kube_pod_container_status_restarts_total
//     (one restart per OOM kill) and
//     kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}
//     from the first OOM kill on;
//   - per pod: kube_pod_owner and kube_pod_created; per ReplicaSet and Job:
//     kube_replicaset_owner and kube_job_owner.
//
// A source's HPAs become kube_horizontalpodautoscaler_info,
// _spec_min_replicas, _spec_max_replicas and _spec_target_metric (averages
// in the metric's base unit, bytes for memory), at the times of their
// target's samples.
//
// Owners follow Kubernetes' naming: a Deployment's pod is owned by the
// ReplicaSet named as the pod without its last dash-separated part, a
// CronJob's pod by the Job named likewise.
package openmetrics
