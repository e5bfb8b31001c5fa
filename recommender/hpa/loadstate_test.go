package hpa_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// (This file is an external test: the shared traces are read with
// usagecsv, which imports hpa.)

var lsWeb = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}

// streamed is one pod container's sample as a state receives it.
type streamed struct {
	container string
	smp       workload.Sample
}

// lsT0 is a multiple of five minutes: the state's points and the reference's
// grid coincide.
var lsT0 = time.Unix(1_700_000_100, 0).UTC()

// webSamples returns days of a three-pod workload sampled every 30 s, in
// the order a poller delivers them: poll by poll, the pods of one poll in
// any order. Pod web-c is replaced by web-d in the middle of a point; each
// container misses 2 % of its samples; the proxy reports memory without CPU
// now and then; all pods are silent for 70 minutes on the third day.
func webSamples(days int, seed uint64) []streamed {
	r := rand.New(rand.NewPCG(seed, 1))
	type podSpec struct {
		name       string
		offset     time.Duration
		from, till time.Duration
		base       float64
	}
	span := time.Duration(days) * 24 * time.Hour
	swap := 37*time.Hour + 2*time.Minute + 10*time.Second
	pods := []podSpec{
		{"web-a", 0, 0, span, 1.0},
		{"web-b", 7 * time.Second, 0, span, 1.3},
		{"web-c", 19 * time.Second, 0, swap, 0.8},
		{"web-d", 11 * time.Second, swap + 30*time.Second, span, 0.9},
	}
	outFrom, outTill := 51*time.Hour, 52*time.Hour+10*time.Minute
	var out []streamed
	for poll := time.Duration(0); poll < span; poll += 30 * time.Second {
		var batch []streamed
		for _, p := range pods {
			at := poll + p.offset
			if at < p.from || at >= p.till || (at >= outFrom && at < outTill) {
				continue
			}
			hours := at.Hours()
			load := p.base * (1.2 + math.Sin(2*math.Pi*hours/24)) * (1 + 0.15*r.NormFloat64())
			load = max(load, 0.01)
			if r.Float64() >= 0.02 {
				mem := 200<<20 + 150<<20*load + 8<<20*r.NormFloat64()
				batch = append(batch, streamed{"app", workload.Sample{Time: lsT0.Add(at), Pod: p.name,
					CPU: workload.Cores(load), HasCPU: true, Memory: workload.BytesOf(mem), HasMemory: true}})
			}
			if r.Float64() >= 0.02 {
				smp := workload.Sample{Time: lsT0.Add(at), Pod: p.name, CPU: workload.Cores(0.05 + 0.01*r.Float64()), HasCPU: r.Float64() >= 0.05,
					Memory: workload.BytesOf(30<<20 + 1<<20*r.Float64()), HasMemory: r.Float64() >= 0.1}
				if smp.HasCPU || smp.HasMemory {
					batch = append(batch, streamed{"proxy", smp})
				}
			}
		}
		r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		out = append(out, batch...)
	}
	return out
}

// resampled returns a store of the samples before until, each pod
// container's samples replaced by one per aligned step at the step's start:
// the mean of its CPU samples and the mean of its memory samples there.
// Aggregate over it works at that step (its median sample interval) on the
// state's grid, and averages a pod container's samples in a point just as
// it would at that step over the raw samples.
func resampled(t testing.TB, samples []streamed, step time.Duration, until time.Time) *history.Store {
	t.Helper()
	type key struct {
		container, pod string
		at             int64
	}
	type acc struct {
		cpu, mem   float64
		nCPU, nMem int
	}
	sums := map[key]*acc{}
	var order []key
	ms := step.Milliseconds()
	for _, s := range samples {
		if !s.smp.Time.Before(until) {
			continue
		}
		k := key{s.container, s.smp.Pod, s.smp.Time.UnixMilli() / ms * ms}
		a, ok := sums[k]
		if !ok {
			a = &acc{}
			sums[k] = a
			order = append(order, k)
		}
		if s.smp.HasCPU {
			a.cpu += float64(s.smp.CPU)
			a.nCPU++
		}
		if s.smp.HasMemory {
			a.mem += float64(s.smp.Memory)
			a.nMem++
		}
	}
	st := history.NewStore()
	for _, k := range order {
		a := sums[k]
		smp := workload.Sample{Time: time.UnixMilli(k.at).UTC(), Pod: k.pod}
		if a.nCPU > 0 {
			smp.CPU, smp.HasCPU = workload.Cores(a.cpu/float64(a.nCPU)), true
		}
		if a.nMem > 0 {
			smp.Memory, smp.HasMemory = workload.BytesOf(a.mem/float64(a.nMem)), true
		}
		st.Add(workload.ContainerKey{Workload: lsWeb, Container: k.container}, smp)
	}
	st.Finalize()
	return st
}

