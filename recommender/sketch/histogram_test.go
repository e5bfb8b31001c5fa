package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

var t0 = time.Date(2025, 3, 1, 10, 17, 0, 0, time.UTC)

var testQuantiles = []float64{0.5, 0.9, 0.95, 0.99}

// datasets returns n values from each test distribution, with a fixed seed.
func datasets(n int) map[string][]float64 {
	r := rand.New(rand.NewPCG(42, 4242))
	gen := map[string]func() float64{
		"uniform":    func() float64 { return r.Float64() * 8 },
		"log-normal": func() float64 { return math.Exp(r.NormFloat64()*1.5 - 1) },
		// Pareto with x_m = 0.05 and α = 1.2: heavy-tailed.
		"pareto": func() float64 { return 0.05 / math.Pow(1-r.Float64(), 1/1.2) },
	}
	out := make(map[string][]float64, len(gen))
	for _, name := range []string{"uniform", "log-normal", "pareto"} {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = gen[name]()
		}
		out[name] = vs
	}
	return out
}

func exactQuantile(values []float64, q float64) float64 {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return stat.Quantile(q, stat.Empirical, sorted, nil)
}

// requireWithinBound checks exact ≤ got ≤ Growth·exact + FirstBucket, the
// bound of the package documentation, with slack for rounding in the
// boundaries.
func requireWithinBound(t *testing.T, o Options, exact, got float64, msgAndArgs ...any) {
	t.Helper()
	require.GreaterOrEqual(t, got, exact, msgAndArgs...)
	require.LessOrEqual(t, got, (o.Growth*exact+o.FirstBucket)*(1+1e-12), msgAndArgs...)
	if exact >= o.FirstBucket {
		require.LessOrEqual(t, (got-exact)/exact, (o.Growth-1)+o.FirstBucket/exact+1e-12, msgAndArgs...)
	}
}

func TestQuantileWithinBoundOfExact(t *testing.T) {
	data := datasets(20000)
	layouts := []struct {
		name string
		opts Options
	}{
		{"vpa-cpu", Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000}},
		{"growth-1.04", Options{FirstBucket: 0.001, Growth: 1.04, Max: 1e6}},
		{"fine", Options{FirstBucket: 0.0001, Growth: 1.001, Max: 1e5}},
	}
	for _, l := range layouts {
		for name, values := range data {
			t.Run(l.name+"/"+name, func(t *testing.T) {
				h := MustNew(l.opts)
				for i, v := range values {
					// Times are irrelevant without decay.
					h.Add(v, 1, t0.Add(time.Duration(i)*time.Minute))
				}
				require.Less(t, slices.Max(values), h.Options().BucketStart(h.Options().NumBuckets()-1),
					"the data must stay below the last bucket for the bound to hold")
				for _, q := range testQuantiles {
					exact := exactQuantile(values, q)
					got := h.Quantile(q)
					requireWithinBound(t, l.opts, exact, got, "q=%v exact=%v got=%v", q, exact, got)
					// It is in fact the end of the bucket holding exact.
					require.Equal(t, l.opts.BucketStart(l.opts.BucketIndex(exact)+1), got, "q=%v", q)
				}
			})
		}
	}
}

// The 5 % statement of the documentation: Growth 1.04, values ≥ 100·FirstBucket.
func TestQuantileFivePercent(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.04, Max: 1e6}
	for name, values := range datasets(20000) {
		h := MustNew(o)
		scaled := make([]float64, len(values))
		for i, v := range values {
			scaled[i] = 1 + v // ≥ 100·FirstBucket
			h.Add(scaled[i], 1, t0)
		}
		for _, q := range testQuantiles {
			exact, got := exactQuantile(scaled, q), h.Quantile(q)
			assert.GreaterOrEqual(t, got, exact, "%s q=%v", name, q)
			assert.LessOrEqual(t, got/exact, 1.05+1e-12, "%s q=%v", name, q)
		}
	}
}

