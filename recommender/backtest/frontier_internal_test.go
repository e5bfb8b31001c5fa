package backtest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEnvelopeMatchesScan checks the lower envelope against a plain scan of
// every candidate, on random cells with ties, zero usage and zero weights.
func TestEnvelopeMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 200 {
		n := 1 + rng.IntN(30)
		type smp struct{ u, dt float64 }
		ss := make([]smp, n)
		for i := range ss {
			ss[i] = smp{u: math.Round(rng.ExpFloat64()*4) / 4, dt: float64(rng.IntN(3)) / 12}
		}
		if trial%7 == 0 {
			ss[0].u = 0
		}
		// Sorted by usage, as hindsightCells builds them.
		for i := 1; i < n; i++ {
			for j := i; j > 0 && ss[j].u < ss[j-1].u; j-- {
				ss[j], ss[j-1] = ss[j-1], ss[j]
			}
		}
		var c cell
		for _, x := range ss {
			c.total += x.dt
		}
		if ss[0].u > 0 {
			c.add(0, 0, c.total)
		}
		var below, useBelow float64
		for i, x := range ss {
			below += x.dt
			useBelow += x.u * x.dt
			if i+1 < n && ss[i+1].u == x.u {
				continue
			}
			c.add(x.u, x.u*below-useBelow, c.total-below)
		}
		rho := rng.Float64()
		c.prepare(rho)
		for _, lambda := range []float64{0, 0.01, 0.3, 1, 2.5, 10, 1e3} {
			// The scan: every request in {0} ∪ samples, costed from scratch.
			want := math.Inf(1)
			for _, r := range append([]float64{0}, func() []float64 {
				var v []float64
				for _, x := range ss {
					v = append(v, x.u)
				}
				return v
			}()...) {
				var idle, short float64
				for _, x := range ss {
					idle += max(r-x.u, 0) * x.dt
					if x.u > r {
						short += x.dt
					}
				}
				want = min(want, idle-rho*r*c.total+lambda*short)
			}
			_, got := c.best(lambda)
			assert.InDelta(t, want, got, 1e-9, "trial %d, λ %v", trial, lambda)
		}
	}
}
