package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Encoding layout, version 1, little-endian:
//
//	off  size  field
//	  0     4  magic "RSKH"
//	  4     1  version (1)
//	  5     8  FirstBucket float64
//	 13     8  Growth float64
//	 21     8  Max float64
//	 29     8  HalfLife int64 nanoseconds
//	 37     8  reference time, Unix seconds int64
//	 45     4  reference time, nanoseconds uint32
//	 49     8  total weight float64
//	 57     8  smallest value float64 (+Inf if none)
//	 65     8  largest value float64 (−Inf if none)
//	 73     4  number of buckets uint32 (must match the options)
//	 77     4  min bucket uint32
//	 81     4  max bucket uint32
//	 85     4  first stored bucket uint32
//	 89     4  stored bucket count uint32
//	 93   8·n  weights of the stored buckets, float64
//
// Only the run from the first to the last non-zero bucket is stored; the
// rest are zero.
const (
	magic         = "RSKH"
	version       = 1
	headerLen     = 93
	nanosPerSec   = 1_000_000_000
	bytesPerFloat = 8
)

// The reference time must lie in years 1 to 9999; the zero time (year 1) is
// the reference of a histogram that never saw a sample.
var (
	minRefUnix = time.Time{}.Unix()
	maxRefUnix = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

var (
	errTruncated = errors.New("truncated input")
	errTrailing  = errors.New("trailing bytes after the last bucket")
)

// MarshalBinary encodes the histogram in the versioned format described in
// the package documentation.
func (h *Histogram) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(nil)
}

// AppendBinary appends the encoding of MarshalBinary to b, which lets a
// caller reuse one buffer for many histograms.
func (h *Histogram) AppendBinary(b []byte) ([]byte, error) {
	if h.layout == nil {
		return b, errors.New("sketch: encoding: histogram not created with New")
	}
	if !finiteNonNegative(h.total) {
		return b, fmt.Errorf("sketch: encoding: total weight %v is not finite and non-negative", h.total)
	}
	lo, hi := 0, -1
	for k, w := range h.weights {
		i := h.base + k
		if !finiteNonNegative(w) {
			return b, fmt.Errorf("sketch: encoding: bucket %d weight %v is not finite and non-negative", i, w)
		}
		if w != 0 {
			if hi < 0 {
				lo = i
			}
			hi = i
		}
	}
	count := hi - lo + 1
	b = slices.Grow(b, headerLen+count*bytesPerFloat)
	le := binary.LittleEndian
	b = append(b, magic...)
	b = append(b, version)
	b = le.AppendUint64(b, math.Float64bits(h.opts.FirstBucket))
	b = le.AppendUint64(b, math.Float64bits(h.opts.Growth))
	b = le.AppendUint64(b, math.Float64bits(h.opts.Max))
	b = le.AppendUint64(b, uint64(h.opts.HalfLife))
	b = le.AppendUint64(b, uint64(h.ref.Unix()))
	b = le.AppendUint32(b, uint32(h.ref.Nanosecond()))
	b = le.AppendUint64(b, math.Float64bits(h.total))
	b = le.AppendUint64(b, math.Float64bits(h.minValue))
	b = le.AppendUint64(b, math.Float64bits(h.maxValue))
	b = le.AppendUint32(b, uint32(h.n))
	b = le.AppendUint32(b, uint32(h.minBucket))
	b = le.AppendUint32(b, uint32(h.maxBucket))
	b = le.AppendUint32(b, uint32(lo))
	b = le.AppendUint32(b, uint32(count))
	if count > 0 {
		for _, w := range h.weights[lo-h.base : hi-h.base+1] {
			b = le.AppendUint64(b, math.Float64bits(w))
		}
	}
	return b, nil
}

func finiteNonNegative(x float64) bool { return x >= 0 && x <= math.MaxFloat64 }