func TestQuantileVPASemantics(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
	h := MustNew(o)
	h.Add(1.0, 1, t0)
	want := o.BucketStart(o.BucketIndex(1.0) + 1)
	assert.Equal(t, want, h.Quantile(0.9))
	assert.Equal(t, want, h.Quantile(0))
	assert.Equal(t, want, h.Quantile(1))
	assert.Greater(t, want, 1.0)
	assert.Less(t, want, 1.0*1.05+0.01)

	// In the last bucket the start is returned, as it has no end.
	last := o.NumBuckets() - 1
	h.Reset()
	h.Add(5000, 1, t0)
	assert.Equal(t, o.BucketStart(last), h.Quantile(0.5))

	// Empty: 0.
	h.Reset()
	assert.Zero(t, h.Quantile(0.5))
	assert.True(t, h.IsEmpty())

	// Two samples, the second three times as heavy: the median is the end
	// of the heavier one's bucket, the 25th percentile the lighter one's.
	h.Add(0.5, 1, t0)
	h.Add(2, 3, t0)
	assert.Equal(t, o.BucketStart(o.BucketIndex(0.5)+1), h.Quantile(0.25))
	assert.Equal(t, o.BucketStart(o.BucketIndex(2)+1), h.Quantile(0.26))
	assert.Equal(t, o.BucketStart(o.BucketIndex(0.5)+1), h.Quantile(-1))
	assert.Equal(t, o.BucketStart(o.BucketIndex(2)+1), h.Quantile(2))
	assert.Equal(t, o.BucketStart(o.BucketIndex(2)+1), h.Quantile(math.NaN()))
}

func TestDecay(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
	tests := []struct {
		name  string
		age   time.Duration
		ratio float64 // weight of the new sample over the old one
	}{
		{"one half-life", 24 * time.Hour, 2},
		{"two half-lives", 48 * time.Hour, 4},
		{"half a half-life", 12 * time.Hour, math.Sqrt2},
		{"same time", 0, 1},
		{"ten half-lives", 240 * time.Hour, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MustNew(o)
			oldV, newV := 1.0, 2.0
			h.Add(oldV, 1, t0.Add(-tt.age))
			h.Add(newV, 1, t0)
			wOld, wNew := h.weight(o.BucketIndex(oldV)), h.weight(o.BucketIndex(newV))
			require.InEpsilon(t, tt.ratio, wNew/wOld, 1e-12)
			require.InEpsilon(t, wOld+wNew, h.TotalWeight(), 1e-12)
		})
	}

	t.Run("order of adds", func(t *testing.T) {
		// Older sample added last: same weights.
		a, b := MustNew(o), MustNew(o)
		a.Add(1, 1, t0)
		a.Add(2, 1, t0.Add(24*time.Hour))
		b.Add(2, 1, t0.Add(24*time.Hour))
		b.Add(1, 1, t0)
		ra := a.weight(o.BucketIndex(2)) / a.weight(o.BucketIndex(1))
		rb := b.weight(o.BucketIndex(2)) / b.weight(o.BucketIndex(1))
		assert.InEpsilon(t, 2, ra, 1e-12)
		assert.InEpsilon(t, 2, rb, 1e-12)
	})

	t.Run("no decay", func(t *testing.T) {
		nd := o
		nd.HalfLife = 0
		h := MustNew(nd)
		h.Add(1, 1, t0)
		h.Add(2, 1, t0.Add(1000*time.Hour))
		h.Add(3, 1, t0.Add(-1000*time.Hour))
		assert.Equal(t, 3.0, h.TotalWeight())
		assert.Equal(t, 1.0, h.weight(nd.BucketIndex(3)))
	})

	t.Run("reference is the first time rounded to the half-life", func(t *testing.T) {
		h := MustNew(o)
		h.Add(1, 1, t0)
		assert.Equal(t, t0.Round(24*time.Hour), h.ref)
		// t0 is 10:17, so it lies 10h17m past the reference.
		assert.InEpsilon(t, math.Exp2((10*60+17)/(24*60.0)), h.TotalWeight(), 1e-12)
	})
}

