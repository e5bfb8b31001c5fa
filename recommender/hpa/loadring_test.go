package hpa

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadStateManyPods: a point of 65,535 pods or more keeps its count
// (aside from the ring's 16-bit column), through Load, the encoding and
// the retention, which forgets the counts kept aside with their points.
func TestLoadStateManyPods(t *testing.T) {
	s, err := NewLoadState(time.Minute, 5*time.Minute)
	require.NoError(t, err)
	t0 := time.Unix(1_700_000_040, 0).UTC()
	pods := []int{70_000, 2, manyPods, manyPods - 1, 1, 1, 1, 1}
	names := make([]string, 70_000)
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
	}
	for m, n := range pods {
		for i := range n {
			s.Add(names[i], "app", t0.Add(time.Duration(m)*time.Minute), 0.001, true, 0, false)
		}
		if m == 4 {
			// Points 0–2 closed (Lateness is a minute, the step one):
			// the two big counts kept aside, 70,000 and 65,535.
			l := s.Load(t0, t0.Add(time.Hour))
			require.Len(t, l.Pods, 5)
			assert.Equal(t, []int{70_000, 2, manyPods, manyPods - 1, 1}, l.Pods)
			assert.InDelta(t, 70.0, l.CPU[0], 1e-3)
			assert.Len(t, s.ring.big, 2)

			var back LoadState
			rest, err := back.UnmarshalBinary(s.AppendBinary(nil))
			require.NoError(t, err)
			assert.Empty(t, rest)
			assert.Equal(t, l.Pods, back.Load(t0, t0.Add(time.Hour)).Pods)
			assert.Equal(t, s.AppendBinary(nil), back.AppendBinary(nil))
		}
	}
	// Five points retained, from point 3 on: the big counts' points
	// forgotten, and the counts kept aside with them.
	l := s.Load(t0, t0.Add(time.Hour))
	assert.Equal(t, 1, l.Pods[len(l.Pods)-1])
	assert.NotContains(t, l.Pods, 70_000)
	assert.Empty(t, s.ring.big, "the counts of forgotten points are let go")
}

// TestPointRing: the columns give back what was set, across growth and
// wrapping, the big counts included.
func TestPointRing(t *testing.T) {
	var r pointRing
	r.grow(4, 0)
	for k := range 4 {
		r.set(k, int64(k), point{cpu: float32(k), pods: uint32(k) * 40_000})
	}
	assert.Equal(t, point{cpu: 2, pods: 80_000}, r.get(2, 2))
	assert.Equal(t, point{cpu: 1, pods: 40_000}, r.get(1, 1))
	r.forget(2, 0) // points 0 and 1 go; 2 and 3 stay at positions 0, 1
	assert.Equal(t, map[int64]uint32{2: 80_000, 3: 120_000}, r.big)
	r.set(2, 4, point{cpu: 4, pods: 7})
	r.set(3, 5, point{cpu: 5, pods: 1 << 31}) // wraps around
	r.grow(8, 4)
	want := []point{{2, 80_000}, {3, 120_000}, {4, 7}, {5, 1 << 31}}
	for k, w := range want {
		assert.Equal(t, w, r.get(k, int64(k+2)), "position %d", k)
	}
	r.set(1, 3, point{cpu: 3, pods: 3}) // a big count overwritten
	assert.Equal(t, map[int64]uint32{2: 80_000, 5: 1 << 31}, r.big)
	r.forget(3, 2)
	assert.Equal(t, map[int64]uint32{5: 1 << 31}, r.big)
}
