package history

import (
	"math"
	"slices"
	"sort"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// Series is the samples of one container of one pod, in columns. Missing
// values are NaN.
type Series struct {
	Pod       string
	Time      []int64   // Unix milliseconds
	CPU       []float64 // cores
	Memory    []float64 // bytes
	Throttled []float32 // share of CFS periods, 0..1
	OOM       []bool
	// Shapes are the hours whose CPU shape the source read (shape.go),
	// sorted by End once the store is finalized.
	Shapes []CPUShape
	// settings holds the recorded settings as changes: settings[i] is in
	// force from sample settingsAt[i] on. Settings rarely change, so this
	// keeps them out of the per-sample cost.
	settings   []workload.Settings
	settingsAt []int

	// stage holds the newest samples row by row until stageLen of them
	// go into the columns at once (flush; Finalize flushes the rest). A
	// file in time order touches every series once a timestamp: a row
	// staged is one cache line written, where the columns take one each.
	stage  *[stageLen]stagedSample
	staged int
	// lastSettings mirrors settings' last entry where synced, so that an
	// unchanged setting is checked without reading the column.
	lastSettings workload.Settings
	synced       bool
}

// stageLen is how many samples a series stages before its columns take
// them.
const stageLen = 16

// stagedSample is a sample waiting for the columns.
type stagedSample struct {
	t        int64
	cpu, mem float64
	thr      float32
	oom      bool
}

// Len returns the number of samples (once the store is finalized).
func (s *Series) Len() int { return len(s.Time) }

// At returns sample i.
func (s *Series) At(i int) workload.Sample {
	smp := workload.Sample{Time: time.UnixMilli(s.Time[i]).UTC(), Pod: s.Pod, OOMKilled: s.OOM[i], Settings: s.SettingsAt(i)}
	if v := s.CPU[i]; !math.IsNaN(v) {
		smp.CPU, smp.HasCPU = workload.Cores(v), true
	}
	if v := s.Memory[i]; !math.IsNaN(v) {
		smp.Memory, smp.HasMemory = workload.BytesOf(v), true
	}
	if v := s.Throttled[i]; !isNaN32(v) {
		smp.Throttled, smp.HasThrottled = float64(v), true
	}
	return smp
}

// SettingsAt returns the recorded settings in force at sample i.
func (s *Series) SettingsAt(i int) workload.Settings {
	j := sort.SearchInts(s.settingsAt, i+1) - 1
	if j < 0 {
		return workload.Settings{}
	}
	return s.settings[j]
}

// SettingsFrom returns the recorded settings in force at sample i, as
// SettingsAt, and the first sample after i where others are (Len() where
// none): a walk over the samples asks again only there.
func (s *Series) SettingsFrom(i int) (set workload.Settings, until int) {
	j := sort.SearchInts(s.settingsAt, i+1) - 1
	until = len(s.Time)
	if j+1 < len(s.settingsAt) {
		until = s.settingsAt[j+1]
	}
	if j < 0 {
		return workload.Settings{}, until
	}
	return s.settings[j], until
}

// Search returns the index of the first sample at or after t (Unix ms).
func (s *Series) Search(t int64) int {
	return sort.Search(len(s.Time), func(i int) bool { return s.Time[i] >= t })
}

// MedianStep returns the median time between consecutive samples, 0 with
// fewer than two samples.
func (s *Series) MedianStep() time.Duration { return medianStep(s.Time) }

// recentSteps bounds the work of a summary's usual step: the median of the
// last this many steps is as good a measure as the median of all.
const recentSteps = 512

// medianStep is the median time between consecutive times.
func medianStep(times []int64) time.Duration {
	if len(times) < 2 {
		return 0
	}
	steps := make([]int64, len(times)-1)
	for i := 1; i < len(times); i++ {
		steps[i-1] = times[i] - times[i-1]
	}
	slices.Sort(steps)
	return time.Duration(steps[len(steps)/2]) * time.Millisecond
}

// add appends a sample, unless it repeats the timestamp of the last one:
// that is a duplicate, dropped at once (keeping the first, as sorting
// would) so that repeated rows cost no memory. It reports whether it kept
// the sample.
func (s *Series) add(smp workload.Sample) bool {
	n := len(s.Time) + s.staged
	t := smp.Time.UnixMilli()
	switch {
	case s.staged > 0:
		if s.stage[s.staged-1].t == t {
			return false
		}
	case n > 0:
		if s.Time[n-1] == t {
			return false
		}
	}
	if s.stage == nil {
		s.stage = new([stageLen]stagedSample)
	}
	s.stage[s.staged] = stagedSample{t: t, cpu: orNaN(float64(smp.CPU), smp.HasCPU), mem: orNaN(float64(smp.Memory), smp.HasMemory),
		thr: float32(orNaN(smp.Throttled, smp.HasThrottled)), oom: smp.OOMKilled}
	s.staged++
	if !s.synced {
		s.lastSettings, s.synced = workload.Settings{}, true
		if k := len(s.settings); k > 0 {
			s.lastSettings = s.settings[k-1]
		}
	}
	if len(s.settings) == 0 || s.lastSettings != smp.Settings {
		s.settings = append(s.settings, smp.Settings)
		s.settingsAt = append(s.settingsAt, n)
		s.lastSettings = smp.Settings
	}
	if s.staged == stageLen {
		s.flush()
	}
	return true
}

// Reserve makes room in the columns for n more samples, for a reader that
// knows how many are coming: grown as they come, a fleet's columns are
// allocated about twice over.
func (s *Series) Reserve(n int) {
	n += s.staged
	s.Time, s.CPU, s.Memory = slices.Grow(s.Time, n), slices.Grow(s.CPU, n), slices.Grow(s.Memory, n)
	s.Throttled, s.OOM = slices.Grow(s.Throttled, n), slices.Grow(s.OOM, n)
}

// flush moves the staged samples into the columns.
func (s *Series) flush() {
	for _, x := range s.stage[:s.staged] {
		s.Time = append(s.Time, x.t)
		s.CPU = append(s.CPU, x.cpu)
		s.Memory = append(s.Memory, x.mem)
		s.Throttled = append(s.Throttled, x.thr)
		s.OOM = append(s.OOM, x.oom)
	}
	s.staged = 0
}

// sortAndDedup orders the samples by time, keeping arrival order among equal
// timestamps, and drops all but the first of each timestamp.
func (s *Series) sortAndDedup() (dropped int) {
	sorted := true
	for i := 1; i < len(s.Time); i++ {
		if s.Time[i] <= s.Time[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		return 0
	}
	// Expand settings to per-sample form only when reordering is needed.
	perSample := make([]workload.Settings, len(s.Time))
	for i := range perSample {
		perSample[i] = s.SettingsAt(i)
	}
	idx := make([]int, len(s.Time))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Time[idx[a]] < s.Time[idx[b]] })
	out := &Series{Pod: s.Pod, Shapes: s.Shapes}
	out.Time = make([]int64, 0, len(idx))
	out.CPU = make([]float64, 0, len(idx))
	out.Memory = make([]float64, 0, len(idx))
	out.Throttled = make([]float32, 0, len(idx))
	out.OOM = make([]bool, 0, len(idx))
	for _, i := range idx {
		n := len(out.Time)
		if n > 0 && out.Time[n-1] == s.Time[i] {
			dropped++
			continue
		}
		out.Time = append(out.Time, s.Time[i])
		out.CPU = append(out.CPU, s.CPU[i])
		out.Memory = append(out.Memory, s.Memory[i])
		out.Throttled = append(out.Throttled, s.Throttled[i])
		out.OOM = append(out.OOM, s.OOM[i])
		if len(out.settings) == 0 || out.settings[len(out.settings)-1] != perSample[i] {
			out.settings = append(out.settings, perSample[i])
			out.settingsAt = append(out.settingsAt, n)
		}
	}
	*s = *out
	return dropped
}

