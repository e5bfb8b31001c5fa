package backtest_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// smallFleet is n containers with one interval of m scored samples each (plus
// the weightless first sample), usage drawn from a seeded log-normal of a
// per-container scale.
func smallFleet(seed uint64, n, m int) (*history.Store, [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	st := history.NewStore()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	use := make([][]float64, n)
	for c := range n {
		key := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: fmt.Sprintf("w%d", c)}, Container: "app"}
		scale := math.Exp(2 * rng.NormFloat64())
		for i := range m + 1 {
			u := math.Round(1000*scale*math.Exp(0.6*rng.NormFloat64())) / 1000
			st.Add(key, workload.Sample{Time: t0.Add(time.Duration(i) * time.Minute), Pod: "p", CPU: workload.Cores(u), HasCPU: true})
			if i > 0 {
				use[c] = append(use[c], u)
			}
		}
	}
	st.Finalize()
	return st, use
}

// bruteForce tries every combination of requests from {0} ∪ the samples
// (where the optimum lies) and returns the lowest slack at risk ≤ beta.
func bruteForce(use [][]float64, beta float64) float64 {
	best := math.Inf(1)
	var total float64
	for _, u := range use {
		total += float64(len(u))
	}
	choice := make([]int, len(use))
	for {
		var req, idle, short float64
		for c, u := range use {
			r := 0.0
			if choice[c] > 0 {
				r = u[choice[c]-1]
			}
			for _, x := range u {
				req += r
				idle += max(r-x, 0)
				if x > r {
					short++
				}
			}
		}
		if short/total <= beta+1e-12 && req > 0 {
			best = min(best, idle/req)
		}
		c := 0
		for ; c < len(use); c++ {
			choice[c]++
			if choice[c] <= len(use[c]) {
				break
			}
			choice[c] = 0
		}
		if c == len(use) {
			return best
		}
	}
}

// TestHindsightBound checks the bound against exhaustive search on small
// fleets: it never exceeds the true optimum (it is a lower bound), the
// allocation it reports is feasible and no better than the optimum, and it
// falls as the risk allowed grows.
func TestHindsightBound(t *testing.T) {
	cases := []struct {
		seed uint64
		n, m int
		risk []float64
	}{
		{seed: 1, n: 3, m: 6, risk: []float64{0, 1.0 / 18, 2.0 / 18, 4.0 / 18}},
		{seed: 2, n: 4, m: 5, risk: []float64{0.05, 0.1, 0.2}},
		{seed: 3, n: 2, m: 9, risk: []float64{0, 0.1, 0.3}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.seed), func(t *testing.T) {
			st, use := smallFleet(tc.seed, tc.n, tc.m)
			o := backtest.Options{Warmup: 0, Interval: 24 * time.Hour}
			bounds, err := backtest.HindsightBound(context.Background(), st, tc.risk, o)
			require.NoError(t, err)
			require.Len(t, bounds, len(tc.risk))
			for i, b := range bounds {
				want := bruteForce(use, tc.risk[i])
				assert.LessOrEqual(t, b.Slack, want+1e-4, "risk %v: the bound must not exceed the optimum", tc.risk[i])
				assert.GreaterOrEqual(t, b.Achieved.Slack, want-1e-9, "risk %v: nothing beats the optimum", tc.risk[i])
				assert.LessOrEqual(t, b.Achieved.Insufficient, tc.risk[i]+1e-12, "risk %v: the allocation keeps the budget", tc.risk[i])
			}
			assert.True(t, slices.IsSortedFunc(bounds, func(a, b backtest.Bound) int { return cmp.Compare(b.Slack, a.Slack) }), "bounds fall as risk grows: %+v", bounds)
		})
	}
}

// TestHindsightBoundIsTightOnAFleet: with many containers the duality gap
// closes — the bound and a reachable allocation agree closely, so the bound
// says what hindsight can do, not merely what it cannot.
func TestHindsightBoundIsTightOnAFleet(t *testing.T) {
	st, _ := smallFleet(4, 60, 40)
	bounds, err := backtest.HindsightBound(context.Background(), st, []float64{0.02, 0.05}, backtest.Options{Interval: 24 * time.Hour})
	require.NoError(t, err)
	for _, b := range bounds {
		assert.InDelta(t, b.Achieved.Slack, b.Slack, 0.02, "risk %v", b.Insufficient)
		assert.LessOrEqual(t, b.Slack, b.Achieved.Slack+1e-4)
		assert.InDelta(t, b.Insufficient, b.Achieved.Insufficient, 0.005, "the allocation uses the risk it is given")
	}
}

func TestHindsightBoundRejectsBadRisk(t *testing.T) {
	st, _ := smallFleet(1, 1, 3)
	_, err := backtest.HindsightBound(context.Background(), st, []float64{1.2}, backtest.Options{Interval: time.Hour})
	assert.ErrorContains(t, err, "risk 1.2 outside")
}

// TestPerContainerAddsUp: the per-container figures are the fleet's, split.
func TestPerContainerAddsUp(t *testing.T) {
	st, _ := smallFleet(9, 12, 2*24*60)
	o := backtest.Options{Warmup: 24 * time.Hour, Interval: 6 * time.Hour, PerContainer: true}
	res, err := backtest.Run(context.Background(), st, []string{"balanced", "krr"}, o)
	require.NoError(t, err)
	for _, r := range res {
		require.Len(t, r.ByContainer, r.Covered)
		var idle, req, short float64
		for _, c := range r.ByContainer {
			idle += c.CPUIdleCoreHours
			req += c.CPU.RequestCoreHours
			short += c.CPUShortHours
			assert.InDelta(t, c.CPU.Slack*c.CPU.RequestCoreHours, c.CPUIdleCoreHours, 1e-9, c.Container)
		}
		assert.InDelta(t, r.CPU.RequestCoreHours, req, 1e-6, r.Profile)
		assert.InDelta(t, r.CPU.Slack*r.CPU.RequestCoreHours, idle, 1e-6, r.Profile)
		assert.Greater(t, short, 0.0, "%s: some time short on log-normal usage", r.Profile)

		top := backtest.Top([]backtest.Result{r}, 3)[0]
		assert.LessOrEqual(t, len(top.ByContainer), 6)
		most := slices.MaxFunc(r.ByContainer, func(a, b backtest.ContainerResult) int { return cmp.Compare(a.CPUIdleCoreHours, b.CPUIdleCoreHours) })
		assert.Equal(t, most.Container, top.ByContainer[0].Container, "the most idle container leads")
	}
}

// TestRunHeadroomIsTheBound: Run gathers the bound's cells while it
// replays, in parallel; its hindsight slack is HindsightBound's at the same
// risk, to the bit.
func TestRunHeadroomIsTheBound(t *testing.T) {
	st, _ := smallFleet(5, 40, 3*24*60)
	o := backtest.Options{Warmup: 24 * time.Hour, Interval: 12 * time.Hour, Headroom: true, Workers: 3}
	res, err := backtest.Run(context.Background(), st, []string{"balanced", "krr", "oracle"}, o)
	require.NoError(t, err)
	for _, r := range res {
		require.NotNil(t, r.CPU.HindsightSlack, r.Profile)
		b, err := backtest.HindsightBound(context.Background(), st, []float64{r.CPU.Insufficient}, o)
		require.NoError(t, err)
		assert.Equal(t, b[0].Slack, *r.CPU.HindsightSlack, r.Profile)
	}
}
