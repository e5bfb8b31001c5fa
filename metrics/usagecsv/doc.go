// Package usagecsv reads and writes the usage CSV format (docs/usage-csv.md):
// one row per sample of one container at one instant, optionally gzipped.
//
// A Reader streams rows and applies the format's bad-input rules: a missing
// required column, an unparsable number or timestamp, or malformed CSV
// rejects the file with a *ParseError naming the file, line and column; rows
// with negative, NaN or infinite values, an unknown kind, a throttled
// fraction outside 0..1, an empty name, or no usage at all are skipped and
// counted in Stats by reason, never returned.
//
// Duplicate rows (same pod, container and timestamp) are not detected here:
// rows need not be sorted, and finding duplicates in unsorted input while
// streaming would need memory that grows with the file. The store that sorts
// each container's samples drops them and reports the count back through
// Stats.Skip("duplicate", n).
//
// The Reader is built for large exports: it splits lines itself, reuses its
// buffers and interns names, so reading allocates next to nothing per row and
// the rows it returns share one copy of each namespace, workload, pod and
// container name. A gzipped file is inflated by a goroutine a little ahead of
// the parser; it ends with the file, with the first error, or when the Reader
// is garbage collected.
package usagecsv