func newState(t testing.TB, step, retention time.Duration) *hpa.LoadState {
	t.Helper()
	s, err := hpa.NewLoadState(step, retention)
	require.NoError(t, err)
	return s
}

// compareLoads checks a state's load against Aggregate's: the same grid and
// pods, CPU within a relative 1e-7 (the state keeps a point's CPU as a
// float32: 6e-8 at most), and, when corr is set, memory correlation and
// variation within 1e-9 (the state merges per-block moments where
// Aggregate takes one pass: the order of the sums differs). It returns the
// largest relative CPU difference and the correlation's difference.
func compareLoads(t *testing.T, want, got hpa.Load, corr bool) (cpuDiff, corrDiff float64) {
	t.Helper()
	require.Equal(t, want.Start, got.Start, "start")
	require.Equal(t, want.Step, got.Step, "step")
	require.Equal(t, len(want.CPU), len(got.CPU), "points")
	require.Equal(t, want.Pods, got.Pods, "pods per point")
	for i, w := range want.CPU {
		g := got.CPU[i]
		if math.IsNaN(w) || math.IsNaN(g) {
			require.True(t, math.IsNaN(w) && math.IsNaN(g), "point %d: %v, want %v", i, g, w)
			continue
		}
		d := math.Abs(g-w) / max(math.Abs(w), 1e-9)
		require.LessOrEqual(t, d, 1e-7, "point %d: %v, want %v", i, g, w)
		cpuDiff = max(cpuDiff, d)
	}
	if !corr {
		return cpuDiff, 0
	}
	if math.IsNaN(want.MemoryCorrelation) {
		assert.True(t, math.IsNaN(got.MemoryCorrelation), "correlation %v, want NaN", got.MemoryCorrelation)
	} else {
		corrDiff = math.Abs(got.MemoryCorrelation - want.MemoryCorrelation)
		assert.InDelta(t, want.MemoryCorrelation, got.MemoryCorrelation, 1e-9, "correlation")
	}
	assert.InDelta(t, want.MemoryVariation, got.MemoryVariation, 1e-9, "variation")
	return cpuDiff, corrDiff
}

// unixFloor rounds t down to a multiple of d since the Unix epoch (Truncate
// counts from year 1).
func unixFloor(t time.Time, d time.Duration) time.Time {
	ms := d.Milliseconds()
	return time.UnixMilli(t.UnixMilli() / ms * ms).UTC()
}

// blockSpan is the span of the state's memory-versus-CPU blocks at 5
// minutes and 14 days: 4,032 points in 16 blocks of 252.
const blockSpan = 252 * 5 * time.Minute

