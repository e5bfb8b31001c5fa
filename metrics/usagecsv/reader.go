package usagecsv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// readBufferSize is large so that reads from the file and gzip refills are
// rare, and most lines fit in the buffer without being copied.
const readBufferSize = 256 << 10

// gzipInputSize is the buffer of a gzipped file's own bytes.
const gzipInputSize = 64 << 10

// kindByName maps the format's kind names to kinds; read-only.
var kindByName = func() map[string]workload.Kind {
	m := make(map[string]workload.Kind, len(workload.Kinds))
	for _, k := range workload.Kinds {
		m[string(k)] = k
	}
	return m
}()

// Reader reads rows of the usage CSV format. It is not safe for concurrent
// use.
type Reader struct {
	name   string
	strict bool // a row to skip is an error
	sp     splitter
	col    [numColumns]int // field index of each column, -1 when absent
	// clusters are the clusters read (Options.Clusters); nil: all.
	clusters map[string]bool
	// ids is the number of usable series met (series.id); seriesID the
	// one of the row parsed last.
	ids, seriesID int
	width         int // fields per record, from the header

	// interned interns namespace, workload, pod and container names, so rows
	// share one string per name and hold no reference to the read buffer.
	interned map[string]string
	// series maps the text of a row's kind and names to its key and pod,
	// or to the reason to skip it, so that a row costs one map lookup
	// instead of five and names are validated once per series: a usable
	// series by its id (byID), one to skip by −1 − its place in skipped.
	series  map[string]int
	skipped []series
	unfit   int // series cached with a reason to skip, other clusters' aside
	scratch []byte
	// An export lists an instant's rows in the same order instant after
	// instant, so the series that followed a row's last time mostly
	// follows it again: byID holds each usable series with the text of its
	// names as a line has them (index id − 1), next the id that followed
	// it last (0: none yet), and prev the id of the row before. A guess
	// costs one comparison of that text instead of making the lookup key,
	// hashing it and probing the map. It needs the name columns side by
	// side, from field names[0] to names[1] (names[0] < 0: they are not).
	byID  []rawSeries
	next  []int
	prev  int
	names [2]int
	// setCols are the first and last of the four settings columns where
	// they are side by side (setCols[0] < 0: not); see settings.
	setCols [2]int

	// Exports list many rows per instant, so the last timestamp parsed is
	// kept and reused while the text repeats.
	lastStamp []byte
	lastTime  time.Time
	lastSkip  string
	haveLast  bool

	// The accepted window and bounds, from Options.
	since, until time.Time
	timeSkip     string
	max          [numColumns]float64 // upper bound of each numeric column
	maxSkip      [numColumns]string  // the reason to skip a value above it

	line  int // the line of the last row returned
	stats Stats
	err   error  // sticky: io.EOF or the error that rejected the file
	stop  func() // stops reading ahead, for errors
}

// maxUnfitSeries bounds the series cached only to be skipped: a file of
// endless distinct bad names must not fill memory with them. Past the
// bound their rows are checked again each time, which is slower but right.
const maxUnfitSeries = 4096

// NewReader returns a Reader for r with DefaultOptions; see
// Options.NewReader.
func NewReader(r io.Reader, name string) (*Reader, error) {
	return DefaultOptions().NewReader(r, name)
}