func orNaN(v float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

func isNaN32(v float32) bool { return v != v }

type seriesKey struct {
	container workload.ContainerKey
	pod       string
}

// Store holds samples per pod container. Add samples in any order, then call
// Finalize once before reading.
type Store struct {
	series map[seriesKey]*Series
	byKey  map[workload.ContainerKey][]*Series
	keys   []workload.ContainerKey
	first  int64
	last   int64
	n      int
	// repeats counts the duplicates Record dropped since the last Finalize.
	repeats int
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{series: map[seriesKey]*Series{}, first: math.MaxInt64, last: math.MinInt64}
}

// Add records one sample of container k; see Record.
func (st *Store) Add(k workload.ContainerKey, smp workload.Sample) { st.Record(k, smp) }

// Record records one sample of container k. A sample with the same timestamp
// (to the millisecond) as the last one recorded for its pod container is a
// duplicate and dropped at once, so that repeated input costs no memory;
// Record reports whether it kept the sample. Other duplicates are dropped by
// Finalize.
func (st *Store) Record(k workload.ContainerKey, smp workload.Sample) bool {
	return st.RecordTo(st.SeriesOf(k, smp.Pod), smp)
}

// SeriesOf returns the series of container k in pod, made when new: a
// reader that knows its rows' series records into it with RecordTo and
// spares the store's lookup of every row.
func (st *Store) SeriesOf(k workload.ContainerKey, pod string) *Series {
	sk := seriesKey{k, pod}
	s := st.series[sk]
	if s == nil {
		s = &Series{Pod: pod}
		st.series[sk] = s
	}
	return s
}

// RecordTo is Record into s, a series of this store (SeriesOf) whose pod is
// smp.Pod.
func (st *Store) RecordTo(s *Series, smp workload.Sample) bool {
	if !s.add(smp) {
		st.repeats++
		return false
	}
	t := smp.Time.UnixMilli()
	st.first = min(st.first, t)
	st.last = max(st.last, t)
	return true
}

// Finalize sorts every series by time and drops duplicate timestamps, keeping
// the first; it returns how many duplicates were dropped since the last
// Finalize, by Record and by itself.
func (st *Store) Finalize() (duplicates int) {
	duplicates, st.repeats = st.repeats, 0
	st.byKey = map[workload.ContainerKey][]*Series{}
	st.n = 0
	for k, s := range st.series {
		if s.stage != nil {
			s.flush()
			s.stage = nil // a finalized store keeps its samples in columns only
		}
		duplicates += s.sortAndDedup()
		s.sortShapes()
		st.byKey[k.container] = append(st.byKey[k.container], s)
		st.n += s.Len()
	}
	st.keys = st.keys[:0]
	for k, ss := range st.byKey {
		st.keys = append(st.keys, k)
		sort.Slice(ss, func(i, j int) bool { return ss[i].Pod < ss[j].Pod })
	}
	sort.Slice(st.keys, func(i, j int) bool { return st.keys[i].Less(st.keys[j]) })
	return duplicates
}

// Containers returns the workload containers in the store, sorted.
func (st *Store) Containers() []workload.ContainerKey { return st.keys }

// Series returns the per-pod series of a workload container, sorted by pod.
func (st *Store) Series(k workload.ContainerKey) []*Series { return st.byKey[k] }

// Samples returns the number of samples kept.
func (st *Store) Samples() int { return st.n }

// Span returns the times of the first and last sample; zero times when empty.
func (st *Store) Span() (first, last time.Time) {
	if st.first > st.last {
		return time.Time{}, time.Time{}
	}
	return time.UnixMilli(st.first).UTC(), time.UnixMilli(st.last).UTC()
}
