package usagecsv

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/workload"
)

// clock is the reader's "now" in these tests.
var clock = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// testOptions are the defaults with the test clock.
func testOptions() Options {
	o := DefaultOptions()
	o.Now = func() time.Time { return clock }
	return o
}

// readWith reads every row of a stream with o, stopping at the first error.
func readWith(t testing.TB, o Options, r io.Reader, name string) ([]Row, Stats, error) {
	t.Helper()
	cr, err := o.NewReader(r, name)
	if err != nil {
		return nil, Stats{}, err
	}
	var rows []Row
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return rows, cr.Stats(), nil
		}
		if err != nil {
			return rows, cr.Stats(), err
		}
		rows = append(rows, row)
	}
}

func gzipped(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.String()
}

// TestFarOffTimestampIsSkipped: one row at Unix time 99999999999999999 (or
// year 9999, or year 1) made the newest sample the decision instant, so plan
// dropped all real history and backtest tried to replay billions of years.
// Timestamps outside 2000-01-01…now+24h are skipped and counted.
func TestFarOffTimestampIsSkipped(t *testing.T) {
	for _, tc := range []struct {
		stamp string
		skip  bool
	}{
		{"99999999999999999", true},
		{"-99999999999999999", true},
		{"99999999999999999999", true}, // more seconds than an int64 holds
		{"9999-12-31T23:59:59Z", true},
		{"0001-01-01T00:00:00Z", true},
		{"0", true},
		{"946684799", true}, // 1999-12-31T23:59:59Z
		{"946684800", false},
		{"1999-12-31T23:00:00-01:00", false}, // 2000-01-01 in UTC
		{clock.Add(24*time.Hour + time.Second).Format(time.RFC3339), true},
		{clock.Add(24 * time.Hour).Format(time.RFC3339), false},
		{"1700000000", false},
	} {
		t.Run(tc.stamp, func(t *testing.T) {
			o := testOptions()
			data := header + good + withCell(t, good, "timestamp", tc.stamp) + good
			rows, st, err := readWith(t, o, strings.NewReader(data), "usage.csv")
			require.NoError(t, err)
			if !tc.skip {
				assert.Len(t, rows, 3)
				assert.Zero(t, st.SkippedTotal())
				return
			}
			assert.Len(t, rows, 2)
			reason := "timestamp outside 2000-01-01…now+24h"
			assert.Equal(t, reason, o.SkipTimestamp())
			assert.Equal(t, Stats{Read: 3, Used: 2, Skipped: map[string]int{reason: 1}, First: map[string]int{reason: 3}, Lines: map[string][]int{reason: {3}}}, st)
			assert.Equal(t, "read 3 rows, used 2, skipped 1 (1 "+reason+"): first "+reason+" at line 3", st.String())
		})
	}

	t.Run("the real history stays", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores\n")
		for i := range 300 {
			fmt.Fprintf(&b, "%d,shop,Deployment,web,web-1,app,0.25\n", 1700000000+300*i)
			if i == 100 {
				b.WriteString("99999999999999999,shop,Deployment,web,web-1,app,0.25\n")
				b.WriteString("-99999999999999999,shop,Deployment,web,web-1,app,0.25\n")
			}
		}
		st, stats, err := testOptions().Load(strings.NewReader(b.String()), "usage.csv")
		require.NoError(t, err)
		first, last := st.Span()
		assert.Equal(t, time.Unix(1700000000, 0).UTC(), first)
		assert.Equal(t, time.Unix(1700000000+300*299, 0).UTC(), last)
		assert.Equal(t, 300, st.Samples())
		assert.Equal(t, 103, stats.First[testOptions().SkipTimestamp()])
	})

	t.Run("the window is an option", func(t *testing.T) {
		o := testOptions()
		o.Since = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		o.Future = 90 * time.Minute
		assert.Equal(t, "timestamp outside 2024-01-01…now+90m", o.SkipTimestamp())
		data := header + good + // 2023: too old now
			withCell(t, good, "timestamp", "2024-06-01T00:00:00Z") +
			withCell(t, good, "timestamp", clock.Add(time.Hour).Format(time.RFC3339)) +
			withCell(t, good, "timestamp", clock.Add(2*time.Hour).Format(time.RFC3339))
		rows, st, err := readWith(t, o, strings.NewReader(data), "usage.csv")
		require.NoError(t, err)
		assert.Len(t, rows, 2)
		assert.Equal(t, map[string]int{o.SkipTimestamp(): 2}, st.Skipped)
		assert.Equal(t, map[string]int{o.SkipTimestamp(): 2}, st.First)

		o.Since = time.Date(2024, 1, 1, 6, 0, 0, 0, time.UTC)
		assert.Equal(t, "timestamp outside 2024-01-01T06:00:00Z…now+90m", o.SkipTimestamp())
	})
}

