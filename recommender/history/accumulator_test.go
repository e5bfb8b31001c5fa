package history

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/workload"
)

var accT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// samples calls add with days of samples at step for the pods, with a
// daily cycle, noise, an OOM kill and a pod replaced half way, and
// returns the end.
func samples(pods []string, days int, step time.Duration, add func(workload.Sample)) time.Time {
	r := rand.New(rand.NewPCG(1, 2))
	end := accT0.Add(time.Duration(days) * 24 * time.Hour)
	for at := accT0; at.Before(end); at = at.Add(step) {
		day := float64(at.Sub(accT0)) / float64(24*time.Hour)
		for i, pod := range pods {
			if i == 1 && day > float64(days)/2 {
				pod += "-new"
			}
			cpu := 0.2 + 0.1*math.Sin(2*math.Pi*day) + 0.03*r.NormFloat64()
			mem := 300e6 + 50e6*math.Sin(2*math.Pi*day) + 5e6*r.NormFloat64()
			add(workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(max(cpu, 0)), HasCPU: true,
				Memory: workload.Bytes(mem), HasMemory: true, OOMKilled: i == 0 && at.Equal(accT0.Add(36*time.Hour)),
				Settings: workload.Settings{Limits: workload.Resources{Memory: 400 * workload.MiB}}})
		}
	}
	return end
}

// feed adds samples' samples to the accumulator.
func feed(_ testing.TB, a *Accumulator, pods []string, days int, step time.Duration) time.Time {
	return samples(pods, days, step, a.Add)
}

func TestAccumulatorMatchesSummarize(t *testing.T) {
	o := DefaultOptions()
	a, err := NewAccumulator(o)
	require.NoError(t, err)
	st := NewStore()
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "app"}, Container: "app"}
	// The same samples into a store and the accumulator.
	end := samples([]string{"p1", "p2", "p3"}, 6, time.Minute, func(smp workload.Sample) {
		a.Add(smp)
		st.Add(k, smp)
	})
	st.Finalize()
	series := st.Series(k)
	want, err := Summarize(k, series, OOMsFromSeries(series, end), end, o)
	require.NoError(t, err)
	got := a.Summary(k, end)

	assert.Equal(t, want.Pods, got.Pods)
	assert.Equal(t, want.PodsNow, got.PodsNow)
	assert.Equal(t, want.CPUSamples, got.CPUSamples)
	assert.Equal(t, want.MemorySamples, got.MemorySamples)
	assert.Equal(t, want.First, got.First)
	assert.Equal(t, want.Last, got.Last)
	assert.Equal(t, byEnd(want.Peaks, false), byEnd(got.Peaks, false))
	assert.Len(t, got.OOMs, 1)
	assert.True(t, slices.ContainsFunc(got.Peaks, func(p Peak) bool { return p.OOM && p.Bytes > 500e6 }), "the kill bumps a peak")
	for _, q := range []float64{0.5, 0.9, 0.98} {
		assert.Equal(t, want.CPU.Quantile(q), got.CPU.Quantile(q))
		assert.Equal(t, want.MemoryPeaks.Quantile(q), got.MemoryPeaks.Quantile(q))
	}
	assert.Equal(t, want.CPUWindow.Count, got.CPUWindow.Count)
	assert.Equal(t, want.CPUWindow.Max, got.CPUWindow.Max)
	assert.InEpsilon(t, want.CPUWindow.Mean, got.CPUWindow.Mean, 1e-9)
	assert.Equal(t, want.MemoryWindow.Max, got.MemoryWindow.Max)
	assert.InDelta(t, want.Observed.Hours(), got.Observed.Hours(), 0.1)
	assert.Equal(t, want.Current, got.Current)
}

// byEnd orders peaks by end, pod and size; noPod drops the pod names,
// which an encoding keeps only for the pods still tracked.
func byEnd(peaks []Peak, noPod bool) []Peak {
	out := slices.Clone(peaks)
	if noPod {
		for i := range out {
			out[i].Pod = ""
		}
	}
	slices.SortFunc(out, func(x, y Peak) int {
		return cmp.Or(x.End.Compare(y.End), cmp.Compare(x.Pod, y.Pod), cmp.Compare(x.Bytes, y.Bytes))
	})
	return out
}

