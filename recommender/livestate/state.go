package livestate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// Options configure a State. Zero durations take the defaults.
type Options struct {
	// History are the options of the containers' accumulators: the
	// profile's (a CPU lookback cannot be kept).
	History history.Options
	// LoadStep is the step of the workloads' aggregate loads (default
	// 5 min); LoadRetention how long they are kept (default 14 days).
	// 14 days at 5 min take 14–16 KB a workload of noisy load in memory,
	// 20 KB encoded.
	LoadStep, LoadRetention time.Duration
	// ExpireAfter forgets workload containers neither sampled nor touched
	// for this long (default 7 days).
	ExpireAfter time.Duration
	// SnapshotAt, when set, keeps a copy of each container's history as it
	// stood before its first sample at or after this instant (Snapshot):
	// a report's plan as of the previous period's end, from one reading.
	SnapshotAt time.Time
	// Observe, when set, is told every sample added, after the state took
	// it, and those Until left out: a report's accounting reads the samples
	// as they pass.
	Observe func(workload.ContainerKey, workload.Sample)
	// Until, when set, leaves out the samples at or after it: a plan as of
	// --end from a file that goes on past it, which sketches could not
	// take back out.
	Until time.Time
	// SpillLoads keeps the loads' sealed points in a temporary file
	// instead of the heap until they are read (hpa.Spill): for a run that
	// reads a history once. Where no file can be made they stay in memory,
	// and LoadWarnings says so.
	SpillLoads bool
}

// Defaults of Options.
const (
	DefaultLoadStep      = 5 * time.Minute
	DefaultLoadRetention = 14 * 24 * time.Hour
	DefaultExpireAfter   = 7 * 24 * time.Hour
)

func (o Options) withDefaults() Options {
	if o.LoadStep <= 0 {
		o.LoadStep = DefaultLoadStep
	}
	if o.LoadRetention <= 0 {
		o.LoadRetention = DefaultLoadRetention
	}
	if o.ExpireAfter <= 0 {
		o.ExpireAfter = DefaultExpireAfter
	}
	return o
}

// State is the history of many workloads. It is not safe for concurrent
// use: one goroutine samples, recommends and checkpoints.
type State struct {
	o          Options
	containers *history.States
	loads      map[workload.Key]*hpa.LoadState
	// seen is when each container was last sampled or touched, Unix ms.
	seen map[workload.ContainerKey]int64
	// cursor is how far a source that can be read again (Prometheus) has
	// been read into the state; it is checkpointed with the history.
	cursor Cursor
	// untilMs is Options.Until in Unix ms (math.MaxInt64 when unset).
	untilMs int64
	// snapMs is Options.SnapshotAt in Unix ms (math.MaxInt64 when unset);
	// snap holds the copies taken, snapDone the containers done with.
	snapMs   int64
	snap     *history.States
	snapDone map[workload.ContainerKey]bool
	// spill holds the loads' sealed points (Options.SpillLoads);
	// spillFailed says why it could not be made.
	spill       *hpa.Spill
	spillFailed error
}

// Cursor says how far a source that keeps history has been read into a
// state: the history holds its samples up to Until, and none after. A
// process that resumes from a checkpoint reads on from there, so that no
// step is read twice (a histogram would count it twice) or left out.
type Cursor struct {
	// Source names the source and how it was read (server, step): a
	// cursor of another source does not say what this one has given.
	Source string
	Until  time.Time
}

// Cursor returns how far a source has been read into the state; the zero
// Cursor when none has.
func (s *State) Cursor() Cursor { return s.cursor }

// SetCursor records how far a source has been read into the state.
func (s *State) SetCursor(c Cursor) { s.cursor = c }

