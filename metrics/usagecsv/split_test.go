package usagecsv

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSplitPlain checks the eight-bytes-at-a-time split against
// bytes.Split on random lines of every length up to 40, with commas at
// word edges and in runs, and lines with a quote anywhere, which it must
// refuse.
func TestSplitPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,,,09. \t\xff\x00\x2b\x2d\xac")
	for range 20000 {
		line := make([]byte, rng.IntN(41))
		for i := range line {
			line[i] = alphabet[rng.IntN(len(alphabet))]
		}
		quote := rng.IntN(4) == 0 && len(line) > 0
		if quote {
			line[rng.IntN(len(line))] = '"'
		}
		got, ok := splitPlain(line, nil)
		if quote {
			require.False(t, ok, "%q", line)
			continue
		}
		require.True(t, ok, "%q", line)
		want := bytes.Split(line, []byte{','})
		require.Equal(t, len(want), len(got), "%q", line)
		for i := range want {
			require.Equal(t, string(want[i]), string(got[i]), "%q field %d", line, i)
		}
		sp := splitter{fields: got, text: line}
		for lo := range want {
			for hi := lo; hi < len(want); hi++ {
				require.Equal(t, string(bytes.Join(want[lo:hi+1], []byte{','})), string(sp.span(lo, hi)), "%q fields %d to %d", line, lo, hi)
			}
		}
	}
}

// TestZeroBytes: exactly the zero bytes are marked, whatever the bytes
// around them (a borrow must not mark a neighbour).
func TestZeroBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var b [8]byte
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = 0
			case 1:
				b[i] = 1
			case 2:
				b[i] = 0x80
			default:
				b[i] = byte(rng.IntN(256))
			}
		}
		x := uint64(0)
		for i := range b {
			x |= uint64(b[i]) << (8 * i)
		}
		m := zeroBytes(x)
		for i := range b {
			require.Equal(t, b[i] == 0, m>>(8*i)&0xff == 0x80, "% x byte %d", b, i)
			require.Zero(t, m>>(8*i)&0x7f, "% x byte %d", b, i)
		}
	}
}