// TestLoadStateMatchesAggregate streams three days of three pods sampled
// every 30 s into a state at a 5-minute step and checks its load against
// Aggregate's over the same samples. Aggregate would work at the samples'
// 30 s and start at the first sample; the state works at its fixed,
// aligned step, where it averages each pod container's samples in a point,
// sums a pod's containers, then the pods. Aggregate does the same within
// each of its steps, so the reference is Aggregate over the samples
// resampled to 5 minutes (each pod container's mean per aligned 5
// minutes), and the two agree to the float32 in which the state keeps a
// point's CPU. Memory against CPU is kept per block (21 h here), so a
// window's correlation is the one of the blocks it overlaps.
func TestLoadStateMatchesAggregate(t *testing.T) {
	samples := webSamples(3, 7)
	containers := []workload.ContainerKey{{Workload: lsWeb, Container: "app"}, {Workload: lsWeb, Container: "proxy"}}
	end := lsT0.Add(72 * time.Hour)
	cases := []struct {
		name string
		// the state is fed the samples before cut, then asked for the load
		// over [from, until).
		cut, from, until time.Time
		// corrFrom and corrUntil are the window the correlation is
		// Aggregate's over: the blocks' span.
		corrFrom, corrUntil time.Time
		empty               bool
	}{
		{name: "all", cut: end, from: lsT0, until: end},
		{name: "all, wider window", cut: end, from: lsT0.Add(-48 * time.Hour), until: end.Add(time.Hour)},
		{name: "the second day", cut: end, from: lsT0.Add(24 * time.Hour), until: lsT0.Add(48 * time.Hour)},
		{name: "points overlapping an unaligned window", cut: end, from: lsT0.Add(7*time.Hour + 3*time.Minute), until: lsT0.Add(9*time.Hour + 58*time.Minute)},
		{name: "across the pod swap and the silence", cut: end, from: lsT0.Add(36 * time.Hour), until: lsT0.Add(60 * time.Hour)},
		{name: "mid-stream, open points included", cut: lsT0.Add(25*time.Hour + 2*time.Minute + 30*time.Second), from: lsT0, until: end},
		{name: "mid-stream within a point", cut: lsT0.Add(37*time.Hour + 3*time.Minute), from: lsT0, until: end},
		{name: "mid-stream in the silence", cut: lsT0.Add(51*time.Hour + 30*time.Minute), from: lsT0.Add(40 * time.Hour), until: end},
		{name: "before the samples", cut: end, from: lsT0.Add(-48 * time.Hour), until: lsT0.Add(-time.Hour), empty: true},
		{name: "after the samples", cut: end, from: end, until: end.Add(time.Hour), empty: true},
	}
	var worstCPU, worstCorr float64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newState(t, 5*time.Minute, 14*24*time.Hour)
			for _, smp := range samples {
				if smp.smp.Time.Before(tc.cut) {
					s.AddSample(smp.container, smp.smp)
				}
			}
			assert.Zero(t, s.Dropped(), "every sample is within a poll of the newest")
			got := s.Load(tc.from, tc.until)
			if tc.empty {
				assert.Empty(t, got.CPU)
				assert.True(t, math.IsNaN(got.MemoryCorrelation))
				return
			}
			ref := resampled(t, samples, 5*time.Minute, tc.cut)
			// The points overlapping [from, until): whole steps.
			from := tc.from.Truncate(5 * time.Minute)
			until := tc.until.Add(5*time.Minute - 1).Truncate(5 * time.Minute)
			want := hpa.Aggregate(ref, containers, from, until)
			require.Equal(t, 5*time.Minute, want.Step, "the reference's median interval")
			d, _ := compareLoads(t, want, got, false)
			worstCPU = max(worstCPU, d)

			corrWant := hpa.Aggregate(ref, containers, unixFloor(from, blockSpan), unixFloor(until.Add(blockSpan-1), blockSpan))
			_, c := compareLoads(t, hpa.Load{Start: got.Start, Step: got.Step, CPU: got.CPU, Pods: got.Pods,
				MemoryCorrelation: corrWant.MemoryCorrelation, MemoryVariation: corrWant.MemoryVariation}, got, true)
			worstCorr = max(worstCorr, c)
			assert.Greater(t, got.MemoryCorrelation, 0.5, "memory follows CPU")
		})
	}
	t.Logf("largest differences from Aggregate: CPU %.2g relative, correlation %.2g", worstCPU, worstCorr)

	// The silence is a run of NaN points, the swap a point with four pods.
	s := newState(t, 5*time.Minute, 14*24*time.Hour)
	for _, smp := range samples {
		s.AddSample(smp.container, smp.smp)
	}
	l := s.Load(lsT0, end)
	at := func(d time.Duration) int { return int(d / (5 * time.Minute)) }
	assert.True(t, math.IsNaN(l.CPU[at(51*time.Hour+30*time.Minute)]))
	assert.Equal(t, 0, l.Pods[at(51*time.Hour+30*time.Minute)])
	assert.Equal(t, 4, l.Pods[at(37*time.Hour)], "web-c and web-d share the point of the swap")
	assert.Equal(t, 3, l.Pods[at(40*time.Hour)])
}

// sharedData finds a file of the shared traces, which live beside the
// repository; tests that need them skip when they are absent.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		// CI runs with shared/ beside the clone: there a missing trace is
		// a failure, not a reason to skip.
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared trace %s not found: %v", name, err)
		}
		t.Skipf("shared trace %s not found: %v", name, err)
	}
	return p
}

func loadStore(t testing.TB, path string) *history.Store {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	st, _, err := usagecsv.Load(f, path)
	require.NoError(t, err)
	return st
}

