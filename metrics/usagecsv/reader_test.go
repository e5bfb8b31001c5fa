package usagecsv

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

const header = "timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes," +
	"cpu_request_cores,cpu_limit_cores,memory_request_bytes,memory_limit_bytes,oom_killed,cpu_throttled_fraction\n"

// good is a usable row for the full header.
const good = "1700000000,shop,Deployment,web,web-1,app,0.25,268435456,0.5,1,536870912,1073741824,0,0.1\n"

// readAll reads every row of a file, stopping at the first error.
func readAll(t *testing.T, data, name string) ([]Row, Stats, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(data), name)
	if err != nil {
		return nil, Stats{}, err
	}
	var rows []Row
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, r.Stats(), nil
		}
		if err != nil {
			return rows, r.Stats(), err
		}
		rows = append(rows, row)
	}
}

func TestReadRow(t *testing.T) {
	rows, st, err := readAll(t, header+good, "usage.csv")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	want := Row{
		Key: workload.ContainerKey{
			Workload:  workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"},
			Container: "app",
		},
		Sample: workload.Sample{
			Time:   time.Unix(1700000000, 0).UTC(),
			Pod:    "web-1",
			CPU:    0.25,
			HasCPU: true, Memory: 256 * workload.MiB, HasMemory: true,
			Throttled: 0.1, HasThrottled: true,
			Settings: workload.Settings{
				Requests: workload.Resources{CPU: 500, Memory: 512 * workload.MiB},
				Limits:   workload.Resources{CPU: 1000, Memory: workload.GiB},
			},
		},
	}
	assert.Equal(t, want, rows[0])
	assert.Equal(t, Stats{Read: 1, Used: 1, Skipped: map[string]int{}, First: map[string]int{}}, st)
}

func TestMissingColumns(t *testing.T) {
	full := strings.Split(strings.TrimSpace(header), ",")
	for _, col := range []string{"timestamp", "namespace", "kind", "workload", "pod", "container"} {
		t.Run(col, func(t *testing.T) {
			var cols []string
			for _, c := range full {
				if c != col {
					cols = append(cols, c)
				}
			}
			_, err := NewReader(strings.NewReader(strings.Join(cols, ",")+"\n"), "usage.csv")
			require.Error(t, err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 1, pe.Line)
			assert.Equal(t, col, pe.Column)
			assert.ErrorIs(t, err, errMissingColumn)
			assert.Equal(t, fmt.Sprintf(`usage.csv:1: column %q: required column is missing`, col), err.Error())
		})
	}
	t.Run("all missing columns are named", func(t *testing.T) {
		_, err := NewReader(strings.NewReader("time,namespace,kind,workload,pod,container,cpu_cores\n"), "u.csv")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `u.csv:1: column "timestamp"`)
	})
	t.Run("neither usage column", func(t *testing.T) {
		_, err := NewReader(strings.NewReader("timestamp,namespace,kind,workload,pod,container,cpu_request_cores\n"), "usage.csv")
		require.Error(t, err)
		assert.ErrorIs(t, err, errNoUsageColumns)
		assert.Equal(t, `usage.csv:1: need at least one of the columns "cpu_cores" and "memory_bytes"`, err.Error())
	})
	t.Run("one usage column is enough", func(t *testing.T) {
		for _, h := range []string{
			"timestamp,namespace,kind,workload,pod,container,cpu_cores\n1700000000,a,Pod,p,p,c,0.5\n",
			"timestamp,namespace,kind,workload,pod,container,memory_bytes\n1700000000,a,Pod,p,p,c,1000\n",
		} {
			rows, _, err := readAll(t, h, "usage.csv")
			require.NoError(t, err)
			require.Len(t, rows, 1)
		}
	})
	t.Run("column listed twice", func(t *testing.T) {
		_, err := NewReader(strings.NewReader("timestamp,namespace,kind,workload,pod,container,cpu_cores, cpu_cores\n"), "usage.csv")
		require.Error(t, err)
		assert.Equal(t, `usage.csv:1: column "cpu_cores": column is listed twice`, err.Error())
	})
	t.Run("empty file", func(t *testing.T) {
		_, err := NewReader(strings.NewReader(""), "usage.csv")
		assert.EqualError(t, err, "usage.csv:1: no header: the file is empty")
	})
}

