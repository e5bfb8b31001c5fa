// Package livestate is the usage history a long-running process keeps
// instead of samples: per workload container a history.Accumulator (the
// decaying CPU histogram, memory peaks, window slots and kills), and per
// scalable workload an hpa.LoadState (its aggregate load at a fixed step).
// Both are bounded, so a process that runs for months holds as much as one
// that ran for the retention.
//
// A State is a sampler's sink (Add), hands the pipeline its history
// (States, Loads), forgets workload containers neither sampled nor touched
// for ExpireAfter, and encodes to a checksummed, versioned blob that
// Restore reads back. Restore also reads the sample stores the controller
// checkpointed before (statestore's format), replaying their samples.
package livestate
