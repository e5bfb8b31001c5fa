package hpa

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadStateManyPods: a point of many pods keeps its count through
// Load, the encoding and the retention.
func TestLoadStateManyPods(t *testing.T) {
	s, err := NewLoadState(time.Minute, 5*time.Minute)
	require.NoError(t, err)
	t0 := time.Unix(1_700_000_040, 0).UTC()
	pods := []int{70_000, 2, 65_535, 65_534, 1, 1, 1, 1}
	names := make([]string, 70_000)
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
	}
	for m, n := range pods {
		for i := range n {
			s.Add(names[i], "app", t0.Add(time.Duration(m)*time.Minute), 0.001, true, 0, false)
		}
		if m == 4 {
			// Points 0–3 closed (Lateness is a minute, the step one).
			l := s.Load(t0, t0.Add(time.Hour))
			require.Len(t, l.Pods, 5)
			assert.Equal(t, []int{70_000, 2, 65_535, 65_534, 1}, l.Pods)
			assert.InDelta(t, 70.0, l.CPU[0], 1e-3)

			var back LoadState
			rest, err := back.UnmarshalBinary(s.AppendBinary(nil))
			require.NoError(t, err)
			assert.Empty(t, rest)
			assert.Equal(t, l.Pods, back.Load(t0, t0.Add(time.Hour)).Pods)
			assert.Equal(t, s.AppendBinary(nil), back.AppendBinary(nil))
		}
	}
	// Five points retained, from point 3 on.
	l := s.Load(t0, t0.Add(time.Hour))
	assert.Equal(t, 1, l.Pods[len(l.Pods)-1])
	assert.NotContains(t, l.Pods, 70_000)
}

// TestPointRing: the ring gives back the points pushed, in order, from any
// position, across blocks and after forgetting, whatever their bits.
func TestPointRing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := []struct {
		name string
		pt   func(i int) point
	}{
		{"empty", func(int) point { return point{} }},
		{"steady", func(int) point { return point{cpu: 1.5, pods: 3} }},
		{"noisy", func(int) point { return point{cpu: float32(r.ExpFloat64() * 4), pods: uint32(1 + r.IntN(3))} }},
		{"edges", func(i int) point {
			cpus := []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-30, 3e20}
			pods := []uint32{0, 1, math.MaxUint32, 65_535, 70_000, 1 << 31}
			return point{cpu: cpus[i%len(cpus)], pods: pods[i%len(pods)]}
		}},
		{"random bits", func(int) point {
			return point{cpu: math.Float32frombits(r.Uint32() &^ (0xff << 23) /* finite */), pods: r.Uint32()}
		}},
	}
	for _, kind := range kinds {
		for _, spill := range []string{"", "spilled", "spilled midway"} {
			name := kind.name
			if spill != "" {
				name += ", " + spill
			}
			t.Run(name, func(t *testing.T) {
				var ring pointRing
				var want []point
				sp := testSpill(t, 1000)
				if spill == "spilled" {
					ring.spillTo(sp)
				}
				for i := range 5*ringBlock + 17 {
					if spill == "spilled midway" && i == 2*ringBlock+3 {
						ring.spillTo(sp)
					}
					pt := kind.pt(i)
					ring.push(pt)
					want = append(want, pt)
					require.Equal(t, len(want), ring.size())
				}
				if spill != "" {
					require.Empty(t, ring.sealed, "the sealed blocks are in the file")
					require.Len(t, ring.spilled, 5)
				}
				testRing(t, &ring, want)
			})
		}
	}
}

// get returns the point at position k.
func (r *pointRing) get(k int) point {
	var got point
	r.scan(k, k+1, func(_ int, pt point) bool { got = pt; return false })
	return got
}

// testSpill returns a spill that writes every bufBytes.
func testSpill(t *testing.T, bufBytes int) *Spill {
	t.Helper()
	sp, err := NewSpill(t.TempDir())
	require.NoError(t, err)
	sp.buf = make([]byte, 0, bufBytes)
	return sp
}

