package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"rightsize.dev/rightsize/internal/binread"
)

// CompactLevels is how finely AppendCompact keeps bucket weights: each as a
// whole number of 1/CompactLevels of the heaviest bucket's weight, so that
// it fits two varint bytes. A bucket's weight moves by at most half a level
// (0.003 % of the heaviest); one lighter than half a level is dropped. VPA's
// checkpoints do the same with 10,000 levels.
const CompactLevels = 1<<14 - 1

// AppendCompact appends h in the compact form a long-running state keeps
// for each container: without the options (the caller knows them), only
// the non-empty buckets between the bounds Quantile reads, their weights quantized to CompactLevels. Layout:
//
//	uvarint  reference time, Unix seconds − minRefUnix
//	uvarint  reference time, nanoseconds
//	byte     1 if values were recorded, then 2 × float64 smallest, largest
//	float64  the total weight
//	float64  the weight of one level (0 when empty)
//	uvarint  number of stored buckets
//	n ×      uvarint bucket index − previous index − 1 (the first: its index),
//	         uvarint weight in levels, 1..CompactLevels
//
// A decoded histogram gives the same quantiles wherever no bucket's share
// of the total is within half a level of the quantile's threshold.
func (h *Histogram) AppendCompact(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.refSec-minRefUnix))
	b = binary.AppendUvarint(b, uint64(h.refNsec))
	if h.minValue <= h.maxValue {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(h.minValue))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(h.maxValue))
	} else {
		b = append(b, 0)
	}
	// The buckets outside the bounds hold less than Epsilon and are read by
	// nothing; the total is kept as it is, so that quantile thresholds do
	// not move.
	var weights []float64
	if !h.IsEmpty() {
		// Both bounds hold at least Epsilon: the window holds them.
		weights = h.weights[h.minBucket-h.base : h.maxBucket-h.base+1]
	}
	var heaviest float64
	for _, w := range weights {
		if finiteNonNegative(w) {
			heaviest = max(heaviest, w)
		}
	}
	total := h.total
	if !finiteNonNegative(total) {
		total = 0
	}
	level := heaviest / CompactLevels
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(total))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(level))
	count := 0
	for _, w := range weights {
		if quantize(w, level) > 0 {
			count++
		}
	}
	b = binary.AppendUvarint(b, uint64(count))
	prev := -1
	for i, w := range weights {
		if q := quantize(w, level); q > 0 {
			idx := h.minBucket + i
			b = binary.AppendUvarint(b, uint64(idx-prev-1))
			b = binary.AppendUvarint(b, q)
			prev = idx
		}
	}
	return b
}

// quantize is w in levels, rounded to the nearest; 0 for an unusable w.
func quantize(w, level float64) uint64 {
	if !finiteNonNegative(w) || level <= 0 {
		return 0
	}
	return uint64(min(math.Round(w/level), CompactLevels))
}

var errCompact = errors.New("sketch: decoding compact histogram")

// UnmarshalCompact replaces h's contents, keeping its options, with the
// compact encoding at the start of b, and returns what follows it. h must
// have been made by New with the options the encoding was made with. On
// error h is unchanged.
func (h *Histogram) UnmarshalCompact(b []byte) ([]byte, error) {
	if h.layout == nil {
		return b, errors.New("sketch: decoding: histogram not created with New")
	}
	r := compactReader{binread.Reader{B: b, Wrap: errCompact}}
	sec := r.Uvarint()
	nsec := r.Uvarint()
	hasValues := r.Byte()
	var minValue, maxValue = math.Inf(1), math.Inf(-1)
	switch hasValues {
	case 0:
	case 1:
		minValue, maxValue = r.Float64(), r.Float64()
	default:
		r.Fail("value flag %d", hasValues)
	}
	total := r.Float64()
	level := r.Float64()
	count := r.Uvarint()
	if r.Err != nil {
		return b, r.Err
	}
	if sec > uint64(maxRefUnix-minRefUnix) || nsec >= nanosPerSec {
		return b, fmt.Errorf("%w: reference time %d s %d ns out of range", errCompact, sec, nsec)
	}
	if hasValues == 1 && (math.IsNaN(minValue) || math.IsNaN(maxValue) || minValue > maxValue) {
		return b, fmt.Errorf("%w: value range [%v, %v] is invalid", errCompact, minValue, maxValue)
	}
	if !finiteNonNegative(total) {
		return b, fmt.Errorf("%w: total weight %v", errCompact, total)
	}
	if !finiteNonNegative(level) || (level == 0 && count > 0) || level > math.MaxFloat64/CompactLevels {
		return b, fmt.Errorf("%w: level %v", errCompact, level)
	}
	if count > uint64(h.n) {
		return b, fmt.Errorf("%w: %d buckets stored, the options give %d", errCompact, count, h.n)
	}
	// Checked before h is touched: read the buckets twice.
	start := r
	next := uint64(0)
	first := uint64(0)
	for k := range count {
		i := next + r.Uvarint()
		q := r.Uvarint()
		if r.Err != nil {
			return b, r.Err
		}
		if i >= uint64(h.n) || q == 0 || q > CompactLevels {
			return b, fmt.Errorf("%w: bucket %d weight %d out of range", errCompact, i, q)
		}
		if k == 0 {
			first = i
		}
		next = i + 1
	}
	r = start
	clear(h.weights)
	h.total = total
	if count > 0 {
		h.cover(int(first), int(next-1))
	}
	next = 0
	for range count {
		i := next + r.Uvarint()
		h.weights[int(i)-h.base] = float64(r.Uvarint()) * level
		next = i + 1
	}
	h.minBucket, h.maxBucket = h.n-1, 0
	for i, w := range h.weights {
		if w >= Epsilon {
			h.minBucket = min(h.minBucket, h.base+i)
			h.maxBucket = max(h.maxBucket, h.base+i)
		}
	}
	h.minValue, h.maxValue = minValue, maxValue
	h.setRef(time.Unix(int64(sec)+minRefUnix, int64(nsec)).UTC())
	return r.B, nil
}

// compactReader reads varints and floats, keeping the first error.
type compactReader struct{ binread.Reader }