func TestOrderIndependence(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
	r := rand.New(rand.NewPCG(5, 6))
	type sample struct {
		v, w float64
		t    time.Time
	}
	// Ten days: every weight stays well above Epsilon whichever sample
	// sets the reference (see the Epsilon caveat of Add).
	samples := make([]sample, 5000)
	for i := range samples {
		samples[i] = sample{
			v: math.Exp(r.NormFloat64()),
			w: 0.1 + r.Float64(),
			t: t0.Add(time.Duration(r.Int64N(int64(10 * 24 * time.Hour)))),
		}
	}
	slices.SortFunc(samples, func(a, b sample) int { return a.t.Compare(b.t) })
	sorted := MustNew(o)
	for _, s := range samples {
		sorted.Add(s.v, s.w, s.t)
	}
	for seed := range uint64(3) {
		shuffled := slices.Clone(samples)
		rand.New(rand.NewPCG(seed, 99)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		h := MustNew(o)
		for _, s := range shuffled {
			h.Add(s.v, s.w, s.t)
		}
		for q := 0.0; q <= 1; q += 0.01 {
			require.Equal(t, sorted.Quantile(q), h.Quantile(q), "seed %d q=%v", seed, q)
		}
		// Weights differ only by the reference (a power of two) and rounding.
		scale := h.TotalWeight() / sorted.TotalWeight()
		for b := range sorted.n {
			require.InDelta(t, sorted.weight(b)*scale, h.weight(b), 1e-9*h.TotalWeight(), "bucket %d", b)
		}
	}
}

// weightedExactQuantile is the smallest value whose cumulative weight reaches
// q·total (gonum's Empirical with weights).
func weightedExactQuantile(values, weights []float64, q float64) float64 {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case values[a] < values[b]:
			return -1
		case values[a] > values[b]:
			return 1
		}
		return 0
	})
	vs, ws := make([]float64, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		vs[i], ws[i] = values[j], weights[j]
	}
	return stat.Quantile(q, stat.Empirical, vs, ws)
}

func TestReferenceShiftOverLongSpan(t *testing.T) {
	const halfLife = time.Hour
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: halfLife}
	h := MustNew(o)
	r := rand.New(rand.NewPCG(11, 12))
	const span = 400 * halfLife
	var values, ages []float64
	last := t0.Add(span)
	for tt := t0; !tt.After(last); tt = tt.Add(10 * time.Minute) {
		// The level changes over time, so stale samples would show.
		level := 1 + float64(tt.Sub(t0)/(50*halfLife))
		v := level * math.Exp(r.NormFloat64()*0.3)
		h.Add(v, 1, tt)
		values = append(values, v)
		ages = append(ages, float64(last.Sub(tt))/float64(halfLife))
	}
	// The reference moved forward (at least three times) and the weights
	// stayed finite and below 2^101.
	assert.True(t, h.ref.After(t0.Add(300*halfLife)), "reference %v", h.ref)
	require.False(t, math.IsInf(h.TotalWeight(), 0) || math.IsNaN(h.TotalWeight()))
	assert.Less(t, h.TotalWeight(), math.Exp2(101))
	for b, w := range h.dense() {
		require.True(t, finiteNonNegative(w), "bucket %d: %v", b, w)
	}
	weights := make([]float64, len(ages))
	for i, a := range ages {
		weights[i] = math.Exp2(-a)
	}
	for _, q := range testQuantiles {
		exact := weightedExactQuantile(values, weights, q)
		requireWithinBound(t, o, exact, h.Quantile(q), "q=%v", q)
	}
	// Only the last few half-lives matter: the median is near the last level.
	assert.InEpsilon(t, 9, h.Quantile(0.5), 0.15)
}