// TestAccumulatorPodBackInItsInterval: a pod closed after an hour unsampled
// that comes back within its memory interval reopens that interval, as
// its samples would: the interval's peak takes the later samples.
func TestAccumulatorPodBackInItsInterval(t *testing.T) {
	for _, tt := range []struct {
		name      string
		hold      bool
		first     workload.Bytes
		wantBytes workload.Bytes
	}{
		{"raised", false, 100 * workload.MiB, 500 * workload.MiB},
		{"held at 0", true, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.HoldZeroPeaks = tt.hold
			a, err := NewAccumulator(o)
			require.NoError(t, err)
			st := NewStore()
			k := workload.ContainerKey{Container: "c"}
			add := func(min int, pod string, mem workload.Bytes) {
				smp := workload.Sample{Time: accT0.Add(time.Duration(min) * time.Minute), Pod: pod, CPU: 0.1, HasCPU: true, Memory: mem, HasMemory: true}
				a.Add(smp)
				st.Add(k, smp)
			}
			add(0, "p1", tt.first)
			add(1, "p1", 100*workload.MiB)
			for m := 2; m <= 120; m++ {
				add(m, "p2", 50*workload.MiB) // expire closes p1's interval
			}
			require.False(t, a.pods["p1"].open, "p1 closed")
			add(180, "p1", 500*workload.MiB)
			until := accT0.Add(4 * time.Hour)
			st.Finalize()
			series := st.Series(k)
			want, err := Summarize(k, series, nil, until, o)
			require.NoError(t, err)
			got := a.Summary(k, until)
			assert.Equal(t, byEnd(want.Peaks, false), byEnd(got.Peaks, false))
			i := slices.IndexFunc(got.Peaks, func(p Peak) bool { return p.Pod == "p1" })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tt.wantBytes, got.Peaks[i].Bytes)
		})
	}
}

// TestAccumulatorPodNames: Add tells the last pod's name from another by
// every byte, whatever the length, and takes a copy of it as the same pod.
func TestAccumulatorPodNames(t *testing.T) {
	type test struct {
		name, x, y string
		same       bool
	}
	long := "app-7d9f8b6c5-x2x4z-0123456789-abcdefghijklmnopqrstuvwxyz-01234"
	flip := func(s string, i int) string { b := []byte(s); b[i]++; return string(b) }
	var tests []test
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 19, 24, 33, len(long)} {
		x := long[:n]
		tests = append(tests, test{fmt.Sprintf("%d same", n), x, strings.Clone(x), true})
		for _, i := range []int{0, n / 2, max(n-9, 0), max(n-8, 0), n - 1} {
			tests = append(tests, test{fmt.Sprintf("%d differs at %d", n, i), x, flip(x, i), false})
		}
		tests = append(tests, test{fmt.Sprintf("%d longer", n), x, x + "a", false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAccumulator(DefaultOptions())
			require.NoError(t, err)
			a.Add(workload.Sample{Time: accT0, Pod: tt.x, Memory: 1, HasMemory: true})
			a.Add(workload.Sample{Time: accT0.Add(time.Minute), Pod: tt.y, Memory: 2, HasMemory: true})
			want := 2
			if tt.same {
				want = 1
			}
			assert.Len(t, a.pods, want)
			assert.Equal(t, tt.y, a.lastPod.name)
		})
	}
}

// TestAccumulatorExpireOnePod: a container's one pod, unsampled, is
// closed after an hour and forgotten after the window, as any
// pod among others.
func TestAccumulatorExpireOnePod(t *testing.T) {
	a, err := NewAccumulator(DefaultOptions())
	require.NoError(t, err)
	for m := range 30 {
		a.Add(workload.Sample{Time: accT0.Add(time.Duration(m) * time.Minute), Pod: "p1", Memory: 1e8, HasMemory: true})
	}
	last := a.LastSample()
	a.Expire(last.Add(time.Hour))
	require.Len(t, a.pods, 1)
	assert.True(t, a.pods["p1"].open, "an hour idle: still open")
	a.Expire(last.Add(2 * time.Hour))
	require.Len(t, a.pods, 1)
	assert.False(t, a.pods["p1"].open, "closed")
	assert.Len(t, a.peaks, 1)
	a.Expire(last.Add(13 * 24 * time.Hour))
	assert.Len(t, a.pods, 1, "the pod of the window is kept")
	a.Expire(last.Add(15 * 24 * time.Hour))
	assert.Empty(t, a.pods, "forgotten")
}