// UnmarshalBinary replaces h's contents (options included) with the decoded
// histogram. It works on a zero Histogram. Every field is checked before
// anything is allocated or h is touched, so on error h is unchanged; then
// only the bucket arrays the decoded options call for (at most MaxBuckets
// weights, plus the layout's boundaries and lookup table unless another
// histogram already uses them) are allocated, and nothing if h already has
// those options.
func (h *Histogram) UnmarshalBinary(b []byte) error {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return errors.New("sketch: decoding: not a histogram encoding (bad magic)")
	}
	if len(b) < len(magic)+1 {
		return fmt.Errorf("sketch: decoding version: %w", errTruncated)
	}
	if v := b[len(magic)]; v != version {
		return fmt.Errorf("sketch: decoding: unsupported encoding version %d (want %d)", v, version)
	}
	if len(b) < headerLen {
		return fmt.Errorf("sketch: decoding header: %w (%d of %d bytes)", errTruncated, len(b), headerLen)
	}
	le := binary.LittleEndian
	f64 := func(off int) float64 { return math.Float64frombits(le.Uint64(b[off:])) }
	u32 := func(off int) uint64 { return uint64(le.Uint32(b[off:])) }

	o := Options{
		FirstBucket: f64(5),
		Growth:      f64(13),
		Max:         f64(21),
		HalfLife:    time.Duration(int64(le.Uint64(b[29:]))),
	}
	// The layout itself is only built once everything else checks out.
	reuse := h.layout != nil && h.opts == o
	var n int
	if reuse {
		n = h.n
	} else {
		var err error
		if n, err = o.check(); err != nil {
			return fmt.Errorf("sketch: decoding options: %w", err)
		}
	}
	if got := u32(73); got != uint64(n) {
		return fmt.Errorf("sketch: decoding: %d buckets stored, options give %d", got, n)
	}

	sec, nsec := int64(le.Uint64(b[37:])), u32(45)
	if sec < minRefUnix || sec > maxRefUnix || nsec >= nanosPerSec {
		return fmt.Errorf("sketch: decoding: reference time %d s %d ns out of range", sec, nsec)
	}
	ref := time.Unix(sec, int64(nsec)).UTC()

	total, minValue, maxValue := f64(49), f64(57), f64(65)
	if !finiteNonNegative(total) {
		return fmt.Errorf("sketch: decoding: total weight %v is not finite and non-negative", total)
	}
	noValues := math.IsInf(minValue, 1) && math.IsInf(maxValue, -1)
	if math.IsNaN(minValue) || math.IsNaN(maxValue) || !(minValue <= maxValue || noValues) {
		return fmt.Errorf("sketch: decoding: value range [%v, %v] is invalid", minValue, maxValue)
	}

	minBucket, maxBucket := u32(77), u32(81)
	if minBucket >= uint64(n) || maxBucket >= uint64(n) {
		return fmt.Errorf("sketch: decoding: bucket bounds %d, %d out of range [0, %d)", minBucket, maxBucket, n)
	}
	lo, count := u32(85), u32(89)
	if count > uint64(n) || lo > uint64(n)-count {
		return fmt.Errorf("sketch: decoding: stored buckets %d+%d out of range [0, %d)", lo, count, n)
	}
	data := b[headerLen:]
	switch want := count * bytesPerFloat; {
	case uint64(len(data)) < want:
		return fmt.Errorf("sketch: decoding buckets: %w (%d of %d bytes)", errTruncated, len(data), want)
	case uint64(len(data)) > want:
		return fmt.Errorf("sketch: decoding buckets: %w", errTrailing)
	}
	weight := func(i uint64) float64 {
		if i < lo || i >= lo+count {
			return 0
		}
		return math.Float64frombits(le.Uint64(data[(i-lo)*bytesPerFloat:]))
	}
	// Every operation keeps the buckets holding at least Epsilon between
	// the bounds and leaves each bound on such a bucket (or at its initial
	// value when there is none); anything else was not produced by
	// MarshalBinary.
	for i := lo; i < lo+count; i++ {
		w := weight(i)
		if !finiteNonNegative(w) {
			return fmt.Errorf("sketch: decoding buckets: bucket %d weight %v is not finite and non-negative", i, w)
		}
		if w >= Epsilon && (i < minBucket || i > maxBucket) {
			return fmt.Errorf("sketch: decoding: bucket %d holds %v outside the bounds %d, %d", i, w, minBucket, maxBucket)
		}
	}
	if (weight(minBucket) < Epsilon && minBucket != uint64(n-1)) || (weight(maxBucket) < Epsilon && maxBucket != 0) {
		return fmt.Errorf("sketch: decoding: bucket bounds %d, %d do not match the weights", minBucket, maxBucket)
	}

	if !reuse {
		l, err := o.layout()
		if err != nil {
			return fmt.Errorf("sketch: decoding options: %w", err)
		}
		*h = *newHistogram(o, l)
	}
	clear(h.weights)
	if count > 0 {
		off := h.cover(int(lo), int(lo+count-1))
		for i := lo; i < lo+count; i++ {
			h.weights[off+int(i-lo)] = weight(i)
		}
	}
	h.total = total
	h.minBucket, h.maxBucket = int(minBucket), int(maxBucket)
	h.minValue, h.maxValue = minValue, maxValue
	h.setRef(ref)
	return nil
}