func TestSubtract(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
	r := rand.New(rand.NewPCG(21, 22))
	full, kept := MustNew(o), MustNew(o)
	type sample struct {
		v float64
		t time.Time
	}
	var removed []sample
	for i := range 2000 {
		s := sample{math.Exp(r.NormFloat64()), t0.Add(time.Duration(i) * 5 * time.Minute)}
		full.Add(s.v, 1, s.t)
		if i%3 == 0 {
			removed = append(removed, s)
		} else {
			kept.Add(s.v, 1, s.t)
		}
	}
	for _, s := range removed {
		full.Subtract(s.v, 1, s.t)
	}
	assert.InEpsilon(t, kept.TotalWeight(), full.TotalWeight(), 1e-9)
	for q := 0.05; q < 1; q += 0.05 {
		assert.Equal(t, kept.Quantile(q), full.Quantile(q), "q=%v", q)
	}

	t.Run("clamps at zero", func(t *testing.T) {
		h := MustNew(o)
		h.Add(1, 1, t0)
		h.Add(10, 1, t0)
		h.Subtract(10, 5, t0)
		assert.Zero(t, h.weight(o.BucketIndex(10)))
		assert.Equal(t, o.BucketStart(o.BucketIndex(1)+1), h.Quantile(0.99))
		h.Subtract(1, 5, t0)
		assert.True(t, h.IsEmpty())
		assert.Zero(t, h.TotalWeight())
		assert.Zero(t, h.Quantile(0.5))
		// Subtracting from an empty histogram is harmless.
		h.Subtract(3, 1, t0)
		assert.True(t, h.IsEmpty())
	})

	t.Run("below epsilon becomes zero", func(t *testing.T) {
		h := MustNew(o)
		h.Add(1, 1, t0)
		h.Subtract(1, 1-Epsilon/2, t0)
		assert.True(t, h.IsEmpty())
		assert.Zero(t, h.TotalWeight())
	})
}

func TestInvalidInput(t *testing.T) {
	o := VPACPUOptions()
	h := MustNew(o)
	for _, w := range []float64{-1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		h.Add(1, w, t0)
		h.Subtract(1, w, t0)
	}
	assert.True(t, h.IsEmpty())
	assert.Zero(t, h.TotalWeight())
	assert.True(t, h.ref.IsZero(), "ignored samples must not set the reference")

	// Negative and NaN values land in bucket 0; Min sees the negative one.
	h.Add(-3, 1, t0)
	h.Add(math.NaN(), 1, t0)
	assert.InEpsilon(t, 2.0, h.weight(0)/math.Exp2(float64(t0.Sub(h.ref))/float64(o.HalfLife)), 1e-12)
	assert.Equal(t, -3.0, h.Min())
	assert.Equal(t, -3.0, h.Max())
	assert.Equal(t, o.BucketStart(1), h.Quantile(0.5))

	// A weight that would overflow is dropped rather than making the
	// histogram infinite.
	h.Add(1, math.MaxFloat64, t0.Add(90*o.HalfLife))
	assert.False(t, math.IsInf(h.TotalWeight(), 0))
	_, err := h.MarshalBinary()
	require.NoError(t, err)
}

