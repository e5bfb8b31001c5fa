// Package statestore keeps usage samples between runs in one versioned file
// per cluster, so that short metrics-server sampling sessions on different
// days add up to the history a recommendation needs.
//
// Samples of the last RawRetention (24 h) are kept as taken; older ones are
// folded into Bucket (5 min) buckets holding the mean CPU and the peak
// memory, and dropped after Retention (14 days). That keeps what Summarize
// reads: CPU quantiles of means are close to those of raw samples at this
// resolution, and memory is judged by peaks, which the buckets keep exactly.
// Workload containers not seen in the cluster for ExpireAfter are dropped.
//
// The file is written to a temporary name, synced and renamed over the old
// one, which is first kept as a hard-linked ".prev" copy: a crash at any
// point leaves a good file. A truncated or corrupt file (checked by length,
// CRC-32C and the values it holds) or one larger than Options.MaxFileSize is
// reported, set aside as ".corrupt" and replaced by the previous copy. A file
// of a newer format version is left alone and Open fails with
// ErrNewerVersion. A lock file keeps two runs from using one store at once.
package statestore
