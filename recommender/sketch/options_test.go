package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Layouts used across the tests: VPA's two, the repository's default CPU and
// memory layouts, and a fine one.
var testLayouts = []struct {
	name string
	opts Options
}{
	{"vpa-cpu", VPACPUOptions()},
	{"vpa-memory", VPAMemoryOptions()},
	{"cpu-1.04", Options{FirstBucket: 0.001, Growth: 1.04, Max: 1000, HalfLife: 24 * time.Hour}},
	{"memory-1.04", Options{FirstBucket: 1 << 20, Growth: 1.04, Max: 1e13, HalfLife: 24 * time.Hour}},
	{"fine", Options{FirstBucket: 1, Growth: 1.001, Max: 1e6}},
	// Too many cells for full precision: fewer mantissa bits, so a cell
	// may span several buckets and index walks.
	{"coarse-table", Options{FirstBucket: 1, Growth: 1.0002, Max: 1e5}},
}

// TestLayoutWalk: index takes one step without a branch only where no cell
// holds two bucket boundaries; the VPA layouts are such, the coarse table
// is not.
func TestLayoutWalk(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		walk bool
	}{
		{"vpa-cpu", VPACPUOptions(), false},
		{"vpa-memory", VPAMemoryOptions(), false},
		{"cpu-1.04", testLayouts[2].opts, false}, // the history's defaults
		{"memory-1.04", testLayouts[3].opts, false},
		{"fine", testLayouts[4].opts, false},
		{"coarse-table", testLayouts[5].opts, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.walk, MustNew(tt.o).walk)
		})
	}
}

func TestValidate(t *testing.T) {
	valid := Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000}
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"valid", func(*Options) {}, ""},
		{"valid with half-life", func(o *Options) { o.HalfLife = time.Hour }, ""},
		{"zero first bucket", func(o *Options) { o.FirstBucket = 0 }, "first bucket size"},
		{"negative first bucket", func(o *Options) { o.FirstBucket = -1 }, "first bucket size"},
		{"NaN first bucket", func(o *Options) { o.FirstBucket = math.NaN() }, "first bucket size"},
		{"infinite first bucket", func(o *Options) { o.FirstBucket = math.Inf(1) }, "first bucket size"},
		{"growth 1", func(o *Options) { o.Growth = 1 }, "growth"},
		{"growth too large", func(o *Options) { o.Growth = 1.06 }, "growth"},
		{"NaN growth", func(o *Options) { o.Growth = math.NaN() }, "growth"},
		{"max equal to first bucket", func(o *Options) { o.Max = 0.01 }, "max"},
		{"infinite max", func(o *Options) { o.Max = math.Inf(1) }, "max"},
		{"NaN max", func(o *Options) { o.Max = math.NaN() }, "max"},
		{"negative half-life", func(o *Options) { o.HalfLife = -time.Second }, "half-life"},
		{"half-life too long", func(o *Options) { o.HalfLife = MaxHalfLife + 1 }, "half-life"},
		{"too many buckets", func(o *Options) { o.Growth = 1 + 1e-9 }, "buckets"},
		{"huge range", func(o *Options) { o.FirstBucket, o.Max = 1e-300, 1e300 }, "buckets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.mutate(&o)
			err := o.Validate()
			_, newErr := New(o)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, newErr)
				assert.Positive(t, o.NumBuckets())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, newErr, tt.wantErr)
			assert.Zero(t, o.NumBuckets())
			assert.Zero(t, o.BucketIndex(1))
			assert.True(t, math.IsNaN(o.BucketStart(1)))
			assert.Panics(t, func() { MustNew(o) })
		})
	}
}

func TestNumBuckets(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want int
	}{
		// VPA: ceil(log_1.05(Max·0.05/FirstBucket + 1)) + 1 = ceil(174.6) + 1.
		{"vpa-cpu", VPACPUOptions(), 176},
		{"vpa-memory", VPAMemoryOptions(), 176},
		{"cpu-1.04", testLayouts[2].opts, 272},    // ceil(270.2) + 1
		{"memory-1.04", testLayouts[3].opts, 329}, // ceil(327.7) + 1
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.opts.NumBuckets()
			require.Equal(t, tt.want, n)
			// The last bucket starts at the first boundary at or above Max.
			assert.GreaterOrEqual(t, tt.opts.BucketStart(n-1), tt.opts.Max)
			assert.Less(t, tt.opts.BucketStart(n-2), tt.opts.Max)
			assert.Equal(t, n, MustNew(tt.opts).Options().NumBuckets())
		})
	}
}