func TestMerge(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
	r := rand.New(rand.NewPCG(31, 32))
	tests := []struct {
		name             string
		startA, startB   time.Duration // first sample of each part
		spanA, spanB     time.Duration
		mergeIntoYounger bool
	}{
		{"same reference", 0, 0, 72 * time.Hour, 72 * time.Hour, false},
		{"older into younger", 0, 5 * 24 * time.Hour, 48 * time.Hour, 48 * time.Hour, true},
		{"younger into older", 0, 5 * 24 * time.Hour, 48 * time.Hour, 48 * time.Hour, false},
		{"far apart", 0, 150 * 24 * time.Hour, 48 * time.Hour, 48 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, a, b := MustNew(o), MustNew(o), MustNew(o)
			add := func(h *Histogram, start, span time.Duration) {
				for range 1000 {
					v := math.Exp(r.NormFloat64())
					at := t0.Add(start + time.Duration(r.Int64N(int64(span))))
					h.Add(v, 1, at)
					all.Add(v, 1, at)
				}
			}
			add(a, tt.startA, tt.spanA)
			add(b, tt.startB, tt.spanB)
			// all saw a's samples first, so it matches merging into a; for
			// the other direction compare with a fresh histogram fed b first.
			dst, src := a, b
			want := all
			if tt.mergeIntoYounger {
				dst, src = b, a
			}
			srcCopy := src.Clone()
			require.NoError(t, dst.Merge(src))
			assert.Equal(t, srcCopy, src, "Merge must not change its argument")
			// Totals agree once expressed relative to the same reference.
			assert.InEpsilon(t, want.TotalWeight(), dst.TotalWeight()*
				math.Exp2(float64(dst.ref.Sub(want.ref))/float64(o.HalfLife)), 1e-9)
			for q := 0.01; q < 1; q += 0.01 {
				require.Equal(t, want.Quantile(q), dst.Quantile(q), "q=%v", q)
			}
			assert.Equal(t, want.Min(), dst.Min())
			assert.Equal(t, want.Max(), dst.Max())
		})
	}

	t.Run("errors", func(t *testing.T) {
		h := MustNew(o)
		require.Error(t, h.Merge(nil))
		other := o
		other.HalfLife = time.Hour
		require.ErrorContains(t, h.Merge(MustNew(other)), "different options")
	})

	t.Run("empty", func(t *testing.T) {
		h, e := MustNew(o), MustNew(o)
		h.Add(1, 1, t0)
		want := h.Clone()
		require.NoError(t, h.Merge(e))
		assert.Equal(t, want.Quantile(0.5), h.Quantile(0.5))
		assert.Equal(t, want.TotalWeight(), h.TotalWeight())
		require.NoError(t, e.Merge(h))
		assert.Equal(t, h.Quantile(0.5), e.Quantile(0.5))
		assert.Equal(t, h.TotalWeight(), e.TotalWeight())
		assert.Equal(t, h.ref, e.ref)
	})

	t.Run("self", func(t *testing.T) {
		h := MustNew(o)
		h.Add(1, 1, t0)
		h.Add(2, 1, t0)
		q, w := h.Quantile(0.5), h.TotalWeight()
		require.NoError(t, h.Merge(h))
		assert.Equal(t, q, h.Quantile(0.5))
		assert.Equal(t, 2*w, h.TotalWeight())
	})
}

func TestCloneAndReset(t *testing.T) {
	o := VPACPUOptions()
	h := MustNew(o)
	h.Add(1, 1, t0)
	h.Add(3, 2, t0.Add(time.Hour))
	c := h.Clone()
	assert.Equal(t, h.Quantile(0.5), c.Quantile(0.5))
	assert.Equal(t, h.TotalWeight(), c.TotalWeight())
	assert.Equal(t, o, c.Options())

	// Independent: changing one leaves the other.
	c.Add(100, 50, t0)
	assert.NotEqual(t, h.Quantile(0.5), c.Quantile(0.5))
	assert.Equal(t, 3.0, h.Max())
	assert.Equal(t, 100.0, c.Max())

	h.Reset()
	assert.True(t, h.IsEmpty())
	assert.Zero(t, h.TotalWeight())
	assert.Zero(t, h.Quantile(0.5))
	assert.Zero(t, h.Min())
	assert.Zero(t, h.Max())
	assert.Zero(t, h.Mean())
	assert.True(t, h.ref.IsZero())
	assert.Equal(t, MustNew(o).dense(), h.dense())
	assert.False(t, c.IsEmpty(), "Reset must not affect the clone")

	// Usable again, with a new reference.
	later := t0.Add(1000 * 24 * time.Hour)
	h.Add(2, 1, later)
	assert.Equal(t, o.BucketStart(o.BucketIndex(2)+1), h.Quantile(0.5))
	assert.Equal(t, later.Round(o.HalfLife), h.ref)
}