// NewReader returns a Reader for r, whose rows are gzipped when r starts with
// the gzip magic bytes, whatever name says. name is the file name used in
// errors. It reads the header and fails with a *ParseError (line 1 for the
// usual header on the first line) when a required column is missing or a
// column is listed twice. Rows outside the options' bounds are skipped and
// counted.
func (o Options) NewReader(r io.Reader, name string) (*Reader, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", untrusted.Escape(name), err)
	}
	magic := make([]byte, len(xzMagic))
	n, err := io.ReadFull(r, magic)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %w", untrusted.Escape(name), err)
	}
	magic = magic[:n]
	r = io.MultiReader(bytes.NewReader(magic), r)
	var br *bufio.Reader
	stop := func() {}
	if f := compressed(magic); f == "gzip" {
		// The compressed side needs no line buffer's room.
		zr, err := gzip.NewReader(bufio.NewReaderSize(r, gzipInputSize))
		if err != nil {
			return nil, fmt.Errorf("%s: reading gzip header: %w", untrusted.Escape(name), err)
		}
		in := newInflater(zr)
		br = bufio.NewReaderSize(in, readBufferSize)
		stop = in.close
		// A file gzipped twice is a slip of an export script. Reading
		// through the second layer would hide it, and would let a small
		// file expand a millionfold; saying so is as quick to act on.
		inner, err := br.Peek(len(xzMagic))
		if err != nil && err != io.EOF {
			stop()
			return nil, fmt.Errorf("%s: %w", untrusted.Escape(name), err)
		}
		if f := compressed(inner); f == "gzip" {
			stop()
			return nil, fmt.Errorf("%s: gzip inside gzip: decompress once more", untrusted.Escape(name))
		} else if f != "" {
			stop()
			return nil, fmt.Errorf("%s: %s inside gzip: only gzip is read, decompress the rest first", untrusted.Escape(name), f)
		}
	} else if f != "" {
		return nil, fmt.Errorf("%s: compressed with %s: only gzip is read, decompress it first", untrusted.Escape(name), f)
	} else {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	// Spreadsheet exports start with a byte order mark.
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	// Spreadsheets on classic Mac OS, and Excel for Mac's "CSV (Macintosh)"
	// to this day, end lines with CR alone. The rows are sound, so they are
	// read, with line numbers as an editor counts them.
	if crOnly(br) {
		br = bufio.NewReaderSize(crToLF{br}, readBufferSize)
	}
	now := o.now()
	rd := &Reader{
		name:     name,
		sp:       splitter{br: br},
		interned: make(map[string]string),
		series:   make(map[string]int),
		since:    o.Since,
		until:    now.Add(o.Future),
		timeSkip: o.SkipTimestamp(),
		stats:    Stats{Skipped: make(map[string]int), First: make(map[string]int), Lines: make(map[string][]int)},
		stop:     stop,
		strict:   o.Strict,
	}
	if o.Clusters != nil {
		rd.clusters = make(map[string]bool, len(o.Clusters))
		for _, c := range o.Clusters {
			rd.clusters[c] = true
		}
	}
	for _, c := range [...]int{colCPU, colCPURequest, colCPULimit} {
		rd.max[c], rd.maxSkip[c] = float64(o.MaxCPU), o.SkipCPU()
	}
	for _, c := range [...]int{colMemory, colMemoryRequest, colMemoryLimit} {
		rd.max[c], rd.maxSkip[c] = float64(o.MaxMemory), o.SkipMemory()
	}
	rd.max[colThrottled], rd.maxSkip[colThrottled] = 1, SkipThrottleRange
	if err := rd.readHeader(); err != nil {
		stop()
		return nil, err
	}
	// A caller may drop the Reader before the end of the file; the
	// goroutine inflating ahead must not outlive it.
	runtime.AddCleanup(rd, func(stop func()) { stop() }, stop)
	return rd, nil
}

// The magic bytes of compressed formats a usage file may come in by mistake.
var (
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	bzip2Magic = []byte("BZh")
	zipMagic   = []byte("PK\x03\x04")
)

// compressed names the compression b starts with, "" for none known.
func compressed(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return "gzip"
	case bytes.HasPrefix(b, xzMagic):
		return "xz"
	case bytes.HasPrefix(b, zstdMagic):
		return "zstd"
	case bytes.HasPrefix(b, zipMagic):
		return "zip"
	case bytes.HasPrefix(b, bzip2Magic) && len(b) > 3 && b[3] >= '1' && b[3] <= '9':
		return "bzip2"
	}
	return ""
}

