// Package controller runs the recommendation pipeline continuously in a
// cluster: the same pipeline plan runs (recommender.Pipeline), fed by
// informers and metrics-server every interval instead of one discovery and
// one sampling run.
//
// Replicas elect a leader on a coordination.k8s.io Lease; only the leader
// samples, recommends and writes. It publishes each workload's plan as a
// Recommendation object (report/crd/v1alpha1) and as Prometheus metrics
// (report/exporter), records an Event on a workload whose recommended
// requests moved by more than a threshold, and checkpoints its usage state
// to ConfigMaps so that a new leader, or the same one after a restart,
// goes on from what was learned. It changes no workload.
package controller
