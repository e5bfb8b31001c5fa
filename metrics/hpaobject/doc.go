// Package hpaobject converts between workload.HPA and autoscaling/v2
// HorizontalPodAutoscaler objects (k8s.io/api/autoscaling/v2).
//
// FromObject reads an object as the cluster serves it, ToObject writes the
// object rightsize recommends, and Read parses the offline HPA file: a
// YAML or JSON stream of HorizontalPodAutoscaler objects, or the List that
// `kubectl get hpa -A -o yaml` prints. Read checks each object as the API
// server would before it is trusted (names, replica bounds, targets,
// behavior), skips a bad one with an error naming the file, the document
// and the field, and keeps the rest.
//
// workload.HPA keeps what rightsize reasons about: the bounds, one target
// per metric (a utilization in percent or an average value) and the
// scaling behavior. What it cannot hold — a metric's source type (Pods,
// Object, External), selector or described object, the container of a
// ContainerResource metric, a rule's tolerance — FromObject reports as
// notes; ToObject writes cpu and memory targets as Resource metrics and any
// other as a Pods metric averaged over the pods (RULES.md R10).
package hpaobject