// crOnly reports whether the first line of br ends in CR without LF. It
// waits for no more input than it needs, so that a header arriving through
// a pipe is read at once.
func crOnly(br *bufio.Reader) bool {
	const most = 64 << 10 // a header is far shorter
	for n := 1; ; {
		_, err := br.Peek(n) // waits for n bytes, or the end
		b, _ := br.Peek(min(br.Buffered(), most))
		i := bytes.IndexAny(b, "\r\n")
		switch {
		case i >= 0 && b[i] == '\n':
			return false
		case i >= 0 && i+1 < len(b):
			return b[i+1] != '\n'
		case err != nil || len(b) == most:
			return i >= 0 // CR last in the file
		}
		n = len(b) + 1
	}
}

// crToLF turns every CR into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

func (r *Reader) readHeader() error {
	line, err := r.sp.next()
	if err == io.EOF {
		return &ParseError{File: r.name, Line: 1, Err: errNoHeader}
	}
	if err != nil {
		return r.wrap(err)
	}
	fields := r.sp.fields
	for c := range r.col {
		r.col[c] = -1
	}
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		name := string(trim(f))
		if seen[name] {
			return &ParseError{File: r.name, Line: line, Column: name, Err: errDuplicate}
		}
		if name != "" {
			seen[name] = true
		}
		for c, known := range columns {
			if name == known {
				r.col[c] = i
			}
		}
	}
	var missing []error
	for c := colTimestamp; c <= colContainer; c++ {
		if r.col[c] < 0 {
			missing = append(missing, &ParseError{File: r.name, Line: line, Column: columns[c], Err: errMissingColumn})
		}
	}
	if r.col[colCPU] < 0 && r.col[colMemory] < 0 {
		missing = append(missing, &ParseError{File: r.name, Line: line, Err: errNoUsageColumns})
	}
	if len(missing) > 0 {
		return errors.Join(missing...)
	}
	r.width = len(fields)
	r.names = [2]int{-1, -1}
	lo, hi, n := len(fields), -1, 0
	for c := range numColumns {
		if i := r.col[c]; i >= 0 && nameColumn(c) {
			lo, hi, n = min(lo, i), max(hi, i), n+1
		}
	}
	if hi-lo+1 == n {
		r.names = [2]int{lo, hi}
	}
	r.setCols = [2]int{-1, -1}
	if lo, hi := r.col[colCPURequest], r.col[colMemoryLimit]; lo >= 0 && hi-lo == colMemoryLimit-colCPURequest &&
		r.col[colCPULimit] == lo+1 && r.col[colMemoryRequest] == lo+2 {
		r.setCols = [2]int{lo, hi}
	}
	return nil
}

// nameColumn reports whether column c holds a name: the kind, names and
// cluster that make a row's series.
func nameColumn(c int) bool {
	switch c {
	case colNamespace, colKind, colWorkload, colPod, colContainer, colCluster:
		return true
	}
	return false
}

// Read returns the next usable row, and io.EOF after the last one. Rows the
// format says to skip are counted in Stats and not returned. An unparsable
// value or malformed CSV returns a *ParseError; errors are final, and every
// later call returns the same one.
func (r *Reader) Read() (Row, error) {
	var row Row
	err := r.readInto(&row)
	if err != nil {
		return Row{}, err
	}
	return row, nil
}