// TestLoadStateMatchesAggregateOnAzure streams five VMs of the Azure 2017
// trace (28 days at 5 minutes, CPU only) into states at 5 minutes: each VM
// alone for the last 14 days, and the five as the pods of one workload for
// the whole trace. The trace's samples are on the state's grid, so
// Aggregate over the window the state retains is the reference as it is.
func TestLoadStateMatchesAggregateOnAzure(t *testing.T) {
	st := loadStore(t, sharedData(t, "azure-2017-cpu.csv.gz"))
	var vms []workload.ContainerKey
	for _, ck := range st.Containers() {
		if len(vms) < 5 && len(st.Series(ck)) > 0 {
			vms = append(vms, ck)
		}
	}
	require.Len(t, vms, 5)
	type timed struct {
		container string
		smp       workload.Sample
	}
	samplesOf := func(cks []workload.ContainerKey) []timed {
		var out []timed
		for _, ck := range cks {
			for _, s := range st.Series(ck) {
				for i := range s.Len() {
					out = append(out, timed{ck.Container, s.At(i)})
				}
			}
		}
		slices.SortStableFunc(out, func(a, b timed) int { return a.smp.Time.Compare(b.smp.Time) })
		return out
	}
	cases := []struct {
		name      string
		vms       []workload.ContainerKey
		retention time.Duration
	}{
		{vms[0].Workload.Name + ", 14 days", vms[0:1], 14 * 24 * time.Hour},
		{vms[1].Workload.Name + ", 14 days", vms[1:2], 14 * 24 * time.Hour},
		{vms[2].Workload.Name + ", 14 days", vms[2:3], 14 * 24 * time.Hour},
		{vms[3].Workload.Name + ", 14 days", vms[3:4], 14 * 24 * time.Hour},
		{vms[4].Workload.Name + ", 14 days", vms[4:5], 14 * 24 * time.Hour},
		{"the five as pods of one workload, 30 days", vms, 30 * 24 * time.Hour},
	}
	var worst float64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newState(t, 5*time.Minute, tc.retention)
			samples := samplesOf(tc.vms)
			for _, smp := range samples {
				s.AddSample(smp.container, smp.smp)
			}
			require.Zero(t, s.Dropped())
			last := samples[len(samples)-1].smp.Time
			// The state holds the retention's points up to the newest.
			oldest := last.Truncate(5 * time.Minute).Add(5*time.Minute - tc.retention)
			want := hpa.Aggregate(st, tc.vms, oldest, last.Add(time.Millisecond))
			got := s.Load(time.Time{}, last.Add(time.Hour))
			require.Equal(t, 5*time.Minute, want.Step)
			d, _ := compareLoads(t, want, got, true)
			worst = max(worst, d)
			assert.True(t, math.IsNaN(got.MemoryCorrelation), "the trace has no memory")
			if len(tc.vms) == 5 {
				assert.Equal(t, 5, slices.Max(got.Pods))
			}
		})
	}
	t.Logf("largest relative CPU difference from Aggregate: %.2g", worst)
}

// TestLoadStateRetention: the points and the memory moments older than the
// retention are forgotten, late and repeated samples dropped.
func TestLoadStateRetention(t *testing.T) {
	s := newState(t, time.Minute, time.Hour) // 60 points, blocks of 4
	add := func(at time.Duration, cpu, mem float64) {
		s.Add("p", "c", lsT0.Add(at), cpu, true, mem, true)
	}
	// 90 minutes with memory following CPU, then 90 with memory against it.
	for i := range 360 {
		at := time.Duration(i) * 30 * time.Second
		cpu := 1 + 0.5*math.Sin(float64(i)/7)
		mem := 1e9 + 1e8*cpu
		if at >= 90*time.Minute {
			mem = 1e9 - 1e8*cpu
		}
		add(at, cpu, mem)
		if at == 100*time.Minute {
			mid := s.Load(time.Time{}, lsT0.Add(24*time.Hour))
			assert.Equal(t, lsT0.Add(41*time.Minute).UnixMilli(), mid.Start, "60 points to the newest")
			assert.Len(t, mid.CPU, 60)
			assert.Less(t, mid.MemoryCorrelation, 0.5, "the last 10 minutes weigh against the first phase's +1")
		}
	}
	newest := lsT0.Add(179*time.Minute + 30*time.Second)
	assert.Equal(t, newest, s.Last())
	l := s.Load(time.Time{}, lsT0.Add(24*time.Hour))
	assert.Equal(t, lsT0.Add(120*time.Minute).UnixMilli(), l.Start)
	assert.Len(t, l.CPU, 60)
	assert.Equal(t, time.Hour, s.Retention())
	assert.Less(t, l.MemoryCorrelation, -0.99, "the first 90 minutes are forgotten")
	assert.Empty(t, s.Load(lsT0, lsT0.Add(119*time.Minute)).CPU, "older than the retention")

	cases := []struct {
		name, pod string
		at        time.Duration
		dropped   int
	}{
		{"a repeat", "p", 179*time.Minute + 30*time.Second, 1},
		{"older than the container's last", "p", 179*time.Minute + 10*time.Second, 1},
		{"in a closed point", "q", 177*time.Minute + 59*time.Second, 1},
		{"before 1970", "q", -lsT0.Sub(time.Unix(0, 0)) - time.Hour, 1},
		{"late, its point open", "q", 178 * time.Minute, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Dropped()
			s.Add(tc.pod, "c", lsT0.Add(tc.at), 1, true, 0, false)
			assert.Equal(t, tc.dropped, s.Dropped()-before)
		})
	}

	// Values no machine holds are missing: such a sample is ignored, not
	// dropped, and moves nothing.
	dropped := s.Dropped()
	s.Add("p", "c", newest.Add(10*time.Second), math.NaN(), true, math.Inf(1), true)
	s.Add("p", "c", newest.Add(20*time.Second), 2e6, true, 2e18, true)
	s.Add("p", "c", newest.Add(30*time.Second), 1, false, 1, false)
	assert.Equal(t, dropped, s.Dropped())
	assert.Equal(t, newest, s.Last())

	// A silence longer than the retention leaves only what follows it.
	add(10*time.Hour, 2, 1e9)
	l = s.Load(time.Time{}, lsT0.Add(24*time.Hour))
	assert.Equal(t, []int{1}, l.Pods)
	assert.Equal(t, []float64{2}, l.CPU)
	s.Advance(lsT0.Add(12 * time.Hour))
	assert.Empty(t, s.Load(time.Time{}, lsT0.Add(24*time.Hour)).CPU, "advanced past the retention")

	// A one-point retention keeps the newest point.
	one := newState(t, time.Minute, time.Minute)
	for i := range 11 {
		one.Add("p", "c", lsT0.Add(time.Duration(i)*20*time.Second), float64(i), true, 0, false)
	}
	l = one.Load(time.Time{}, lsT0.Add(time.Hour))
	assert.Equal(t, []float64{9.5}, l.CPU, "the samples at 3:00 and 3:20, open")
}

