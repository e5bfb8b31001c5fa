// Package hpa holds the HorizontalPodAutoscaler rules of the source
// documents: which workloads an HPA can scale, the HPA the rules give one
// (R9 replicas, R10 targets, R11 behavior), where an existing HPA departs
// from them, and which workloads are worth one (enough replicas, or bursty
// CPU usage).
//
// It is pure: it reads plans (workload.Plan) and HPAs as plain data, which a
// collector fills in (FromConstraints converts what metrics/kube reports as
// constraints.HPA). Reports decide how to show the results; the rules and
// their reasons live here so that every command gives the same answer.
package hpa
