package prometheus

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGridSeriesRestarted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		points []int
		vals   []float64
		want   bool
	}{
		{"steady from the first point", []int{0, 1, 2}, []float64{3, 3, 3}, false},
		{"count grew", []int{0, 1, 2}, []float64{0, 0, 1}, true},
		{"new pod with restarts", []int{1, 2}, []float64{2, 2}, true},
		{"new pod without restarts", []int{1, 2}, []float64{0, 0}, false},
		{"count reset", []int{0, 1}, []float64{2, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, gridSeries{points: tc.points, vals: tc.vals}.restarted())
		})
	}
}

func TestChurnedPods(t *testing.T) {
	spanning := func() *stepValues {
		sv := &stepValues{}
		sv.cpu.add(0, 1)
		sv.mem.add(3, 1)
		return sv
	}
	late := &stepValues{}
	late.cpu.add(2, 1)
	late.mem.add(3, 1)
	a1, a2 := podSeries{"ns", "a", "app", ""}, podSeries{"ns", "a", "sidecar", ""}
	b, c, d := podSeries{"ns", "b", "app", ""}, podSeries{"ns", "c", "app", ""}, podSeries{"ns", "d", "app", ""}
	data := &chunkData{c: chunk{start: 0, end: 4}, usage: map[podSeries]*stepValues{
		a1: spanning(), a2: late, // a started within the chunk
		b: spanning(), // b lived through it, restart count seen
		c: spanning(), // c's restart count never seen
		d: late,
	}}
	seen := map[podSeries][]int{a1: {0}, a2: {0}, b: {0}, d: {0}}
	assert.Equal(t, []string{"a", "c", "d"}, churnedPods(data, seen))
}
