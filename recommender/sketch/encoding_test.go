package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/golden"
)

// sampleHistograms returns histograms in various states, for round trips and
// as the fuzz seed corpus.
func sampleHistograms(t testing.TB) map[string]*Histogram {
	r := rand.New(rand.NewPCG(77, 78))
	out := map[string]*Histogram{}

	out["empty"] = MustNew(VPACPUOptions())

	h := MustNew(VPACPUOptions())
	for i := range 3000 {
		h.Add(math.Exp(r.NormFloat64()), max(0.1, r.Float64()), t0.Add(time.Duration(i)*time.Minute))
	}
	out["cpu"] = h

	h = MustNew(VPAMemoryOptions())
	for i := range 300 {
		at := t0.Add(time.Duration(i) * 24 * time.Hour) // 300 days: the reference moves
		h.Add(3e8*math.Exp(r.NormFloat64()*0.5), 1, at)
		if i%7 == 0 {
			h.Subtract(1e9, 1, at) // mostly clamps at zero
		}
	}
	out["memory-shifted"] = h

	h = MustNew(Options{FirstBucket: 0.001, Growth: 1.04, Max: 1000})
	for range 500 {
		h.Add(r.Float64()*10, 1, t0)
	}
	h.Add(-1, 1, t0)
	h.Add(math.Inf(1), 2, t0)
	out["no-decay-extremes"] = h

	a, b := MustNew(VPACPUOptions()), MustNew(VPACPUOptions())
	for i := range 200 {
		a.Add(r.ExpFloat64(), 1, t0.Add(time.Duration(i)*time.Hour))
		b.Add(r.ExpFloat64()*3, 1, t0.Add(10*24*time.Hour+time.Duration(i)*time.Hour))
	}
	require.NoError(t, a.Merge(b))
	out["merged"] = a

	h = MustNew(VPACPUOptions())
	h.Add(1, 1, t0)
	h.Subtract(1, 1, t0)
	out["emptied"] = h

	return out
}

func requireSameHistogram(t *testing.T, want, got *Histogram) {
	t.Helper()
	require.Equal(t, want.Options(), got.Options())
	require.Equal(t, want.TotalWeight(), got.TotalWeight())
	require.Equal(t, want.IsEmpty(), got.IsEmpty())
	require.Equal(t, want.Min(), got.Min())
	require.Equal(t, want.Max(), got.Max())
	require.Equal(t, want.Mean(), got.Mean())
	for q := 0.0; q <= 1; q += 0.01 {
		require.Equal(t, want.Quantile(q), got.Quantile(q), "q=%v", q)
	}
	require.Equal(t, want.dense(), got.dense())
	require.Equal(t, want.minBucket, got.minBucket)
	require.Equal(t, want.maxBucket, got.maxBucket)
	require.True(t, want.ref.Equal(got.ref), "reference %v vs %v", want.ref, got.ref)
}

func TestMarshalRoundTrip(t *testing.T) {
	for name, h := range sampleHistograms(t) {
		t.Run(name, func(t *testing.T) {
			enc, err := h.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, magic, string(enc[:4]))
			require.Equal(t, byte(version), enc[4])

			var got Histogram // the zero value decodes
			require.NoError(t, got.UnmarshalBinary(enc))
			requireSameHistogram(t, h, &got)

			// Canonical: encoding again gives the same bytes.
			again, err := got.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, enc, again)

			// Later samples decay the same way in both.
			later := h.ref.Add(500 * time.Hour)
			c := h.Clone()
			c.Add(2, 1, later)
			got.Add(2, 1, later)
			requireSameHistogram(t, c, &got)

			// Into a histogram with other options, which are replaced.
			other := MustNew(Options{FirstBucket: 1, Growth: 1.01, Max: 100})
			require.NoError(t, other.UnmarshalBinary(enc))
			requireSameHistogram(t, h, other)
		})
	}
}

