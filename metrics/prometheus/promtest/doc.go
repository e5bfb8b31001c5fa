// Package promtest runs a real Prometheus for tests and benchmarks: it
// finds the prometheus and promtool binaries (failing with how to install
// them), backfills TSDB blocks from OpenMetrics text with promtool, starts
// the server on a free loopback port and waits until it is ready. DemoTSDB
// holds the embedded demo dataset as cAdvisor and kube-state-metrics
// series. It runs single-node VictoriaMetrics the same way (StartVM,
// RunVM), and DemoVM imports the same samples into it.
package promtest
