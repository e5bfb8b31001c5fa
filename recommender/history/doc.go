// Package history turns raw usage samples into what policies decide from.
//
// A Store holds every sample per pod container in compact columns (about 21
// bytes a sample), sorted by time once loading is done; duplicates (same pod,
// container and timestamp) are dropped there, keeping the first, and counted.
//
// Summarize reduces the samples of one workload container (all its pods) seen
// before a given instant to a Summary: a decaying CPU usage histogram, memory
// as per-interval peaks (by default one peak per pod per 24 h over the last 8
// intervals, VPA's scheme) in a decaying histogram and as a list, OOM events,
// the throttled share of CFS periods, exact statistics over a lookback window
// (for policies that want means, maxima or interpolated percentiles), first
// and last sample, sample counts and a confidence derived from the span and
// density of the history.
//
// Each part has its own function: the CPU histogram and window, the memory
// window, per-interval peaks with OOM bumps (R6), the throttled share, the
// observed time behind the confidence; the memory trend (Summary.MemoryTrend)
// is fitted when a policy asks for it.
//
// Everything is computed from the samples' own clock, never the wall clock, so
// a file gives the same summary today and next year.
package history
