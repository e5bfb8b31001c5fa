package sketch

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Histogram is a decaying histogram with exponential buckets. The zero value
// is not usable; use New. A Histogram is not safe for concurrent use.
type Histogram struct {
	opts Options
	*layout
	// ix is a copy of the layout, one pointer less for Add to follow.
	ix layout
	// limit is how far past ref a sample may lie before ref moves forward.
	limit time.Duration

	// weights holds the buckets [base, base+len(weights)); the others
	// weigh 0. A container's usage spans a few dozen of the layout's
	// hundreds of buckets, and a fleet keeps thousands of histograms.
	weights []float64
	base    int
	total   float64
	// minBucket and maxBucket bound the buckets holding at least Epsilon,
	// maintained exactly as VPA does (they are not always the tightest
	// bounds, e.g. after Merge), because Quantile and IsEmpty depend on them.
	minBucket, maxBucket int

	// minValue > maxValue means no value was recorded.
	minValue, maxValue float64

	// ref starts at the zero time, as in VPA, so the first sample moves it
	// to the sample's time rounded to HalfLife. refSec and refNsec are its
	// Unix seconds and nanoseconds, which make t − ref cheap to compute.
	ref     time.Time
	refSec  int64
	refNsec int64

	// The decay factor of the most recent timestamp; samples often come
	// in batches sharing one timestamp.
	cacheValid  bool
	cacheD      time.Duration // the timestamp as time since ref
	cacheFactor float64
	// Samples usually come at a fixed step: the factor of the next one is
	// the last factor times the step's factor, one multiplication instead
	// of an exponential. stepRun counts the multiplications since the last
	// exact value, bounding the rounding drift.
	step       time.Duration
	stepFactor float64
	stepRun    int
}

// maxStepRun bounds the chained multiplications between exact factors:
// the relative drift stays below maxStepRun ulps (< 1e-13).
const maxStepRun = 64

// New returns an empty histogram with options o.
func New(o Options) (*Histogram, error) {
	l, err := o.layout()
	if err != nil {
		return nil, err
	}
	return newHistogram(o, l), nil
}

// newHistogram returns an empty histogram for valid options o with layout l.
func newHistogram(o Options, l *layout) *Histogram {
	h := &Histogram{
		opts:   o,
		layout: l,
		ix:     *l,
		limit:  o.HalfLife * maxDecayExponent,
	}
	h.Reset()
	return h
}

// MustNew is New for options known to be valid; it panics on invalid ones.
func MustNew(o Options) *Histogram {
	h, err := New(o)
	if err != nil {
		panic(err)
	}
	return h
}

// Options returns the options the histogram was created with.
func (h *Histogram) Options() Options { return h.opts }

// Reset empties the histogram, forgetting its reference time.
func (h *Histogram) Reset() {
	clear(h.weights)
	h.total = 0
	h.minBucket, h.maxBucket = h.n-1, 0
	h.minValue, h.maxValue = math.Inf(1), math.Inf(-1)
	h.setRef(time.Time{})
}

func (h *Histogram) setRef(ref time.Time) {
	h.ref, h.refSec, h.refNsec = ref, ref.Unix(), int64(ref.Nanosecond())
	h.cacheValid = false
}

// weight returns bucket b's weight.
func (h *Histogram) weight(b int) float64 {
	if i := b - h.base; uint(i) < uint(len(h.weights)) {
		return h.weights[i]
	}
	return 0
}

// windowPad is how many buckets past the one asked for a widened window
// takes at least, so that values creeping outwards do not copy it every
// bucket.
const windowPad = 4

// cover widens the window to hold buckets lo..hi (within the layout) and
// returns lo's index in weights.
func (h *Histogram) cover(lo, hi int) int {
	end := h.base + len(h.weights)
	if len(h.weights) > 0 && lo >= h.base && hi < end {
		return lo - h.base
	}
	pad := windowPad + len(h.weights)/4
	nlo, nhi := lo, hi+1
	if len(h.weights) > 0 {
		nlo, nhi = min(nlo, h.base), max(nhi, end)
	}
	if lo < h.base || len(h.weights) == 0 {
		nlo -= pad
	}
	if hi >= end || len(h.weights) == 0 {
		nhi += pad
	}
	nlo, nhi = max(nlo, 0), min(nhi, h.n)
	w := make([]float64, nhi-nlo)
	if len(h.weights) > 0 {
		copy(w[h.base-nlo:], h.weights)
	}
	h.weights, h.base = w, nlo
	return lo - nlo
}