func TestUnparsable(t *testing.T) {
	// Each case replaces one cell of the second data row (line 3).
	for _, tc := range []struct {
		column, value, want string
	}{
		{"timestamp", "yesterday", `usage.csv:3: column "timestamp": parsing "yesterday": want Unix seconds or RFC 3339`},
		{"timestamp", "", `usage.csv:3: column "timestamp": empty value`},
		{"timestamp", "2026-11-01", `usage.csv:3: column "timestamp": parsing "2026-11-01": want Unix seconds or RFC 3339`},
		{"timestamp", "1700000000.5.1", `usage.csv:3: column "timestamp": parsing "1700000000.5.1": want Unix seconds or RFC 3339`},
		{"cpu_cores", "abc", `usage.csv:3: column "cpu_cores": parsing "abc": invalid syntax`},
		{"memory_bytes", "1Gi", `usage.csv:3: column "memory_bytes": parsing "1Gi": invalid syntax`},
		{"cpu_request_cores", "500m", `usage.csv:3: column "cpu_request_cores": parsing "500m": invalid syntax`},
		{"cpu_limit_cores", "1,5", ``}, // an extra field: wrong number of fields
		{"cpu_limit_cores", "one", `usage.csv:3: column "cpu_limit_cores": parsing "one": invalid syntax`},
		{"memory_request_bytes", "0x", `usage.csv:3: column "memory_request_bytes": parsing "0x": invalid syntax`},
		{"memory_limit_bytes", "1e", `usage.csv:3: column "memory_limit_bytes": parsing "1e": invalid syntax`},
		{"oom_killed", "2", `usage.csv:3: column "oom_killed": parsing "2": want 0 or 1`},
		{"oom_killed", "yes", `usage.csv:3: column "oom_killed": parsing "yes": want 0 or 1`},
		{"cpu_throttled_fraction", "half", `usage.csv:3: column "cpu_throttled_fraction": parsing "half": invalid syntax`},
	} {
		t.Run(tc.column+"="+tc.value, func(t *testing.T) {
			rows, _, err := readAll(t, header+good+withCell(t, good, tc.column, tc.value)+good, "usage.csv")
			require.Error(t, err)
			assert.Len(t, rows, 1, "the rows before the bad one are returned")
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "usage.csv", pe.File)
			assert.Equal(t, 3, pe.Line)
			if tc.want == "" {
				assert.ErrorIs(t, err, csv.ErrFieldCount)
				return
			}
			assert.Equal(t, tc.column, pe.Column)
			assert.Equal(t, tc.value, pe.Value)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

// withCell returns row with the cell of column replaced by value.
func withCell(t *testing.T, row, column, value string) string {
	t.Helper()
	cols := strings.Split(strings.TrimSpace(header), ",")
	cells := strings.Split(strings.TrimSpace(row), ",")
	for i, c := range cols {
		if c == column {
			cells[i] = value
			return strings.Join(cells, ",") + "\n"
		}
	}
	t.Fatalf("no column %q", column)
	return ""
}

func TestUnparsableRejectsSkippedRows(t *testing.T) {
	// The kind alone would skip the row, but a bad number still rejects the file.
	row := withCell(t, withCell(t, good, "kind", "Widget"), "cpu_cores", "abc")
	_, _, err := readAll(t, header+row, "usage.csv")
	assert.EqualError(t, err, `usage.csv:2: column "cpu_cores": parsing "abc": invalid syntax`)
}

// TestStrict: with Strict, a row that would be skipped is an error naming
// its line and the reason; without, it is skipped and counted.
func TestStrict(t *testing.T) {
	strict := DefaultOptions()
	strict.Strict = true
	for _, tc := range []struct{ column, value, want string }{
		{"kind", "Widget", "usage.csv:3: unknown kind (--strict skips no row)"},
		{"cpu_cores", "-1", "usage.csv:3: negative value (--strict skips no row)"},
		{"cpu_cores", "NaN", "usage.csv:3: not a number (--strict skips no row)"},
	} {
		data := header + good + withCell(t, good, tc.column, tc.value) + good
		rows, st, err := readAll(t, data, "usage.csv")
		require.NoError(t, err)
		assert.Len(t, rows, 2)
		assert.Equal(t, 1, st.SkippedTotal())
		cr, err := strict.NewReader(strings.NewReader(data), "usage.csv")
		require.NoError(t, err)
		_, err = cr.Read()
		require.NoError(t, err)
		_, err = cr.Read()
		assert.EqualError(t, err, tc.want)
	}
}

func TestMalformedCSV(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line       int
		err        error
	}{
		{"bare quote", header + good + `1700000000,shop,Deployment,we"b,web-1,app,0.25,1,,,,,0,` + "\n", 3, csv.ErrBareQuote},
		{"text after closing quote", header + good + `1700000000,shop,Deployment,"web"x,web-1,app,0.25,1,,,,,0,` + "\n", 3, csv.ErrQuote},
		// Reported where the quote opens, not at the end of the file.
		{"unterminated quote", header + good + good + `1700000000,shop,Deployment,"web,web-1,app,0.25,1,,,,,0,` + "\n" + good + good, 4, csv.ErrQuote},
		{"too few fields", header + "1700000000,shop,Deployment,web,web-1,app,0.25\n", 2, csv.ErrFieldCount},
		{"too many fields", header + good + good + strings.TrimSpace(good) + ",extra\n", 4, csv.ErrFieldCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.data, "usage.csv")
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.line, pe.Line)
			assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("usage.csv:%d: ", tc.line)), err.Error())
		})
	}
}

