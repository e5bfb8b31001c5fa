package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestBucketsShareAboveAndNewsvendor(t *testing.T) {
	// Half the weight in [1, 2), half in [3, 4).
	b := buckets{lo: []float64{1, 3}, hi: []float64{2, 4}, w: []float64{1, 1}}
	tests := []struct {
		x, want float64
	}{
		{0.5, 1}, {1, 1}, {1.5, 0.75}, {2, 0.5}, {2.5, 0.5}, {3.5, 0.25}, {4, 0}, {10, 0},
	}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, b.shareAbove(tc.x), 1e-12, "share above %v", tc.x)
	}
	// Requests at bucket ends: at 2, idle 0.5 × (2 − 1.5) = 0.25, short
	// 0.5; at 4, idle 0.5 × 2.5 + 0.5 × 0.5 = 1.5, short 0. Cover the
	// upper half once λ × 0.5 > 1.25.
	got := b.newsvendor([]float64{0, 2, 2.4, 2.6, 100})
	assert.Equal(t, []float64{2, 2, 2, 4, 4}, got)
	assert.Zero(t, buckets{}.shareAbove(1), "no weight: nothing above")
}

func TestFleetRiskPrice(t *testing.T) {
	probe := func(reference float64, risk func(j int) float64) PriceProbe {
		var pr PriceProbe
		pr.reference = reference
		for j := range pr.risk {
			pr.risk[j] = risk(j)
		}
		return pr
	}
	// Risk falls by a point of share per step of the grid from 20 %.
	falling := func(j int) float64 { return max(0.2-0.01*float64(j), 0) }
	tests := []struct {
		name   string
		probes []PriceProbe
		factor float64
		want   float64
		ok     bool
	}{
		{"no containers", nil, 0.8, 0, false},
		{"already under the target at price 0", []PriceProbe{probe(0.1, func(int) float64 { return 0.05 })}, 0.8, 0, true},
		{"the lowest price at the target", []PriceProbe{probe(0.1, falling)}, 0.8, priceGrid[12], true},
		{"mean over containers", []PriceProbe{probe(0.1, falling), probe(0.1, func(int) float64 { return 0 })}, 0.8, priceGrid[4], true},
		{"the target out of reach: the highest price", []PriceProbe{probe(0, func(int) float64 { return 0.01 })}, 0.8, priceGrid[len(priceGrid)-1], true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f FleetRisk
			for _, pr := range tc.probes {
				f.Add(pr)
			}
			got, ok := f.Price(FleetPrice{RiskFactor: tc.factor})
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestProbe(t *testing.T) {
	p := Balanced()
	// 90 % at 0.2 core, 10 % at 1 core.
	s := summaryOf(t, p, 7*288, []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1.0}, []workload.Bytes{500 * workload.MiB}, nil)
	pr, ok := Probe(p, s)
	require.True(t, ok)
	assert.InDelta(t, 0.1, pr.risk[0], 0.01, "price 0: balanced's request, short whenever at 1 core")
	for j := 1; j < len(pr.risk); j++ {
		assert.LessOrEqual(t, pr.risk[j], pr.risk[j-1], "a higher price never adds risk")
	}
	assert.Zero(t, pr.risk[len(pr.risk)-1], "at the highest price the tail is covered")
	assert.InDelta(t, 0.1, pr.reference, 0.01, "VPA's p90 + 15 % is short at every 1-core sample")

	t.Run("without a fleet price or history: none", func(t *testing.T) {
		_, ok := Probe(Documents(), s)
		assert.False(t, ok)
		_, ok = Probe(p, nil)
		assert.False(t, ok)
		short := summaryOf(t, p, 3, []float64{0.1}, nil, nil)
		_, ok = Probe(p, short)
		assert.False(t, ok, "fewer samples than the profile needs")
	})
}

func TestNewsvendorRequestEmpty(t *testing.T) {
	h := sketch.MustNew(sketch.Options{FirstBucket: 0.001, Growth: 1.04, Max: 1000, HalfLife: 24 * time.Hour})
	assert.Zero(t, newsvendorRequest(h, 10))
}

func TestFleetPriceValidate(t *testing.T) {
	for _, f := range []float64{0, -1, 11} {
		p := Balanced()
		p.CPUFleetPrice = &FleetPrice{RiskFactor: f}
		assert.ErrorContains(t, p.Validate(), "cpu fleet price", "factor %v", f)
	}
	for _, name := range []string{"balanced", "savings", "reliability"} {
		p, err := ByName(name)
		require.NoError(t, err)
		require.NotNil(t, p.CPUFleetPrice, name)
	}
}
