package usagecsv

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/history"
)

func TestLoad(t *testing.T) {
	in := "timestamp,namespace,kind,workload,pod,container,cpu_cores\n" +
		"1700000300,ns,Deployment,web,web-1,app,0.2\n" +
		"1700000000,ns,Deployment,web,web-1,app,0.1\n" +
		"1700000300,ns,Deployment,web,web-1,app,0.9\n" + // duplicate: the first stays
		"1700000000,ns,Deployment,web,web-2,app,0.3\n"
	st, stats, err := Load(strings.NewReader(in), "usage.csv")
	require.NoError(t, err)
	assert.Equal(t, 3, st.Samples())
	assert.Equal(t, 4, stats.Read)
	assert.Equal(t, 3, stats.Used)
	assert.Equal(t, map[string]int{SkipDuplicate: 1}, stats.Skipped)
	series := st.Series(st.Containers()[0])
	require.Len(t, series, 2)
	assert.Equal(t, []float64{0.1, 0.2}, series[0].CPU, "sorted by time, first duplicate kept")

	_, _, err = Load(strings.NewReader("timestamp,namespace\n"), "bad.csv")
	assert.ErrorContains(t, err, "bad.csv:1")
	_, _, err = Load(strings.NewReader(in+"oops,ns,Deployment,web,web-1,app,0.1\n"), "usage.csv")
	assert.ErrorContains(t, err, "usage.csv:6")
}

// TestLoadRepeatedRowCostsNoMemory: every row was kept in the store until
// Finalize deduplicated, so 1 GiB of one row repeated took 1.76 GB. A row
// repeating its pod container's last timestamp is dropped as it arrives.
func TestLoadRepeatedRowCostsNoMemory(t *testing.T) {
	const size = 64 << 20
	row := "1700000000,shop,Deployment,web,web-1,app,0.25,268435456\n"
	rows := size / len(row)
	var st *history.Store
	var stats Stats
	var err error
	// About 29 bytes a sample would be 33 MB kept, twice that allocated.
	alloclimit.Check(t, 16<<20, func() {
		in := io.MultiReader(strings.NewReader("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes\n"),
			io.LimitReader(repeat(row), int64(rows*len(row))))
		st, stats, err = testOptions().Load(in, "usage.csv")
	})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Samples())
	assert.Equal(t, Stats{Read: rows, Used: 1, Skipped: map[string]int{SkipDuplicate: rows - 1}, First: map[string]int{SkipDuplicate: 3},
		Lines: map[string][]int{SkipDuplicate: {3, 4, 5, 6, 7}}}, stats)
	assert.Contains(t, stats.String(), "first duplicate at line 3")
}

func TestLoadDuplicates(t *testing.T) {
	h := "timestamp,namespace,kind,workload,pod,container,cpu_cores\n"
	for _, tc := range []struct {
		name, data string
		used       int
		want       string
	}{
		{"in order: found as they arrive, with a line", h +
			"1700000000,ns,Deployment,web,web-1,app,0.1\n" +
			"1700000000,ns,Deployment,web,web-2,app,0.1\n" +
			"1700000000,ns,Deployment,web,web-1,app,0.2\n" +
			"1700000300,ns,Deployment,web,web-1,app,0.2\n" +
			"1700000300,ns,Deployment,web,web-1,app,0.2\n",
			3, "read 5 rows, used 3, skipped 2 (2 duplicate): first duplicate at line 4"},
		{"out of order: found by sorting, without a line", h +
			"1700000300,ns,Deployment,web,web-1,app,0.1\n" +
			"1700000000,ns,Deployment,web,web-1,app,0.1\n" +
			"1700000300,ns,Deployment,web,web-1,app,0.2\n",
			2, "read 3 rows, used 2, skipped 1 (1 duplicate)"},
		{"both: the first is not known", h +
			"1700000300,ns,Deployment,web,web-1,app,0.1\n" +
			"1700000000,ns,Deployment,web,web-1,app,0.1\n" +
			"1700000300,ns,Deployment,web,web-1,app,0.2\n" +
			"1700000300,ns,Deployment,web,web-1,app,0.2\n",
			2, "read 4 rows, used 2, skipped 2 (2 duplicate)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, stats, err := testOptions().Load(strings.NewReader(tc.data), "usage.csv")
			require.NoError(t, err)
			assert.Equal(t, tc.used, st.Samples())
			assert.Equal(t, tc.used, stats.Used)
			assert.Equal(t, tc.want, stats.String())
		})
	}
}

// TestLoadDuplicatesAsOtherSkips: duplicates follow the policy of every
// other skipped row: -v lists the lines of the first ones found as they
// arrive, and --strict makes one an error, with its line where it is known.
func TestLoadDuplicatesAsOtherSkips(t *testing.T) {
	h := "timestamp,namespace,kind,workload,pod,container,cpu_cores\n"
	row := "1700000000,ns,Deployment,web,web-1,app,0.1\n"
	var repeated strings.Builder
	repeated.WriteString(h)
	for range 8 {
		repeated.WriteString(row)
	}
	_, stats, err := testOptions().Load(strings.NewReader(repeated.String()), "usage.csv")
	require.NoError(t, err)
	assert.Equal(t, []string{"duplicate at lines 3, 4, 5, 6, 7 and 2 more"}, stats.Details())

	strict := testOptions()
	strict.Strict = true
	for _, tc := range []struct{ name, data, want string }{
		{"as they arrive", h + row + row, "usage.csv:3: duplicate: the same pod, container and timestamp as the row before it (--strict skips no row)"},
		{"by sorting", h + row + "1700000300,ns,Deployment,web,web-1,app,0.1\n" + row,
			"usage.csv: 1 row repeats the pod, container and timestamp of another (--strict skips no row)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := strict.Load(strings.NewReader(tc.data), "usage.csv")
			assert.EqualError(t, err, tc.want)
		})
	}
	_, _, err = strict.Load(strings.NewReader(h+row), "usage.csv")
	assert.NoError(t, err, "no duplicate, no error")
}
