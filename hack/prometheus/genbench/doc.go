// Command genbench builds the Prometheus TSDB of the scale benchmark
// (hack/prometheus/scale-bench.sh): a synthetic fleet of pod containers
// sampled every minute, rendered as cAdvisor and kube-state-metrics series
// and loaded with promtool.
//
//	go run ./hack/prometheus/genbench -containers 2000 -days 14 -out _out/prom-bench/tsdb
//
// The fleet: namespaces of Deployments (some rolled out once during the
// window, so their pods are replaced), StatefulSets, DaemonSets and hourly
// CronJobs; 1–2 containers a pod; usage with a daily cycle, noise and the
// odd spike; settings from none to generous; CPU throttling where a limit
// is tight; OOM kills where the memory limit is. -containers counts the pod
// containers running at any one time.
//
// The window is cut at the TSDB's block boundaries (-block, aligned to the
// Unix epoch) into OpenMetrics files, each loaded by its own promtool run
// (-jobs at a time) into a block of its own, then removed. The same flags
// always give the same data.
package main