// AddStore adds a store's samples of the containers keep keeps (nil: all),
// workload by workload in time order, so that the windows, peaks and loads
// see them as they came; it returns how many it added. The store must be
// finalized. Samples older than what a container's history holds already
// are still counted: add each stretch of time once (Cursor).
func (s *State) AddStore(h *history.Store, keep func(workload.ContainerKey) bool) int {
	// at is one sample: its time, its series' place in sers and its place
	// in the series. Free of pointers, so that sorting moves 16 bytes and
	// no write barrier; (t, ser) is the order a stable sort by time of the
	// samples in store order gives (a finalized series holds a time once).
	type at struct {
		t   int64
		ser int32
		i   int32
	}
	type series struct {
		c   int // its container's place in keys
		ser *history.Series
	}
	n := 0
	var (
		batch []at
		sers  []series
		sinks = map[int]*Sink{}
	)
	keys := h.Containers()
	for i := 0; i < len(keys); {
		// The containers of one workload are adjacent in the store's
		// order: one workload's samples at a time bounds the batch.
		w := keys[i].Workload
		batch, sers = batch[:0], sers[:0]
		clear(sinks)
		for ; i < len(keys) && keys[i].Workload == w; i++ {
			if keep != nil && !keep(keys[i]) {
				continue
			}
			for _, ser := range h.Series(keys[i]) {
				for j := range ser.Len() {
					batch = append(batch, at{ser.Time[j], int32(len(sers)), int32(j)})
				}
				sers = append(sers, series{i, ser})
			}
		}
		slices.SortFunc(batch, func(x, y at) int {
			if c := cmp.Compare(x.t, y.t); c != 0 {
				return c
			}
			return cmp.Compare(x.ser, y.ser)
		})
		for _, x := range batch {
			ser := sers[x.ser]
			smp := ser.ser.At(int(x.i))
			sink := sinks[ser.c]
			if sink == nil {
				if x.t >= s.untilMs {
					// A sample past Until makes no history (addShaped).
					s.observe(keys[ser.c], smp)
					continue
				}
				sink = s.Sink(keys[ser.c])
				sinks[ser.c] = sink
			}
			var shape *history.CPUShape
			if len(ser.ser.Shapes) > 0 {
				shape = ser.ser.ShapeAt(x.t)
			}
			sink.add(smp, shape)
		}
		for _, sink := range sinks {
			sink.Done()
		}
		n += len(batch)
	}
	return n
}

// New returns an empty state.
func New(o Options) (*State, error) {
	o = o.withDefaults()
	st, err := history.NewStates(o.History)
	if err != nil {
		return nil, fmt.Errorf("live state: %w", err)
	}
	if _, err := hpa.NewLoadState(o.LoadStep, o.LoadRetention); err != nil {
		return nil, fmt.Errorf("live state: %w", err)
	}
	s := &State{o: o, containers: st, loads: map[workload.Key]*hpa.LoadState{}, seen: map[workload.ContainerKey]int64{}, snapMs: math.MaxInt64, untilMs: math.MaxInt64}
	if !o.Until.IsZero() {
		s.untilMs = o.Until.UnixMilli()
	}
	if o.SpillLoads {
		s.spill, s.spillFailed = hpa.NewSpill("")
	}
	if !o.SnapshotAt.IsZero() {
		s.snapMs = o.SnapshotAt.UnixMilli()
		s.snap, _ = history.NewStates(o.History) // checked above
		s.snapDone = map[workload.ContainerKey]bool{}
	}
	return s, nil
}

// before copies container k's history into the snapshot, for its first
// sample at or after SnapshotAt (the callers check the time).
func (s *State) before(k workload.ContainerKey) {
	if s.snapDone[k] {
		return
	}
	s.snapDone[k] = true
	// Without a sample before, the container had no history then.
	if a := s.containers.Get(k, false); a != nil && !a.Empty() {
		_ = s.snap.Put(k, a.Clone()) // the same options
	}
}

// Snapshot returns the containers' history as it stood at
// Options.SnapshotAt: for each container, the copy taken before its first
// sample at or after it, else (all its samples came before) a copy of its
// history now. Nil without a SnapshotAt.
func (s *State) Snapshot() *history.States {
	if s.snap == nil {
		return nil
	}
	s.snapRest()
	return s.snap
}

