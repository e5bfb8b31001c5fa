package usagecsv

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// Writer writes rows in the usage CSV format, every column, header first.
// Call Flush when done.
type Writer struct {
	// Cluster adds the cluster column (the rows' Key.Workload.Cluster);
	// set it before the first Write.
	Cluster     bool
	w           *bufio.Writer
	buf         []byte
	wroteHeader bool
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one row. Unset settings and absent samples are empty cells;
// cores are written in the shortest form that reads back exactly, bytes as
// integers, timestamps as Unix seconds with a fraction only when needed.
func (w *Writer) Write(r Row) error {
	if err := w.header(); err != nil {
		return err
	}
	s := &r.Sample
	b := appendTime(w.buf[:0], s.Time)
	for _, name := range [...]string{r.Key.Workload.Namespace, string(r.Key.Workload.Kind), r.Key.Workload.Name, s.Pod, r.Key.Container} {
		b = append(b, ',')
		b = appendString(b, name)
	}
	b = append(b, ',')
	if s.HasCPU {
		b = strconv.AppendFloat(b, float64(s.CPU), 'g', -1, 64)
	}
	b = append(b, ',')
	if s.HasMemory {
		b = strconv.AppendInt(b, int64(s.Memory), 10)
	}
	b = appendMillicores(append(b, ','), s.Settings.Requests.CPU)
	b = appendMillicores(append(b, ','), s.Settings.Limits.CPU)
	b = appendBytes(append(b, ','), s.Settings.Requests.Memory)
	b = appendBytes(append(b, ','), s.Settings.Limits.Memory)
	if s.OOMKilled {
		b = append(b, ",1,"...)
	} else {
		b = append(b, ",0,"...)
	}
	if s.HasThrottled {
		b = strconv.AppendFloat(b, s.Throttled, 'g', -1, 64)
	}
	if w.Cluster {
		b = appendString(append(b, ','), r.Key.Workload.Cluster)
	}
	b = append(b, '\n')
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// Flush writes any buffered data, and the header if no row was written, so
// that an empty export is still a valid file.
func (w *Writer) Flush() error {
	if err := w.header(); err != nil {
		return err
	}
	return w.w.Flush()
}

func (w *Writer) header() error {
	if w.wroteHeader {
		return nil
	}
	w.wroteHeader = true
	cols := columns[:colCluster]
	if w.Cluster {
		cols = columns[:]
	}
	_, err := w.w.WriteString(strings.Join(cols, ",") + "\n")
	return err
}

func appendTime(b []byte, t time.Time) []byte {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	if ns == 0 {
		return strconv.AppendInt(b, sec, 10)
	}
	if sec < 0 {
		// Unix rounds down and Nanosecond counts up from there.
		b = append(b, '-')
		sec, ns = -(sec + 1), 1e9-ns
	}
	b = strconv.AppendInt(b, sec, 10)
	frac := strconv.AppendInt(nil, 1e9+ns, 10)[1:] // nine digits, zero-padded
	return append(append(b, '.'), bytes.TrimRight(frac, "0")...)
}

func appendMillicores(b []byte, m workload.Millicores) []byte {
	if !m.IsSet() {
		return b
	}
	return strconv.AppendFloat(b, float64(m)/1000, 'g', -1, 64)
}

func appendBytes(b []byte, n workload.Bytes) []byte {
	if !n.IsSet() {
		return b
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// appendString appends s, quoted only when CSV needs it.
func appendString(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}
