package sketch

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
)

func TestCompactRoundTrip(t *testing.T) {
	for name, h := range sampleHistograms(t) {
		t.Run(name, func(t *testing.T) {
			enc := h.AppendCompact([]byte("prefix"))
			got := MustNew(h.Options())
			rest, err := got.UnmarshalCompact(append(enc[len("prefix"):], "tail"...))
			require.NoError(t, err)
			assert.Equal(t, "tail", string(rest))
			assert.Equal(t, h.IsEmpty(), got.IsEmpty())
			assert.Equal(t, h.Min(), got.Min())
			assert.Equal(t, h.Max(), got.Max())
			if h.IsEmpty() {
				return
			}
			assert.InEpsilon(t, h.TotalWeight(), got.TotalWeight(), 1e-3)
			assert.InEpsilon(t, h.Mean(), got.Mean(), 1e-3)
			for _, q := range []float64{0.1, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99} {
				// At most one bucket apart: a threshold may fall within the
				// quantization of a bucket's weight.
				want, have := h.Quantile(q), got.Quantile(q)
				assert.InEpsilon(t, want, have, h.Options().Growth-1+1e-9, "q %v", q)
			}
			// The decoded histogram goes on decaying from the same reference.
			at := h.ref.Add(time.Hour)
			h2 := h.Clone()
			h2.Add(5, 1, at)
			got.Add(5, 1, at)
			assert.InEpsilon(t, h2.TotalWeight(), got.TotalWeight(), 1e-3)
			again := got.AppendCompact(nil)
			third := MustNew(h.Options())
			_, err = third.UnmarshalCompact(again)
			require.NoError(t, err)
			assert.Equal(t, got.Quantile(0.9), third.Quantile(0.9))
		})
	}
}

func TestCompactSize(t *testing.T) {
	// Two weeks of a steady container at 30 s: a few hundred bytes, against
	// 93 + 8 per bucket of the full encoding.
	h := MustNew(Options{FirstBucket: 0.001, Growth: 1.04, Max: 1000, HalfLife: 24 * time.Hour})
	for i := range 14 * 2880 {
		v := 0.2 + 0.05*math.Sin(float64(i)/300) + 0.02*math.Sin(float64(i)*1.7)
		h.Add(v, 1, t0.Add(time.Duration(i)*30*time.Second))
	}
	full, err := h.MarshalBinary()
	require.NoError(t, err)
	compact := h.AppendCompact(nil)
	t.Logf("full %d bytes, compact %d bytes", len(full), len(compact))
	assert.Less(t, len(compact), 200)
	assert.Less(t, len(compact), len(full)/2)
}

func TestUnmarshalCompactRejects(t *testing.T) {
	h := MustNew(VPACPUOptions())
	h.Add(1, 1, t0)
	good := h.AppendCompact(nil)
	for name, b := range map[string][]byte{
		"empty":       {},
		"truncated":   good[:len(good)-1],
		"value flag":  append(append([]byte{}, good[:2]...), 7),
		"bad varint":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"wrong count": append(append([]byte{}, good[:len(good)-3]...), 0xff, 0x7f),
	} {
		t.Run(name, func(t *testing.T) {
			got := MustNew(VPACPUOptions())
			got.Add(2, 1, t0)
			before := got.Quantile(0.5)
			_, err := got.UnmarshalCompact(b)
			require.Error(t, err)
			assert.Equal(t, before, got.Quantile(0.5), "unchanged on error")
		})
	}
	var zero Histogram
	_, err := zero.UnmarshalCompact(good)
	assert.Error(t, err)
}

func FuzzUnmarshalCompact(f *testing.F) {
	for _, h := range sampleHistograms(f) {
		f.Add(h.AppendCompact(nil))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := MustNew(VPACPUOptions())
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() { _, err = h.UnmarshalCompact(data) })
		if err != nil {
			return
		}
		if w := h.TotalWeight(); !finiteNonNegative(w) {
			t.Fatalf("total weight %v", w)
		}
		if q := h.Quantile(0.9); math.IsNaN(q) || q < 0 {
			t.Fatalf("Quantile(0.9) = %v", q)
		}
		h.Add(1, 1, h.ref.Add(time.Hour))
		h2 := MustNew(VPACPUOptions())
		if _, err := h2.UnmarshalCompact(h.AppendCompact(nil)); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
	})
}
