//go:build !arm64 && !s390x

package sketch

import "math"

// exp2 returns exactly math.Exp2(x), about twice as fast for |x| ≤ 1000.
//
// Decay factors must match VPA's bit for bit, and VPA calls math.Exp2. On
// this architecture math.Exp2 is the portable Go implementation (Copyright
// The Go Authors, BSD-style license; derived from FreeBSD's e_exp.c); the
// steps below are that implementation's, transcribed literally so every
// rounding is the same, except that the final Ldexp, which dominates its
// cost, is done by adding k to the exponent bits. That is exact because
// y ∈ (0.7, 1.5) and |k| ≤ 1000 keep y·2^k a normal number.
// TestExp2MatchesMath checks the equality.
func exp2(x float64) float64 {
	const (
		Ln2Hi = 6.93147180369123816490e-01
		Ln2Lo = 1.90821492927058770002e-10

		P1 = 1.66666666666666657415e-01  /* 0x3FC55555; 0x55555555 */
		P2 = -2.77777777770155933842e-03 /* 0xBF66C16C; 0x16BEBD93 */
		P3 = 6.61375632143793436117e-05  /* 0x3F11566A; 0xAF25DE2C */
		P4 = -1.65339022054652515390e-06 /* 0xBEBBBD41; 0xC5D26BF1 */
		P5 = 4.13813679705723846039e-08  /* 0x3E663769; 0x72BEA4D0 */
	)
	if !(x >= -1000 && x <= 1000) { // also NaN
		return math.Exp2(x)
	}

	// argument reduction; x = r×lg(e) + k with |r| ≤ ln(2)/2.
	// computed as r = hi - lo for extra precision.
	var k int
	switch {
	case x > 0:
		k = int(x + 0.5)
	case x < 0:
		k = int(x - 0.5)
	}
	t := x - float64(k)
	hi := t * Ln2Hi
	lo := -t * Ln2Lo

	r := hi - lo
	t = r * r
	c := r - t*(P1+t*(P2+t*(P3+t*(P4+t*P5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	return math.Float64frombits(math.Float64bits(y) + uint64(int64(k))<<52)
}