// readInto is Read into row, for a caller that reads every row of a file
// and would otherwise copy each twice more.
func (r *Reader) readInto(row *Row) error {
	if r.err != nil {
		return r.err
	}
	for {
		line, err := r.sp.next()
		if err != nil {
			if err != io.EOF {
				err = r.wrap(err)
			}
			return r.fail(err)
		}
		fields := r.sp.fields
		if len(fields) != r.width {
			return r.fail(&ParseError{File: r.name, Line: line,
				Err: fmt.Errorf("%w: %d, the header has %d", csv.ErrFieldCount, len(fields), r.width)})
		}
		skip, err := r.parse(fields, line, row)
		if err != nil {
			return r.fail(err)
		}
		if skip != "" && skip != SkipOtherCluster && r.strict {
			return r.fail(&ParseError{File: r.name, Line: line, Err: fmt.Errorf("%s (--strict skips no row)", skip)})
		}
		// Counted once parsed, so that Read = Used + skipped also when
		// a row rejects the file.
		r.stats.Read++
		if skip != "" {
			if r.stats.Skipped[skip] == 0 {
				r.stats.First[skip] = line
			}
			if len(r.stats.Lines[skip]) < ListedLines {
				r.stats.Lines[skip] = append(r.stats.Lines[skip], line)
			}
			r.stats.Skipped[skip]++
			continue
		}
		r.stats.Used++
		r.line = line
		return nil
	}
}

// Series numbers the pod container of the row Read returned last, from 1
// in the order the Reader met them: a loader keeps its series by number
// instead of looking the names up again for every row.
func (r *Reader) Series() int { return r.seriesID }

// fail ends reading with err.
func (r *Reader) fail(err error) error {
	r.err = err
	r.stop()
	return err
}

// Stats returns the counts so far; after io.EOF, for the whole file.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Skipped = maps.Clone(r.stats.Skipped)
	s.First = maps.Clone(r.stats.First)
	s.Lines = nil
	for k, v := range r.stats.Lines {
		if s.Lines == nil {
			s.Lines = make(map[string][]int, len(r.stats.Lines))
		}
		s.Lines[k] = slices.Clone(v)
	}
	return s
}

// Line returns the line the last row returned by Read starts on.
func (r *Reader) Line() int { return r.line }

// wrap adds the file name and line to an error of the splitter.
func (r *Reader) wrap(err error) error {
	var se syntaxError
	if errors.As(err, &se) {
		return &ParseError{File: r.name, Line: se.line, Err: se.err}
	}
	return fmt.Errorf("%s:%d: reading: %w", untrusted.Escape(r.name), r.sp.line+1, err)
}

// parse turns a record into row (every field of it), or into the reason to
// skip it. Every value is parsed before any skip reason counts, so that an
// unparsable value rejects the file even on a row that would be skipped.
func (r *Reader) parse(f [][]byte, line int, row *Row) (skip string, err error) {
	s := &row.Sample
	var early string // the timestamp's reason to skip
	if s.Time, early, err = r.timestamp(f, line); err != nil {
		return "", err
	}

	sr := r.lookup(f)
	var v [numColumns]float64
	var has [numColumns]bool
	var bad string // the first value's reason to skip
	for c := colCPU; c <= colThrottled; c++ {
		switch c {
		case colOOMKilled, colCPULimit, colMemoryRequest, colMemoryLimit:
			continue // below; with the CPU request
		case colCPURequest:
			set, why, err := r.settings(f, line, sr.id)
			if err != nil {
				return "", err
			}
			if bad == "" {
				bad = why
			}
			s.Settings = set
			continue
		}
		x, present, why, err := r.number(f, line, c)
		if err != nil {
			return "", err
		}
		if bad == "" {
			bad = why
		}
		v[c], has[c] = x, present
	}
	s.OOMKilled = false // row is reused: every field is set
	if i := r.col[colOOMKilled]; i >= 0 {
		b := trim(f[i])
		if s.OOMKilled, err = parseBool(b); err != nil {
			return "", r.valueError(line, colOOMKilled, b, err)
		}
	}

	switch {
	case early != "":
		return early, nil
	case sr.skip != "":
		return sr.skip, nil
	case bad != "":
		return bad, nil
	case !has[colCPU] && !has[colMemory] && !s.OOMKilled:
		return SkipNoUsage, nil
	}
	row.Key, s.Pod = sr.key, sr.pod
	r.seriesID = sr.id
	s.CPU, s.HasCPU = workload.Cores(v[colCPU]), has[colCPU]
	s.Memory, s.HasMemory = workload.BytesOf(v[colMemory]), has[colMemory]
	s.Throttled, s.HasThrottled = v[colThrottled], has[colThrottled]
	return "", nil
}