func TestMinMaxMean(t *testing.T) {
	for name, values := range datasets(10000) {
		t.Run(name, func(t *testing.T) {
			o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1e6}
			h := MustNew(o)
			var sum float64
			for _, v := range values {
				h.Add(v, 1, t0)
				sum += v
			}
			assert.Equal(t, slices.Min(values), h.Min())
			assert.Equal(t, slices.Max(values), h.Max())
			// Every value is at most half a bucket width from its bucket's
			// midpoint, and a bucket is at most (Growth−1)·v + FirstBucket
			// wide.
			mean := sum / float64(len(values))
			assert.InDelta(t, mean, h.Mean(), ((o.Growth-1)*mean+o.FirstBucket)/2)
		})
	}

	t.Run("weighted", func(t *testing.T) {
		o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000}
		h := MustNew(o)
		h.Add(1, 3, t0)
		h.Add(10, 1, t0)
		mid := func(v float64) float64 {
			i := o.BucketIndex(v)
			return (o.BucketStart(i) + o.BucketStart(i+1)) / 2
		}
		assert.InEpsilon(t, (3*mid(1)+mid(10))/4, h.Mean(), 1e-12)
	})

	t.Run("last bucket", func(t *testing.T) {
		o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000}
		h := MustNew(o)
		start := o.BucketStart(o.NumBuckets() - 1)
		h.Add(start+100, 1, t0)
		assert.InEpsilon(t, start+50, h.Mean(), 1e-12)
		assert.Equal(t, start+100, h.Max())
	})
}

func TestAddDoesNotAllocate(t *testing.T) {
	for _, tl := range testLayouts {
		t.Run(tl.name, func(t *testing.T) {
			h := MustNew(tl.opts)
			r := rand.New(rand.NewPCG(1, 1))
			values := make([]float64, 1024)
			for i := range values {
				values[i] = tl.opts.FirstBucket * math.Exp(r.Float64()*math.Log(2*tl.opts.Max/tl.opts.FirstBucket))
			}
			at := t0
			// The window widens to the lowest and highest buckets once.
			h.Add(0, 1, at)
			h.Add(math.Inf(1), 1, at)
			i := 0
			allocs := testing.AllocsPerRun(10000, func() {
				h.Add(values[i%len(values)], 1, at)
				i++
				at = at.Add(time.Minute)
				if i%1000 == 0 {
					// Far ahead: moves the reference and rescales.
					at = at.Add(200 * 24 * time.Hour)
				}
			})
			assert.Zero(t, allocs)
			allocs = testing.AllocsPerRun(1000, func() {
				h.Subtract(values[i%len(values)], 1, at)
				_ = h.Quantile(0.9)
				i++
			})
			assert.Zero(t, allocs)
		})
	}
}

// dense returns every bucket's weight.
func (h *Histogram) dense() []float64 {
	d := make([]float64, h.n)
	copy(d[h.base:], h.weights)
	return d
}

