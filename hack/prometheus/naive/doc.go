// Command naive is the scale benchmark's point of comparison: it plans from
// Prometheus the straightforward way, one query per container for its raw
// samples over the whole window, and the recommendation from every raw
// sample, with no reduction on the server.
//
//	go run ./hack/prometheus/naive -url http://127.0.0.1:9090 -end 2026-11-15T00:00:00Z
//
// Per container it asks for the raw CPU counter, working set, requests and
// limits ({__name__=~"…", namespace, pod, container}[14d]); CPU is the
// counter's increase between consecutive samples. Owners come from one
// query each for kube_pod_owner, kube_replicaset_owner and kube_job_owner.
// It says what it read on stderr and writes the balanced profile's plan as
// JSON on stdout, as `rightsize plan -o json` does.
package main