// snapRest copies the containers not copied yet: no sample of theirs came
// at or after SnapshotAt.
func (s *State) snapRest() {
	for _, k := range s.containers.Containers() {
		if !s.snapDone[k] {
			s.snapDone[k] = true
			if a := s.containers.Get(k, false); !a.Empty() {
				_ = s.snap.Put(k, a.Clone()) // the same options
			}
		}
	}
}

// Add records one sample of container k: into its accumulator and, for a
// workload an HPA can scale, into the workload's load.
func (s *State) Add(k workload.ContainerKey, smp workload.Sample) { s.addShaped(k, smp, nil) }

// addShaped is Add for a sample whose hour has a CPU shape (nil: none):
// the shape goes into the histogram, the sample's mean into the load.
func (s *State) addShaped(k workload.ContainerKey, smp workload.Sample, shape *history.CPUShape) {
	t := smp.Time.UnixMilli()
	if t >= s.untilMs {
		s.observe(k, smp)
		return
	}
	if t >= s.snapMs {
		s.before(k)
	}
	s.containers.AddShaped(k, smp, shape)
	s.seen[k] = max(s.seen[k], t)
	if l := s.load(k.Workload); l != nil {
		l.AddSample(k.Container, smp)
	}
	s.observe(k, smp)
}

func (s *State) observe(k workload.ContainerKey, smp workload.Sample) {
	if s.o.Observe != nil {
		s.o.Observe(k, smp)
	}
}

// load is workload w's aggregate load, made when new; nil for a workload
// no HPA can scale.
func (s *State) load(w workload.Key) *hpa.LoadState {
	if !hpa.Scalable(w.Kind) {
		return nil
	}
	l := s.loads[w]
	if l == nil {
		l, _ = hpa.NewLoadState(s.o.LoadStep, s.o.LoadRetention) // checked by New
		if s.spill != nil {
			l.SpillTo(s.spill)
		}
		s.loads[w] = l
	}
	return l
}

// Sink is the way of one pod container's samples into a state, for a
// reader that knows which container each sample is of: Add without the
// lookups of State.Add. Done tells the state when the container was last
// sampled, and completes its history: a sink holds up to stageLen
// samples before it adds them.
type Sink struct {
	s    *State
	k    workload.ContainerKey
	acc  *history.Accumulator
	load *hpa.LoadState
	last int64 // Unix ms; math.MinInt64 before a sample
	// snapped: the container's history is in the snapshot already.
	snapped bool
	cursor  hpa.LoadCursor

	// The samples held, all of pod and with settings set.
	n     int
	pod   string
	set   workload.Settings
	has   [stageLen]uint8
	stage [stageLen]staged
}

// stageLen is how many samples a sink holds before it adds them to the
// container's history. Added in a row, they find the history's memory in
// the cache; one at a time, in a file with every container's sample at
// each time, each would fetch it from memory again (about two thirds of
// the time the history takes, measured on 10,000 containers). Twelve make
// a sink 504 bytes: on 20 million rows eight took about 0.5 s more CPU,
// and sixteen about 0.2 s less but 6–8 MB more memory (the sink in a
// larger size class).
const stageLen = 12

// staged is a sample held by a sink. A throttled share is held only when
// zero, as most are: one sample in 32 bytes would take a quarter more.
type staged struct {
	ns  int64 // Unix ns
	cpu workload.Cores
	mem workload.Bytes
}

// What a staged sample has.
const (
	stagedCPU uint8 = 1 << iota
	stagedMemory
	stagedThrottled // a share of zero
)

// maxStagedSec bounds the times a sink holds: Unix ns fit in an int64.
const maxStagedSec = math.MaxInt64/int64(time.Second) - 1

// Sink returns a sink into container k's history and, for a workload an
// HPA can scale, its load.
func (s *State) Sink(k workload.ContainerKey) *Sink {
	return &Sink{s: s, k: k, acc: s.containers.Get(k, true), load: s.load(k.Workload), last: math.MinInt64}
}