func TestNewLoadStateRejects(t *testing.T) {
	cases := []struct {
		name            string
		step, retention time.Duration
	}{
		{"step under a second", 999 * time.Millisecond, time.Hour},
		{"step not whole milliseconds", time.Second + 1, time.Hour},
		{"retention under the step", time.Minute, 59 * time.Second},
		{"too many points", time.Second, 367 * 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hpa.NewLoadState(tc.step, tc.retention)
			assert.Error(t, err)
		})
	}
	s, err := hpa.NewLoadState(time.Second, 366*24*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, time.Second, s.Step())
}

// sampleStates returns states in various conditions, for round trips and as
// the fuzz seeds.
func sampleStates(t testing.TB) map[string]*hpa.LoadState {
	out := map[string]*hpa.LoadState{}
	out["empty"] = newState(t, 5*time.Minute, 14*24*time.Hour)

	s := newState(t, time.Minute, time.Hour)
	s.Add("p", "c", lsT0, 1, true, 0, false)
	s.Add("p", "c", lsT0, 1, true, 0, false) // a repeat, dropped
	out["one sample"] = s

	samples := webSamples(2, 3)
	s = newState(t, 5*time.Minute, 14*24*time.Hour)
	for _, smp := range samples[:len(samples)*3/4] {
		s.AddSample(smp.container, smp.smp)
	}
	out["web, open points"] = s

	s = newState(t, time.Minute, 6*time.Hour) // wrapped
	for _, smp := range samples {
		s.AddSample(smp.container, smp.smp)
	}
	out["web, wrapped"] = s

	s = newState(t, time.Minute, time.Hour)
	s.Add("p", "c", lsT0, 1, true, 0, false)
	s.Advance(lsT0.Add(3 * time.Hour))
	out["advanced"] = s
	return out
}

// sameLoad compares loads bit for bit, NaN included.
func sameLoad(t *testing.T, want, got hpa.Load) {
	t.Helper()
	require.Equal(t, want.Start, got.Start)
	require.Equal(t, want.Step, got.Step)
	require.Equal(t, want.Pods, got.Pods)
	require.Equal(t, len(want.CPU), len(got.CPU))
	for i := range want.CPU {
		require.Equal(t, math.Float64bits(want.CPU[i]), math.Float64bits(got.CPU[i]), "point %d", i)
	}
	require.Equal(t, math.Float64bits(want.MemoryCorrelation), math.Float64bits(got.MemoryCorrelation))
	require.Equal(t, math.Float64bits(want.MemoryVariation), math.Float64bits(got.MemoryVariation))
}

