// Command genfleet loads the fleet of the VictoriaMetrics scale benchmark
// (hack/prometheus/vm-bench.sh) into a running VictoriaMetrics: a synthetic
// fleet of pod containers sampled every -step, written as the cAdvisor and
// kube-state-metrics series that openmetrics.Write renders for the same
// samples (without pod-level series), through VictoriaMetrics' JSON-lines
// import API.
//
//	go run ./hack/prometheus/genfleet -containers 20000 -days 14 -url http://127.0.0.1:8428
//
// The fleet follows genbench's model (namespaces of Deployments, some
// rolled out once with a settings change, StatefulSets, DaemonSets and
// hourly CronJobs; usage with a daily cycle, lognormal noise, rare spikes
// and memory growth; OOM kills where a memory limit is tight, CPU
// throttling where a CPU limit is set), but its samples are drawn so that
// the window can be generated a slice at a time: every pod container has
// its own random source, seeded from -seed and its index, and keeps only
// its counters' totals and restart state between slices. Memory stays
// bounded by the fleet's description and one slice of a few containers per
// request, whatever the length of the window; each slice (-slice) is
// written by -jobs requests at a time, each request a chunk of pod
// containers streamed as it is generated.
//
// -om FILE writes the same fleet as OpenMetrics text through a full
// history.Store and openmetrics.Write instead, to check the import against
// the rendering the collector's tests use; it holds the whole history, so
// it is for small fleets only. The same flags always give the same data.
package main