// Clone returns an independent copy.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.weights = slices.Clone(h.weights)
	return &c
}

// decay returns the weight factor 2^((t − ref)/HalfLife), first moving ref
// forward (and rescaling the weights) if t is more than maxDecayExponent
// half-lives past it, as VPA does.
func (h *Histogram) decay(t time.Time) float64 {
	hl := h.opts.HalfLife
	if hl == 0 {
		return 1
	}
	d := h.sinceRef(t)
	if d > h.limit {
		h.shift(t) // invalidates the cache
		d = h.sinceRef(t)
	}
	if h.cacheValid {
		delta := d - h.cacheD
		switch {
		case delta == 0:
			return h.cacheFactor
		case delta == h.step && h.stepRun < maxStepRun:
			h.stepRun++
			h.cacheD, h.cacheFactor = d, h.cacheFactor*h.stepFactor
			return h.cacheFactor
		case delta != h.step:
			h.step, h.stepFactor = delta, math.Exp2(float64(delta)/float64(hl))
		}
	}
	f := math.Exp2(float64(d) / float64(hl))
	h.stepRun = 0
	h.cacheValid, h.cacheD, h.cacheFactor = true, d, f
	return f
}

// maxSecDiff bounds |t − ref| in seconds for computing it from Unix
// seconds without overflowing a Duration.
const maxSecDiff = math.MaxInt64/nanosPerSec - 1

// sinceRef is t.Sub(h.ref) (ref has no monotonic reading), but cheaper;
// Sub handles the far-apart case, where it saturates.
func (h *Histogram) sinceRef(t time.Time) time.Duration {
	if ds := t.Unix() - h.refSec; ds > -maxSecDiff && ds < maxSecDiff {
		return time.Duration(ds*nanosPerSec + int64(t.Nanosecond()) - h.refNsec)
	}
	return t.Sub(h.ref)
}

// shiftExponent returns the power of two that converts weights relative to
// ref into weights relative to newRef, rounded like VPA (floor(x + 0.5)).
func shiftExponent(ref, newRef time.Time, hl time.Duration) int {
	e := math.Floor(float64(ref.Sub(newRef))/float64(hl) + 0.5)
	// Sub saturates, so e is finite, but keep the int conversion defined;
	// beyond ±1100 Ldexp gives 0 or +Inf anyway.
	return int(max(-1100, min(1100, e)))
}

// shift moves the reference to t rounded to HalfLife and rescales the
// weights to match. Like VPA it scales only buckets minBucket..maxBucket;
// the others hold less than Epsilon.
func (h *Histogram) shift(t time.Time) {
	hl := h.opts.HalfLife
	newRef := t.Round(hl)
	f := math.Ldexp(1, shiftExponent(h.ref, newRef, hl))
	for b := max(h.minBucket, h.base); b <= min(h.maxBucket, h.base+len(h.weights)-1); b++ {
		h.weights[b-h.base] *= f
	}
	h.total *= f
	h.updateMinAndMaxBucket()
	h.setRef(newRef)
}

// updateMinAndMaxBucket narrows minBucket and maxBucket after weights
// decreased (VPA's rule: it only ever moves them inwards).
func (h *Histogram) updateMinAndMaxBucket() {
	last := h.n - 1
	for h.weight(h.minBucket) < Epsilon && h.minBucket < last {
		h.minBucket++
	}
	for h.weight(h.maxBucket) < Epsilon && h.maxBucket > 0 {
		h.maxBucket--
	}
}

// validWeight reports whether w is a usable sample weight. Negative, NaN and
// infinite weights are ignored rather than panicking as VPA does, so that bad
// input cannot take a recommender down.
func validWeight(w float64) bool {
	return w >= 0 && w <= math.MaxFloat64
}