func TestErrorsAreFinal(t *testing.T) {
	r, err := NewReader(strings.NewReader(header+withCell(t, good, "cpu_cores", "x")+good), "usage.csv")
	require.NoError(t, err)
	_, err1 := r.Read()
	_, err2 := r.Read()
	require.Error(t, err1)
	assert.Same(t, err1, err2)

	r, err = NewReader(strings.NewReader(header), "usage.csv")
	require.NoError(t, err)
	for range 2 {
		_, err = r.Read()
		assert.Equal(t, io.EOF, err)
	}
}

func TestSkips(t *testing.T) {
	for _, tc := range []struct {
		column, value, reason string
	}{
		{"cpu_cores", "-0.1", SkipNegative},
		{"memory_bytes", "-1", SkipNegative},
		{"cpu_request_cores", "-1", SkipNegative},
		{"cpu_limit_cores", "-1", SkipNegative},
		{"memory_request_bytes", "-5", SkipNegative},
		{"memory_limit_bytes", "-5", SkipNegative},
		{"cpu_throttled_fraction", "-0.5", SkipNegative},
		{"cpu_cores", "NaN", SkipNaN},
		{"memory_bytes", "nan", SkipNaN},
		{"memory_limit_bytes", "NaN", SkipNaN},
		{"cpu_throttled_fraction", "NaN", SkipNaN},
		{"cpu_cores", "Inf", SkipInfinite},
		{"cpu_cores", "+Inf", SkipInfinite},
		{"memory_bytes", "-Inf", SkipInfinite},
		{"memory_bytes", "1e400", SkipInfinite},
		{"cpu_request_cores", "inf", SkipInfinite},
		{"kind", "Widget", SkipUnknownKind},
		{"kind", "deployment", SkipUnknownKind},
		{"kind", "", SkipUnknownKind},
		{"namespace", "", SkipMissingName},
		{"workload", "", SkipMissingName},
		{"pod", "", SkipMissingName},
		{"container", " ", SkipMissingName},
		{"cpu_throttled_fraction", "1.5", SkipThrottleRange},
	} {
		t.Run(tc.column+"="+tc.value, func(t *testing.T) {
			rows, st, err := readAll(t, header+good+withCell(t, good, tc.column, tc.value)+good, "usage.csv")
			require.NoError(t, err)
			assert.Len(t, rows, 2)
			assert.Equal(t, Stats{Read: 3, Used: 2, Skipped: map[string]int{tc.reason: 1}, First: map[string]int{tc.reason: 3}, Lines: map[string][]int{tc.reason: {3}}}, st)
		})
	}
	t.Run("no usage", func(t *testing.T) {
		noUsage := withCell(t, withCell(t, good, "cpu_cores", ""), "memory_bytes", "")
		oom := withCell(t, noUsage, "oom_killed", "1")
		rows, st, err := readAll(t, header+noUsage+noUsage+oom, "usage.csv")
		require.NoError(t, err)
		assert.Equal(t, Stats{Read: 3, Used: 1, Skipped: map[string]int{SkipNoUsage: 2}, First: map[string]int{SkipNoUsage: 2}, Lines: map[string][]int{SkipNoUsage: {2, 3}}}, st)
		require.Len(t, rows, 1, "an OOM kill is usage enough")
		s := rows[0].Sample
		assert.True(t, s.OOMKilled)
		assert.False(t, s.HasCPU)
		assert.False(t, s.HasMemory)
	})
	t.Run("counts add up", func(t *testing.T) {
		data := header + good +
			withCell(t, good, "kind", "Widget") +
			withCell(t, good, "kind", "Widget") +
			withCell(t, good, "cpu_cores", "-1") + good
		_, st, err := readAll(t, data, "usage.csv")
		require.NoError(t, err)
		assert.Equal(t, 5, st.Read)
		assert.Equal(t, 2, st.Used)
		assert.Equal(t, 3, st.SkippedTotal())
		assert.Equal(t, "read 5 rows, used 2, skipped 3 (2 unknown kind, 1 negative value): "+
			"first unknown kind at line 3, first negative value at line 5", st.String())
		assert.Equal(t, []string{"negative value at line 5", "unknown kind at lines 3, 4"}, st.Details())
	})
	t.Run("the first lines per reason", func(t *testing.T) {
		data := header
		for range ListedLines + 3 {
			data += withCell(t, good, "kind", "Widget")
		}
		_, st, err := readAll(t, data, "usage.csv")
		require.NoError(t, err)
		assert.Equal(t, []string{"unknown kind at lines 2, 3, 4, 5, 6 and 3 more"}, st.Details())
	})
}

