// Package prometheus reads container usage history from Prometheus, or a
// store that speaks its HTTP API (Thanos, Mimir, Cortex, VictoriaMetrics and
// managed offerings), into a history.Store, and the workloads' current pod
// templates from kube-state-metrics series, so a plan needs no Kubernetes API
// access at all.
//
// Series read per pod container (names configurable, see Names):
//
//   - CPU: rate of container_cpu_usage_seconds_total over each step, in cores;
//   - memory: the peak of container_memory_working_set_bytes within each step;
//   - throttling: the share of CFS periods throttled within each step;
//   - OOM kills: a restart counted by kube_pod_container_status_restarts_total
//     within a step while kube_pod_container_status_last_terminated_reason
//     says OOMKilled;
//   - requests and limits: kube_pod_container_resource_requests and _limits
//     (and their init-container twins), read at a 6-hour grid and step by
//     step only for pods whose settings changed or that came or went;
//   - ownership: kube_pod_owner, then kube_replicaset_owner (ReplicaSet →
//     Deployment) and kube_job_owner (Job → CronJob).
//
// The HorizontalPodAutoscalers come from kube-state-metrics at the last
// step: kube_horizontalpodautoscaler_info (the workload scaled),
// _spec_min_replicas, _spec_max_replicas and _spec_target_metric. When
// they cannot be read the run goes on with the HPAs unknown
// (Result.HPAsKnown false) and a warning saying why.
//
// cAdvisor's pod-level and pause-container series are left out with
// container!="" and container!="POD".
//
// A store holding several clusters is read per cluster with
// Names.ClusterLabel: every aggregation and join keeps that label, so
// same-named pods of two clusters stay apart, and every workload names its
// cluster (workload.Key.Cluster); Options.Clusters has the store leave the
// other clusters out.
//
// The reduction happens in Prometheus: every raw sample falls into exactly
// one step (rate over step+1ms, max_over_time over step−1ms), so the mean of
// CPU, the memory peaks and the OOM and settings events are the same as if
// the raw samples had been read. Namespaces (or lists of pods of a large
// namespace) form groups, read Options.Concurrency at a time; each group's
// window is read in chunks of steps, in time order, sized from the points
// the previous chunk returned so that no response holds more than
// Options.MaxPoints. Every request is a POST with a timeout, retried with
// backoff on 5xx, 429, timeouts and connection errors; a chunk the server
// rejects as too large (422) is split in two. A chunk that keeps failing is
// named in Result.Failed and the rest completes.
//
// VictoriaMetrics, recognised by the X-Server-Hostname header of its
// answers, gets MetricsQL's forms where its answer to the PromQL ones
// differs: step rates as increases, explicit lookbacks on the settings
// grid; every range query asks it not to align or cache (nocache=1), and
// a refusal naming -search.maxPointsPerTimeseries caps the chunks' steps.
//
// Requests go through Prometheus's own HTTP client (prometheus/common/config),
// configured as promtool's --http.config.file is (Options.HTTPConfigFile),
// with the connection options as shorthands.
//
// The server is not trusted: credentials, headers and parameters go to the
// configured scheme, host and port only (a redirect elsewhere is refused,
// and one that would turn a POSTed query into a GET without it);
// no response is read beyond Options.MaxResponseSize after decompression (a
// chunk over it is split); Retry-After is honoured within bounds; values
// and timestamps that are no usable numbers are skipped and counted; and
// whatever the server says reaches messages escaped and cut short.
package prometheus
