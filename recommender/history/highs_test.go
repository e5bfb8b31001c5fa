package history

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refHighs is highs without the top kept apart: every sample goes through
// the stack.
type refHighs []timedHigh

func (h *refHighs) add(t int64, v float64) {
	s := *h
	for len(s) > 0 && s[len(s)-1].v <= v {
		s = s[:len(s)-1]
	}
	if n := len(s); n > 0 && t/highMergeMs == s[n-1].t/highMergeMs {
		s[n-1].t = max(s[n-1].t, t)
	} else {
		s = append(s, timedHigh{t, v})
	}
	*h = s
}

func (h *refHighs) drop(cut int64) {
	s := *h
	i := 0
	for i < len(s) && s[i].t < cut {
		i++
	}
	*h = append(s[:0], s[i:]...)
}

func (h refHighs) since(from int64) float64 {
	for _, x := range h {
		if x.t >= from {
			return x.v
		}
	}
	return 0
}

// TestHighsMatchStack: the highs with their top kept apart are the stack
// every sample goes through, whatever the order of the samples (several
// pods), with drops, and from a decoded start that need not decrease.
func TestHighsMatchStack(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		var got highs
		var want refHighs
		// A decoded start: any values, times in order.
		at := int64(r.IntN(10)) * highMergeMs
		for range r.IntN(6) {
			x := timedHigh{at, float64(r.IntN(20))}
			got.push(x)
			want = append(want, x)
			at += r.Int64N(3 * highMergeMs)
		}
		steps := []int64{30_000, 60_000, 15 * 60_000, highMergeMs, 3 * highMergeMs}
		for i := range 2000 {
			switch k := r.IntN(100); {
			case k < 3:
				cut := at - r.Int64N(6*highMergeMs)
				got.drop(cut)
				want.drop(cut)
			case k < 10:
				// A sample of another pod, behind.
				t := max(at-r.Int64N(2*highMergeMs), 0)
				v := float64(r.IntN(20))
				if !got.addTop(t, v) {
					got.add(t, v)
				}
				want.add(t, v)
			default:
				at += steps[r.IntN(len(steps))]
				v := float64(r.IntN(20))
				if seed%2 == 0 {
					v = float64(i % 17) // rises and falls
				}
				if !got.addTop(at, v) {
					got.add(at, v)
				}
				want.add(at, v)
			}
			all := slices.Collect(got.all)
			if !slices.Equal(all, []timedHigh(want)) || got.len() != len(want) {
				t.Fatalf("seed %d, step %d: highs %v (len %d), want %v", seed, i, all, got.len(), want)
			}
			from := at - r.Int64N(8*highMergeMs)
			if g, w := got.since(from), want.since(from); g != w {
				t.Fatalf("seed %d, step %d: since(%d) = %v, want %v", seed, i, from, g, w)
			}
		}
	}
}
