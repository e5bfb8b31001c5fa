// Package cluster reads one Kubernetes cluster for a run: its workloads and
// the objects that bound recommendations (through metrics/kube), and, as a
// usage source, metrics-server sampled for a while and kept between runs in
// a state store (recommender/statestore) named after the cluster.
//
// Two recommender.Source types come out of it: MetricsServer, whose
// history is what the sampler sees plus what earlier runs kept, and
// WithSpecs, which adds a cluster's specs and bounds to another source's
// history (Prometheus supplies the usage, the cluster the pod templates).
package cluster
