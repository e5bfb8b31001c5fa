// Package usagecsv reads and writes the usage CSV format (docs/usage-csv.md):
// one row per sample of one container at one instant, optionally gzipped.
//
// A Reader streams rows and applies the format's bad-input rules: a missing
// required column, an unparsable number or timestamp, a line longer than
// MaxLineLength, or malformed CSV rejects the file with a *ParseError naming
// the file, line and column; rows that cannot be real usage are skipped and
// counted in Stats by reason, with the line of the first, never returned:
// negative, NaN or infinite values, values above the bounds of Options
// (10,000 cores, 1 PiB), timestamps outside the accepted window
// (2000-01-01 to a day after the reader's clock), an unknown kind, a
// throttled fraction outside 0..1, an empty name or one Kubernetes would
// reject, or no usage at all. A row returned is safe to compute with.
//
// Duplicate rows (same pod, container and timestamp) are not detected here:
// rows need not be sorted, and finding duplicates in unsorted input while
// streaming would need memory that grows with the file. The store drops
// them: at once when a row repeats its series' last timestamp (Load then
// knows the line), else after sorting; Load counts both as SkipDuplicate.
//
// The Reader is built for large exports: it splits lines itself, reuses its
// buffers and interns names, so reading allocates next to nothing per row and
// the rows it returns share one copy of each namespace, workload, pod and
// container name; names are checked once per series. A gzipped file is
// inflated by a goroutine a little ahead of the parser; it ends with the
// file, with the first error, or when the Reader is garbage collected.
package usagecsv