func TestUnmarshalIntoSameOptionsDoesNotAllocate(t *testing.T) {
	h := sampleHistograms(t)["cpu"]
	enc, err := h.MarshalBinary()
	require.NoError(t, err)
	dst := MustNew(h.Options())
	allocs := testing.AllocsPerRun(100, func() {
		if err := dst.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
	requireSameHistogram(t, h, dst)
}

func TestAppendBinary(t *testing.T) {
	hs := sampleHistograms(t)
	var buf []byte
	var want []byte
	for _, name := range []string{"cpu", "merged", "empty"} {
		enc, err := hs[name].MarshalBinary()
		require.NoError(t, err)
		want = append(want, enc...)
		buf, err = hs[name].AppendBinary(buf)
		require.NoError(t, err)
	}
	require.Equal(t, want, buf)

	h := hs["cpu"]
	buf = make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = h.AppendBinary(buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestMarshalErrors(t *testing.T) {
	var zero Histogram
	_, err := zero.MarshalBinary()
	require.ErrorContains(t, err, "not created with New")
	b, err := zero.AppendBinary([]byte("x"))
	require.Error(t, err)
	require.Equal(t, []byte("x"), b)
}

// patch returns a copy of b with a little-endian value written at off.
func patch(b []byte, off int, v any) []byte {
	c := slices.Clone(b)
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
		panic(err)
	}
	copy(c[off:], buf.Bytes())
	return c
}

func TestUnmarshalErrors(t *testing.T) {
	h := MustNew(VPACPUOptions())
	h.Add(0.5, 1, t0)
	h.Add(2, 1, t0.Add(time.Hour))
	valid, err := h.MarshalBinary()
	require.NoError(t, err)
	lo := int(binary.LittleEndian.Uint32(valid[85:]))
	count := int(binary.LittleEndian.Uint32(valid[89:]))
	require.Equal(t, headerLen+8*count, len(valid))
	minB := int(binary.LittleEndian.Uint32(valid[77:]))
	maxB := int(binary.LittleEndian.Uint32(valid[81:]))
	require.Equal(t, lo, minB)
	require.Equal(t, lo+count-1, maxB)

	tests := []struct {
		name    string
		input   []byte
		wantErr string
	}{
		{"nil", nil, "bad magic"},
		{"short", []byte("RS"), "bad magic"},
		{"garbage", []byte("this is not a histogram at all, not even close......................................................"), "bad magic"},
		{"magic only", []byte(magic), "truncated"},
		{"version 0", patch(valid, 4, uint8(0)), "unsupported encoding version 0"},
		{"version 2", patch(valid, 4, uint8(2)), "unsupported encoding version 2"},
		{"header truncated", valid[:headerLen-1], "truncated"},
		{"buckets truncated", valid[:len(valid)-1], "truncated"},
		{"trailing byte", append(slices.Clone(valid), 0), "trailing"},
		{"invalid growth", patch(valid, 13, 2.0), "growth"},
		{"NaN first bucket", patch(valid, 5, math.NaN()), "first bucket"},
		{"negative half-life", patch(valid, 29, int64(-1)), "half-life"},
		{"options with too many buckets", patch(patch(valid, 5, 1e-300), 21, 1e300), "buckets"},
		{"bucket count mismatch", patch(valid, 73, uint32(175)), "175 buckets stored"},
		{"absurd stored count", patch(valid, 89, uint32(math.MaxUint32)), "out of range"},
		{"absurd first stored bucket", patch(valid, 85, uint32(math.MaxUint32)), "out of range"},
		{"stored buckets past the end", patch(valid, 85, uint32(175)), "out of range"},
		{"more stored buckets than input", patch(valid, 89, uint32(count+1)), "truncated"},
		{"min bucket out of range", patch(valid, 77, uint32(176)), "out of range"},
		{"max bucket out of range", patch(valid, 81, uint32(1<<31)), "out of range"},
		{"bounds off the weights", patch(valid, 77, uint32(minB-1)), "do not match"},
		{"weight outside the bounds", patch(valid, 81, uint32(maxB-1)), "outside the bounds"},
		{"NaN weight", patch(valid, headerLen, math.NaN()), "not finite"},
		{"negative weight", patch(valid, headerLen, -1.0), "not finite"},
		{"infinite weight", patch(valid, headerLen+8*(count-1), math.Inf(1)), "not finite"},
		{"NaN total", patch(valid, 49, math.NaN()), "total weight"},
		{"negative total", patch(valid, 49, -2.0), "total weight"},
		{"infinite total", patch(valid, 49, math.Inf(1)), "total weight"},
		{"NaN min value", patch(valid, 57, math.NaN()), "value range"},
		{"min above max", patch(valid, 57, 1e9), "value range"},
		{"reference before year 1", patch(valid, 37, minRefUnix-1), "reference time"},
		{"reference after year 9999", patch(valid, 37, int64(math.MaxInt64)), "reference time"},
		{"reference nanoseconds", patch(valid, 45, uint32(1e9)), "reference time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := MustNew(VPAMemoryOptions())
			dst.Add(5e8, 1, t0)
			before := dst.Clone()
			err := dst.UnmarshalBinary(tt.input)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, "sketch: decoding")
			requireSameHistogram(t, before, dst)

			var zero Histogram
			require.Error(t, zero.UnmarshalBinary(tt.input))
		})
	}

	t.Run("no large allocation before the input is checked", func(t *testing.T) {
		// A fresh layout of MaxBuckets-scale, claimed by a header alone.
		o := Options{FirstBucket: 1, Growth: 1.0001, Max: 3e4}
		require.Greater(t, o.NumBuckets(), 10000)
		enc, err := MustNew(o).MarshalBinary()
		require.NoError(t, err)
		bad := patch(enc, 21, 3e4+1) // other options, not cached yet
		bad = patch(bad, 89, uint32(100))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			var dst Histogram
			require.Error(t, dst.UnmarshalBinary(bad))
		}
		runtime.ReadMemStats(&after)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(100*1024), "bytes allocated by 100 failed decodes")
	})

	t.Run("every truncation", func(t *testing.T) {
		for n := range len(valid) {
			var dst Histogram
			require.Error(t, dst.UnmarshalBinary(valid[:n]), "%d bytes", n)
		}
	})
}