// TestAccumulatorExpireCut: expire keeps the highs from the window and one
// slot before now, to the millisecond.
func TestAccumulatorExpireCut(t *testing.T) {
	o := DefaultOptions()
	a, err := NewAccumulator(o)
	require.NoError(t, err)
	// Falling hourly samples: each one a high of its own.
	for h := range 16 * 24 {
		at := accT0.Add(time.Duration(h) * time.Hour)
		a.Add(workload.Sample{Time: at, Pod: "p1", CPU: workload.Cores(1000 - h), HasCPU: true, Memory: workload.Bytes(1e9 - h), HasMemory: true})
	}
	now := a.LastSample()
	a.Expire(now)
	cut := now.Add(-o.Window - o.Window/WindowSlots)
	for _, h := range []*highs{&a.cpuHighs, &a.memHighs} {
		var first int64 = -1
		for x := range h.all {
			first = x.t
			break
		}
		assert.Equal(t, cut.UnixMilli(), first, "the oldest high kept is at the cut")
	}
}

func TestAccumulatorBounded(t *testing.T) {
	a, err := NewAccumulator(DefaultOptions())
	require.NoError(t, err)
	// A pod every five minutes for 20 days: the pods, peaks and kills kept
	// stay bounded.
	for i := range 20 * 288 {
		at := accT0.Add(time.Duration(i) * 5 * time.Minute)
		pod := "job-" + time.Duration(i).String()
		a.Add(workload.Sample{Time: at, Pod: pod, CPU: 1, HasCPU: true, Memory: workload.Bytes(1e8 + i), HasMemory: true, OOMKilled: i%7 == 0})
	}
	// Expiry runs every quarter hour: three more pods at most.
	assert.LessOrEqual(t, len(a.pods), MaxPods+3)
	assert.LessOrEqual(t, len(a.peaks), 2*MaxPeaks)
	assert.LessOrEqual(t, len(a.ooms), MaxOOMs)
	assert.Less(t, len(a.AppendBinary(nil)), 16<<10)
	s := a.Summary(workload.ContainerKey{}, accT0.Add(20*24*time.Hour))
	assert.Greater(t, s.Pods, 1000, "pods forgotten still count in the window")
}

func TestAccumulatorEncodingRoundTrip(t *testing.T) {
	for _, o := range []Options{DefaultOptions(), func() Options { o := DefaultOptions(); o.HoldZeroPeaks = true; o.Window = 0; return o }()} {
		a, err := NewAccumulator(o)
		require.NoError(t, err)
		end := feed(t, a, []string{"p1", "p2", "p3"}, 16, 30*time.Second)
		a.Expire(end)
		enc := a.AppendBinary(nil)
		b, err := UnmarshalAccumulator(enc, o)
		require.NoError(t, err)
		assert.Equal(t, enc, b.AppendBinary(nil), "canonical")
		k := workload.ContainerKey{Container: "c"}
		want, got := a.Summary(k, end), b.Summary(k, end)
		assert.Equal(t, byEnd(want.Peaks, true), byEnd(got.Peaks, true))
		assert.Equal(t, want.Pods, got.Pods)
		assert.Equal(t, want.CPUWindow.Count, got.CPUWindow.Count)
		assert.InEpsilon(t, want.CPUWindow.Max, got.CPUWindow.Max, 1e-6)
		assert.GreaterOrEqual(t, got.CPUWindow.Max, want.CPUWindow.Max, "highs round up")
		assert.InEpsilon(t, want.MemoryWindow.Mean, got.MemoryWindow.Mean, 1e-6)
		for _, q := range []float64{0.5, 0.9, 0.98} {
			assert.InEpsilon(t, want.CPU.Quantile(q), got.CPU.Quantile(q), 0.041)
		}
		// Both go on the same way.
		next := end.Add(time.Minute)
		for _, x := range []*Accumulator{a, b} {
			x.Add(workload.Sample{Time: next, Pod: "p1", CPU: 5, HasCPU: true, Memory: 1e9, HasMemory: true})
		}
		assert.Equal(t, a.Summary(k, next).MemoryWindow.Max, b.Summary(k, next).MemoryWindow.Max)

		other := o
		other.MemoryIntervals++
		_, err = UnmarshalAccumulator(enc, other)
		assert.ErrorIs(t, err, ErrOtherOptions)
		for _, cut := range []int{0, 3, 9, len(enc) / 2, len(enc) - 1} {
			_, err := UnmarshalAccumulator(enc[:cut], o)
			assert.Error(t, err, "truncated at %d", cut)
		}
	}
}