func TestEmptyCells(t *testing.T) {
	row := withCell(t, good, "cpu_cores", "")
	for _, c := range []string{"cpu_request_cores", "cpu_limit_cores", "memory_request_bytes", "memory_limit_bytes", "oom_killed", "cpu_throttled_fraction"} {
		row = withCell(t, row, c, "")
	}
	rows, _, err := readAll(t, header+row, "usage.csv")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	s := rows[0].Sample
	assert.False(t, s.HasCPU, "an empty cell is no sample, not zero")
	assert.True(t, s.HasMemory)
	assert.False(t, s.HasThrottled)
	assert.False(t, s.OOMKilled)
	assert.True(t, s.Settings.IsZero())
}

func TestValues(t *testing.T) {
	cpuReq := func(s workload.Sample) any { return s.Settings.Requests.CPU }
	cpuLim := func(s workload.Sample) any { return s.Settings.Limits.CPU }
	memReq := func(s workload.Sample) any { return s.Settings.Requests.Memory }
	for _, tc := range []struct {
		column, value string
		get           func(workload.Sample) any
		want          any
	}{
		{"cpu_request_cores", "0.25", cpuReq, workload.Millicores(250)},
		{"cpu_request_cores", "0.0001", cpuReq, workload.Millicores(1)}, // rounds up
		{"cpu_limit_cores", "2", cpuLim, workload.Millicores(2000)},
		{"cpu_limit_cores", "0", cpuLim, workload.Millicores(0)},
		{"memory_request_bytes", "1.5e9", memReq, workload.Bytes(1_500_000_000)},
		{"memory_bytes", "1000.6", func(s workload.Sample) any { return s.Memory }, workload.Bytes(1001)},
		{"cpu_cores", " 0.5 ", func(s workload.Sample) any { return s.CPU }, workload.Cores(0.5)},
		{"cpu_cores", "0", func(s workload.Sample) any { return [2]any{s.CPU, s.HasCPU} }, [2]any{workload.Cores(0), true}},
		{"oom_killed", "1", func(s workload.Sample) any { return s.OOMKilled }, true},
		{"oom_killed", "true", func(s workload.Sample) any { return s.OOMKilled }, true},
		{"oom_killed", "False", func(s workload.Sample) any { return s.OOMKilled }, false},
		{"cpu_throttled_fraction", "1", func(s workload.Sample) any { return s.Throttled }, 1.0},
		{"cpu_throttled_fraction", "0", func(s workload.Sample) any { return [2]any{s.Throttled, s.HasThrottled} }, [2]any{0.0, true}},
	} {
		t.Run(tc.column+"="+tc.value, func(t *testing.T) {
			rows, _, err := readAll(t, header+withCell(t, good, tc.column, tc.value), "usage.csv")
			require.NoError(t, err)
			require.Len(t, rows, 1)
			assert.Equal(t, tc.want, tc.get(rows[0].Sample))
		})
	}
}