// settings parses the requests and limits and returns them with the first
// value's reason to skip the row, if any. A series' settings seldom change:
// where the four columns are side by side, their text is kept with what it
// parsed to for series id (0: none), and a row with the same text takes
// that instead of parsing it again.
func (r *Reader) settings(f [][]byte, line, id int) (workload.Settings, string, error) {
	var text []byte
	if lo, hi := r.setCols[0], r.setCols[1]; lo >= 0 && r.sp.plain && id > 0 {
		text = r.sp.span(lo, hi)
		if c := &r.byID[id-1].set; len(c.text) > 0 && string(c.text) == string(text) {
			return c.set, c.skip, nil
		}
	}
	var v [numColumns]float64
	var skip string
	for c := colCPURequest; c <= colMemoryLimit; c++ {
		x, _, why, err := r.number(f, line, c)
		if err != nil {
			return workload.Settings{}, "", err
		}
		if skip == "" {
			skip = why
		}
		v[c] = x
	}
	set := workload.Settings{
		Requests: workload.Resources{
			CPU:    workload.MillicoresOf(workload.Cores(v[colCPURequest])),
			Memory: workload.BytesOf(v[colMemoryRequest]),
		},
		Limits: workload.Resources{
			CPU:    workload.MillicoresOf(workload.Cores(v[colCPULimit])),
			Memory: workload.BytesOf(v[colMemoryLimit]),
		},
	}
	if text != nil {
		c := &r.byID[id-1].set
		c.text, c.set, c.skip = append(c.text[:0], text...), set, skip
	}
	return set, skip, nil
}

// parsedSettings are a series' last settings, with their text (never
// empty: three commas at least); none kept while the text is empty.
type parsedSettings struct {
	text []byte
	set  workload.Settings
	skip string
}

// number parses the numeric column c. present is false when the column is
// absent or the cell empty; skip is the reason to skip a row holding the
// value, if any: NaN, infinite, negative or above the column's bound.
func (r *Reader) number(f [][]byte, line, c int) (v float64, present bool, skip string, err error) {
	i := r.col[c]
	if i < 0 {
		return 0, false, "", nil
	}
	b := trim(f[i])
	if len(b) == 0 {
		return 0, false, "", nil
	}
	v, err = parseNumber(b)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange || !math.IsInf(v, 0) {
			if ne != nil {
				err = ne.Err
			}
			return 0, false, "", r.valueError(line, c, b, err)
		}
		// Too large for a float64: as good as infinite.
	}
	switch {
	case math.IsNaN(v):
		skip = SkipNaN
	case math.IsInf(v, 0):
		skip = SkipInfinite
	case v < 0:
		skip = SkipNegative
	case v > r.max[c]:
		skip = r.maxSkip[c]
	}
	return v, true, skip, nil
}

// timestamp parses the row's timestamp; skip is the reason to skip the row
// when the time is outside the accepted window. Seconds too many for an
// int64 are outside any window, not unparsable.
func (r *Reader) timestamp(f [][]byte, line int) (t time.Time, skip string, err error) {
	b := trim(f[r.col[colTimestamp]])
	if r.haveLast && bytes.Equal(b, r.lastStamp) {
		return r.lastTime, r.lastSkip, nil
	}
	t, err = parseTime(b)
	switch {
	case errors.Is(err, strconv.ErrRange):
		t, skip, err = time.Time{}, r.timeSkip, nil
	case err != nil:
		return time.Time{}, "", r.valueError(line, colTimestamp, b, err)
	case t.Before(r.since) || t.After(r.until):
		skip = r.timeSkip
	}
	r.lastStamp = append(r.lastStamp[:0], b...)
	r.lastTime, r.lastSkip, r.haveLast = t, skip, true
	return t, skip, nil
}