func TestBucketLayout(t *testing.T) {
	for _, tl := range testLayouts {
		t.Run(tl.name, func(t *testing.T) {
			o := tl.opts
			n := o.NumBuckets()
			h := MustNew(o)
			assert.Zero(t, o.BucketStart(0))
			assert.Zero(t, o.BucketStart(-1))
			assert.InDelta(t, o.FirstBucket, o.BucketStart(1), o.FirstBucket*1e-12)
			assert.True(t, math.IsInf(o.BucketStart(n), 1))
			for i := 1; i < n; i++ {
				s := o.BucketStart(i)
				require.Greater(t, s, o.BucketStart(i-1), "bucket %d", i)
				// Width is FirstBucket·Growth^i.
				width := o.BucketStart(i+1) - s
				if i < n-1 {
					require.InEpsilon(t, o.FirstBucket*math.Pow(o.Growth, float64(i)), width, 1e-6, "bucket %d", i)
				}
				// Consistent at the boundaries: the start belongs to the
				// bucket, the value just below it to the previous one.
				require.Equal(t, i, o.BucketIndex(s), "bucket %d start", i)
				require.Equal(t, i-1, o.BucketIndex(math.Nextafter(s, 0)), "below bucket %d", i)
				require.Equal(t, i, h.index(s), "bucket %d start", i)
				require.Equal(t, i-1, h.index(math.Nextafter(s, 0)), "below bucket %d", i)
			}
			for _, v := range []float64{0, -1, math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, o.FirstBucket / 2} {
				assert.Zero(t, o.BucketIndex(v), "%v", v)
				assert.Zero(t, h.index(v), "%v", v)
			}
			for _, v := range []float64{o.BucketStart(n - 1), o.Max * 10, math.MaxFloat64, math.Inf(1)} {
				assert.Equal(t, n-1, o.BucketIndex(v), "%v", v)
				assert.Equal(t, n-1, h.index(v), "%v", v)
			}
			// Random values: monotonic and the same from both index paths.
			r := rand.New(rand.NewPCG(1, uint64(n)))
			for range 20000 {
				v := o.FirstBucket * math.Exp(r.Float64()*math.Log(2*o.Max/o.FirstBucket))
				i := o.BucketIndex(v)
				require.Equal(t, i, h.index(v), "%v", v)
				require.LessOrEqual(t, o.BucketStart(i), v)
				require.Greater(t, o.BucketStart(i+1), v)
				require.LessOrEqual(t, i, o.BucketIndex(v*1.0001))
			}
		})
	}
}

// vpaFindBucket is VPA's index formula, which inverts the start formula in
// floating point.
func vpaFindBucket(o Options, v float64) int {
	n := o.NumBuckets()
	if v < o.FirstBucket {
		return 0
	}
	b := int(math.Log(v*(o.Growth-1)/o.FirstBucket+1) / math.Log(o.Growth))
	if b >= n {
		return n - 1
	}
	return b
}

// Away from the boundaries BucketIndex is VPA's FindBucket.
func TestBucketIndexMatchesVPAAwayFromBoundaries(t *testing.T) {
	for _, o := range []Options{VPACPUOptions(), VPAMemoryOptions()} {
		r := rand.New(rand.NewPCG(7, 8))
		for range 100000 {
			v := o.FirstBucket * math.Exp(r.Float64()*math.Log(2*o.Max/o.FirstBucket))
			i := o.BucketIndex(v)
			lo, hi := o.BucketStart(i), o.BucketStart(i+1)
			if (v-lo) < 1e-12*v || (hi-v) < 1e-12*v {
				continue
			}
			require.Equal(t, vpaFindBucket(o, v), i, "%v", v)
		}
	}
}

// The relative error statement of the package documentation, checked for
// every bucket: width/start = (Growth−1) + FirstBucket/start, so the end of
// a bucket is at most v·(1 + (Growth−1) + FirstBucket/v) for every v in it.
func TestBucketEndBound(t *testing.T) {
	for _, tl := range testLayouts {
		t.Run(tl.name, func(t *testing.T) {
			o := tl.opts
			n := o.NumBuckets()
			g, f := o.Growth, o.FirstBucket
			for i := 1; i < n-1; i++ {
				start, end := o.BucketStart(i), o.BucketStart(i+1)
				require.InEpsilon(t, (g-1)+f/start, (end-start)/start, 1e-6, "bucket %d", i)
				require.LessOrEqual(t, end, (g*start+f)*(1+1e-12), "bucket %d", i)
				// For any v in the bucket, v ≤ end ≤ v·(1 + (g−1) + f/v).
				for _, v := range []float64{start, (start + end) / 2, math.Nextafter(end, 0)} {
					require.LessOrEqual(t, v, end)
					require.LessOrEqual(t, end, v*(1+(g-1)+f/v)*(1+1e-12))
				}
			}
			// Bucket 0 is [0, FirstBucket): end = f ≤ g·v + f.
			assert.InDelta(t, f, o.BucketStart(1), f*1e-12)
		})
	}
	// The example of the documentation: ≤ 5 % at Growth 1.04 from 100·FirstBucket.
	o := testLayouts[2].opts
	for i := o.BucketIndex(100 * o.FirstBucket); i < o.NumBuckets()-1; i++ {
		start, end := o.BucketStart(i), o.BucketStart(i+1)
		v := max(start, 100*o.FirstBucket)
		require.LessOrEqual(t, end/v, 1.05+1e-12, "bucket %d", i)
	}
}
