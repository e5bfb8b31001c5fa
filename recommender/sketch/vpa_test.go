package sketch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// vpaModel restates the VPA recommender's decaying exponential histogram
// (v1.8.1) as plainly as possible, straight from its documented behaviour:
// index by inverting the start formula, Epsilon-based min/max buckets, the
// reference moved forward past 100 half-lives with only the min..max
// buckets rescaled, and Merge aligning the older reference with the newer
// one by rescaling the other histogram in place. Histogram must give the
// same numbers, bit for bit.
type vpaModel struct {
	o                    Options
	n                    int
	weights              []float64
	total                float64
	minBucket, maxBucket int
	ref                  time.Time
}

func newVPAModel(o Options) *vpaModel {
	n := int(math.Ceil(math.Log(o.Max*(o.Growth-1)/o.FirstBucket+1)/math.Log(o.Growth))) + 1
	return &vpaModel{o: o, n: n, weights: make([]float64, n), minBucket: n - 1}
}

func (m *vpaModel) start(b int) float64 {
	if b == 0 {
		return 0
	}
	return m.o.FirstBucket * (math.Pow(m.o.Growth, float64(b)) - 1) / (m.o.Growth - 1)
}

func (m *vpaModel) bucket(v float64) int { return vpaFindBucket(m.o, v) }

func (m *vpaModel) decayFactor(t time.Time) float64 {
	if t.After(m.ref.Add(m.o.HalfLife * 100)) {
		m.shift(t)
	}
	return math.Exp2(float64(t.Sub(m.ref)) / float64(m.o.HalfLife))
}

func (m *vpaModel) shift(newRef time.Time) {
	newRef = newRef.Round(m.o.HalfLife)
	e := int(math.Floor(float64(m.ref.Sub(newRef))/float64(m.o.HalfLife) + 0.5))
	f := math.Ldexp(1, e)
	for b := m.minBucket; b <= m.maxBucket; b++ {
		m.weights[b] *= f
	}
	m.total *= f
	m.narrow()
	m.ref = newRef
}

func (m *vpaModel) narrow() {
	for m.weights[m.minBucket] < Epsilon && m.minBucket < m.n-1 {
		m.minBucket++
	}
	for m.weights[m.maxBucket] < Epsilon && m.maxBucket > 0 {
		m.maxBucket--
	}
}

func (m *vpaModel) add(v, w float64, t time.Time) {
	w *= m.decayFactor(t)
	b := m.bucket(v)
	m.weights[b] += w
	m.total += w
	if b < m.minBucket && m.weights[b] >= Epsilon {
		m.minBucket = b
	}
	if b > m.maxBucket && m.weights[b] >= Epsilon {
		m.maxBucket = b
	}
}

func (m *vpaModel) subtract(v, w float64, t time.Time) {
	w *= m.decayFactor(t)
	b := m.bucket(v)
	sub := func(x float64) float64 {
		if x -= w; x < Epsilon {
			return 0
		}
		return x
	}
	m.total = sub(m.total)
	m.weights[b] = sub(m.weights[b])
	m.narrow()
}

// merge changes o too, as VPA's does.
func (m *vpaModel) merge(o *vpaModel) {
	if m.ref.Before(o.ref) {
		m.shift(o.ref)
	} else if o.ref.Before(m.ref) {
		o.shift(m.ref)
	}
	for b := o.minBucket; b <= o.maxBucket; b++ {
		m.weights[b] += o.weights[b]
	}
	m.total += o.total
	m.minBucket = min(m.minBucket, o.minBucket)
	m.maxBucket = max(m.maxBucket, o.maxBucket)
}

func (m *vpaModel) isEmpty() bool { return m.weights[m.minBucket] < Epsilon }

func (m *vpaModel) percentile(q float64) float64 {
	if m.isEmpty() {
		return 0
	}
	partial, threshold := 0.0, q*m.total
	b := m.minBucket
	for ; b < m.maxBucket; b++ {
		partial += m.weights[b]
		if partial >= threshold {
			break
		}
	}
	if b < m.n-1 {
		return m.start(b + 1)
	}
	return m.start(b)
}

func (m *vpaModel) clone() *vpaModel {
	c := *m
	c.weights = append([]float64(nil), m.weights...)
	return &c
}

