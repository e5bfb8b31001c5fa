// Package source chooses where a run's usage history comes from, as the
// command line says: a usage file, Prometheus (with a configured
// cluster's specs and bounds), metrics-server sampled into the state store,
// or the embedded demo data, and an HPA file's HPAs over any of them.
//
// Flags are to the usage sources what cluster.Flags are to a cluster and
// prometheus.Flags to Prometheus: every command that reads history
// registers them, so plan, backtest and report take the same flags, and
// Open returns the recommender.Source they choose.
package source
