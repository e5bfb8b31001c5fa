package usagecsv

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// Seeds for FuzzReader beside the corpus in testdata/fuzz/FuzzReader.
func readerSeeds(f *testing.F) [][]byte {
	f.Helper()
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	return [][]byte{
		[]byte(header + good + good),
		[]byte("\ufeff" + strings.ReplaceAll(header+good, "\n", "\r\n")),
		[]byte(strings.ReplaceAll(header+good+good, "\n", "\r")),
		[]byte("timestamp,namespace,kind,workload,pod,container,cpu_cores,note\n" +
			`2026-11-01T00:00:00Z,"shop","Pod","p","p","c",0.5,"a ""b"",` + "\n" + `c"` + "\n"),
		[]byte("timestamp,namespace,kind,workload,pod,container,memory_bytes\n1700000000,a,Job,j,j-1,c,1e3\n1700000000,a,Job,j,j-1,c,NaN\n"),
		[]byte(header + withCellF(good, "timestamp", "99999999999999999")),
		[]byte(header + withCellF(good, "cpu_limit_cores", "1e300")),
		[]byte(header + withCellF(good, "container", "\"a\nb\"")),
		gz(header + good + good),
		gz(string(gz(header + good))),
	}
}

// withCellF is withCell for seeds, outside a test.
func withCellF(row, column, value string) string {
	cols := strings.Split(strings.TrimSpace(header), ",")
	cells := strings.Split(strings.TrimSpace(row), ",")
	for i, c := range cols {
		if c == column {
			cells[i] = value
		}
	}
	return strings.Join(cells, ",") + "\n"
}

// FuzzReader reads whole files. Whatever the bytes, reading ends without a
// panic and within a bound of allocation, and every row returned is usable:
// valid names, a time within the window, finite values within the bounds.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s)
	}
	o := testOptions()
	o.MaxCPU, o.MaxMemory = 64, 256*workload.GiB
	until := clock.Add(o.Future)
	f.Fuzz(func(t *testing.T, data []byte) {
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() {
			r, err := o.NewReader(bytes.NewReader(data), "fuzz.csv")
			if err != nil {
				checkError(t, err)
				return
			}
			for {
				row, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					checkError(t, err)
					break
				}
				checkRow(t, o, until, row)
			}
			st := r.Stats()
			if st.Read != st.Used+st.SkippedTotal() {
				t.Fatalf("counts do not add up: %+v", st)
			}
			for reason, line := range st.First {
				if line < 2 || st.Skipped[reason] == 0 {
					t.Fatalf("first line %d for %q: %+v", line, reason, st)
				}
			}
		})
	})
}

func checkRow(t *testing.T, o Options, until time.Time, row Row) {
	t.Helper()
	k, s := row.Key, row.Sample
	for _, name := range []struct {
		value string
		check func(string) []string
	}{
		{k.Workload.Namespace, validation.IsDNS1123Label},
		{k.Workload.Name, validation.IsDNS1123Subdomain},
		{s.Pod, validation.IsDNS1123Subdomain},
		{k.Container, validation.IsDNS1123Label},
	} {
		if errs := name.check(name.value); len(errs) > 0 {
			t.Fatalf("row with invalid name %q: %v", name.value, errs)
		}
	}
	if _, ok := kindByName[string(k.Workload.Kind)]; !ok {
		t.Fatalf("row with kind %q", k.Workload.Kind)
	}
	if s.Time.Before(o.Since) || s.Time.After(until) {
		t.Fatalf("row at %v, outside the window", s.Time)
	}
	for _, v := range []struct {
		name       string
		value, max float64
	}{
		{"cpu", float64(s.CPU), float64(o.MaxCPU)},
		{"memory", float64(s.Memory), float64(o.MaxMemory)},
		{"throttled", s.Throttled, 1},
		{"cpu request", float64(s.Settings.Requests.CPU), 1000 * float64(o.MaxCPU)},
		{"cpu limit", float64(s.Settings.Limits.CPU), 1000 * float64(o.MaxCPU)},
		{"memory request", float64(s.Settings.Requests.Memory), float64(o.MaxMemory)},
		{"memory limit", float64(s.Settings.Limits.Memory), float64(o.MaxMemory)},
	} {
		if math.IsNaN(v.value) || math.IsInf(v.value, 0) || v.value < 0 || v.value > v.max {
			t.Fatalf("row with %s %v, outside 0..%v", v.name, v.value, v.max)
		}
	}
}

// checkError checks that an error names the file and carries nothing that
// could drive a terminal, nor a whole field.
func checkError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "fuzz.csv:") {
		t.Fatalf("error without the file name: %q", msg)
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
		t.Fatalf("error with a control character: %q", msg)
	}
	if len(msg) > 4096 {
		t.Fatalf("error of %d bytes", len(msg))
	}
}

// FuzzParseNumber checks the fast path against strconv, which it must match
// bit for bit.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "0.25", "268435456", ".5", "5.", "1e3", "-1", "NaN", "+Inf",
		"123456789012345", "1234567890123456", "0.0000000000000000000001", "1_000", "0x1p-2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want float64
		var err, wantErr error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() {
			got, err = parseNumber([]byte(s))
			want, wantErr = strconv.ParseFloat(s, 64)
		})
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("parseNumber(%q) error %v, strconv %v", s, err, wantErr)
		}
		if err == nil && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, strconv %v", s, got, want)
		}
	})
}

// FuzzParseTime checks that a timestamp parses without a panic, in UTC, and
// that the writer's form of the instant reads back as the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1700000000", "1700000000.5", "-1.5", "+1", "1700000000.1234567891", "99999999999999999",
		"999999999999999999", "9999999999999999999", "2026-11-01T00:00:00Z", "2026-11-01 01:30:00+01:00",
		"2026-11-01T00:00:00.123456789Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", ".", "-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var tm time.Time
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { tm, err = parseTime([]byte(s)) })
		if err != nil {
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("parseTime(%q) in %v", s, tm.Location())
		}
		w := appendTime(nil, tm)
		back, err := parseTime(w)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("parseTime(%q) = %v, written %q, read back %v, %v", s, tm, w, back, err)
		}
	})
}

// FuzzLoadSketches reads any input into sketches: no panic, memory bounded
// by the input, and where the rows are in order the same rows used as the
// samples' reading uses.
func FuzzLoadSketches(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s)
	}
	o := testOptions()
	o.MaxCPU, o.MaxMemory = 64, 256*workload.GiB
	lo := livestate.Options{History: policy.Balanced().History}
	f.Fuzz(func(t *testing.T, data []byte) {
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() {
			_, sk, err := o.LoadSketches(bytes.NewReader(data), "fuzz.csv", lo)
			if err != nil {
				return // a ParseError, no usable row, or rows out of order: the samples' reading goes on
			}
			_, st, err := o.Load(bytes.NewReader(data), "fuzz.csv")
			if err != nil {
				t.Fatalf("sketches read it, samples not: %v", err)
			}
			if sk.Used != st.Used || sk.Read != st.Read {
				t.Fatalf("sketches used %d of %d rows, samples %d of %d", sk.Used, sk.Read, st.Used, st.Read)
			}
		})
	})
}