func TestLoadStateRoundTrip(t *testing.T) {
	all := time.Unix(0, 0)
	for name, s := range sampleStates(t) {
		t.Run(name, func(t *testing.T) {
			enc := s.AppendBinary([]byte("head"))
			require.Equal(t, "head", string(enc[:4]), "appends")
			enc = enc[4:]
			assert.Equal(t, s.Size(), len(enc), "Size")

			var d hpa.LoadState
			rest, err := d.UnmarshalBinary(append(slices.Clone(enc), "tail"...))
			require.NoError(t, err)
			assert.Equal(t, "tail", string(rest))
			assert.Equal(t, enc, d.AppendBinary(nil), "re-encoded")
			assert.Equal(t, s.Step(), d.Step())
			assert.Equal(t, s.Retention(), d.Retention())
			assert.Equal(t, s.Dropped(), d.Dropped())
			assert.Equal(t, s.Last(), d.Last())
			sameLoad(t, s.Load(all, lsT0.Add(1000*time.Hour)), d.Load(all, lsT0.Add(1000*time.Hour)))

			// Fed the same samples, both stay the same.
			more := webSamples(3, 4)
			for _, smp := range more[len(more)*2/3:] {
				s.AddSample(smp.container, smp.smp)
				d.AddSample(smp.container, smp.smp)
			}
			assert.Equal(t, s.AppendBinary(nil), d.AppendBinary(nil), "after the same samples")
			sameLoad(t, s.Load(all, lsT0.Add(1000*time.Hour)), d.Load(all, lsT0.Add(1000*time.Hour)))
		})
	}
}

// enc builds encodings by hand: uvarints, and float32 or float64 values.
func enc(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch v := v.(type) {
		case int:
			b = binary.AppendUvarint(b, uint64(v))
		case float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case string:
			b = append(b, v...)
		}
	}
	return b
}

func TestLoadStateUnmarshalRejects(t *testing.T) {
	// At 1 minute, 60 points; the newest sample at minute 100 (open from
	// point 99).
	const newest = 100*60_000 + 1
	head := func(vals ...any) []byte { return enc(append([]any{1, 60_000, 60, 0, newest}, vals...)...) }
	valid := head(2, 1, 2, float32(1.5), 0, 1, 1, "p", 1, 1, "c", 60_000, 1, 0, 1, 2.0, 0)
	var ok hpa.LoadState
	_, err := ok.UnmarshalBinary(valid)
	require.NoError(t, err, "the base case")
	l := ok.Load(time.Time{}, time.UnixMilli(1e9))
	assert.Equal(t, []float64{1.5, 2}, l.CPU)
	assert.Equal(t, []int{2, 1}, l.Pods)

	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"version 0", enc(0, 60_000, 60, 0, 0), "unsupported version 0"},
		{"version 2", enc(2, 60_000, 60, 0, 0), "unsupported version 2"},
		{"step under a second", enc(1, 999, 60, 0, 0), "step 999 ms"},
		{"no points", enc(1, 60_000, 0, 0, 0), "0 points"},
		{"too many points", enc(1, 60_000, 366*24*60+1, 0, 0), "527041 points"},
		{"retention past a Duration", enc(1, 1<<50, 366*24*60, 0, 0), "out of range"},
		{"newest past year 9999", enc(1, 60_000, 60, 0, 253402300800001), "newest time"},
		{"overlong varint", append(enc(1, 60_000), 0xbc, 0x80, 0x00, 0, 0), "overlong varint"},
		{"ring past the retention", head(60, 1, 1, float32(1), 0, 0), "ring of 1 points from 60 back"},
		{"ring into the open points", head(1, 1, 1, float32(1), 0, 0), "ring of 1 points from 1 back"},
		{"ring starting with a gap", head(3, 2, 0, 1, float32(1), 0, 0), "point pods 0"},
		{"ring ending with a gap", head(3, 2, 1, float32(1), 0, 0, 0), "point pods 0"},
		{"empty ring placed", head(3, 0, 0, 0), "ring of 0 points"},
		{"ring longer than the input", head(50, 40, 1, float32(1), 0, 0), "ring of 40 points"},
		{"NaN CPU", head(2, 1, 1, float32(math.NaN()), 0, 0), "point CPU NaN"},
		{"infinite CPU", head(2, 1, 1, float32(math.Inf(1)), 0, 0), "point CPU +Inf"},
		{"too many blocks", head(0, 0, 18), "18 blocks"},
		{"block past the newest", head(0, 0, 1, 30, 12, 1.0, 1.0, 1.0, 1.0, 1.0, 0), "block 0"},
		{"block without pairs", head(0, 0, 1, 0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 0), "block 0"},
		{"negative squares", head(0, 0, 1, 0, 12, 1.0, 1.0, -1.0, 1.0, 1.0, 0), "block 0"},
		{"NaN mean", head(0, 0, 1, 0, 12, math.NaN(), 1.0, 1.0, 1.0, 1.0, 0), "block 0"},
		{"more pods than bytes", head(0, 0, 0, 5, "p", 1, 1, "c", 0, 1, 1, 1, 2.0, 0), "5 pods"},
		{"pod twice", head(0, 0, 0, 2, 1, "p", 1, 1, "c", 0, 1, 1, 1, 2.0, 0, 1, "p", 1, 1, "c", 0, 1, 1, 1, 2.0, 0), "pod \"p\" twice"},
		{"container twice", head(0, 0, 0, 1, 1, "p", 2, 1, "c", 0, 1, 1, 1, 2.0, 0, 1, "c", 0, 1, 1, 1, 2.0, 0), "container \"c\" of pod \"p\" twice"},
		{"pod without containers", head(0, 0, 0, 1, 1, "p", 0, 0, 0, 0, 0, 0, 0, 0, 0), "0 containers"},
		{"open point past the newest", head(0, 0, 0, 1, 1, "p", 1, 1, "c", 0, 1, 2, 1, 2.0, 0), "past the newest"},
		{"open point without samples", head(0, 0, 0, 1, 1, "p", 1, 1, "c", 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0), "0 CPU and 0 memory samples"},
		{"last sample outside the last point", head(0, 0, 0, 1, 1, "p", 1, 1, "c", 60_000, 1, 1, 1, 2.0, 0), "last sample is not in its last open point"},
		{"NaN sum", head(0, 0, 0, 1, 1, "p", 1, 1, "c", 0, 1, 1, 1, math.NaN(), 0), "1 CPU and 0 memory samples"},
		{"name past the end", head(0, 0, 0, 1, 100, "p", 1, 1, "c", 0, 1, 1, 1, 2.0, 0), "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			_, err := s.UnmarshalBinary(tc.b)
			require.ErrorContains(t, err, tc.want)
			assert.Equal(t, valid, s.AppendBinary(nil), "unchanged on error")
		})
	}
	for n := range len(valid) {
		var s hpa.LoadState
		_, err := s.UnmarshalBinary(valid[:n])
		require.Error(t, err, "truncated at %d", n)
	}
}

