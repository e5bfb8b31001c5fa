package usagecsv

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLookupGuessesTheNextSeries: rows whose order repeats instant after
// instant, then changes, with a row of an unknown kind in between, each
// come back with their own names and the same series number every time:
// a wrong guess of the next series falls back to the map.
func TestLookupGuessesTheNextSeries(t *testing.T) {
	orders := [][]string{
		{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"},
		{"c", "a", "b"},      // another order
		{"a", "x", "b", "c"}, // x: an unknown kind between two series
		{"a", "c"},           // b missing
		{"a", "b", "c", "d"}, // a new one
		{"a", "b", "c", "d"},
	}
	var b strings.Builder
	b.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes\n")
	for i, order := range orders {
		for _, name := range order {
			kind := "Deployment"
			if name == "x" {
				kind = "Gizmo"
			}
			fmt.Fprintf(&b, "%d,ns,%s,%s,%s-1,main,0.5,1000\n", 1700000000+300*i, kind, name, name)
		}
	}
	r, err := NewReader(strings.NewReader(b.String()), "order.csv")
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
