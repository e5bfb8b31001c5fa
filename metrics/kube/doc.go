// Package kube discovers a cluster's workloads and what they ask for today:
// Deployments, StatefulSets, DaemonSets, CronJobs, Jobs, standalone
// ReplicaSets and bare Pods, each pod resolved to its top owner (Pod →
// ReplicaSet → Deployment, Pod → Job → CronJob); the requests and limits of
// containers, init containers and native sidecars; replicas, priority
// class, the rightsize.dev/tier and rightsize.dev/ignore markers and JVM
// heap settings. It also reads the objects that bound a recommendation —
// HorizontalPodAutoscalers, VerticalPodAutoscalers (when the CRD exists),
// LimitRanges and ResourceQuotas — as the plain types of
// recommender/constraints.
//
// Every kind is listed once per scope with pagination, never with per-pod
// GETs. A kind that cannot be read (403, API not served) becomes one
// warning and discovery goes on with the rest: pods are then attributed to
// their owners by name where that is unambiguous.
package kube