func TestTimestamps(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.5", time.Unix(1700000000, 5e8)},
		{"1700000000.123456789", time.Unix(1700000000, 123456789)},
		{"1700000000.1234567891", time.Unix(1700000000, 123456789)},
		{"1700000000.", time.Unix(1700000000, 0)},
		{"2026-11-01T00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T00:00:00.25Z", time.Date(2026, 11, 1, 0, 0, 0, 25e7, time.UTC)},
		{"2026-11-01T01:30:00+01:00", time.Date(2026, 11, 1, 0, 30, 0, 0, time.UTC)},
		{"2026-11-01 00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			rows, _, err := readAll(t, header+withCell(t, good, "timestamp", tc.in), "usage.csv")
			require.NoError(t, err)
			require.Len(t, rows, 1)
			got := rows[0].Sample.Time
			assert.True(t, tc.want.Equal(got), "got %v, want %v", got, tc.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

// TestCluster: the cluster column names each row's cluster; the same
// workload in two clusters is two workloads, a row without a cluster is of
// none, and a name no terminal prints as itself is skipped.
func TestCluster(t *testing.T) {
	data := "timestamp,namespace,kind,workload,pod,container,cpu_cores,cluster\n" +
		"1700000000,shop,Deployment,web,web-1,app,0.5,prod-eu\n" +
		"1700000000,shop,Deployment,web,web-1,app,0.5,arn:aws:eks:eu-west-1:123456789012:cluster/prod\n" +
		"1700000000,shop,Deployment,web,web-1,app,0.5,\n" +
		"1700000000,shop,Deployment,web,web-1,app,0.5,\"bad\x1b[31m\"\n" +
		"1700000000,shop,Deployment,web,web-1,app,0.5," + strings.Repeat("c", 254) + "\n"
	rows, st, err := readAll(t, data, "usage.csv")
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, "prod-eu", rows[0].Key.Workload.Cluster)
	assert.Equal(t, "shop/Deployment/web@prod-eu/app", rows[0].Key.String())
	assert.Equal(t, "arn:aws:eks:eu-west-1:123456789012:cluster/prod", rows[1].Key.Workload.Cluster)
	assert.Empty(t, rows[2].Key.Workload.Cluster)
	assert.NotEqual(t, rows[0].Key, rows[1].Key)
	assert.Equal(t, 2, st.Skipped[SkipInvalidName], "a control character, a name too long")

	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Cluster = true
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	back, _, err := readAll(t, buf.String(), "again.csv")
	require.NoError(t, err)
	require.Len(t, back, 3)
	for i := range rows {
		assert.Equal(t, rows[i].Key, back[i].Key, "written and read back")
	}
	assert.True(t, strings.HasSuffix(strings.SplitN(buf.String(), "\n", 2)[0], ",cluster"))

	// Only the clusters asked for, even with --strict: a choice, not bad
	// input.
	o := DefaultOptions()
	o.Clusters, o.Strict = []string{"prod-eu", ""}, true
	cr, err := o.NewReader(strings.NewReader(buf.String()), "again.csv")
	require.NoError(t, err)
	var keys []workload.ContainerKey
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		keys = append(keys, row.Key)
	}
	require.Len(t, keys, 2)
	assert.Equal(t, "prod-eu", keys[0].Workload.Cluster)
	assert.Empty(t, keys[1].Workload.Cluster, "\"\" asks for the rows of no named cluster")
	assert.Equal(t, 1, cr.Stats().Skipped[SkipOtherCluster])
}

func TestLayout(t *testing.T) {
	t.Run("column order, extra columns, spaces, BOM, CRLF", func(t *testing.T) {
		data := "\ufeff\" container \", pod,zone,memory_bytes,namespace,kind,workload,timestamp\r\n" +
			"app,web-1,eu-1a,1048576,shop,Deployment,web,1700000000\r\n" +
			"\r\n" +
			"app,web-1,eu-1a,2097152,shop,Deployment,web,1700000300"
		rows, st, err := readAll(t, data, "usage.csv")
		require.NoError(t, err)
		require.Len(t, rows, 2)
		assert.Equal(t, "shop/Deployment/web/app", rows[0].Key.String())
		assert.Equal(t, "web-1", rows[1].Sample.Pod)
		assert.Equal(t, 2*workload.MiB, rows[1].Sample.Memory)
		assert.False(t, rows[0].Sample.HasCPU)
		assert.Equal(t, 2, st.Read)
	})
	t.Run("quoted fields", func(t *testing.T) {
		data := "timestamp,namespace,kind,workload,pod,container,cpu_cores,note\n" +
			`1700000000,"shop","Deployment","web","web-1","app",0.25,"a ""b"", c` + "\n" + `d"` + "\n" +
			"1700000000,shop,Deployment,web,web-1,app,x,\n"
		rows, _, err := readAll(t, data, "usage.csv")
		require.Len(t, rows, 1)
		assert.Equal(t, "app", rows[0].Key.Container)
		assert.EqualError(t, err, `usage.csv:4: column "cpu_cores": parsing "x": invalid syntax`,
			"line numbers count the lines inside quoted fields")
	})
	t.Run("line as long as the read buffer", func(t *testing.T) {
		prefix := "1700000000,a,Pod,p,p,c,0.5,"
		long := strings.Repeat("x", MaxLineLength-len(prefix)-2)
		data := "timestamp,namespace,kind,workload,pod,container,cpu_cores,note\n" +
			prefix + long + "xx\r\n" +
			prefix + "\"" + long + "\"\n" +
			"1700000000,a,Pod,p,p,c,x,\n"
		rows, _, err := readAll(t, data, "usage.csv")
		assert.Len(t, rows, 2)
		assert.EqualError(t, err, `usage.csv:4: column "cpu_cores": parsing "x": invalid syntax`)
	})
}

func TestGzipByMagic(t *testing.T) {
	data := header + good + good
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, err := zw.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	for _, tc := range []struct{ name, data string }{
		{"usage.csv", zipped.String()},    // gzip named like plain text
		{"usage.csv.gz", data},            // plain text named like gzip
		{"usage.csv.gz", zipped.String()}, // as named
		{"usage", data},
	} {
		rows, st, err := readAll(t, tc.data, tc.name)
		require.NoError(t, err, tc.name)
		assert.Len(t, rows, 2, tc.name)
		assert.Equal(t, 2, st.Used)
	}

	t.Run("truncated gzip", func(t *testing.T) {
		_, _, err := readAll(t, zipped.String()[:zipped.Len()-10], "usage.csv.gz")
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(err.Error(), "usage.csv.gz:"), err.Error())
	})
}