// TestValuesBeyondBoundsAreSkipped: a CPU value of 1e300 cores or a memory
// value of 1e30 bytes was passed on, and overflowed the millicores and the
// sums of every later step. Values above 10,000 cores or 1 PiB, in usage
// and in requests and limits, are skipped and counted.
func TestValuesBeyondBoundsAreSkipped(t *testing.T) {
	o := testOptions()
	cpu, mem := o.SkipCPU(), o.SkipMemory()
	assert.Equal(t, "CPU above 10000 cores", cpu)
	assert.Equal(t, "memory above 1Pi", mem)
	for _, tc := range []struct {
		column, value, reason string
	}{
		{"cpu_cores", "10000", ""},
		{"cpu_cores", "10000.001", cpu},
		{"cpu_cores", "1e300", cpu},
		{"cpu_request_cores", "1e19", cpu},
		{"cpu_limit_cores", "9223372036854775807", cpu},
		{"cpu_limit_cores", "10000", ""},
		{"memory_bytes", "1125899906842624", ""},
		{"memory_bytes", "1125899906842625", mem},
		{"memory_request_bytes", "1e30", mem},
		{"memory_limit_bytes", "9223372036854775808", mem},
		{"cpu_throttled_fraction", "1.0000001", SkipThrottleRange},
	} {
		t.Run(tc.column+"="+tc.value, func(t *testing.T) {
			rows, st, err := readWith(t, o, strings.NewReader(header+good+withCell(t, good, tc.column, tc.value)), "usage.csv")
			require.NoError(t, err)
			if tc.reason == "" {
				require.Len(t, rows, 2)
				s := rows[1].Sample
				assert.LessOrEqual(t, s.Settings.Limits.CPU, workload.Millicores(10_000_000))
				return
			}
			assert.Len(t, rows, 1)
			assert.Equal(t, Stats{Read: 2, Used: 1, Skipped: map[string]int{tc.reason: 1}, First: map[string]int{tc.reason: 3}, Lines: map[string][]int{tc.reason: {3}}}, st)
		})
	}

	t.Run("the bounds are options", func(t *testing.T) {
		o := testOptions()
		o.MaxCPU, o.MaxMemory = 64, 512*workload.GiB
		assert.Equal(t, "CPU above 64 cores", o.SkipCPU())
		assert.Equal(t, "memory above 512Gi", o.SkipMemory())
		data := header + good +
			withCell(t, good, "cpu_limit_cores", "64.5") +
			withCell(t, good, "memory_bytes", "600e9")
		rows, st, err := readWith(t, o, strings.NewReader(data), "usage.csv")
		require.NoError(t, err)
		assert.Len(t, rows, 1)
		assert.Equal(t, map[string]int{o.SkipCPU(): 1, o.SkipMemory(): 1}, st.Skipped)
	})
}

func TestOptionsValidate(t *testing.T) {
	assert.NoError(t, DefaultOptions().Validate())
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"zero options", func(o *Options) { *o = Options{} }, "CPU bound 0 cores is not positive"},
		{"negative future", func(o *Options) { o.Future = -time.Hour }, "accepted future -1h0m0s is negative"},
		{"no memory", func(o *Options) { o.MaxMemory = 0 }, "memory bound 0 bytes is not positive"},
		{"empty window", func(o *Options) { o.Since = clock.Add(48 * time.Hour) }, "oldest accepted timestamp 2026-12-03T00:00:00Z is not before now+24h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.change(&o)
			require.ErrorContains(t, o.Validate(), tc.want)
			_, err := o.NewReader(strings.NewReader(header+good), "usage.csv")
			assert.ErrorContains(t, err, "usage.csv: ")
		})
	}
}

