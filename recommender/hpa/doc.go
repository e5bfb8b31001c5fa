// Package hpa recommends HorizontalPodAutoscalers together with the pod
// CPU request they scale, and proves them by replay.
//
// Everything starts from the workload's aggregate load (Aggregate: CPU
// summed over its pods), the quantity an HPA does not regulate; per-pod
// usage, which an HPA keeps near its own target, would make the request
// and the HPA chase each other. Recommend sizes the pod, picks the CPU
// target the load's rise leaves room for, bounds the replicas by R9–R10
// and takes R11's behavior; Replay simulates the Kubernetes HPA controller
// over the load to measure replica-hours and saturated time for the
// current HPA, the R9–R11 defaults and the recommendation. Apply is the
// pipeline's step: it sets each scalable workload's Autoscaling and the
// CPU requests of the containers an HPA on CPU scales. docs/hpa.md gives
// the model and its numbers.
package hpa