// A histogram keeps only the buckets between its lowest and highest
// values (and a margin), whatever order they come in, and reads as if it
// kept them all.
func TestWindowKeepsToTheBucketsUsed(t *testing.T) {
	o := VPACPUOptions()
	n := o.NumBuckets()
	tests := []struct {
		name   string
		values []float64
	}{
		{"one value", []float64{0.25}},
		{"rising", []float64{0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 0.8, 1.3}},
		{"falling", []float64{1.3, 0.8, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1}},
		{"outwards", []float64{0.5, 0.4, 0.6, 0.3, 0.8, 0.2, 1.1}},
		{"the edges", []float64{0, 1e-9, math.Inf(1), 5e6}},
		{"edges first", []float64{math.Inf(1), 0.5, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MustNew(o)
			want := make([]float64, n)
			at := t0
			lo, hi := n-1, 0
			for i, v := range tt.values {
				at = at.Add(time.Minute)
				w := float64(i + 1)
				h.Add(v, w, at)
				b := o.BucketIndex(v)
				want[b] += w * math.Exp2(float64(at.Sub(h.ref))/float64(o.HalfLife))
				lo, hi = min(lo, b), max(hi, b)
			}
			got := h.dense()
			for b := range want {
				require.InEpsilon(t, want[b]+1, got[b]+1, 1e-12, "bucket %d", b)
			}
			require.LessOrEqual(t, h.base, lo)
			require.GreaterOrEqual(t, h.base+len(h.weights), hi+1)
			// A margin of at least windowPad, and a quarter per widening.
			require.LessOrEqual(t, len(h.weights), (hi-lo+1)*2+2*windowPad+1, "window [%d, %d) for buckets %d..%d", h.base, h.base+len(h.weights), lo, hi)
			// What reads weights sees the same as a dense histogram's.
			d := MustNew(o)
			d.cover(0, n-1)
			at = t0
			for i, v := range tt.values {
				at = at.Add(time.Minute)
				d.Add(v, float64(i+1), at)
			}
			require.Len(t, d.weights, n)
			for _, q := range []float64{0, 0.1, 0.5, 0.9, 1} {
				require.Equal(t, d.Quantile(q), h.Quantile(q))
			}
			require.Equal(t, d.Mean(), h.Mean())
			enc, err := h.MarshalBinary()
			require.NoError(t, err)
			dEnc, err := d.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, dEnc, enc)
			require.Equal(t, d.AppendCompact(nil), h.AppendCompact(nil))
			m := MustNew(o)
			require.NoError(t, m.Merge(h))
			require.NoError(t, m.Merge(d))
			require.NoError(t, d.Merge(d))
			require.Equal(t, d.dense(), m.dense())
		})
	}
}

// Layouts are shared through a global cache; creating histograms from many
// goroutines must be safe (run with -race).
func TestNewConcurrently(t *testing.T) {
	done := make(chan *Histogram)
	for i := range 8 {
		go func() {
			o := Options{FirstBucket: 0.01 * float64(1+i%3), Growth: 1.05, Max: 1000}
			h := MustNew(o)
			h.Add(1, 1, t0)
			done <- h
		}()
	}
	for range 8 {
		h := <-done
		assert.Equal(t, h.Options().BucketStart(h.Options().BucketIndex(1)+1), h.Quantile(0.5))
	}
}

// TestBuckets checks that the buckets Buckets lists hold every value with
// its weight, in order, each value within its bucket, the last ending at
// the largest value.
func TestBuckets(t *testing.T) {
	o := Options{FirstBucket: 0.01, Growth: 1.05, Max: 100, HalfLife: 24 * time.Hour}
	tests := []struct {
		name   string
		values []float64
	}{
		{"empty", nil},
		{"one", []float64{0.5}},
		{"spread", []float64{0.001, 0.02, 0.02, 0.3, 7, 99}},
		{"above the last bucket", []float64{0.1, 250}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := MustNew(o)
			for _, v := range tc.values {
				h.Add(v, 1, t0)
			}
			var total, prevEnd float64
			n := 0
			h.Buckets(func(start, end, w float64) {
				assert.LessOrEqual(t, prevEnd, start)
				assert.Less(t, start, end)
				total += w
				prevEnd = end
				n++
			})
			assert.InDelta(t, h.TotalWeight(), total, 1e-9)
			if len(tc.values) == 0 {
				assert.Zero(t, n)
				return
			}
			assert.Equal(t, slices.Max(tc.values), prevEnd, "the last bucket ends at the largest value")
			for _, v := range tc.values {
				found := false
				h.Buckets(func(start, end, _ float64) { found = found || start <= v && v <= end })
				assert.True(t, found, "value %v in no bucket", v)
			}
		})
	}
}