// TestLongLinesEndReading: a file without line breaks (a gzip of 1 GiB of
// one line, /dev/zero) was buffered whole until memory ran out. A line or
// record longer than 1 MiB is an error naming its line.
func TestLongLinesEndReading(t *testing.T) {
	prefix := "1700000000,shop,Deployment,web,web-1,app,0.25,"
	noteHeader := "timestamp,namespace,kind,workload,pod,container,cpu_cores,note\n"
	for _, tc := range []struct {
		name string
		data func() io.Reader
		want string
	}{
		{"endless zeros, like /dev/zero", func() io.Reader { return io.LimitReader(zeros{}, 64<<20) },
			"usage.csv:1: line longer than 1048576 bytes (1 MiB): not a usage CSV file?"},
		{"gzip of a line without end", func() io.Reader {
			return gzipStream(strings.NewReader(noteHeader+prefix), io.LimitReader(xs{}, 64<<20))
		},
			"usage.csv:2: line longer than 1048576 bytes (1 MiB): not a usage CSV file?"},
		{"one byte over", func() io.Reader {
			return strings.NewReader(noteHeader + prefix + "x\n" + prefix + strings.Repeat("x", MaxLineLength-len(prefix)+1) + "\n")
		}, "usage.csv:3: line longer than 1048576 bytes (1 MiB): not a usage CSV file?"},
		{"a quoted field spanning lines", func() io.Reader {
			return io.MultiReader(strings.NewReader(noteHeader+prefix+"x\n"+prefix+`"`), io.LimitReader(newlines{}, 64<<20))
		}, `usage.csv:3: the quoted field opened on this line runs past 1048576 bytes (1 MiB): is a quote unclosed?`},
		{"a record of quoted fields spanning lines", func() io.Reader {
			return strings.NewReader("timestamp,namespace,kind,workload,pod,container,cpu_cores,a,b\n" +
				prefix + `"` + strings.Repeat("x", 500_000) + "\n" + `","` + strings.Repeat("x", 600_000) + `"` + "\n")
		}, `usage.csv:2: record longer than 1048576 bytes (1 MiB)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			in := tc.data()
			alloclimit.Check(t, 32<<20, func() { _, _, err = readWith(t, testOptions(), in, "usage.csv") })
			if c, ok := in.(io.Closer); ok {
				c.Close() // ends the goroutine gzipping
			}
			assert.EqualError(t, err, tc.want)
			var pe *ParseError
			assert.ErrorAs(t, err, &pe)
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type xs struct{}

func (xs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

type newlines struct{}

func (newlines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '\n'
	}
	return len(p), nil
}

// gzipStream gzips the concatenation of rs as it is read, without holding
// it in memory.
func gzipStream(rs ...io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		_, err := io.Copy(zw, io.MultiReader(rs...))
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// TestErrorsQuoteBriefly: an error echoed a 10 MB field whole, and a file
// name raw, control characters and all. Values are cut to 200 bytes and
// everything from the file is escaped.
func TestErrorsQuoteBriefly(t *testing.T) {
	long := strings.Repeat("é", 300_000) // 600,000 bytes; the cut must not split a rune
	for _, tc := range []struct {
		name, file, data string
		want             string
	}{
		{"long value", "usage.csv", header + withCell(t, good, "cpu_cores", long),
			`usage.csv:2: column "cpu_cores": parsing "` + strings.Repeat("é", 100) + `"… (600000 bytes): invalid syntax`},
		{"control characters in a value", "usage.csv", header + withCell(t, good, "memory_bytes", "\x1b[2J\a"),
			`usage.csv:2: column "memory_bytes": parsing "\x1b[2J\a": invalid syntax`},
		{"control characters in a column", "usage.csv", "timestamp,namespace,kind,workload,pod,container,cpu_cores,\x1b]0;x\a,\x1b]0;x\a\n",
			`usage.csv:1: column "\x1b]0;x\a": column is listed twice`},
		{"control characters in the file name", "us\x1bage\n.csv", header + withCell(t, good, "cpu_cores", "x"),
			`us\x1bage\n.csv:2: column "cpu_cores": parsing "x": invalid syntax`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readWith(t, testOptions(), strings.NewReader(tc.data), tc.file)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.Less(t, len(err.Error()), 400)
			assert.NotContains(t, err.Error(), "\x1b")
			assert.NotContains(t, err.Error(), "\a")
		})
	}
	// The value itself is kept whole for callers.
	_, _, err := readWith(t, testOptions(), strings.NewReader(header+withCell(t, good, "cpu_cores", long)), "usage.csv")
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, long, pe.Value)
}

// TestInvalidNamesAreSkipped: names were taken as they came, so a newline,
// an escape sequence or a 10 kB string reached tables, patch file names and
// the terminal. Names Kubernetes would reject are skipped and counted.
func TestInvalidNamesAreSkipped(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		column, value string
		valid         bool
	}{
		{"namespace", "shop", true},
		{"namespace", "Shop", false},
		{"namespace", "shop.prod", false}, // a label has no dots
		{"namespace", long, false},        // a label has at most 63
		{"namespace", long[:63], true},
		{"namespace", "-shop", false},
		{"workload", "web.v2", true}, // a subdomain may have dots
		{"workload", "web_v2", false},
		{"workload", strings.Repeat("a.", 126) + "a", true}, // 253
		{"workload", strings.Repeat("a.", 127), false},
		{"pod", "web-7d9f-abcde", true},
		{"pod", "web 1", false},
		{"pod", `"web-1` + "\n" + `x"`, false}, // a newline inside quotes
		{"container", "app", true},
		{"container", "app.v2", false},
		{"container", "\x1b[31mapp", false},
		{"container", `"app` + "\n" + `"`, false},
		{"container", "äpp", false},
	} {
		t.Run(tc.column+"="+tc.value, func(t *testing.T) {
			row := withCell(t, good, tc.column, tc.value)
			data := header + good + row + row + good
			rows, st, err := readWith(t, testOptions(), strings.NewReader(data), "usage.csv")
			require.NoError(t, err)
			if tc.valid {
				assert.Len(t, rows, 4)
				assert.Zero(t, st.SkippedTotal())
				return
			}
			assert.Len(t, rows, 2)
			assert.Equal(t, map[string]int{SkipInvalidName: 2}, st.Skipped)
			assert.Equal(t, map[string]int{SkipInvalidName: 3}, st.First)
		})
	}

	t.Run("every kind", func(t *testing.T) {
		for _, k := range workload.Kinds {
			rows, st, err := readWith(t, testOptions(), strings.NewReader(header+
				withCell(t, withCell(t, good, "kind", string(k)), "workload", "report.nightly")+
				withCell(t, withCell(t, good, "kind", string(k)), "workload", "Report")), "usage.csv")
			require.NoError(t, err)
			assert.Len(t, rows, 1, k)
			assert.Equal(t, map[string]int{SkipInvalidName: 1}, st.Skipped, k)
		}
	})

	t.Run("names of skipped rows are not kept", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(header)
		for i := range 3 * maxUnfitSeries {
			b.WriteString(withCell(t, good, "pod", fmt.Sprintf("Web-%d", i)))
		}
		b.WriteString(good)
		r, err := testOptions().NewReader(strings.NewReader(b.String()), "usage.csv")
		require.NoError(t, err)
		for {
			if _, err := r.Read(); err != nil {
				require.ErrorIs(t, err, io.EOF)
				break
			}
		}
		assert.Equal(t, 3*maxUnfitSeries, r.Stats().Skipped[SkipInvalidName])
		assert.LessOrEqual(t, len(r.series), maxUnfitSeries+1, "series cached only to be skipped are bounded")
		assert.Len(t, r.interned, 4, "only the usable row's names are interned")
	})
}

// TestGzipInsideGzip: a file gzipped twice was read as one gzip, and the
// compressed bytes inside were reported as missing columns.
func TestGzipInsideGzip(t *testing.T) {
	once := gzipped(t, header+good)
	for _, tc := range []struct{ name, data, want string }{
		{"gzip inside gzip", gzipped(t, once), "usage.csv.gz: gzip inside gzip: decompress once more"},
		{"gzip inside gzip inside gzip", gzipped(t, gzipped(t, once)), "usage.csv.gz: gzip inside gzip: decompress once more"},
		{"zstd", "\x28\xb5\x2f\xfd\x00\x58", "usage.csv.gz: compressed with zstd: only gzip is read, decompress it first"},
		{"xz inside gzip", gzipped(t, "\xfd7zXZ\x00\x00"), "usage.csv.gz: xz inside gzip: only gzip is read, decompress the rest first"},
		{"bzip2", "BZh91AY&SY", "usage.csv.gz: compressed with bzip2: only gzip is read, decompress it first"},
		{"zip", "PK\x03\x04\x14\x00", "usage.csv.gz: compressed with zip: only gzip is read, decompress it first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readWith(t, testOptions(), strings.NewReader(tc.data), "usage.csv.gz")
			assert.EqualError(t, err, tc.want)
		})
	}
	// Concatenated gzip members are one file, not a gzip inside a gzip.
	rows, _, err := readWith(t, testOptions(), strings.NewReader(once+gzipped(t, good)), "usage.csv.gz")
	require.NoError(t, err)
	assert.Len(t, rows, 2)
	// A header starting like bzip2's magic is still a header.
	rows, _, err = readWith(t, testOptions(), strings.NewReader("BZh,"+header+"x,"+good), "usage.csv")
	require.NoError(t, err)
	assert.Len(t, rows, 1)
}

// TestCROnlyLineEndings: a file whose lines end in CR alone (classic Mac
// OS, Excel's "CSV (Macintosh)") was one long line, reported as "column is
// listed twice". It is read, with line numbers as an editor counts them.
func TestCROnlyLineEndings(t *testing.T) {
	cr := func(s string) string { return strings.ReplaceAll(s, "\n", "\r") }
	for _, tc := range []struct {
		name, data string
		rows       int
		err        string
	}{
		{"plain", cr(header + good + good), 2, ""},
		{"no CR at the end", strings.TrimSuffix(cr(header+good+good), "\r"), 2, ""},
		{"error names the line", cr(header + good + withCell(t, good, "cpu_cores", "x") + good), 1,
			`usage.csv:3: column "cpu_cores": parsing "x": invalid syntax`},
		{"gzip", gzipped(t, cr(header+good+good+good)), 3, ""},
		{"header only", cr(header), 0, ""},
		{"CRLF is not CR only", strings.ReplaceAll(header+good+good, "\n", "\r\n"), 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, err := readWith(t, testOptions(), strings.NewReader(tc.data), "usage.csv")
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			assert.Len(t, rows, tc.rows)
		})
	}
}

// TestUnclosedQuoteNamesItsLine: an unclosed quote was reported at the end
// of the file, far from the mistake. The error names the line it opens on.
func TestUnclosedQuoteNamesItsLine(t *testing.T) {
	open := `1700000000,shop,Deployment,"web,web-1,app,0.25,1,,,,,0,` + "\n"
	for _, tc := range []struct {
		name string
		data io.Reader
		want string
	}{
		{"at the end of the file", strings.NewReader(header + good + open + strings.Repeat(good, 50)),
			"usage.csv:3: the quoted field opened on this line is never closed"},
		{"past the bound", io.MultiReader(strings.NewReader(header+good+good+open), io.LimitReader(repeat(good), 8<<20)),
			"usage.csv:4: the quoted field opened on this line runs past 1048576 bytes (1 MiB): is a quote unclosed?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readWith(t, testOptions(), tc.data, "usage.csv")
			assert.EqualError(t, err, tc.want)
			assert.ErrorIs(t, err, csv.ErrQuote)
		})
	}
}

// repeat returns an endless reader of s.
func repeat(s string) io.Reader { return &repeater{s: s} }

type repeater struct {
	s   string
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		err  error
	}{
		{"1700000000", time.Unix(1700000000, 0), nil},
		{"-1.5", time.Unix(-1, -5e8), nil},
		{"+1.25", time.Unix(1, 25e7), nil},
		{"99999999999999999", time.Unix(99999999999999999, 0), nil},
		{"999999999999999999", time.Unix(999999999999999999, 0), nil},
		{"9999999999999999999", time.Time{}, strconv.ErrRange},
		{"0001-01-01T00:00:00Z", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"", time.Time{}, errEmpty},
		{".", time.Time{}, errTimestamp},
		{"-", time.Time{}, errTimestamp},
		{"1e9", time.Time{}, errTimestamp},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTime([]byte(tc.in))
			if tc.err != nil {
				assert.True(t, errors.Is(err, tc.err), "got %v, want %v", err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(got), "got %v, want %v", got, tc.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

// TestRowsThroughAPipe: looking for line endings and compression waits for
// no more input than it needs, so rows from a live pipe come as they arrive.
func TestRowsThroughAPipe(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte(header + good))
	done := make(chan error, 1)
	go func() {
		r, err := testOptions().NewReader(pr, "pipe")
		if err == nil {
			_, err = r.Read()
		}
		done <- err
	}()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the first row did not come while the pipe stayed open")
	}
}