func TestAccumulatorSize14Days(t *testing.T) {
	a, err := NewAccumulator(DefaultOptions())
	require.NoError(t, err)
	end := feed(t, a, []string{"app-7d9f8b6c5-x2x4z"}, 14, 30*time.Second)
	a.Expire(end)
	n := len(a.AppendBinary(nil))
	t.Logf("one pod, 14 days at 30 s: %d bytes (cpu histogram %d, highs %d + %d, peaks %d)", n, len(a.cpu.AppendCompact(nil)), a.cpuHighs.len(), a.memHighs.len(), len(a.peaks))
	assert.LessOrEqual(t, n, 890)
}

func FuzzUnmarshalAccumulator(f *testing.F) {
	o := DefaultOptions()
	a, _ := NewAccumulator(o)
	end := feed(f, a, []string{"p1", "p2"}, 3, 5*time.Minute)
	a.Expire(end)
	enc := a.AppendBinary(nil)
	f.Add(enc)
	f.Add(enc[:len(enc)/2])
	empty, _ := NewAccumulator(o)
	f.Add(empty.AppendBinary(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		var b *Accumulator
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(data))+64<<10, func() { b, err = UnmarshalAccumulator(data, o) })
		if err != nil {
			return
		}
		k := workload.ContainerKey{Container: "c"}
		s := b.Summary(k, b.LastSample().Add(time.Millisecond))
		if s.CPUWindow.Mean < 0 || math.IsNaN(s.CPUWindow.Mean) || s.Confidence < 0 || s.Confidence > 1 {
			t.Fatalf("summary out of range: %+v", s)
		}
		b.Add(workload.Sample{Time: b.LastSample().Add(time.Minute), Pod: "p1", CPU: 1, HasCPU: true, Memory: 1e8, HasMemory: true})
		b.Expire(b.LastSample())
		if _, err := UnmarshalAccumulator(b.AppendBinary(nil), o); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
	})
}

func BenchmarkAccumulatorAdd(b *testing.B) {
	// Values drawn ahead, so that the loop times Add and not their making.
	var cpus [1024]workload.Cores
	var mems [1024]workload.Bytes
	for i := range cpus {
		cpus[i] = workload.Cores(0.1 + float64(i%100)/1000)
		mems[i] = workload.Bytes(3e8 + i*1e5)
	}
	a, _ := NewAccumulator(DefaultOptions())
	// The pod's state keeps the name of its first sample; the controller's
	// later ones carry a copy (each cycle reads a new store), so Add
	// compares the names' bytes, not only where they lie.
	const pod = "app-7d9f8b6c5-x2x4z"
	a.Add(workload.Sample{Time: accT0, Pod: pod, CPU: cpus[0], HasCPU: true, Memory: mems[0], HasMemory: true})
	smp := workload.Sample{Pod: strings.Clone(pod), HasCPU: true, HasMemory: true}
	// The times are those of accT0.Add(k·30 s) (UTC, no monotonic
	// reading), made the cheapest way: the controller's samples come with
	// theirs made.
	sec := accT0.Unix()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sec += 30
		smp.Time, smp.CPU, smp.Memory = time.Unix(sec, 0).UTC(), cpus[i&1023], mems[i&1023]
		a.Add(smp)
	}
}

