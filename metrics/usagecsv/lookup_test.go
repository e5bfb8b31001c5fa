package usagecsv

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookupGuessesTheNextSeries: rows whose order repeats instant after
// instant, then changes, with a row of an unknown kind in between, each
// come back with their own names and the same series number every time:
// a wrong guess of the next series falls back to the map.
//
// The guess compares the names' text as the line has it, where the name
// columns are side by side: the same holds where they are not, and where
// some lines spell a name in quotes or with spaces around it.
func TestLookupGuessesTheNextSeries(t *testing.T) {
	orders := [][]string{
		{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"},
		{"c", "a", "b"},      // another order
		{"a", "x", "b", "c"}, // x: an unknown kind between two series
		{"a", "c"},           // b missing
		{"a", "b", "c", "d"}, // a new one
		{"a", "b", "c", "d"},
		{"a", "b", "c", "d"},
	}
	layouts := map[string]struct {
		header string
		row    func(ts int, kind, workload, pod string) string
	}{
		"names side by side": {"timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes",
			func(ts int, kind, w, pod string) string {
				return fmt.Sprintf("%d,ns,%s,%s,%s,main,0.5,1000", ts, kind, w, pod)
			}},
		"names apart": {"namespace,kind,timestamp,workload,cpu_cores,pod,container,memory_bytes",
			func(ts int, kind, w, pod string) string {
				return fmt.Sprintf("ns,%s,%d,%s,0.5,%s,main,1000", kind, ts, w, pod)
			}},
	}
	for name, layout := range layouts {
		for _, spelled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, spelled variously %v", name, spelled), func(t *testing.T) {
				var b strings.Builder
				b.WriteString(layout.header + "\n")
				n := 0
				for i, order := range orders {
					for _, name := range order {
						kind := "Deployment"
						if name == "x" {
							kind = "Gizmo"
						}
						w := name
						if n++; spelled && n%3 == 0 {
							w = `"` + name + `"`
						} else if spelled && n%5 == 0 {
							w = " " + name
						}
						b.WriteString(layout.row(1700000000+300*i, kind, w, name+"-1") + "\n")
					}
				}
				checkGuesses(t, b.String(), orders)
			})
		}
	}
}

// checkGuesses reads the file and checks that each row comes back with
// its names, in order, and with the same series number every time.
func checkGuesses(t *testing.T, file string, orders [][]string) {
	r, err := NewReader(strings.NewReader(file), "order.csv")
	require.NoError(t, err)
	ids := map[string]int{}
	var got []string
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		name := row.Key.Workload.Name
		assert.Equal(t, name+"-1", row.Sample.Pod)
		got = append(got, name)
		if id, ok := ids[name]; ok {
			assert.Equal(t, id, r.Series(), "%s keeps its series number", name)
		} else {
			ids[name] = r.Series()
		}
	}
	var want []string
	for _, order := range orders {
		for _, name := range order {
			if name != "x" {
				want = append(want, name)
			}
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, map[string]int{"a": 1, "b": 2, "c": 3, "d": 4}, ids)
	assert.Equal(t, 1, r.Stats().Skipped[SkipUnknownKind])
}

// TestSettingsKeptPerSeries: where the settings columns are side by side,
// a row whose settings text is its series' last takes what that parsed to;
// the rows and skips are those of the same file with the columns apart,
// where every row's settings are parsed, over settings that change, come
// back, are empty, negative or not numbers at all.
func TestSettingsKeptPerSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	values := []string{"0.5,1,268435456,536870912", "0.25,,134217728,", "0.5,1,268435456,536870912", ",,,", "-1,1,2,3", "0.5,1,NaN,0", "1,2,3,4"}
	var side, apart strings.Builder
	side.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes,cpu_request_cores,cpu_limit_cores,memory_request_bytes,memory_limit_bytes\n")
	apart.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_request_cores,cpu_cores,cpu_limit_cores,memory_bytes,memory_request_bytes,memory_limit_bytes\n")
	for i := range 400 {
		name := []string{"a", "b", "c"}[rng.IntN(3)]
		set := strings.Split(values[rng.IntN(len(values))], ",")
		if rng.IntN(8) == 0 {
			set[0] = "junk" // an unparsable value ends reading: only as the last row
			if i < 399 {
				set[0] = "0.5"
			}
		}
		ts := 1700000000 + 60*i
		fmt.Fprintf(&side, "%d,ns,Deployment,%s,%s-1,main,0.5,1000,%s\n", ts, name, name, strings.Join(set, ","))
		fmt.Fprintf(&apart, "%d,ns,Deployment,%s,%s-1,main,%s,0.5,%s,1000,%s,%s\n", ts, name, name, set[0], set[1], set[2], set[3])
	}
	read := func(file string) (rows []Row, errs []string, st Stats) {
		r, err := testOptions().NewReader(strings.NewReader(file), "usage.csv")
		require.NoError(t, err)
		for {
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				errs = append(errs, fmt.Sprint(pe.Line, pe.Column, pe.Value))
				break
			}
			rows = append(rows, row)
		}
		return rows, errs, r.Stats()
	}
	sideRows, sideErrs, sideStats := read(side.String())
	apartRows, apartErrs, apartStats := read(apart.String())
	require.NotEmpty(t, sideRows)
	require.Equal(t, apartRows, sideRows)
	require.Equal(t, apartErrs, sideErrs)
	require.Equal(t, apartStats, sideStats)
	require.NotZero(t, sideStats.Skipped[SkipNegative])
}