// Add records value v with weight w at time t. A sample's effective weight is
// w·2^((t − ref)/HalfLife) relative to an internal reference time, so the result
// does not depend on the order of Adds. Add allocates only to widen the
// window of buckets it keeps, by a quarter at least, so rarely.
//
// Two caveats, both VPA's: the order matters up to floating-point rounding,
// and the first Add sets the reference, while Epsilon applies to weights
// relative to it; so a sample of weight w lying more than log2(w/Epsilon)
// half-lives (about 13 for w = 1) before the first one weighs less than
// Epsilon and, alone in a bucket at an edge of the histogram, counts as
// empty, whereas added first it would have set the reference itself.
// Adding samples in time order avoids that.
//
// Negative, NaN or infinite weights are ignored, as is a sample whose
// effective weight would overflow. Negative and NaN values land in bucket 0;
// NaN values are not counted by Min and Max.
func (h *Histogram) Add(v, w float64, t time.Time) {
	if !validWeight(w) {
		return
	}
	b := h.ix.index(v)
	// decay's common cases, written out here (a call costs as much): the
	// time of the last sample or one step after it.
	var f float64
	if ds := t.Unix() - h.refSec; h.cacheValid && ds > -maxSecDiff && ds < maxSecDiff {
		d := time.Duration(ds*nanosPerSec + int64(t.Nanosecond()) - h.refNsec) // sinceRef
		switch {
		case d > h.limit:
			f = h.decay(t)
		case d == h.cacheD:
			f = h.cacheFactor
		case d-h.cacheD == h.step && h.stepRun < maxStepRun:
			h.stepRun++
			h.cacheD, h.cacheFactor = d, h.cacheFactor*h.stepFactor
			f = h.cacheFactor
		default:
			f = h.decay(t)
		}
	} else {
		f = h.decay(t)
	}
	w *= f
	i := b - h.base
	if uint(i) >= uint(len(h.weights)) {
		i = h.cover(b, b)
	}
	bw, tw := h.weights[i]+w, h.total+w
	if bw > math.MaxFloat64 || tw > math.MaxFloat64 {
		// Keep every weight finite (and encodable); such a sample would
		// swamp all others anyway.
		return
	}
	h.weights[i], h.total = bw, tw
	if b < h.minBucket && bw >= Epsilon {
		h.minBucket = b
	}
	if b > h.maxBucket && bw >= Epsilon {
		h.maxBucket = b
	}
	if v < h.minValue {
		h.minValue = v
	}
	if v > h.maxValue {
		h.maxValue = v
	}
}

// safeSubtract is VPA's: results below Epsilon become 0.
func safeSubtract(value, sub float64) float64 {
	value -= sub
	if value < Epsilon {
		return 0
	}
	return value
}

// Subtract removes a previously added sample (weights clamp at 0): the same
// v, w and t undo an Add. As in VPA, a bucket or total left below Epsilon
// becomes 0. Min and Max are not affected.
func (h *Histogram) Subtract(v, w float64, t time.Time) {
	if !validWeight(w) {
		return
	}
	w *= h.decay(t)
	b := h.index(v)
	h.total = safeSubtract(h.total, w)
	if i := b - h.base; uint(i) < uint(len(h.weights)) {
		h.weights[i] = safeSubtract(h.weights[i], w)
	}
	h.updateMinAndMaxBucket()
}

// Quantile returns VPA's estimate of the q-quantile: the END (upper boundary) of
// the bucket where the cumulative weight first reaches q·total (start of the
// last bucket if it is the last one); 0 when empty. For q ≤ 0 that is the end
// of the first non-empty bucket, for q ≥ 1 (or NaN) of the last.
func (h *Histogram) Quantile(q float64) float64 {
	if h.IsEmpty() {
		return 0
	}
	threshold := q * h.total
	partial := 0.0
	b := h.minBucket
	for ; b < h.maxBucket; b++ {
		partial += h.weight(b)
		if partial >= threshold {
			break
		}
	}
	if b < h.n-1 {
		return h.starts[b+1]
	}
	return h.starts[b]
}

// TotalWeight returns the total weight relative to the internal reference;
// only ratios are meaningful.
func (h *Histogram) TotalWeight() float64 { return h.total }

// IsEmpty reports whether no bucket holds at least Epsilon (VPA's test).
func (h *Histogram) IsEmpty() bool {
	return h.weight(h.minBucket) < Epsilon
}

// Min returns the exact smallest value ever added (0 if empty). Subtract
// does not change it; Reset does.
func (h *Histogram) Min() float64 {
	if h.IsEmpty() || h.minValue > h.maxValue {
		return 0
	}
	return h.minValue
}

