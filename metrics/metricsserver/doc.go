// Package metricsserver samples container usage from the metrics.k8s.io
// API (metrics-server, or anything serving PodMetrics) at a fixed interval
// for a fixed duration, and hands each new sample to history stores.
//
// metrics-server keeps only its latest scrape, so history is what the
// sampler sees while it runs; recommender/statestore keeps it between
// runs. A PodMetrics answer repeated between two scrapes is recorded once.
package metricsserver