func FuzzLoadStateUnmarshal(f *testing.F) {
	for _, s := range sampleStates(f) {
		b := s.AppendBinary(nil)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s hpa.LoadState
		var rest []byte
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() { rest, err = s.UnmarshalBinary(data) })
		if err != nil {
			return
		}
		used := data[:len(data)-len(rest)]
		if b := s.AppendBinary(nil); !bytes.Equal(b, used) {
			t.Fatalf("encoding is not canonical:\n got %x\nwant %x", b, used)
		}
		if s.Size() != len(used) {
			t.Fatalf("Size %d, encoding %d bytes", s.Size(), len(used))
		}
		// Whatever was decoded stays usable.
		end := s.Last().Add(s.Retention())
		l := s.Load(time.Unix(0, 0), end)
		if len(l.CPU) > int(s.Retention()/s.Step()) || len(l.CPU) != len(l.Pods) {
			t.Fatalf("load of %d points, %d pods, for %v at %v", len(l.CPU), len(l.Pods), s.Retention(), s.Step())
		}
		at := s.Last()
		for i := range 5 {
			at = at.Add(s.Step() / 2)
			s.Add("p", "c", at, float64(i), true, float64(i*i), true)
			s.Add("q", "c", at.Add(-s.Step()), 1, true, 1, true)
		}
		s.Advance(at.Add(s.Step()))
		var d hpa.LoadState
		if _, err := d.UnmarshalBinary(s.AppendBinary(nil)); err != nil {
			t.Fatalf("decoding a state after more samples: %v", err)
		}
		_ = d.Load(time.Unix(0, 0), end.Add(time.Hour))
	})
}