// Max returns the exact largest value ever added (0 if empty).
func (h *Histogram) Max() float64 {
	if h.IsEmpty() || h.minValue > h.maxValue {
		return 0
	}
	return h.maxValue
}

// Mean returns the weighted mean of bucket midpoints over the buckets Quantile
// considers (approximate), 0 when empty. The unbounded last bucket counts at
// the midpoint between its start and Max.
func (h *Histogram) Mean() float64 {
	if h.IsEmpty() {
		return 0
	}
	var sum, weight float64
	for b := h.minBucket; b <= h.maxBucket; b++ {
		w := h.weight(b)
		if w == 0 {
			continue
		}
		var mid float64
		if b < h.n-1 {
			mid = (h.starts[b] + h.starts[b+1]) / 2
		} else {
			mid = h.starts[b]
			if h.maxValue > mid && h.maxValue <= math.MaxFloat64 {
				mid += (h.maxValue - mid) / 2
			}
		}
		sum += w * mid
		weight += w
	}
	if weight == 0 {
		return 0
	}
	return sum / weight
}

// Merge adds all samples of o to h. Both must have the same Options. The
// older reference time is moved to the newer one, as in VPA, but o itself is
// left unchanged. On error h is unchanged.
func (h *Histogram) Merge(o *Histogram) error {
	if o == nil {
		return errNilHistogram
	}
	if h.opts != o.opts {
		return fmt.Errorf("sketch: merging histograms with different options (%+v and %+v)", h.opts, o.opts)
	}
	// VPA aligns the older reference with the newer one. When that is o's,
	// it scales o's buckets minBucket..maxBucket in place and narrows o's
	// bounds; scaled and the loops below reproduce that without touching o.
	lo, hi := o.minBucket, o.maxBucket
	f, scaleO, shiftH := 1.0, false, false
	if hl := h.opts.HalfLife; hl != 0 {
		if h.ref.Before(o.ref) {
			shiftH = true
		} else if o.ref.Before(h.ref) {
			scaleO = true
			f = math.Ldexp(1, shiftExponent(o.ref, h.ref.Round(hl), hl))
		}
	}
	scaled := func(b int) float64 {
		if scaleO && b >= lo && b <= hi {
			return o.weight(b) * f
		}
		return o.weight(b)
	}
	oMin, oMax, oTotal := lo, hi, o.total
	if scaleO {
		oTotal *= f
		for scaled(oMin) < Epsilon && oMin < h.n-1 {
			oMin++
		}
		for scaled(oMax) < Epsilon && oMax > 0 {
			oMax--
		}
	}
	// Shifting h only scales its weights down, so checking before the shift
	// is conservative.
	if h.total+oTotal > math.MaxFloat64 {
		return errOverflow
	}
	for b := oMin; b <= oMax; b++ {
		if h.weight(b)+scaled(b) > math.MaxFloat64 {
			return errOverflow
		}
	}
	if shiftH {
		h.shift(o.ref)
	}
	// With o == h, scaleO and shiftH are false and each weight is read
	// before it is written.
	if oMin <= oMax {
		// With o == h the window holds oMin..oMax already.
		off := h.cover(oMin, oMax)
		for b := oMin; b <= oMax; b++ {
			h.weights[off+b-oMin] += scaled(b)
		}
	}
	h.total += oTotal
	h.minBucket = min(h.minBucket, oMin)
	h.maxBucket = max(h.maxBucket, oMax)
	h.minValue = min(h.minValue, o.minValue)
	h.maxValue = max(h.maxValue, o.maxValue)
	return nil
}

// Buckets calls fn for every bucket holding weight, lowest first, with its
// start, its end (the largest value seen for the last, unbounded bucket)
// and its weight. Quantile's buckets: minBucket to maxBucket.
func (h *Histogram) Buckets(fn func(start, end, weight float64)) {
	if h.IsEmpty() {
		return
	}
	for b := h.minBucket; b <= h.maxBucket; b++ {
		w := h.weight(b)
		if w <= 0 {
			continue
		}
		end := h.starts[b+1]
		if b == h.n-1 || end > h.maxValue && h.maxValue >= h.starts[b] {
			end = h.maxValue
		}
		fn(h.starts[b], end, w)
	}
}