func BenchmarkAccumulatorEncode14Days(b *testing.B) {
	a, _ := NewAccumulator(DefaultOptions())
	end := feed(b, a, []string{"app-7d9f8b6c5-x2x4z"}, 14, 30*time.Second)
	a.Expire(end)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = a.AppendBinary(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes/container")
}

// TestAccumulatorKillOnly: a container killed before it was ever sampled
// (one that runs out of memory as it starts) keeps its kills, in its
// summary and across an encoding, as a sample carrying only the kill would.
func TestAccumulatorKillOnly(t *testing.T) {
	o := DefaultOptions()
	a, err := NewAccumulator(o)
	require.NoError(t, err)
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "app"}, Container: "app"}
	ev := OOMEvent{Time: accT0, Pod: "app-1", Limit: 256 * workload.MiB}
	a.AddOOM(ev)
	a.AddOOM(ev) // told again
	require.False(t, a.Empty())
	got := a.Summary(k, accT0.Add(time.Minute))
	require.Len(t, got.OOMs, 1)
	assert.True(t, slices.ContainsFunc(got.Peaks, func(p Peak) bool { return p.OOM && p.Bytes > 256*workload.MiB }), "the kill bumps a peak above the limit")

	b, err := UnmarshalAccumulator(a.AppendBinary(nil), o)
	require.NoError(t, err)
	again := b.Summary(k, accT0.Add(time.Minute))
	assert.Equal(t, got.OOMs, again.OOMs)
	assert.Equal(t, byEnd(got.Peaks, false), byEnd(again.Peaks, false))

	// The same as the samples' path: one sample carrying only the kill.
	st := NewStore()
	st.Add(k, workload.Sample{Time: accT0, Pod: "app-1", OOMKilled: true, Settings: workload.Settings{Limits: workload.Resources{Memory: 256 * workload.MiB}}})
	st.Finalize()
	series := st.Series(k)
	want, err := Summarize(k, series, OOMsFromSeries(series, accT0.Add(time.Minute)), accT0.Add(time.Minute), o)
	require.NoError(t, err)
	assert.Equal(t, want.First, got.First)
	assert.Equal(t, want.Last, got.Last)
	assert.Equal(t, len(want.OOMs), len(got.OOMs))
	assert.Equal(t, byEnd(want.Peaks, false), byEnd(got.Peaks, false))
}

// TestAccumulatorTimeBefore1970: a crafted state can hold a pod last seen
// before 1970; forgetting it must not index the slot ring with a negative
// number.
func TestAccumulatorTimeBefore1970(t *testing.T) {
	a, err := NewAccumulator(DefaultOptions())
	require.NoError(t, err)
	assert.Nil(t, a.findSlot(-1))
	assert.Nil(t, a.findSlot(-3*a.slotMs-7))
	p := &podState{name: "p", last: -3 * a.slotMs}
	a.pods = map[string]*podState{"p": p}
	assert.NotPanics(t, func() { a.forgetPod("p", p) })
	assert.Empty(t, a.pods)
}

// TestAccumulatorClone: a copy taken part way keeps the history as it
// stood, while the original goes on to the same state as one never copied.
func TestAccumulatorClone(t *testing.T) {
	o := DefaultOptions()
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "app"}, Container: "app"}
	a, err := NewAccumulator(o)
	require.NoError(t, err)
	before, err := NewAccumulator(o) // the samples before cut only
	require.NoError(t, err)
	whole, err := NewAccumulator(o) // every sample, never copied
	require.NoError(t, err)
	cut := accT0.Add(3*24*time.Hour + 7*time.Minute)
	var c *Accumulator
	end := samples([]string{"p1", "p2", "p3"}, 6, time.Minute, func(smp workload.Sample) {
		if c == nil && !smp.Time.Before(cut) {
			c = a.Clone()
		}
		if smp.Time.Before(cut) {
			before.Add(smp)
		}
		a.Add(smp)
		whole.Add(smp)
	})
	require.NotNil(t, c)
	assert.Equal(t, before.Summary(k, cut), c.Summary(k, cut), "the copy is the history before the cut")
	assert.Equal(t, whole.Summary(k, end), a.Summary(k, end), "the original goes on unharmed")
	assert.Equal(t, before.AppendBinary(nil), c.AppendBinary(nil))
	// The copy takes samples of its own without touching the original.
	c.Add(workload.Sample{Time: cut, Pod: "p1", CPU: 50, HasCPU: true})
	assert.Equal(t, whole.Summary(k, end), a.Summary(k, end))
	assert.NotEqual(t, before.Summary(k, end), c.Summary(k, end))
}