// Last is the newest sample's time through the sink, Unix ms;
// math.MinInt64 before one.
func (k *Sink) Last() int64 { return k.last }

// Add records one sample, as State.Add does.
func (k *Sink) Add(smp workload.Sample) { k.add(smp, nil) }

// add is Add for a sample whose hour has a CPU shape (nil: none), as
// State.addShaped.
func (k *Sink) add(smp workload.Sample, shape *history.CPUShape) {
	t := smp.Time.UnixMilli()
	if t >= k.s.untilMs {
		k.s.observe(k.k, smp)
		return
	}
	if !k.snapped && t >= k.s.snapMs {
		k.flush()
		k.s.before(k.k)
		k.snapped = true
	}
	if sec := smp.Time.Unix(); shape == nil && !smp.OOMKilled && sec >= 0 && sec <= maxStagedSec && (!smp.HasThrottled || math.Float64bits(smp.Throttled) == 0) {
		if k.n > 0 && (smp.Pod != k.pod || smp.Settings != k.set) {
			k.flush()
		}
		k.pod, k.set = smp.Pod, smp.Settings
		var f uint8
		if smp.HasCPU {
			f |= stagedCPU
		}
		if smp.HasMemory {
			f |= stagedMemory
		}
		if smp.HasThrottled {
			f |= stagedThrottled
		}
		k.stage[k.n] = staged{ns: sec*int64(time.Second) + int64(smp.Time.Nanosecond()), cpu: smp.CPU, mem: smp.Memory}
		k.has[k.n] = f
		if k.n++; k.n == stageLen {
			k.flush()
		}
	} else {
		k.flush()
		k.acc.AddShaped(smp, shape)
	}
	k.last = max(k.last, t)
	if k.load != nil {
		k.load.AddSampleAt(&k.cursor, k.k.Container, smp)
	}
	k.s.observe(k.k, smp)
}

// Done tells the state when the container was last sampled through the
// sink (Expire reads it).
func (k *Sink) Done() {
	k.flush()
	if k.last != math.MinInt64 {
		k.s.seen[k.k] = max(k.s.seen[k.k], k.last)
	}
}

// flush adds the samples held to the history.
func (k *Sink) flush() {
	for i := range k.n {
		x, f := &k.stage[i], k.has[i]
		k.acc.Add(workload.Sample{Time: time.Unix(0, x.ns).UTC(), Pod: k.pod,
			CPU: x.cpu, HasCPU: f&stagedCPU != 0, Memory: x.mem, HasMemory: f&stagedMemory != 0,
			HasThrottled: f&stagedThrottled != 0, Settings: k.set})
	}
	k.n = 0
}

// AddOOM records an OOM kill of container k, which raises the memory peak
// of its interval as a kill among the samples would. A kill told again is
// counted once.
func (s *State) AddOOM(k workload.ContainerKey, ev history.OOMEvent) {
	s.containers.Get(k, true).AddOOM(ev)
	s.seen[k] = max(s.seen[k], ev.Time.UnixMilli())
}

// Touch marks containers as still in the cluster at now, so that a
// workload scaled to zero keeps its history.
func (s *State) Touch(now time.Time, keys ...workload.ContainerKey) {
	ms := now.UnixMilli()
	for _, k := range keys {
		if _, ok := s.seen[k]; ok {
			s.seen[k] = max(s.seen[k], ms)
		}
	}
}

