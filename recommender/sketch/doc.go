// Package sketch provides a decaying histogram with exponentially growing
// buckets, the data structure the Kubernetes VPA recommender keeps CPU usage
// and memory peaks in (VPA v1.8.1, pkg/recommender/util/histogram.go and
// decaying_histogram.go). It reproduces VPA's numbers: same bucket
// boundaries, same decay and renormalisation, same Epsilon rules for empty
// buckets, same quantile rule. VPACPUOptions and VPAMemoryOptions give VPA's
// settings; other profiles use the same type with other Options.
//
// # Layout
//
// With F = FirstBucket and g = Growth, bucket i has width F·g^i and starts at
//
//	start(i) = F·(g^i − 1)/(g − 1),
//
// so bucket 0 is [0, F). There are NumBuckets = ceil(log_g(Max·(g−1)/F + 1)) + 1
// buckets (176 for both of VPA's layouts); the last one starts at the first
// boundary at or above Max and has no end. Negative values and NaN fall in
// bucket 0. The boundaries are computed with VPA's formula, bit for bit.
// BucketIndex agrees exactly with them: it looks the value up in a table
// keyed by its floating-point exponent and top mantissa bits, then steps
// forward past any boundary at or below it. VPA instead inverts the formula
// with logarithms, which can disagree with its own boundaries for values
// within a few ulps of one; only such values may land one bucket apart from
// VPA.
//
// # Error bound
//
// Quantile returns the end of a bucket. Since F·g^i = (g−1)·start(i) + F, the
// end of bucket i is
//
//	start(i+1) = g·start(i) + F,   i.e.  width/start = (g − 1) + F/start.
//
// For every v in bucket i (start(i) ≤ v < start(i+1)), not the last bucket,
//
//	v < start(i+1) ≤ g·v + F = v·(1 + (g − 1) + F/v).
//
// The cumulative weight up to the end of a bucket counts exactly the samples
// below that end, so the bucket Quantile(q) picks is the one holding the exact
// weighted q-quantile x (the smallest sample whose cumulative weight reaches
// q·total, gonum's stat.Empirical). Hence
//
//	x ≤ Quantile(q) ≤ g·x + F   (up to a few ulps of rounding in the boundaries),
//
// an over-estimate by at most the factor (g − 1) + F/x and never an
// under-estimate: at most 5 % for g = 1.04 and x ≥ 100·F, at most 6 % for
// VPA's g = 1.05 and x ≥ 100·F. Caveats: a quantile in the last bucket is
// reported as that bucket's start (≥ Max), which can be below x; floating
// point sums of non-integer weights can move the choice to a neighbouring
// bucket when the cumulative weight is within rounding of q·total; and, as
// in VPA, buckets holding less than Epsilon at either end are ignored.
//
// # Decay
//
// A sample of weight w added at time t weighs w·2^((t − ref)/HalfLife), so a
// sample one HalfLife older weighs half as much, and the result does not
// depend on the order of Adds (up to rounding and the Epsilon caveat of
// Add). The reference time ref starts at the zero time, so the first sample
// moves it to that sample's time rounded to HalfLife. Whenever a sample lies
// more than 100 half-lives past ref, ref moves to that sample's time
// (rounded to HalfLife) and the stored weights are scaled by the matching
// power of two, which keeps every factor at most 2^100. Samples far in the
// past get tiny (possibly zero) weights. Weights are therefore only
// meaningful relative to each other. The factor is math.Exp2's, as in VPA,
// except that for samples at a fixed step it is chained from the previous
// sample's factor (one multiplication instead of an exponential), recomputed
// exactly every 64 samples; weights then agree with VPA's to within 1e-12.
// With HalfLife 0 there is no decay.
//
// # Encoding
//
// MarshalBinary writes the magic "RSKH", a version byte (currently 1), the
// options, the reference time, totals, value range, bucket bounds and the
// non-zero run of bucket weights. UnmarshalBinary rejects other magics and
// versions, truncated or trailing input, invalid options, NaN, infinite or
// negative weights, bucket counts that do not match the options and bucket
// bounds that do not match the weights. Every field is checked against the
// input before anything is allocated; the only allocations are the arrays
// the decoded options call for, at most MaxBuckets weights (none when
// decoding into a histogram that already has those options).
package sketch