// testRing checks a ring's points and then forgets and pushes more.
func testRing(t *testing.T, ring *pointRing, want []point) {
	t.Helper()
	check := func() {
		t.Helper()
		var got []point
		ring.scan(0, ring.size(), func(k int, pt point) bool {
			require.Equal(t, len(got), k)
			got = append(got, pt)
			return true
		})
		require.Equal(t, want, got)
		for _, k := range []int{0, 1, ringBlock - 1, ringBlock, ringBlock + 1, len(want) - 1} {
			if k < len(want) {
				require.Equal(t, want[k], ring.get(k), "position %d", k)
			}
		}
		// A stretch from the middle, and a scan stopped early.
		if len(want) > ringBlock+10 {
			var mid []point
			ring.scan(ringBlock-3, ringBlock+10, func(_ int, pt point) bool { mid = append(mid, pt); return true })
			require.Equal(t, want[ringBlock-3:ringBlock+10], mid)
		}
		n := 0
		ring.scan(0, ring.size(), func(int, point) bool { n++; return n < 3 })
		require.Equal(t, min(3, len(want)), n)
	}
	check()
	for _, d := range []int{1, ringBlock - 1, 2, ringBlock + 5} {
		ring.forget(d)
		want = want[d:]
		require.Equal(t, len(want), ring.size())
		check()
	}
	// Dropped blocks are let go.
	require.LessOrEqual(t, len(ring.sealed), len(want)/ringBlock+1)
	ring.push(point{cpu: 2, pods: 2})
	want = append(want, point{cpu: 2, pods: 2})
	check()
	ring.forget(ring.size())
	require.Zero(t, ring.size())
	require.Empty(t, ring.sealed)
	require.Empty(t, ring.spilled)
	ring.push(point{cpu: 1, pods: 1})
	want = []point{{cpu: 1, pods: 1}}
	check()
}

// A spill keeps its blocks through writes, and after the file fails
// keeps the new ones in memory and reports those it cannot read back.
func TestSpill(t *testing.T) {
	sp := testSpill(t, 100)
	blocks := [][]byte{[]byte("first block"), make([]byte, 90), []byte("third"), {}, []byte("the last, past the buffer")}
	for i := range blocks[1] {
		blocks[1][i] = byte(i)
	}
	var refs []uint64
	for _, b := range blocks {
		refs = append(refs, sp.put(b))
	}
	require.Positive(t, sp.flushed, "written as the buffer filled")
	for i, b := range blocks {
		require.Equal(t, string(b), string(sp.get(refs[i], nil)), "block %d", i)
	}
	require.NoError(t, sp.Err())
	require.Empty(t, sp.Warning())

	// The file fails: what it took reads as zeros and Err says so;
	// what it did not take stays in memory.
	require.NoError(t, sp.f.Close())
	late := make([]byte, 120)
	late[7] = 7
	ref := sp.put(late)
	require.Contains(t, sp.Warning(), "stayed in memory")
	require.Equal(t, late, sp.get(ref, nil))
	require.NoError(t, sp.Err())
	require.Equal(t, make([]byte, len(blocks[0])), sp.get(refs[0], nil))
	require.ErrorContains(t, sp.Err(), "reading the loads back")
}

// A load of noisy CPU takes a third less than the 6 bytes a point of
// columns: noise leaves some 20 bits of each float32 to keep.
func TestPointRingCompresses(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var ring pointRing
	n := 14 * 288
	for i := range n {
		cpu := 3 + 2*math.Sin(float64(i)*2*math.Pi/288) + r.NormFloat64()*0.3
		ring.push(point{cpu: float32(cpu), pods: uint32(2 + i/1000)})
	}
	bytes := len(ring.open.b)
	for _, b := range ring.sealed {
		bytes += len(b)
	}
	perPoint := float64(bytes) / float64(n)
	t.Logf("%.2f bytes a point", perPoint)
	require.Less(t, perPoint, 4.5)
}