// TestLoadStateSize reports the encoded size of a workload's state after
// 14 days of three pods sampled every 30 s, at a 5-minute step: a byte of
// pods and a float32 of CPU per point (4,032), the blocks' moments, and the
// open points' sums.
func TestLoadStateSize(t *testing.T) {
	s := newState(t, 5*time.Minute, 14*24*time.Hour)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 14 * 24 * 120 {
		at := lsT0.Add(time.Duration(i) * 30 * time.Second)
		for _, p := range []string{"web-a", "web-b", "web-c"} {
			cpu := 0.5 + r.Float64()
			s.Add(p, "app", at, cpu, true, 3e8+1e8*cpu, true)
		}
	}
	n := s.Size()
	t.Logf("14 days, 3 pods, 30 s samples, 5-minute step: %d bytes", n)
	assert.Len(t, s.Load(time.Time{}, lsT0.Add(15*24*time.Hour)).CPU, 4032)
	assert.Less(t, n, 4032*5+2000)

	// Streaming costs no allocation once the ring is full.
	i := 14 * 24 * 120
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add("web-a", "app", lsT0.Add(time.Duration(i)*30*time.Second), 1, true, 4e8, true)
		i++
	})
	assert.Zero(t, allocs)
}

// BenchmarkLoadStateAdd adds one sample per operation: three pods sampled
// every 30 s at a 5-minute step, with a day of history kept.
func BenchmarkLoadStateAdd(b *testing.B) {
	s := newState(b, 5*time.Minute, 14*24*time.Hour)
	pods := []string{"web-a", "web-b", "web-c"}
	add := func(i int) {
		at := lsT0.Add(time.Duration(i/3) * 30 * time.Second)
		s.Add(pods[i%3], "app", at, 1+float64(i%7)/10, true, 4e8+float64(i%5)*1e6, true)
	}
	i := 0
	for ; i < 3*24*120; i++ {
		add(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		add(i)
		i++
	}
}

// TestLoadCursor: samples added through cursors, one per pod container,
// leave the same state, byte for byte, as samples added by name, while
// pods come and go (their points closed and forgotten, and the same pod
// names back later), containers of a pod are forgotten one by one, and a
// cursor goes to another pod's samples or to another state.
func TestLoadCursor(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for run := range 20 {
		byName, _ := hpa.NewLoadState(time.Minute, 2*time.Hour)
		viaCursor, _ := hpa.NewLoadState(time.Minute, 2*time.Hour)
		other, _ := hpa.NewLoadState(time.Minute, 2*time.Hour)
		cursors := map[string]*hpa.LoadCursor{}
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for range 3000 {
			at = at.Add(time.Duration(rng.IntN(20)) * time.Second)
			pod := []string{"web-a", "web-b", "web-c"}[rng.IntN(3)]
			if rng.IntN(50) == 0 {
				at = at.Add(10 * time.Minute) // every open point closes
			}
			c := []string{"app", "proxy"}[rng.IntN(2)]
			smp := workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(rng.Float64()), HasCPU: true,
				Memory: workload.Bytes(rng.IntN(1 << 30)), HasMemory: rng.IntN(3) > 0}
			byName.AddSample(c, smp)
			key := c + "/" + pod
			if rng.IntN(10) == 0 {
				key = c // a cursor that saw other pods
			}
			if cursors[key] == nil {
				cursors[key] = &hpa.LoadCursor{}
			}
			if rng.IntN(100) == 0 {
				other.AddSampleAt(cursors[key], c, smp) // the cursor goes elsewhere
			}
			viaCursor.AddSampleAt(cursors[key], c, smp)
		}
		require.Equal(t, byName.AppendBinary(nil), viaCursor.AppendBinary(nil), "run %d", run)
		require.Equal(t, byName.Dropped(), viaCursor.Dropped(), "run %d", run)
	}
}

// TestLoadStateRestoredGoesOn: a state restored from its encoding takes
// the next samples as the original does, a sample too late for its open
// points dropped by both.
func TestLoadStateRestoredGoesOn(t *testing.T) {
	orig, _ := hpa.NewLoadState(time.Minute, time.Hour)
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		orig.AddSample("app", workload.Sample{Time: at.Add(time.Duration(i) * 20 * time.Second), Pod: "web-a", CPU: 0.5, HasCPU: true})
	}
	restored := &hpa.LoadState{}
	_, err := restored.UnmarshalBinary(orig.AppendBinary(nil))
	require.NoError(t, err)
	newest := at.Add(29 * 20 * time.Second)
	for _, s := range []*hpa.LoadState{orig, restored} {
		s.AddSample("app", workload.Sample{Time: newest.Add(-5 * time.Minute), Pod: "web-b", CPU: 1, HasCPU: true}) // too late
		s.AddSample("app", workload.Sample{Time: newest.Add(time.Second), Pod: "web-a", CPU: 0.7, HasCPU: true})
	}
	assert.Equal(t, 1, orig.Dropped())
	assert.Equal(t, orig.Dropped(), restored.Dropped())
	assert.Equal(t, orig.AppendBinary(nil), restored.AppendBinary(nil))
}