func TestParseNumberMatchesStrconv(t *testing.T) {
	inputs := []string{"0", "00", "0.0", "1", "10", "0.1", ".5", "5.", "0.0005", "123456789012345",
		"1234567890123456", "0.30000000000000004", "268435456", "1e3", "-1", "+1", "9007199254740993",
		"0.0000000000000000000001", "0.00000000000000000000001", "1.7976931348623157e308", "3.14159"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		digits := 1 + rng.IntN(17)
		s := strconv.FormatUint(rng.Uint64()%uint64(math.Pow10(min(digits, 19))), 10)
		if p := rng.IntN(len(s) + 1); p < len(s) {
			s = s[:p] + "." + s[p:]
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		want, wantErr := strconv.ParseFloat(in, 64)
		got, err := parseNumber([]byte(in))
		require.Equal(t, wantErr == nil, err == nil, in)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), in)
	}
}

func TestStatsString(t *testing.T) {
	for _, tc := range []struct {
		st   Stats
		want string
	}{
		{Stats{}, "read 0 rows, used 0, skipped 0"},
		{Stats{Read: 1, Used: 1}, "read 1 row, used 1, skipped 0"},
		{Stats{Read: 1000, Used: 990, Skipped: map[string]int{SkipNegative: 4, SkipUnknownKind: 6}},
			"read 1000 rows, used 990, skipped 10 (6 unknown kind, 4 negative value)"},
		{Stats{Read: 9, Used: 3, Skipped: map[string]int{"b": 2, "a": 2, "c": 2, "z": 0}},
			"read 9 rows, used 3, skipped 6 (2 a, 2 b, 2 c)"},
	} {
		assert.Equal(t, tc.want, tc.st.String())
	}
}