func (r *Reader) valueError(line, c int, b []byte, err error) error {
	if len(b) == 0 {
		err = errEmpty
	}
	return &ParseError{File: r.name, Line: line, Column: columns[c], Value: string(b), Err: err}
}

// series is what a row's kind and names resolve to: a key and pod, or the
// reason to skip rows that have them.
type series struct {
	key  workload.ContainerKey
	pod  string
	skip string
	id   int // Reader.Series; 0 for one skipped
}

// lookup resolves the row's kind and names, or returns the reason to skip the
// row: an unknown kind, an empty name or a name Kubernetes would not accept.
func (r *Reader) lookup(f [][]byte) series {
	// The names' text, commas between: the same text, the same fields.
	var raw []byte
	if lo, hi := r.names[0], r.names[1]; lo >= 0 && r.sp.plain {
		raw = r.sp.span(lo, hi)
		if p := r.prev; p > 0 {
			if g := r.next[p-1]; g > 0 && r.byID[g-1].raw == string(raw) {
				r.prev = g
				return r.byID[g-1].series
			}
		}
	}
	// The lookup key holds each field with its length in front, so that no
	// two different rows share a key whatever their names contain.
	k := r.scratch[:0]
	for _, c := range [...]int{colNamespace, colKind, colWorkload, colPod, colContainer, colCluster} {
		if r.col[c] < 0 {
			continue // the cluster column is optional
		}
		b := trim(f[r.col[c]])
		k = binary.AppendUvarint(k, uint64(len(b)))
		k = append(k, b...)
	}
	r.scratch = k
	var sr series
	switch i, ok := r.series[string(k)]; {
	case ok && i > 0:
		sr = r.byID[i-1].series
		if raw != nil && r.byID[i-1].raw == "" {
			// Met first in a line with quotes.
			r.byID[i-1].raw = string(raw)
		}
	case ok:
		sr = r.skipped[-1-i]
	default:
		sr = r.resolve(f)
		if sr.skip == "" {
			r.ids++
			sr.id = r.ids
		}
		if sr.skip == "" || sr.skip == SkipOtherCluster || r.unfit < maxUnfitSeries {
			key := string(k)
			if sr.id > 0 {
				r.series[key] = sr.id
				r.byID = append(r.byID, rawSeries{raw: string(raw), series: sr})
				r.next = append(r.next, 0)
			} else {
				r.series[key] = -1 - len(r.skipped)
				r.skipped = append(r.skipped, sr)
				if sr.skip != SkipOtherCluster {
					r.unfit++
				}
			}
		}
	}
	if r.prev > 0 && sr.id > 0 {
		r.next[r.prev-1] = sr.id
	}
	r.prev = sr.id
	return sr
}

// rawSeries is a usable series with the text of its names as a line
// without quotes has them (empty when met only in lines with quotes) and
// its last settings.
type rawSeries struct {
	raw string
	series
	set parsedSettings
}