// Expire forgets the containers neither sampled nor touched for
// ExpireAfter before now (and the loads of workloads left without one),
// lets each accumulator drop what no summary reads any more, and closes
// the loads' points before now.
func (s *State) Expire(now time.Time) {
	if s.snap != nil && now.UnixMilli() >= s.snapMs {
		// What an accumulator lets go of now, a summary at SnapshotAt
		// may still read.
		s.snapRest()
	}
	cut := now.Add(-s.o.ExpireAfter).UnixMilli()
	live := map[workload.Key]bool{}
	for k, seen := range s.seen {
		if seen < cut {
			delete(s.seen, k)
			s.containers.Delete(k)
			continue
		}
		live[k.Workload] = true
		if a := s.containers.Get(k, false); a != nil {
			a.Expire(now)
		}
	}
	for k, l := range s.loads {
		if !live[k] {
			delete(s.loads, k)
			continue
		}
		l.Advance(now)
	}
}

// Dropped is how many samples the containers' histories and the loads
// left out for coming before a newer one of their pod container (the
// loads: before a point they had closed).
func (s *State) Dropped() int {
	n := 0
	for _, k := range s.containers.Containers() {
		n += s.containers.Get(k, false).Dropped()
	}
	for _, l := range s.loads {
		n += l.Dropped()
	}
	return n
}

// States is the containers' history, for recommender.Data.States.
func (s *State) States() *history.States { return s.containers }

// Select returns the history of the containers keep keeps (those of the
// workloads still in the cluster), sharing their accumulators.
func (s *State) Select(keep func(workload.ContainerKey) bool) *history.States {
	out, _ := history.NewStates(s.o.History) // checked by New
	for _, k := range s.containers.Containers() {
		if keep(k) {
			_ = out.Put(k, s.containers.Get(k, false)) // the same options
		}
	}
	return out
}

// Loads reads the workloads' loads, for recommender.Data.Loads: over the
// whole retention, until the time asked. It holds the loads alone, not the
// containers' histories, so that a plan can let go of those first.
func (s *State) Loads() hpa.Loads {
	loads, retention := s.loads, s.o.LoadRetention
	return func(k workload.Key, _ []workload.ContainerKey, until time.Time) (hpa.Load, bool) {
		l := loads[k]
		if l == nil {
			return hpa.Load{}, false
		}
		return l.Load(until.Add(-retention), until), true
	}
}

// LoadsErr returns what reports a load that could not be read back from
// the file it waited in (Options.SpillLoads), for recommender.Data.LoadsErr;
// nil without one. Like Loads, it holds the file alone.
func (s *State) LoadsErr() func() error {
	if s.spill == nil {
		return nil
	}
	return s.spill.Err
}

// LoadWarnings says where the loads stayed in memory though asked to wait
// in a file: none could be made, or it took no more.
func (s *State) LoadWarnings() []string {
	switch {
	case s.spillFailed != nil:
		return []string{s.spillFailed.Error() + ": the loads are kept in memory"}
	case s.spill != nil && s.spill.Warning() != "":
		return []string{s.spill.Warning()}
	}
	return nil
}

// LoadForgetter returns what forgets a workload's load, for
// recommender.Data.ForgetLoad: a plan made once lets each load go once
// its HPA is recommended. Like Loads, it holds the loads alone.
func (s *State) LoadForgetter() func(workload.Key) {
	loads := s.loads
	return func(k workload.Key) { delete(loads, k) }
}

// Stats count what a state holds.
type Stats struct {
	Containers, Workloads int
	// Samples is the CPU and memory samples taken since the containers'
	// histories began (kept as sketches, not one by one).
	Samples int
}

// Stats returns the state's size.
func (s *State) Stats() Stats {
	st := Stats{Containers: s.containers.Len(), Workloads: len(s.loads)}
	for _, k := range s.containers.Containers() {
		cpu, mem := s.containers.Get(k, false).Samples()
		st.Samples += cpu + mem
	}
	return st
}

// keys returns the containers held, sorted (the encoding's order).
func (s *State) keys() []workload.ContainerKey { return s.containers.Containers() }

// workloads returns the workloads with loads, sorted.
func (s *State) workloads() []workload.Key {
	out := make([]workload.Key, 0, len(s.loads))
	for k := range s.loads {
		out = append(out, k)
	}
	slices.SortFunc(out, func(x, y workload.Key) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name))
	})
	return out
}