func TestStatsSkip(t *testing.T) {
	var st Stats
	st.Read, st.Used = 10, 10
	st.Skip(SkipDuplicate, 3)
	st.Skip(SkipDuplicate, 1)
	st.Skip("ignored", 0)
	assert.Equal(t, Stats{Read: 10, Used: 6, Skipped: map[string]int{SkipDuplicate: 4}}, st)
	assert.Equal(t, 4, st.SkippedTotal())
	assert.Equal(t, "read 10 rows, used 6, skipped 4 (4 duplicate)", st.String())

	// A line is kept while every row of the reason has one.
	st = Stats{Read: 10, Used: 10}
	st.SkipAt(SkipDuplicate, 2, 7)
	st.SkipAt(SkipDuplicate, 1, 5)
	st.SkipAt(SkipNegative, 1, 9)
	assert.Equal(t, Stats{Read: 10, Used: 6, Skipped: map[string]int{SkipDuplicate: 3, SkipNegative: 1},
		First: map[string]int{SkipDuplicate: 5, SkipNegative: 9}}, st)
	assert.Equal(t, "read 10 rows, used 6, skipped 4 (3 duplicate, 1 negative value): "+
		"first duplicate at line 5, first negative value at line 9", st.String())
	st.Skip(SkipDuplicate, 1)
	assert.Equal(t, map[string]int{SkipNegative: 9}, st.First, "duplicates without a line: the first is no longer known")
	st.SkipAt(SkipDuplicate, 1, 2)
	assert.Equal(t, map[string]int{SkipNegative: 9}, st.First)

	// Stats returns a copy the caller may change.
	r, err := NewReader(strings.NewReader(header+good), "usage.csv")
	require.NoError(t, err)
	_, err = r.Read()
	require.NoError(t, err)
	st = r.Stats()
	st.Skip(SkipDuplicate, 1)
	assert.Equal(t, Stats{Read: 1, Used: 1, Skipped: map[string]int{}, First: map[string]int{}}, r.Stats())
}

func TestInterning(t *testing.T) {
	rows, _, err := readAll(t, header+good+good, "usage.csv")
	require.NoError(t, err)
	require.Len(t, rows, 2)
	// Both rows hold the very same strings: retained memory does not grow per row.
	assert.Equal(t, unsafeData(rows[0].Sample.Pod), unsafeData(rows[1].Sample.Pod))
	assert.Equal(t, unsafeData(rows[0].Key.Container), unsafeData(rows[1].Key.Container))
}

func TestReadAllocations(t *testing.T) {
	data := benchFile(t, 20_000, 100)
	allocs := testing.AllocsPerRun(3, func() {
		r, err := NewReader(bytes.NewReader(data), "bench.csv")
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				return
			}
		}
	})
	// A few hundred allocations for interning 100 series, none per row.
	assert.Less(t, allocs, 1000.0)
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func TestReadAheadStops(t *testing.T) {
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, err := zw.Write([]byte(s))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		return b.String()
	}
	// Enough rows that the goroutine inflating ahead is still busy when the
	// bad row rejects the file.
	body := strings.Repeat(good, 100_000)
	before := runtime.NumGoroutine()
	for _, data := range []string{
		gz(header + good + withCell(t, good, "cpu_cores", "x") + body),
		gz("timestamp\n" + body),
	} {
		_, _, err := readAll(t, data, "usage.csv.gz")
		require.Error(t, err)
	}
	waitGoroutines(t, before, "the goroutines reading ahead end with the error")

	// A Reader dropped before the end stops its goroutine once collected.
	func() {
		r, err := NewReader(strings.NewReader(gz(header+body)), "usage.csv.gz")
		require.NoError(t, err)
		_, err = r.Read()
		require.NoError(t, err)
	}()
	waitGoroutines(t, before, "a dropped Reader stops reading ahead")
}

func waitGoroutines(t *testing.T, want int, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), want, msg)
}
