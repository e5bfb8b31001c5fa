package usagecsv

import (
	"errors"
	"fmt"
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// Row is one sample of one container; Sample.Pod names the pod.
type Row struct {
	Key    workload.ContainerKey
	Sample workload.Sample
}

// The columns of the format, in the order a Writer writes them.
const (
	colTimestamp = iota
	colNamespace
	colKind
	colWorkload
	colPod
	colContainer
	colCPU
	colMemory
	colCPURequest
	colCPULimit
	colMemoryRequest
	colMemoryLimit
	colOOMKilled
	colThrottled
	// colCluster is this project's addition to the format: which cluster
	// a row is of, where one file holds several (empty: none named).
	colCluster
	numColumns
)

// columns lists every column of the format in the order a Writer writes them
// (cluster only when asked: Writer.Cluster).
var columns = [numColumns]string{
	"timestamp",
	"namespace",
	"kind",
	"workload",
	"pod",
	"container",
	"cpu_cores",
	"memory_bytes",
	"cpu_request_cores",
	"cpu_limit_cores",
	"memory_request_bytes",
	"memory_limit_bytes",
	"oom_killed",
	"cpu_throttled_fraction",
	"cluster",
}

// The reasons a Reader skips a row, as counted in Stats.Skipped.
const (
	SkipNegative    = "negative value"
	SkipNaN         = "not a number"
	SkipInfinite    = "infinite value"
	SkipUnknownKind = "unknown kind"
	SkipMissingName = "missing name"
	// SkipInvalidName counts names Kubernetes would not accept: a namespace
	// or container that is not a DNS-1123 label, a workload or pod that is
	// not a DNS-1123 subdomain.
	SkipInvalidName   = "invalid name"
	SkipNoUsage       = "no usage"
	SkipThrottleRange = "throttled fraction out of range"
	// SkipOtherCluster counts the rows of clusters not asked for
	// (Options.Clusters): a choice, not bad input, so --strict lets them
	// be.
	SkipOtherCluster = "other cluster"
	// SkipDuplicate is not counted by a Reader; the store that finds
	// duplicates reports them with Stats.SkipLine and Stats.Skip.
	SkipDuplicate = "duplicate"
	// The bounds of Options have reasons that name them: see
	// Options.SkipTimestamp, Options.SkipCPU and Options.SkipMemory.
)

var (
	errNoHeader       = errors.New("no header: the file is empty")
	errMissingColumn  = errors.New("required column is missing")
	errDuplicate      = errors.New("column is listed twice")
	errNoUsageColumns = fmt.Errorf("need at least one of the columns %q and %q", columns[colCPU], columns[colMemory])
	errEmpty          = errors.New("empty value")
	errTimestamp      = errors.New("want Unix seconds or RFC 3339")
	errBool           = errors.New("want 0 or 1")
)

// ParseError is a reason to reject a file: a missing or repeated column, an
// unparsable value, or malformed CSV. Line counts the header as line 1.
type ParseError struct {
	File   string
	Line   int
	Column string // empty when the error is not about one column
	Value  string // the offending value, empty when there is none
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", untrusted.Escape(e.File), e.Line)
	if e.Column != "" {
		fmt.Fprintf(&b, "column %s: ", untrusted.Quote(e.Column, untrusted.MaxQuoted))
	}
	if e.Value != "" {
		fmt.Fprintf(&b, "parsing %s: ", untrusted.Quote(e.Value, untrusted.MaxQuoted))
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }
