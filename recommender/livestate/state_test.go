package livestate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/statestore"
	"rightsize.dev/rightsize/recommender/workload"
)

var (
	t0  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	web = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	agt = workload.Key{Namespace: "kube-system", Kind: workload.DaemonSet, Name: "agent"}
)

// feed calls add with days of samples every step: web's two pods (two
// containers each) with a daily cycle, and the agent's one pod.
func feed(days int, step time.Duration, add func(workload.ContainerKey, workload.Sample)) time.Time {
	r := rand.New(rand.NewPCG(3, 4))
	end := t0.Add(time.Duration(days) * 24 * time.Hour)
	for at := t0; at.Before(end); at = at.Add(step) {
		day := float64(at.Sub(t0)) / float64(24*time.Hour)
		for _, pod := range []string{"web-7d9f8b6c5-a", "web-7d9f8b6c5-b"} {
			for _, c := range []string{"app", "proxy"} {
				cpu := 0.3 + 0.2*math.Sin(2*math.Pi*day) + 0.05*r.NormFloat64()
				add(workload.ContainerKey{Workload: web, Container: c}, workload.Sample{Time: at, Pod: pod,
					CPU: workload.Cores(max(cpu, 0)), HasCPU: true, Memory: workload.Bytes(2e8 + 1e8*cpu), HasMemory: true})
			}
		}
		add(workload.ContainerKey{Workload: agt, Container: "agent"}, workload.Sample{Time: at, Pod: "agent-x1",
			CPU: 0.05, HasCPU: true, Memory: 5e7, HasMemory: true})
	}
	return end
}

func newState(t testing.TB) *State {
	t.Helper()
	s, err := New(Options{History: history.DefaultOptions()})
	require.NoError(t, err)
	return s
}

func TestEncodeRestoreRoundTrip(t *testing.T) {
	s := newState(t)
	end := feed(3, time.Minute, s.Add)
	s.Expire(end)
	enc := s.Encode()

	r := newState(t)
	warnings, err := r.Restore(enc)
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.Equal(t, s.Stats(), r.Stats())
	assert.Equal(t, Stats{Containers: 3, Workloads: 1, Samples: 3 * 24 * 60 * 5 * 2}, r.Stats(),
		"web's two containers and the agent, 5 samples a minute of CPU and memory; a load for web only (a DaemonSet is not scaled)")
	assert.True(t, bytes.Equal(enc, r.Encode()), "a restored state encodes to the same bytes")

	for _, k := range s.keys() {
		want, err := s.States().Summary(k, end, history.DefaultOptions())
		require.NoError(t, err)
		got, err := r.States().Summary(k, end, history.DefaultOptions())
		require.NoError(t, err)
		assert.Equal(t, want.CPU.Quantile(0.9), got.CPU.Quantile(0.9), k.String())
		assert.Equal(t, want.MemoryWindow.Max, got.MemoryWindow.Max, k.String())
	}
	wl, ok := s.Loads()(web, nil, end)
	require.True(t, ok)
	gl, ok := r.Loads()(web, nil, end)
	require.True(t, ok)
	assert.Equal(t, wl.CPU, gl.CPU)
	assert.Equal(t, 3*24*12, len(gl.CPU), "three days at 5 min")
	assert.InDelta(t, 2*2*0.3, mean(gl.CPU), 0.05, "web's two pods of two containers at 0.3 cores on average")
	_, ok = r.Loads()(agt, nil, end)
	assert.False(t, ok)
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestExpireAndTouch(t *testing.T) {
	s := newState(t)
	end := feed(1, time.Minute, s.Add)
	// A week on, web is still in the cluster (scaled to zero), the agent
	// is gone.
	later := end.Add(DefaultExpireAfter - time.Hour)
	s.Touch(later, workload.ContainerKey{Workload: web, Container: "app"}, workload.ContainerKey{Workload: web, Container: "proxy"})
	s.Expire(end.Add(DefaultExpireAfter + time.Minute))
	assert.Equal(t, 2, s.Stats().Containers)
	assert.Equal(t, 1, s.Stats().Workloads)
	s.Expire(later.Add(DefaultExpireAfter + time.Minute))
	assert.Equal(t, Stats{}, s.Stats())
	// Touching a container never sampled does not make it.
	s.Touch(later, workload.ContainerKey{Workload: agt, Container: "agent"})
	assert.Zero(t, s.Stats().Containers)
}

func TestRestoreRefusesDamage(t *testing.T) {
	s := newState(t)
	end := feed(1, 5*time.Minute, s.Add)
	s.Expire(end)
	enc := s.Encode()
	before := s.Encode()

	flipped := bytes.Clone(enc)
	flipped[len(flipped)/2] ^= 0x40
	newer := bytes.Clone(enc)
	newer[len(magic)] = version + 1
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": enc[:len(enc)-9],
		"flipped":   flipped,
		"newer":     newer,
		"not ours":  []byte("RSA\x01hello world"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Restore(b)
			require.Error(t, err)
			if name == "newer" {
				assert.ErrorIs(t, err, ErrNewerVersion)
			}
			assert.True(t, bytes.Equal(before, s.Encode()), "a refused state leaves the state as it was")
		})
	}
}

func TestRestoreOtherProfile(t *testing.T) {
	s := newState(t)
	end := feed(1, 5*time.Minute, s.Add)
	s.Expire(end)
	o := history.DefaultOptions()
	o.MemoryIntervals++
	other, err := New(Options{History: o})
	require.NoError(t, err)
	warnings, err := other.Restore(s.Encode())
	require.NoError(t, err)
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "3 containers kept with other history options")
	assert.Equal(t, Stats{Workloads: 1}, other.Stats(), "the loads do not depend on the profile")
}

// TestRestoreSampleStore reads a checkpoint of the earlier format: the
// samples it holds, replayed, give the history that taking them live
// gives.
func TestRestoreSampleStore(t *testing.T) {
	old := statestore.NewMemory(statestore.Options{RawRetention: 365 * 24 * time.Hour, Now: func() time.Time { return t0.Add(48 * time.Hour) }})
	live := newState(t)
	end := feed(2, time.Minute, func(k workload.ContainerKey, smp workload.Sample) {
		old.Add(k, smp)
		live.Add(k, smp)
	})
	enc, err := old.Encode()
	require.NoError(t, err)

	s := newState(t)
	warnings, err := s.Restore(enc)
	require.NoError(t, err)
	assert.Len(t, warnings, 1)
	assert.Equal(t, live.Stats(), s.Stats())
	for _, k := range live.keys() {
		want, _ := live.States().Summary(k, end, history.DefaultOptions())
		got, _ := s.States().Summary(k, end, history.DefaultOptions())
		assert.InEpsilon(t, want.CPU.Quantile(0.95), got.CPU.Quantile(0.95), 1e-6, k.String())
		assert.InEpsilon(t, float64(want.MemoryWindow.Max), float64(got.MemoryWindow.Max), 1e-6, k.String())
	}
	wl, _ := live.Loads()(web, nil, end)
	gl, _ := s.Loads()(web, nil, end)
	assert.InDeltaSlice(t, wl.CPU, gl.CPU, 1e-5)
}

// TestCursor: the cursor goes into the encoding and back; a state of
// version 1, which had none, is read with none.
func TestCursor(t *testing.T) {
	s := newState(t)
	end := feed(1, 10*time.Minute, s.Add)
	s.Expire(end)
	v1 := s.Encode() // no cursor: source "" and 0
	c := Cursor{Source: "prometheus http://prom:9090 step 1m0s", Until: end.Add(-time.Minute)}
	s.SetCursor(c)
	r := newState(t)
	_, err := r.Restore(s.Encode())
	require.NoError(t, err)
	assert.Equal(t, c, r.Cursor())

	// Version 1: the same bytes without the two cursor fields.
	body := append([]byte(magic+"\x01"), v1[len(magic)+3:len(v1)-4]...)
	v1 = binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
	old := newState(t)
	old.SetCursor(c)
	_, err = old.Restore(v1)
	require.NoError(t, err)
	assert.Equal(t, Cursor{}, old.Cursor(), "a version 1 state has no cursor")
	assert.Equal(t, s.Stats(), old.Stats())
}

// TestAddStore: a store's samples added at once, or in two stretches of
// time one after the other, give the history that taking them live gives.
func TestAddStore(t *testing.T) {
	live := newState(t)
	first, second := history.NewStore(), history.NewStore()
	mid := t0.Add(24 * time.Hour)
	end := feed(2, 5*time.Minute, func(k workload.ContainerKey, smp workload.Sample) {
		live.Add(k, smp)
		if smp.Time.Before(mid) {
			first.Add(k, smp)
		} else {
			second.Add(k, smp)
		}
	})
	first.Finalize()
	second.Finalize()
	s := newState(t)
	n := s.AddStore(first, nil) + s.AddStore(second, nil)
	assert.Equal(t, first.Samples()+second.Samples(), n)
	assert.Equal(t, live.Stats(), s.Stats())
	for _, k := range live.keys() {
		want, _ := live.States().Summary(k, end, history.DefaultOptions())
		got, _ := s.States().Summary(k, end, history.DefaultOptions())
		assert.InEpsilon(t, want.CPU.Quantile(0.95), got.CPU.Quantile(0.95), 1e-9, k.String())
		assert.Equal(t, want.MemoryWindow.Max, got.MemoryWindow.Max, k.String())
	}
	wl, _ := live.Loads()(web, nil, end)
	gl, _ := s.Loads()(web, nil, end)
	assert.Equal(t, wl.CPU, gl.CPU)

	// keep: the agent's samples only.
	agent := newState(t)
	n = agent.AddStore(first, func(k workload.ContainerKey) bool { return k.Workload == agt })
	assert.Equal(t, 24*60/5, n)
	assert.Equal(t, Stats{Containers: 1, Samples: 2 * n}, agent.Stats())
}

// TestSize bounds the encoding: a container after 14 days at 30 s stays
// near history's 850 bytes, a load adds 5 bytes a point.
func TestSize(t *testing.T) {
	s := newState(t)
	end := feed(14, 30*time.Second, s.Add)
	s.Expire(end)
	enc := s.Encode()
	loadPoints := 14 * 24 * 12
	perContainer := (len(enc) - 5*loadPoints) / 3
	t.Logf("%d bytes: %d a container besides the load's %d points", len(enc), perContainer, loadPoints)
	assert.LessOrEqual(t, perContainer, 1200)
}

func FuzzRestore(f *testing.F) {
	s := newState(f)
	end := feed(1, 10*time.Minute, s.Add)
	s.Expire(end)
	f.Add(s.Encode())
	f.Add([]byte(magic + "\x01\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte(magic + "\x02\x01p\x80\x01\x00\x00\x00\x00\x00\x00"))
	old := statestore.NewMemory(statestore.Options{})
	old.Add(workload.ContainerKey{Workload: web, Container: "app"}, workload.Sample{Time: t0, Pod: "p", CPU: 1, HasCPU: true})
	if b, err := old.Encode(); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := New(Options{History: history.DefaultOptions()})
		require.NoError(t, err)
		if _, err := s.Restore(b); err != nil {
			return
		}
		// What was read encodes and reads back to the same state.
		enc := s.Encode()
		r, _ := New(Options{History: history.DefaultOptions()})
		if _, err := r.Restore(enc); err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if !bytes.Equal(enc, r.Encode()) {
			t.Fatal("re-encoding differs")
		}
	})
}

// TestSnapshot: the snapshot holds each container's history as one fed
// only the samples before SnapshotAt holds it, whether the samples came
// through Add or a Sink, and Observe sees every sample once.
func TestSnapshot(t *testing.T) {
	cut := t0.Add(36*time.Hour + 3*time.Minute)
	late := workload.ContainerKey{Workload: workload.Key{Namespace: "batch", Kind: workload.Job, Name: "late"}, Container: "job"}
	for _, viaSink := range []bool{false, true} {
		observed := 0
		s, err := New(Options{History: history.DefaultOptions(), SnapshotAt: cut,
			Observe: func(workload.ContainerKey, workload.Sample) { observed++ }})
		require.NoError(t, err)
		want := newState(t)
		sinks := map[workload.ContainerKey]*Sink{}
		n := 0
		add := func(k workload.ContainerKey, smp workload.Sample) {
			n++
			if smp.Time.Before(cut) {
				want.Add(k, smp)
			}
			if !viaSink {
				s.Add(k, smp)
				return
			}
			if sinks[k] == nil {
				sinks[k] = s.Sink(k)
			}
			sinks[k].Add(smp)
		}
		end := feed(3, 5*time.Minute, add)
		// A container whose samples all come after the cut has no history
		// in the snapshot.
		add(late, workload.Sample{Time: end, Pod: "late-1", CPU: 1, HasCPU: true})
		for _, k := range sinks {
			k.Done()
		}
		s.Expire(end.Add(time.Millisecond))
		snap := s.Snapshot()
		assert.Equal(t, n, observed)
		assert.Equal(t, want.States().Containers(), snap.Containers())
		for _, k := range want.States().Containers() {
			w, err := want.States().Summary(k, cut, history.DefaultOptions())
			require.NoError(t, err)
			g, err := snap.Summary(k, cut, history.DefaultOptions())
			require.NoError(t, err)
			assert.Equal(t, w, g, "%v via sink %v", k, viaSink)
		}
		// The history itself went on past the cut.
		assert.Equal(t, end.Add(-5*time.Minute), s.States().Get(workload.ContainerKey{Workload: web, Container: "app"}, false).LastSample())
	}
}

// TestSinkHoldsSamples: a sink, which holds samples before it adds
// them, leaves after Done the same history, snapshot and loads as Add,
// byte for byte, over samples that make it add them early: another pod,
// new settings, an OOM kill, a time it cannot hold, a CPU shape, a
// throttled share other than zero, the snapshot's time.
func TestSinkHoldsSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	k := workload.ContainerKey{Workload: web, Container: "app"}
	cut := t0.Add(7 * time.Hour)
	shape := &history.CPUShape{N: 12}
	for i := range shape.Q {
		shape.Q[i] = 0.1 * float32(i+1)
	}
	for run := range 20 {
		opts := Options{History: history.DefaultOptions(), SnapshotAt: cut}
		direct, err := New(opts)
		require.NoError(t, err)
		staged, err := New(opts)
		require.NoError(t, err)
		sink := staged.Sink(k)
		set := workload.Settings{Requests: workload.Resources{CPU: 500, Memory: 256 * workload.MiB}}
		pod := "web-a"
		at := t0.AddDate(-60*(run%3), 0, 0) // a third of the runs before 1970
		for i := range 400 {
			at = at.Add(time.Duration(1+rng.IntN(300)) * time.Second).Add(time.Duration(rng.IntN(1000)) * time.Nanosecond)
			smp := workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(rng.Float64()), HasCPU: rng.IntN(10) > 0,
				Memory: workload.Bytes(rng.Int64N(1 << 30)), HasMemory: rng.IntN(10) > 0,
				Throttled: []float64{0, 0, math.Copysign(0, -1), rng.Float64()}[rng.IntN(4)], HasThrottled: rng.IntN(2) == 0, Settings: set}
			var sh *history.CPUShape
			switch rng.IntN(40) {
			case 0:
				smp.Pod = "web-b" // one sample of another pod
			case 1:
				set.Requests.CPU += 100
				smp.Settings = set
			case 2:
				smp.OOMKilled = true
			case 3:
				sh = shape
			}
			if i == 200 && run%2 == 0 {
				at = at.AddDate(300, 0, 0) // past what a sink holds
				smp.Time = at
			}
			direct.addShaped(k, smp, sh)
			sink.add(smp, sh)
		}
		sink.Done()
		for _, s := range []*State{direct, staged} {
			s.Expire(at.Add(time.Millisecond))
		}
		require.Equal(t, direct.States().Get(k, false).AppendBinary(nil), staged.States().Get(k, false).AppendBinary(nil), "run %d", run)
		if a := direct.Snapshot().Get(k, false); a != nil {
			require.Equal(t, a.AppendBinary(nil), staged.Snapshot().Get(k, false).AppendBinary(nil), "run %d: snapshot", run)
		}
		dl, dok := direct.Loads()(web, nil, at)
		sl, sok := staged.Loads()(web, nil, at)
		require.Equal(t, dok, sok, "run %d: load", run)
		require.Equal(t, fmt.Sprint(dl), fmt.Sprint(sl), "run %d: load", run) // NaN for a gap
	}
}

// TestUntil: samples at or after Until are left out of the history and
// the loads, and still observed.
func TestUntil(t *testing.T) {
	until := t0.Add(30 * time.Hour)
	observed := 0
	s, err := New(Options{History: history.DefaultOptions(), Until: until,
		Observe: func(workload.ContainerKey, workload.Sample) { observed++ }})
	require.NoError(t, err)
	want := newState(t)
	n := 0
	feed(2, 5*time.Minute, func(k workload.ContainerKey, smp workload.Sample) {
		n++
		s.Add(k, smp)
		if smp.Time.Before(until) {
			want.Add(k, smp)
		}
	})
	assert.Equal(t, n, observed)
	assert.Equal(t, until.Add(-5*time.Minute), s.States().Last())
	sameSummaries := func(got *State) {
		t.Helper()
		for _, k := range want.States().Containers() {
			w, err := want.States().Summary(k, until, history.DefaultOptions())
			require.NoError(t, err)
			g, err := got.States().Summary(k, until, history.DefaultOptions())
			require.NoError(t, err)
			assert.Equal(t, w, g, "%v", k)
		}
	}
	sameSummaries(s)
	wl, _ := want.Loads()(web, nil, until)
	gl, _ := s.Loads()(web, nil, until)
	assert.Equal(t, wl, gl)

	// A store read past Until: every sample observed, and a container
	// whose samples all lie past it gets no history.
	st := history.NewStore()
	late := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "late"}, Container: "app"}
	feed(2, 5*time.Minute, func(k workload.ContainerKey, smp workload.Sample) {
		st.Add(k, smp)
		if smp.Time.After(until) && k.Workload == web {
			smp.Pod = "late-1"
			st.Add(late, smp)
		}
	})
	st.Finalize()
	observed = 0
	fromStore, err := New(Options{History: history.DefaultOptions(), Until: until,
		Observe: func(workload.ContainerKey, workload.Sample) { observed++ }})
	require.NoError(t, err)
	assert.Equal(t, st.Samples(), fromStore.AddStore(st, nil))
	assert.Equal(t, st.Samples(), observed)
	assert.Equal(t, want.States().Containers(), fromStore.States().Containers(), "none for the late workload")
	sameSummaries(fromStore)
}

// BenchmarkAddStore adds a store of 2,000 pod containers × 2 days at 5
// minutes (1.15 M samples, 20 workloads of 50 pods × 2 containers) to an
// empty state, as --bounded-memory does with each chunk.
func BenchmarkAddStore(b *testing.B) {
	st := history.NewStore()
	r := rand.New(rand.NewPCG(5, 6))
	for w := range 20 {
		wk := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: fmt.Sprintf("svc-%d", w)}
		for p := range 50 {
			pod := fmt.Sprintf("svc-%d-7d9f8b6c5-%03d", w, p)
			for _, c := range []string{"app", "proxy"} {
				k := workload.ContainerKey{Workload: wk, Container: c}
				for at := t0; at.Before(t0.Add(48 * time.Hour)); at = at.Add(5 * time.Minute) {
					st.Add(k, workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(0.2 + 0.1*r.Float64()), HasCPU: true,
						Memory: workload.Bytes(2e8 + 1e7*r.Float64()), HasMemory: true})
				}
			}
		}
	}
	st.Finalize()
	b.ReportAllocs()
	for b.Loop() {
		s := newState(b)
		if n := s.AddStore(st, nil); n != st.Samples() {
			b.Fatalf("%d of %d samples", n, st.Samples())
		}
	}
}

// Loads that wait in a file read back as those kept in memory; where no
// file can be made they stay in memory, and a warning says so.
func TestSpillLoads(t *testing.T) {
	kept := newState(t)
	end := feed(3, time.Minute, kept.Add)
	kept.Expire(end)
	want, ok := kept.Loads()(web, nil, end)
	require.True(t, ok)
	require.NotEmpty(t, want.CPU)
	require.Nil(t, kept.LoadsErr())
	require.Empty(t, kept.LoadWarnings())

	t.Setenv("TMPDIR", t.TempDir())
	spilled, err := New(Options{History: history.DefaultOptions(), SpillLoads: true})
	require.NoError(t, err)
	feed(3, time.Minute, spilled.Add)
	spilled.Expire(end)
	require.NotNil(t, spilled.spill)
	got, ok := spilled.Loads()(web, nil, end)
	require.True(t, ok)
	assert.Equal(t, want, got)
	require.NoError(t, spilled.LoadsErr()())
	assert.Empty(t, spilled.LoadWarnings())
	entries, err := os.ReadDir(os.Getenv("TMPDIR"))
	require.NoError(t, err)
	assert.Empty(t, entries, "the file is gone from its directory")

	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	inMemory, err := New(Options{History: history.DefaultOptions(), SpillLoads: true})
	require.NoError(t, err)
	feed(3, time.Minute, inMemory.Add)
	inMemory.Expire(end)
	got, ok = inMemory.Loads()(web, nil, end)
	require.True(t, ok)
	assert.Equal(t, want, got)
	assert.Nil(t, inMemory.LoadsErr())
	require.Len(t, inMemory.LoadWarnings(), 1)
	assert.Contains(t, inMemory.LoadWarnings()[0], "the loads are kept in memory")
}