// corpusDir holds FuzzUnmarshalBinary's seed corpus: the encodings of
// sampleHistograms, written by TestSeedCorpus -update.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzUnmarshalBinary")

// TestSeedCorpus checks that the seed corpus holds the current encodings of
// sampleHistograms; -update writes them again.
func TestSeedCorpus(t *testing.T) {
	hs := sampleHistograms(t)
	if golden.Update() {
		require.NoError(t, os.MkdirAll(corpusDir, 0o755))
		for name, h := range hs {
			enc, err := h.MarshalBinary()
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(corpusDir, name), []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(enc))+")\n"), 0o644))
		}
	}
	for name, h := range hs {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		require.NoError(t, err, "run go test -run TestSeedCorpus ./recommender/sketch/ -args -update")
		want, err := h.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, "go test fuzz v1\n[]byte("+strconv.Quote(string(want))+")\n", string(b), "%s is not the current encoding", name)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	// The whole encodings are in testdata/fuzz/FuzzUnmarshalBinary.
	for _, h := range sampleHistograms(f) {
		enc, err := h.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc[:len(enc)/2])
	}
	f.Add([]byte{})
	f.Add([]byte(magic + "\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Histogram
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() { err = h.UnmarshalBinary(data) })
		if err != nil {
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding a decoded histogram: %v", err)
		}
		var h2 Histogram
		if err := h2.UnmarshalBinary(enc); err != nil {
			t.Fatalf("decoding a re-encoded histogram: %v", err)
		}
		if h.Options() != h2.Options() || math.Float64bits(h.TotalWeight()) != math.Float64bits(h2.TotalWeight()) {
			t.Fatalf("options or total differ after a round trip")
		}
		for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 1} {
			if a, b := h.Quantile(q), h2.Quantile(q); math.Float64bits(a) != math.Float64bits(b) {
				t.Fatalf("Quantile(%v): %v, after a round trip %v", q, a, b)
			}
		}
		if a, b := h.Mean(), h2.Mean(); math.Float64bits(a) != math.Float64bits(b) {
			t.Fatalf("Mean: %v, after a round trip %v", a, b)
		}
		enc2, err := h2.MarshalBinary()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not canonical (err %v)", err)
		}

		// Whatever was decoded must stay usable.
		_ = h.Min() + h.Max()
		at := h.ref.Add(time.Duration(len(data)) * time.Hour)
		h.Add(1, 1, at)
		h.Subtract(2, 1, at)
		h.Add(1e6, 0.5, at.Add(-time.Hour))
		if err := h.Merge(&h2); err != nil && !errors.Is(err, errOverflow) {
			t.Fatalf("Merge: %v", err)
		}
		if err := h2.Merge(&h); err != nil && !errors.Is(err, errOverflow) {
			t.Fatalf("Merge: %v", err)
		}
		for _, x := range []*Histogram{&h, &h2} {
			if w := x.TotalWeight(); !finiteNonNegative(w) {
				t.Fatalf("total weight %v", w)
			}
			q := x.Quantile(0.9)
			if math.IsNaN(q) || q < 0 {
				t.Fatalf("Quantile(0.9) = %v", q)
			}
			if _, err := x.MarshalBinary(); err != nil {
				t.Fatalf("encoding after use: %v", err)
			}
		}
	})
}
