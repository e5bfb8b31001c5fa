package hpa

import (
	"math"
	"math/bits"
	"slices"
)

// pointRing keeps a load's closed points, oldest first, compressed: a
// fleet's loads over two weeks at 5-minute points are most of what a plan
// from sketches holds. Points are appended and forgotten from the front.
// They are encoded as a time-series store encodes samples: the pod count
// as one bit when unchanged, the CPU's float32 bits XORed with the point
// before, its meaningful bits alone, within the last such window when
// they fit it. A load's CPU keeps some 20 meaningful bits a point where
// the columns took 48 bits for CPU and pods.
//
// The points are cut into blocks of ringBlock, each encoded from a clean
// state so that forgetting drops whole blocks; the newest block is open
// and grows bit by bit.
type pointRing struct {
	sealed [][]byte
	// With a spill, the sealed blocks are in its file and spilled holds
	// their references instead of sealed.
	spill   *Spill
	spilled []uint64
	open    bitWriter
	enc     pointCoder
	n       int // points in the open block
	// skip is how many points at the front of the first block are
	// forgotten.
	skip int
}

// ringBlock is how many points a block holds: five hours at 5-minute
// points, some 220 bytes. Each load keeps its open block's buffer: on a
// fleet, halving the blocks from 128 points took 4 MB off a plan's peak.
const ringBlock = 64

// blocks returns how many blocks are sealed.
func (r *pointRing) blocks() int { return len(r.sealed) + len(r.spilled) }

// size returns how many points the ring holds.
func (r *pointRing) size() int { return r.blocks()*ringBlock + r.n - r.skip }

// spillTo moves the sealed blocks to sp, and those sealed from now on.
func (r *pointRing) spillTo(sp *Spill) {
	for _, b := range r.sealed {
		r.spilled = append(r.spilled, sp.put(b))
	}
	r.sealed, r.spill = nil, sp
}

// reset empties the ring.
func (r *pointRing) reset() {
	clear(r.sealed)
	r.sealed, r.spilled = r.sealed[:0], r.spilled[:0]
	r.open.reset()
	r.enc, r.n, r.skip = pointCoder{}, 0, 0
}

// push appends pt.
func (r *pointRing) push(pt point) {
	r.enc.encode(&r.open, pt)
	r.n++
	if r.n == ringBlock {
		if r.spill != nil {
			r.spilled = append(r.spilled, r.spill.put(r.open.b))
		} else {
			r.sealed = append(r.sealed, slices.Clone(r.open.b))
		}
		r.open.reset()
		r.enc, r.n = pointCoder{}, 0
	}
}

// forget drops the d oldest points, d at most size.
func (r *pointRing) forget(d int) {
	r.skip += d
	for r.skip >= ringBlock && r.blocks() > 0 {
		if len(r.spilled) > 0 {
			r.spilled = r.spilled[1:]
		} else {
			r.sealed[0] = nil
			r.sealed = r.sealed[1:]
		}
		r.skip -= ringBlock
	}
	if r.blocks() == 0 && r.skip >= r.n {
		// All forgotten: the open block starts over.
		r.reset()
	}
}

// scan calls fn with the points at positions [from, to) in order, until
// fn returns false.
func (r *pointRing) scan(from, to int, fn func(k int, pt point) bool) {
	from, to = max(from, 0), min(to, r.size())
	var buf []byte // a spilled block read back
	for k := from; k < to; {
		pos := k + r.skip
		bi := pos / ringBlock
		var br bitReader
		n := ringBlock
		switch {
		case bi < len(r.spilled):
			buf = r.spill.get(r.spilled[bi], buf)
			br.b = buf
		case bi < len(r.sealed):
			br.b = r.sealed[bi]
		default:
			br.b, n = r.open.b, r.n
		}
		var dec pointCoder
		first := bi * ringBlock
		for i := range n {
			pt := dec.decode(&br)
			if first+i < pos {
				continue
			}
			if !fn(k, pt) {
				return
			}
			k++
			if k == to {
				return
			}
		}
	}
}

// pointCoder is the encoder's or decoder's state within a block: the
// point before and the window of the last meaningful bits written.
type pointCoder struct {
	cpu, pods   uint32
	lead, width uint8 // width 0: no window yet
}

// encode writes pt:
//
//	pods:  0 unchanged | 1, 6 bits length L, L bits count
//	CPU:   0 unchanged | 1, 0, the window's bits of the XOR
//	                   | 1, 1, 5 bits leading zeros, 5 bits width − 1, the bits
func (c *pointCoder) encode(w *bitWriter, pt point) {
	if pt.pods == c.pods {
		w.write(0, 1)
	} else {
		l := bits.Len32(pt.pods)
		w.write(1<<6|uint64(l), 7)
		w.write(uint64(pt.pods), l)
		c.pods = pt.pods
	}
	v := math.Float32bits(pt.cpu)
	x := v ^ c.cpu
	c.cpu = v
	if x == 0 {
		w.write(0, 1)
		return
	}
	lead, trail := uint8(bits.LeadingZeros32(x)), uint8(bits.TrailingZeros32(x))
	if c.width > 0 && lead >= c.lead && 32-trail <= c.lead+c.width {
		w.write(0b10, 2)
		w.write(uint64(x>>(32-c.lead-c.width)), int(c.width))
		return
	}
	width := 32 - lead - trail
	w.write(0b11<<10|uint64(lead)<<5|uint64(width-1), 12)
	w.write(uint64(x>>trail), int(width))
	c.lead, c.width = lead, width
}

// decode reads a point encode wrote.
func (c *pointCoder) decode(r *bitReader) point {
	if r.read(1) == 1 {
		l := int(r.read(6))
		c.pods = uint32(r.read(l))
	}
	if r.read(1) == 1 {
		if r.read(1) == 1 {
			h := r.read(10)
			c.lead, c.width = uint8(h>>5), uint8(h&31)+1
		}
		x := uint32(r.read(int(c.width))) << (32 - c.lead - c.width)
		c.cpu ^= x
	}
	return point{cpu: math.Float32frombits(c.cpu), pods: c.pods}
}

// bitWriter appends bits, most significant first.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) reset() { w.b, w.n = w.b[:0], 0 }

// write appends the low k bits of v, k at most 57.
func (w *bitWriter) write(v uint64, k int) {
	for k > 0 {
		if w.n == len(w.b)*8 {
			w.b = append(w.b, 0)
		}
		free := 8 - w.n&7
		take := min(free, k)
		part := (v >> (k - take)) & (1<<take - 1)
		w.b[len(w.b)-1] |= byte(part << (free - take))
		w.n += take
		k -= take
	}
}

// bitReader reads what a bitWriter wrote; past the end it reads zeros.
type bitReader struct {
	b   []byte
	pos int // in bits
}

// read returns the next k bits, k at most 57.
func (r *bitReader) read(k int) uint64 {
	var v uint64
	for k > 0 {
		i := r.pos >> 3
		var by byte
		if i < len(r.b) {
			by = r.b[i]
		}
		off := r.pos & 7
		take := min(8-off, k)
		v = v<<take | uint64(by>>(8-off-take))&(1<<take-1)
		r.pos += take
		k -= take
	}
	return v
}