func requireSameAsVPA(t *testing.T, m *vpaModel, h *Histogram, step string) {
	t.Helper()
	// Decay factors of samples at a fixed step are chained multiplications
	// (see maxStepRun), so weights agree with VPA's to within 1e-12, not to
	// the bit.
	require.InEpsilon(t, m.total, h.TotalWeight(), 1e-12, "%s: total %v vs %v", step, m.total, h.TotalWeight())
	require.Equal(t, m.minBucket, h.minBucket, step)
	require.Equal(t, m.maxBucket, h.maxBucket, step)
	require.Equal(t, m.isEmpty(), h.IsEmpty(), step)
	require.True(t, m.ref.Equal(h.ref), "%s: reference %v vs %v", step, m.ref, h.ref)
	for b := range m.weights {
		if m.weights[b] == 0 {
			require.Zero(t, h.weight(b), "%s: bucket %d", step, b)
			continue
		}
		require.InEpsilon(t, m.weights[b], h.weight(b), 1e-12, "%s: bucket %d", step, b)
	}
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.95, 0.99, 1} {
		require.Equal(t, m.percentile(q), h.Quantile(q), "%s: q=%v", step, q)
	}
}

// TestMatchesVPA drives Histogram and vpaModel through the same random
// operations, like VPA's use: CPU samples weighted by the request, memory
// peaks replaced (subtracted and re-added) within their interval, gaps long
// enough to move the reference, out-of-order samples and merges of
// per-container histograms.
func TestMatchesVPA(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		value func(r *rand.Rand) float64
	}{
		{"cpu", VPACPUOptions(), func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()*1.2 - 1) }},
		{"memory", VPAMemoryOptions(), func(r *rand.Rand) float64 { return 2e8 * math.Exp(r.NormFloat64()*0.8) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(2024, 7))
			m, h := newVPAModel(tt.opts), MustNew(tt.opts)
			type sample struct {
				v, w float64
				t    time.Time
			}
			var recent []sample
			at := t0
			for step := range 20000 {
				switch k := r.IntN(100); {
				case k < 70: // a regular sample
					at = at.Add(time.Duration(r.IntN(120)) * time.Second)
					s := sample{tt.value(r), max(0.1, r.Float64()*2), at}
					m.add(s.v, s.w, s.t)
					h.Add(s.v, s.w, s.t)
					recent = append(recent, s)
				case k < 80 && len(recent) > 0: // replace a peak
					i := r.IntN(len(recent))
					s := recent[i]
					m.subtract(s.v, s.w, s.t)
					h.Subtract(s.v, s.w, s.t)
					recent[i].v = tt.value(r)
					m.add(recent[i].v, s.w, s.t)
					h.Add(recent[i].v, s.w, s.t)
				case k < 85: // a late sample
					past := at.Add(-time.Duration(r.Int64N(int64(20 * 24 * time.Hour))))
					v := tt.value(r)
					m.add(v, 1, past)
					h.Add(v, 1, past)
				case k < 86: // a long gap: more than 100 half-lives
					at = at.Add(time.Duration(90+r.IntN(30)) * 24 * time.Hour)
					recent = recent[:0]
				case k < 88: // merge another container's histogram
					om, oh := newVPAModel(tt.opts), MustNew(tt.opts)
					ot := at.Add(time.Duration(r.Int64N(int64(240*24*time.Hour))) - 120*24*time.Hour)
					for range 1 + r.IntN(50) {
						ot = ot.Add(time.Duration(r.IntN(3600)) * time.Second)
						v := tt.value(r)
						om.add(v, 1, ot)
						oh.Add(v, 1, ot)
					}
					before := oh.Clone()
					m.merge(om)
					require.NoError(t, h.Merge(oh))
					require.Equal(t, before, oh)
				default:
					for _, q := range []float64{0.5, 0.9} {
						require.Equal(t, m.percentile(q), h.Quantile(q), "step %d", step)
					}
					continue
				}
				if step%97 == 0 {
					requireSameAsVPA(t, m, h, fmt.Sprint("step ", step))
				}
			}
			requireSameAsVPA(t, m, h, "end")

			// Merging into an empty histogram and an empty one into it.
			e, em := MustNew(tt.opts), newVPAModel(tt.opts)
			require.NoError(t, e.Merge(h))
			em.merge(m.clone())
			requireSameAsVPA(t, em, e, "merge into empty")
			require.NoError(t, h.Merge(MustNew(tt.opts)))
			m.merge(newVPAModel(tt.opts))
			requireSameAsVPA(t, m, h, "merge empty")
		})
	}
}