// resolve checks the kind and names of a row not seen before, and interns
// the names of a usable one.
func (r *Reader) resolve(f [][]byte) series {
	kind, ok := kindByName[string(trim(f[r.col[colKind]]))]
	if !ok {
		return series{skip: SkipUnknownKind}
	}
	// What Kubernetes accepts for each: workload and pod names are object
	// names (DNS-1123 subdomains), namespaces and containers DNS-1123 labels.
	check := [numColumns]func(string) []string{
		colNamespace: validation.IsDNS1123Label,
		colWorkload:  validation.IsDNS1123Subdomain,
		colPod:       validation.IsDNS1123Subdomain,
		colContainer: validation.IsDNS1123Label,
	}
	cols := [...]int{colNamespace, colWorkload, colPod, colContainer}
	for _, c := range cols {
		if len(trim(f[r.col[c]])) == 0 {
			return series{skip: SkipMissingName}
		}
	}
	for _, c := range cols {
		if len(check[c](string(trim(f[r.col[c]])))) > 0 {
			return series{skip: SkipInvalidName}
		}
	}
	var names [numColumns]string
	for _, c := range cols {
		names[c] = r.intern(f[r.col[c]])
	}
	if c := r.col[colCluster]; c >= 0 {
		// Any label value names a cluster (an EKS ARN has ":" and "/"),
		// but one a terminal would not print as itself, or longer than an
		// object name, is no name.
		b := trim(f[c])
		if len(b) > maxClusterName || !untrusted.Printable(string(b)) {
			return series{skip: SkipInvalidName}
		}
		names[colCluster] = r.intern(b)
	}
	if r.clusters != nil && !r.clusters[names[colCluster]] {
		return series{skip: SkipOtherCluster}
	}
	return series{
		key: workload.ContainerKey{
			Workload:  workload.Key{Namespace: names[colNamespace], Kind: kind, Name: names[colWorkload], Cluster: names[colCluster]},
			Container: names[colContainer],
		},
		pod: names[colPod],
	}
}

// maxClusterName bounds a cluster's name: an ARN of an EKS cluster
// (about 100 bytes) fits with room to spare.
const maxClusterName = 253

// intern returns the trimmed name in b as a string shared by every row that
// has it.
func (r *Reader) intern(b []byte) string {
	b = trim(b)
	if s, ok := r.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	r.interned[s] = s
	return s
}

// trim removes the spaces and tabs around a value. Most values have none, so
// it looks at the ends before doing any work.
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a float. The forms exports write almost always,
// digits with an optional fraction and a mantissa below 2⁵³, are parsed
// here, several times faster than strconv and with the same result: both
// the mantissa and the power of ten are exact in a float64, so one
// division rounds correctly. Everything else goes to strconv.
func parseNumber(b []byte) (float64, error) {
	var mant uint64
	i := 0
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	whole, frac := i, 0
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			mant = mant*10 + uint64(d)
		}
		frac = i - whole - 1
	}
	// Nineteen digits cannot overflow the mantissa.
	if i != len(b) || whole+frac == 0 || whole+frac > 19 || mant >= 1<<53 {
		return strconv.ParseFloat(string(b), 64)
	}
	return float64(mant) / pow10[frac], nil
}

// parseTime parses Unix seconds, integer or decimal, or RFC 3339, and returns
// the instant in UTC.
func parseTime(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, errEmpty
	}
	if sec, nsec, ok, err := parseUnix(b); ok {
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	s := string(b)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		// RFC 3339 allows a space for the T, and many exports use one.
		if t, err = time.Parse("2006-01-02 15:04:05Z07:00", s); err != nil {
			return time.Time{}, errTimestamp
		}
	}
	return t.UTC(), nil
}

// parseUnix parses [+-]digits[.digits] exactly, keeping up to nanosecond
// precision that a float64 would lose. ok is false when b has another form.
func parseUnix(b []byte) (sec, nsec int64, ok bool, err error) {
	neg := b[0] == '-'
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	whole, frac, _ := bytes.Cut(b, []byte{'.'})
	if len(whole)+len(frac) == 0 {
		return 0, 0, false, nil
	}
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, 0, false, nil
		}
		sec = sec*10 + int64(c-'0')
	}
	scale := int64(1e8)
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, 0, false, nil
		}
		nsec += int64(c-'0') * scale
		scale /= 10
	}
	if len(whole) > 18 { // more seconds than an int64 holds, counted in digits
		return 0, 0, true, strconv.ErrRange
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return sec, nsec, true, nil
}

// parseBool parses oom_killed: 0 or 1, also false or true; empty is false.
func parseBool(b []byte) (bool, error) {
	switch {
	case len(b) == 0, string(b) == "0", bytes.EqualFold(b, []byte("false")):
		return false, nil
	case string(b) == "1", bytes.EqualFold(b, []byte("true")):
		return true, nil
	}
	return false, errBool
}
