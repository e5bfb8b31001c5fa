package sketch

import (
	"errors"
	"fmt"
	"math"
	"time"
)

const (
	// Epsilon is the smallest weight a bucket needs to count as non-empty,
	// VPA's value. Weights are relative to the histogram's reference time, so
	// with decay a bucket holding only old samples can drop below it.
	Epsilon = 0.0001

	// MaxBuckets bounds NumBuckets so that a histogram (and a decoded one)
	// never needs more than 128 KiB of bucket weights.
	MaxBuckets = 1 << 14

	// MaxGrowth is the largest allowed Growth.
	MaxGrowth = 1.05

	// MaxHalfLife is the largest allowed HalfLife; 100 half-lives must fit
	// in a time.Duration.
	MaxHalfLife = 2 * 365 * 24 * time.Hour

	// maxDecayExponent is VPA's: once a sample would weigh more than
	// 2^maxDecayExponent the reference time moves forward.
	maxDecayExponent = 100
)

// Options fixes the bucket layout and decay. Bucket i (i ≥ 0) starts at
// FirstBucket·(Growth^i − 1)/(Growth − 1) (VPA's layout: bucket 0 is [0, FirstBucket)),
// and the last bucket holds everything from its start up (values above Max land there
// or in the bucket holding Max: the last bucket starts at the first boundary ≥ Max).
type Options struct {
	FirstBucket float64       // size of the first bucket, > 0
	Growth      float64       // ratio of consecutive bucket sizes, 1 < Growth ≤ 1.05
	Max         float64       // largest value with its own bucket, > FirstBucket
	HalfLife    time.Duration // weight halves every HalfLife into the past; 0 = no decay
}

// VPACPUOptions returns the options of VPA's CPU histogram (cores).
func VPACPUOptions() Options {
	return Options{FirstBucket: 0.01, Growth: 1.05, Max: 1000, HalfLife: 24 * time.Hour}
}

// VPAMemoryOptions returns the options of VPA's memory-peak histogram (bytes).
func VPAMemoryOptions() Options {
	return Options{FirstBucket: 1e7, Growth: 1.05, Max: 1e12, HalfLife: 24 * time.Hour}
}

// Validate reports whether the options describe a usable layout.
func (o Options) Validate() error {
	_, err := o.layout()
	return err
}

// check validates the parameters and returns the number of buckets,
// computed as VPA does: ceil(log_Growth(Max·(Growth−1)/FirstBucket + 1)) + 1,
// so the last bucket starts at or above Max.
func (o Options) check() (int, error) {
	switch {
	case !(o.FirstBucket > 0) || math.IsInf(o.FirstBucket, 1):
		return 0, fmt.Errorf("sketch: first bucket size %v must be positive and finite", o.FirstBucket)
	case !(o.Growth > 1 && o.Growth <= MaxGrowth):
		return 0, fmt.Errorf("sketch: growth %v must be in (1, %v]", o.Growth, MaxGrowth)
	case !(o.Max > o.FirstBucket) || math.IsInf(o.Max, 1):
		return 0, fmt.Errorf("sketch: max %v must be finite and above the first bucket size %v", o.Max, o.FirstBucket)
	case o.HalfLife < 0 || o.HalfLife > MaxHalfLife:
		return 0, fmt.Errorf("sketch: half-life %v must be in [0, %v]", o.HalfLife, MaxHalfLife)
	}
	f := math.Ceil(math.Log(o.Max*(o.Growth-1)/o.FirstBucket+1)/math.Log(o.Growth)) + 1
	// Compare as floats first: converting a huge or infinite float to int is
	// implementation-defined.
	if !(f <= MaxBuckets) {
		return 0, fmt.Errorf("sketch: layout needs %v buckets, more than %d", f, MaxBuckets)
	}
	return int(f), nil
}

// layout validates o and returns its (shared) precomputed layout.
func (o Options) layout() (*layout, error) {
	n, err := o.check()
	if err != nil {
		return nil, err
	}
	return layoutOf(o, n)
}

// NumBuckets returns the number of buckets, or 0 if the options are invalid.
func (o Options) NumBuckets() int {
	l, err := o.layout()
	if err != nil {
		return 0
	}
	return l.n
}

// start is VPA's GetBucketStart formula, evaluated in the same order so the
// boundaries (and hence quantiles) are bit-for-bit VPA's.
func (o Options) start(i int) float64 {
	if i <= 0 {
		return 0
	}
	return o.FirstBucket * (math.Pow(o.Growth, float64(i)) - 1) / (o.Growth - 1)
}

// BucketStart returns the lower boundary of bucket i: 0 for i ≤ 0 and +Inf
// for i ≥ NumBuckets() (the last bucket has no end). It returns NaN if the
// options are invalid.
func (o Options) BucketStart(i int) float64 {
	l, err := o.layout()
	switch {
	case err != nil:
		return math.NaN()
	case i <= 0:
		return 0
	case i >= l.n:
		return math.Inf(1)
	}
	return l.starts[i]
}

// BucketIndex returns the bucket holding v: the i with BucketStart(i) ≤ v <
// BucketStart(i+1). Negative values and NaN map to 0, values from the last
// bucket's start up (including +Inf) to NumBuckets()−1. It returns 0 if the
// options are invalid.
func (o Options) BucketIndex(v float64) int {
	l, err := o.layout()
	if err != nil {
		return 0
	}
	return l.index(v)
}

var (
	errNilHistogram = errors.New("sketch: nil histogram")
	errOverflow     = errors.New("sketch: merged weights overflow")
)
