package backtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/history"
)

// TestHighQuantileIsTheSortedOne: the oracle's quantile and highest, from
// the few highest values, are those of the sorted values, on random spans
// of one to three series with NaNs, ties, signed zeros, infinities and
// ascending runs, short and long (the sort's fallback).
func TestHighQuantileIsTheSortedOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	pick := []float64{0, math.Copysign(0, -1), 1, 2.5, math.Inf(1), math.NaN(), -3}
	for trial := range 2000 {
		c := &container{}
		var all []float64
		for range 1 + rng.IntN(3) {
			n := rng.IntN(40)
			switch trial % 10 {
			case 0:
				n = 3000 + rng.IntN(2000)
			case 1:
				n = rng.IntN(400)
			}
			vs := make([]float64, n)
			for i := range vs {
				switch r := rng.IntN(10); {
				case r < 2:
					vs[i] = pick[rng.IntN(len(pick))]
				case r < 4 && i > 0:
					vs[i] = vs[i-1] + 1 // an ascending run
				default:
					vs[i] = math.Round(rng.ExpFloat64()*16) / 16
				}
			}
			lo := rng.IntN(n + 1)
			hi := lo + rng.IntN(n-lo+1)
			c.series = append(c.series, &history.Series{CPU: vs})
			c.cols = append(c.cols, span{lo, hi})
			all = appendValues(all, vs[lo:hi])
		}
		slices.Sort(all)
		for _, q := range []float64{oracleQ, 0.5, 0.9, 1} {
			got, highest, ok := c.highQuantile(cpuOf, q)
			if len(all) == 0 {
				assert.False(t, ok, "trial %d", trial)
				continue
			}
			want := history.SortedQuantile(all, q)
			if !assert.True(t, ok) || !assert.True(t, got == want || got != got && want != want, "trial %d, q %v: %v, want %v", trial, q, got, want) {
				return
			}
			assert.Equal(t, all[len(all)-1], highest, "trial %d", trial)
		}
	}
}
