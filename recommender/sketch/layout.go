package sketch

import (
	"fmt"
	"math"
	"sync"
)

// layout is the immutable, precomputed form of a bucket layout, shared by
// all histograms (and Options values) with the same FirstBucket, Growth and
// Max.
type layout struct {
	n int
	// starts holds n+1 boundaries, starts[n] = +Inf, so starts[i+1] is
	// always the end of bucket i.
	starts []float64
	// lo and hi are starts[1] and starts[n-1] (+Inf if n < 2), the bounds
	// of the cells' range.
	lo, hi float64

	// The index of a value in [starts[1], starts[n-1]) is looked up by its
	// float64 bits: bits>>cellShift − cellBase selects a cell (an exponent
	// and the top mantissa bits), and cells[cell] is the bucket of the
	// cell's lowest value. Cells are normally narrower than buckets, so the
	// answer is that bucket or the next one.
	cellShift uint
	cellBase  uint64
	cells     []uint16
	// ends[i] is the bits of starts[i+1]. walk is set where a cell may
	// hold more than one bucket boundary, so that index must walk.
	ends []uint64
	walk bool
}

// maxCells bounds the lookup table of one layout.
const maxCells = 1 << 16

type layoutKey struct{ first, growth, max float64 }

// The cache is bounded because options may come from decoded input.
const maxCachedBytes = 4 << 20

var layouts struct {
	sync.Mutex
	m     map[layoutKey]*layout
	bytes int
}

// layoutOf returns the shared layout for options with n buckets that passed
// check.
func layoutOf(o Options, n int) (*layout, error) {
	k := layoutKey{o.FirstBucket, o.Growth, o.Max}
	layouts.Lock()
	l := layouts.m[k]
	layouts.Unlock()
	if l != nil {
		return l, nil
	}
	l, err := newLayout(o, n)
	if err != nil {
		return nil, err
	}
	layouts.Lock()
	defer layouts.Unlock()
	if prev := layouts.m[k]; prev != nil {
		return prev, nil
	}
	if layouts.m == nil {
		layouts.m = make(map[layoutKey]*layout)
	}
	if size := l.size(); layouts.bytes+size <= maxCachedBytes {
		layouts.m[k] = l
		layouts.bytes += size
	}
	return l, nil
}

func (l *layout) size() int { return 8*len(l.starts) + 8*len(l.ends) + 2*len(l.cells) + 64 }

func newLayout(o Options, n int) (*layout, error) {
	l := &layout{n: n, starts: make([]float64, n+1)}
	for i := range n {
		s := o.start(i)
		// Rounding could in principle make two starts equal or the last
		// one overflow; such a layout would break the index, so refuse it.
		if i > 0 && (!(s > l.starts[i-1]) || math.IsInf(s, 1)) {
			return nil, fmt.Errorf("sketch: bucket %d start %v is not above the previous one %v", i, s, l.starts[i-1])
		}
		l.starts[i] = s
	}
	l.starts[n] = math.Inf(1)
	l.lo, l.hi = l.starts[1], l.starts[max(n-1, 1)]
	if n < 3 {
		return l, nil // no bucket between starts[1] and starts[n-1]
	}
	// Mantissa bits per cell: the smallest m with 2^-m < Growth−1, so a
	// cell (relative width ≤ 2^-m) is narrower than any bucket (relative
	// width > Growth−1); fewer if the table would get too large, at the
	// cost of a longer walk in index.
	m := min(uint(math.Ceil(-math.Log2(o.Growth-1)))+1, 52)
	lo, hi := math.Float64bits(l.starts[1]), math.Float64bits(l.starts[n-1])
	for m > 0 && (hi>>(52-m))-(lo>>(52-m))+1 > maxCells {
		m--
	}
	l.cellShift = 52 - m
	l.cellBase = lo >> l.cellShift
	l.cells = make([]uint16, (hi>>l.cellShift)-l.cellBase+1)
	b := 0
	for c := range l.cells {
		// The lowest value of the cell; the first cell starts below
		// starts[1], where the bucket is 0.
		v := math.Float64frombits((l.cellBase + uint64(c)) << l.cellShift)
		for b+1 < n && v >= l.starts[b+1] {
			b++
		}
		l.cells[c] = uint16(b)
	}
	l.ends = make([]uint64, n)
	for i := range l.ends {
		l.ends[i] = math.Float64bits(l.starts[i+1])
	}
	// A value of cell c is in bucket cells[c] up to that of the next
	// cell's lowest value; one of the last cell is below hi, so in
	// bucket n−2 at most.
	for c, b := range l.cells {
		next := n - 2
		if c+1 < len(l.cells) {
			next = int(l.cells[c+1])
		}
		l.walk = l.walk || next-int(b) > 1
	}
	return l, nil
}

// index returns the bucket of v: the i with starts[i] ≤ v < starts[i+1].
func (l *layout) index(v float64) int {
	if !(v >= l.lo) { // also NaN
		return 0
	}
	if v >= l.hi {
		return l.n - 1
	}
	// v is positive and finite here, and its cell lies in the table.
	// (cellShift < 64: the mask spares the shift's overflow case.)
	vb := math.Float64bits(v)
	i := int(l.cells[vb>>(l.cellShift&63)-l.cellBase])
	// A cell holds at most one bucket boundary unless the table has
	// fewer mantissa bits (maxCells; walk): take that step without a
	// branch, which varying values would mispredict. ends[i] < 2^63 and
	// vb are the bits of positive numbers, which order as the numbers.
	i += int((l.ends[i] - vb - 1) >> 63)
	for l.walk && vb >= l.ends[i] {
		i++
	}
	return i
}
