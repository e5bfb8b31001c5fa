package hpa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"rightsize.dev/rightsize/internal/binread"
	"rightsize.dev/rightsize/recommender/workload"
)

// LoadState keeps what Aggregate computes for one workload in a state of
// bounded size as samples stream in, for a process that cannot keep the
// samples: a ring of retention/step points of CPU summed over pods and the
// number of pods, the per-pod partial sums of the points still open, and the
// moments of per-pod memory against CPU. Load gives what Aggregate gives
// from the samples, with these differences:
//
//   - the step is fixed and points are aligned to multiples of it (Unix
//     time), where Aggregate takes the containers' median sample interval
//     and starts at the first sample;
//   - a point's CPU is kept as a float32 (a relative error of at most 6e-8);
//   - memory against CPU is kept per block of a sixteenth of the retention,
//     so the correlation and the variation cover the whole blocks that
//     overlap the window asked for: for the whole retention, between the
//     retention and the retention plus one block;
//   - a sample whose point closed already is dropped and counted (Dropped);
//   - a value beyond a million cores or an exbibyte is taken as missing.
//
// Within a point, each pod container's samples are averaged, the averages of
// a pod's containers summed, and the pods summed, as Aggregate does; the
// pods reporting CPU are counted, and a pod with both CPU and memory in the
// point adds one (CPU, memory) pair.
//
// Samples must come in time order per pod container (one no later than the
// container's last is dropped and counted, so repeats are not counted
// twice) and roughly in time order overall: a point is closed once the
// newest sample is max(step, Lateness) past its end. The ring keeps the
// points compressed, 3–4 bytes a point of noisy load (pointRing), allocated
// as the history grows; the encoding takes 5 (AppendBinary).
// A LoadState is not safe for concurrent use.
type LoadState struct {
	stepMs, points, blockPts, graceMs int64

	has      bool  // a sample was taken
	newestMs int64 // the newest sample's time, Unix ms
	openMs   int64 // the oldest open point's start: openFrom() steps, in ms
	dropped  int

	// ring holds the closed points [first, first+count()); it grows up
	// to points entries as the history does.
	ring  pointRing
	first int64

	// blocks holds the memory-versus-CPU moments of the closed points per
	// block of blockPts points, oldest first.
	blocks []corrBlock

	// pods holds the open points' partial sums, in the order the pods first
	// reported (sums over pods follow it, so that results do not depend on
	// map order); byName indexes it.
	pods   []*podPartial
	byName map[string]int

	scratch []int64 // open point indices, for closing
}

type point struct {
	cpu  float32
	pods uint32
}

type corrBlock struct {
	idx int64 // covers points [idx·blockPts, (idx+1)·blockPts)
	c   correlation
}

type podPartial struct {
	name       string
	containers []containerPartial
}

type containerPartial struct {
	name   string
	lastMs int64     // the container's newest sample
	parts  []partial // its open points, ascending
}

// partial is one pod container's samples in one open point.
type partial struct {
	idx        int64
	cpu, mem   float64
	nCPU, nMem uint32
}

// Lateness is how far behind the newest sample another may come and still
// count: a point stays open until the newest sample is max(step, Lateness)
// past its end. Metrics from different nodes of one poll carry timestamps
// that far apart.
const Lateness = time.Minute

// corrBlocks is how many blocks the retention's memory-versus-CPU moments
// are kept in. Forgetting them point by point would take six numbers per
// point, four times the ring; never forgetting them would let behaviour
// long gone decide a memory target. Per block, a state forgets the moments
// of the points it no longer holds within one block (6 % of the retention).
const corrBlocks = 16

// maxMemory bounds a credible pod container's memory: an exbibyte. With
// maxCores, it keeps every sum a state holds finite.
const maxMemory = 1 << 60

// maxUnixMs bounds a sample's time: the end of year 9999. Samples before
// 1970 are dropped too.
const maxUnixMs = 253402300799999

// NewLoadState returns an empty state of the given step (at least a second,
// whole milliseconds) keeping retention/step points (at least one, at most
// a year of minutes).
func NewLoadState(step, retention time.Duration) (*LoadState, error) {
	switch {
	case step < time.Second || step%time.Millisecond != 0:
		return nil, fmt.Errorf("hpa: load step %v: want whole milliseconds, at least a second", step)
	case retention < step:
		return nil, fmt.Errorf("hpa: load retention %v is shorter than the step %v", retention, step)
	case retention/step > maxPoints:
		return nil, fmt.Errorf("hpa: load retention %v at step %v is %d points, more than %d", retention, step, retention/step, maxPoints)
	}
	return newLoadState(step.Milliseconds(), int64(retention/step)), nil
}

func newLoadState(stepMs, points int64) *LoadState {
	return &LoadState{
		stepMs:   stepMs,
		points:   points,
		blockPts: (points + corrBlocks - 1) / corrBlocks,
		graceMs:  max(stepMs, Lateness.Milliseconds()),
		byName:   map[string]int{},
	}
}

// SpillTo keeps the state's sealed blocks of points in sp from now on, those
// sealed already included.
func (s *LoadState) SpillTo(sp *Spill) { s.ring.spillTo(sp) }

// Step returns the state's step.
func (s *LoadState) Step() time.Duration { return time.Duration(s.stepMs) * time.Millisecond }

// Retention returns how far back the state keeps points: a whole number of
// steps.
func (s *LoadState) Retention() time.Duration {
	return time.Duration(s.points*s.stepMs) * time.Millisecond
}

// Dropped returns how many samples were dropped: too late, repeated, or
// outside the years 1970 to 9999.
func (s *LoadState) Dropped() int { return s.dropped }

// Last returns the newest sample's time; the zero time before any sample.
func (s *LoadState) Last() time.Time {
	if !s.has {
		return time.Time{}
	}
	return time.UnixMilli(s.newestMs).UTC()
}

// AddSample adds a sample of one container of the workload, as Add.
func (s *LoadState) AddSample(container string, smp workload.Sample) {
	s.add(nil, smp.Pod, container, smp.Time, float64(smp.CPU), smp.HasCPU, float64(smp.Memory), smp.HasMemory)
}

// LoadCursor remembers where a pod container's samples went in a state,
// so that the next finds its place without looking its pod up. The zero
// value is ready to use.
type LoadCursor struct {
	s  *LoadState
	pp *podPartial
	ci int
}

// AddSampleAt is AddSample through cur, for a caller that adds the
// samples of one pod container at a time through it.
func (s *LoadState) AddSampleAt(cur *LoadCursor, container string, smp workload.Sample) {
	s.add(cur, smp.Pod, container, smp.Time, float64(smp.CPU), smp.HasCPU, float64(smp.Memory), smp.HasMemory)
}

// Add adds a sample of one pod container: CPU in cores, memory in bytes,
// each valid if its flag is set and it is credible (within a million cores,
// an exbibyte). A sample with neither is ignored.
func (s *LoadState) Add(pod, container string, t time.Time, cpu float64, hasCPU bool, mem float64, hasMem bool) {
	s.add(nil, pod, container, t, cpu, hasCPU, mem, hasMem)
}

// add is Add through cur (nil: none).
func (s *LoadState) add(cur *LoadCursor, pod, container string, t time.Time, cpu float64, hasCPU bool, mem float64, hasMem bool) {
	hasCPU = hasCPU && math.Abs(cpu) <= maxCores
	hasMem = hasMem && math.Abs(mem) <= maxMemory
	if !hasCPU && !hasMem {
		return
	}
	ms := t.UnixMilli()
	if ms < 0 || ms > maxUnixMs || (s.has && ms < s.openMs) {
		s.dropped++
		return
	}
	var pp *podPartial
	var ci int
	if cur != nil && cur.s == s && cur.pp != nil && cur.pp.name == pod &&
		cur.ci < len(cur.pp.containers) && cur.pp.containers[cur.ci].name == container {
		pp, ci = cur.pp, cur.ci
	} else {
		pp, ci = s.container(pod, container)
		if cur != nil {
			*cur = LoadCursor{s, pp, ci}
		}
	}
	c := &pp.containers[ci]
	if ms <= c.lastMs {
		s.dropped++
		return
	}
	idx := ms / s.stepMs
	if n := len(c.parts); n == 0 || c.parts[n-1].idx != idx {
		// In time order per container: idx is past its last part's.
		c.parts = append(c.parts, partial{idx: idx})
	}
	p := &c.parts[len(c.parts)-1]
	if p.nCPU == math.MaxUint32 || p.nMem == math.MaxUint32 {
		s.dropped++
		return
	}
	c.lastMs = ms
	if hasCPU {
		p.cpu += cpu
		p.nCPU++
	}
	if hasMem {
		p.mem += mem
		p.nMem++
	}
	if !s.has || ms > s.newestMs {
		s.advance(ms)
	}
}

// container returns the pod container's pod and place in it, made if new.
func (s *LoadState) container(pod, name string) (*podPartial, int) {
	i, ok := s.byName[pod]
	if !ok {
		i = len(s.pods)
		s.byName[pod] = i
		s.pods = append(s.pods, &podPartial{name: pod})
	}
	pp := s.pods[i]
	for k := range pp.containers {
		if pp.containers[k].name == name {
			return pp, k
		}
	}
	pp.containers = append(pp.containers, containerPartial{name: name, lastMs: -1})
	return pp, len(pp.containers) - 1
}

// Advance moves the state's present to t if later than the newest sample,
// closing and forgetting points as a sample at t would: for a workload
// whose pods stopped reporting.
func (s *LoadState) Advance(t time.Time) {
	ms := t.UnixMilli()
	if ms < 0 || ms > maxUnixMs || (s.has && ms <= s.newestMs) {
		return
	}
	s.advance(ms)
}

// setNewest makes ms the newest sample's time.
func (s *LoadState) setNewest(ms int64) {
	s.newestMs, s.has = ms, true
	s.openMs = s.openFrom() * s.stepMs
}

// openFrom is the oldest open point: the one holding the newest sample's
// time minus the grace.
func (s *LoadState) openFrom() int64 { return floorDivMs(s.newestMs-s.graceMs, s.stepMs) }

// oldest is the oldest point retained.
func (s *LoadState) oldest() int64 { return s.newestMs/s.stepMs - s.points + 1 }

func (s *LoadState) advance(ms int64) {
	before := s.openFrom()
	had := s.has
	s.setNewest(ms)
	oldest := s.oldest()
	if n := s.count(); n > 0 && s.first < oldest {
		d := int(min(int64(n), oldest-s.first))
		s.ring.forget(d)
		s.first += int64(d)
	}
	k := 0
	for k < len(s.blocks) && (s.blocks[k].idx+1)*s.blockPts <= oldest {
		k++
	}
	if k > 0 {
		s.blocks = append(s.blocks[:0], s.blocks[k:]...)
	}
	if to := s.openFrom(); had && to > before {
		s.close(to)
	}
}

// close folds the open points before to into the ring and the blocks, and
// forgets the pods left without open points.
func (s *LoadState) close(to int64) {
	idx := s.openIndices(math.MinInt64, to-1)
	oldest := s.oldest()
	for _, p := range idx {
		var cpu float64
		var pods uint32
		for _, pp := range s.pods {
			x, hasX, y, hasY := pp.at(p)
			if !hasX {
				continue
			}
			cpu += x
			pods++
			if credible(x, hasY, y) && p >= oldest {
				s.block(p).add(x, y)
			}
		}
		if pods > 0 && p >= oldest {
			s.put(p, point{cpu: toFloat32(cpu), pods: pods})
		}
	}
	w := 0
	for i, pp := range s.pods {
		cw := 0
		for ci := range pp.containers {
			c := &pp.containers[ci]
			k := 0
			for k < len(c.parts) && c.parts[k].idx < to {
				k++
			}
			if k > 0 {
				c.parts = append(c.parts[:0], c.parts[k:]...)
			}
			if len(c.parts) > 0 {
				if cw != ci {
					pp.containers[cw] = *c
				}
				cw++
			}
		}
		clear(pp.containers[cw:])
		pp.containers = pp.containers[:cw]
		if cw == 0 {
			delete(s.byName, pp.name) // and it has no containers: no cursor finds one
			continue
		}
		if w != i {
			s.pods[w] = pp
			s.byName[pp.name] = w
		}
		w++
	}
	clear(s.pods[w:])
	s.pods = s.pods[:w]
}

// openIndices returns the open points in [lo, hi] that hold samples,
// ascending, in s.scratch.
func (s *LoadState) openIndices(lo, hi int64) []int64 {
	idx := s.scratch[:0]
	for _, pp := range s.pods {
		for _, c := range pp.containers {
			for _, pt := range c.parts {
				if pt.idx < lo || pt.idx > hi {
					continue
				}
				i := len(idx)
				for i > 0 && idx[i-1] > pt.idx {
					i--
				}
				if i > 0 && idx[i-1] == pt.idx {
					continue
				}
				idx = append(idx, 0)
				copy(idx[i+1:], idx[i:])
				idx[i] = pt.idx
			}
		}
	}
	s.scratch = idx
	return idx
}

// at returns the pod's CPU and memory at open point p: its containers'
// averages, summed.
func (pp *podPartial) at(p int64) (cpu float64, hasCPU bool, mem float64, hasMem bool) {
	for _, c := range pp.containers {
		for _, pt := range c.parts {
			if pt.idx != p {
				continue
			}
			if pt.nCPU > 0 {
				cpu += pt.cpu / float64(pt.nCPU)
				hasCPU = true
			}
			if pt.nMem > 0 {
				mem += pt.mem / float64(pt.nMem)
				hasMem = true
			}
		}
	}
	return cpu, hasCPU, mem, hasMem
}

// credible reports whether a pod's CPU and memory at a point make a pair
// for the memory moments: both present and within the bounds on one
// container's, which keep the moments finite.
func credible(cpu float64, hasMem bool, mem float64) bool {
	return hasMem && math.Abs(cpu) <= maxCores && math.Abs(mem) <= maxMemory
}

// block returns the moments of the block holding point p, made if new.
func (s *LoadState) block(p int64) *correlation {
	b := p / s.blockPts
	i := len(s.blocks)
	for i > 0 && s.blocks[i-1].idx > b {
		i--
	}
	if i > 0 && s.blocks[i-1].idx == b {
		return &s.blocks[i-1].c
	}
	s.blocks = append(s.blocks, corrBlock{})
	copy(s.blocks[i+1:], s.blocks[i:])
	s.blocks[i] = corrBlock{idx: b}
	return &s.blocks[i].c
}

// put appends point p to the ring, after the last and no more than the
// retention past the first, the points between them empty.
func (s *LoadState) put(p int64, pt point) {
	if s.count() == 0 {
		s.first = p
		s.ring.reset()
	}
	for s.first+int64(s.count()) < p {
		s.ring.push(point{})
	}
	s.ring.push(pt)
}

// count is how many points the ring holds.
func (s *LoadState) count() int { return s.ring.size() }

// Load returns the workload's load over the points overlapping
// [from, until) that the state holds, open ones included: from the first
// point with a pod reporting to the last, at the state's step. Without
// such a point it is empty, as Aggregate's.
func (s *LoadState) Load(from, until time.Time) Load {
	empty := Load{MemoryCorrelation: math.NaN()}
	if !s.has {
		return empty
	}
	lo := max(floorDivMs(from.UnixMilli(), s.stepMs), s.oldest())
	hi := min(floorDivMs(until.UnixMilli()-1, s.stepMs), s.newestMs/s.stepMs)
	if lo > hi {
		return empty
	}
	// The grid starts at the first point held, not at the retention's
	// start: a young workload's load is hours, not two weeks of zeros
	// (which a plan of a thousand workloads would allocate every time).
	open := s.openIndices(lo, hi)
	start := hi + 1
	if s.count() > 0 && s.first <= hi {
		start = max(lo, s.first)
	}
	if len(open) > 0 {
		start = min(start, open[0])
	}
	if start > hi {
		return empty
	}
	lo = start
	n := int(hi-lo) + 1
	cpu, pods := make([]float64, n), make([]int, n)
	if from, to := max(lo, s.first), min(hi, s.first+int64(s.count())-1); s.count() > 0 && from <= to {
		s.ring.scan(int(from-s.first), int(to-s.first)+1, func(k int, pt point) bool {
			i := s.first + int64(k) - lo
			cpu[i], pods[i] = float64(pt.cpu), int(pt.pods)
			return true
		})
	}
	var corr correlation
	for _, b := range s.blocks {
		if (b.idx+1)*s.blockPts > lo && b.idx*s.blockPts <= hi {
			corr.merge(b.c)
		}
	}
	for _, p := range open {
		var sum float64
		for _, pp := range s.pods {
			x, hasX, y, hasY := pp.at(p)
			if !hasX {
				continue
			}
			sum += x
			pods[p-lo]++
			if credible(x, hasY, y) {
				corr.add(x, y)
			}
		}
		cpu[p-lo] = float64(toFloat32(sum))
	}
	i, j := 0, n
	for i < j && pods[i] == 0 {
		i++
	}
	for j > i && pods[j-1] == 0 {
		j--
	}
	if i == j {
		return empty
	}
	l := Load{Start: (lo + int64(i)) * s.stepMs, Step: s.Step(), CPU: cpu[i:j:j], Pods: pods[i:j:j]}
	for k, np := range l.Pods {
		if np == 0 {
			l.CPU[k] = math.NaN()
		}
	}
	l.MemoryCorrelation, l.MemoryVariation = corr.result()
	return l
}

// merge adds the pairs o holds to c (Chan et al.'s parallel update).
func (c *correlation) merge(o correlation) {
	switch {
	case o.n == 0:
		return
	case c.n == 0:
		*c = o
		return
	}
	n := c.n + o.n
	dx, dy := o.meanX-c.meanX, o.meanY-c.meanY
	w := c.n * o.n / n
	c.m2X += o.m2X + dx*dx*w
	c.m2Y += o.m2Y + dy*dy*w
	c.cXY += o.cXY + dx*dy*w
	c.meanX += dx * o.n / n
	c.meanY += dy * o.n / n
	c.n = n
}

// toFloat32 rounds a point's CPU to a float32, at most ±MaxFloat32.
func toFloat32(v float64) float32 {
	return float32(max(-math.MaxFloat32, min(math.MaxFloat32, v)))
}

// floorDivMs is a/b rounded down, for b > 0.
func floorDivMs(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// loadStateVersion is the encoding's version, its first byte.
const loadStateVersion = 1

// AppendBinary appends the state's encoding to b. Layout, version 1:
//
//	byte     version (1)
//	uvarint  step, ms
//	uvarint  points retained
//	uvarint  samples dropped
//	uvarint  newest sample's time, Unix ms, plus one; 0 without a sample,
//	         and then nothing follows
//	uvarint  newest point − the ring's first point
//	uvarint  ring length L, from the first point with pods to the last
//	L ×      uvarint pods, then float32 CPU when pods > 0
//	uvarint  blocks
//	each     uvarint block index − the previous one's − 1 (the first's: its
//	         index − the oldest point's block), uvarint pairs, then the
//	         means of CPU and memory, their sums of squared deviations and
//	         of products as float64
//	uvarint  pods with open points
//	each     uvarint length and the pod's name, uvarint containers, then per
//	         container uvarint length and name, uvarint newest sample's time −
//	         the container's last, uvarint open points, then per point
//	         uvarint its index − the previous one's − 1 (the first's: its
//	         index − the oldest open point), uvarint CPU samples, float64 CPU
//	         sum when any, uvarint memory samples, float64 memory sum when
//	         any
//
// A state decoded from it gives the same loads and, fed the same samples,
// the same encoding as the state encoded.
func (s *LoadState) AppendBinary(b []byte) []byte {
	b = append(b, loadStateVersion)
	b = binary.AppendUvarint(b, uint64(s.stepMs))
	b = binary.AppendUvarint(b, uint64(s.points))
	b = binary.AppendUvarint(b, uint64(s.dropped))
	if !s.has {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(s.newestMs)+1)
	i, j := s.ringData()
	b = binary.AppendUvarint(b, s.ringBack(i, j))
	b = binary.AppendUvarint(b, uint64(j-i))
	s.ring.scan(i, j, func(_ int, pt point) bool {
		b = binary.AppendUvarint(b, uint64(pt.pods))
		if pt.pods > 0 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(pt.cpu))
		}
		return true
	})
	b = binary.AppendUvarint(b, uint64(len(s.blocks)))
	prev := floorDivMs(s.oldest(), s.blockPts) - 1
	for _, blk := range s.blocks {
		b = binary.AppendUvarint(b, uint64(blk.idx-prev-1))
		prev = blk.idx
		c := blk.c
		b = binary.AppendUvarint(b, uint64(c.n))
		for _, v := range [...]float64{c.meanX, c.meanY, c.m2X, c.m2Y, c.cXY} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.pods)))
	from := s.openFrom()
	for _, pp := range s.pods {
		b = appendString(b, pp.name)
		b = binary.AppendUvarint(b, uint64(len(pp.containers)))
		for _, c := range pp.containers {
			b = appendString(b, c.name)
			b = binary.AppendUvarint(b, uint64(s.newestMs-c.lastMs))
			b = binary.AppendUvarint(b, uint64(len(c.parts)))
			prev := from - 1
			for _, pt := range c.parts {
				b = binary.AppendUvarint(b, uint64(pt.idx-prev-1))
				prev = pt.idx
				b = binary.AppendUvarint(b, uint64(pt.nCPU))
				if pt.nCPU > 0 {
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(pt.cpu))
				}
				b = binary.AppendUvarint(b, uint64(pt.nMem))
				if pt.nMem > 0 {
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(pt.mem))
				}
			}
		}
	}
	return b
}

// ringData returns the ring's positions, relative to head, from the first
// point with pods to the last, [i, j).
func (s *LoadState) ringData() (i, j int) {
	i = -1
	s.ring.scan(0, s.count(), func(k int, pt point) bool {
		if pt.pods > 0 {
			if i < 0 {
				i = k
			}
			j = k + 1
		}
		return true
	})
	if i < 0 {
		return 0, 0
	}
	return i, j
}

// ringBack is how many points the encoded ring's first is behind the
// newest; 0 for an empty ring.
func (s *LoadState) ringBack(i, j int) uint64 {
	if i == j {
		return 0
	}
	return uint64(s.newestMs/s.stepMs - (s.first + int64(i)))
}

// Size returns the length of the state's encoding.
func (s *LoadState) Size() int {
	n := 1 + uvarintLen(uint64(s.stepMs)) + uvarintLen(uint64(s.points)) + uvarintLen(uint64(s.dropped))
	if !s.has {
		return n + 1
	}
	n += uvarintLen(uint64(s.newestMs) + 1)
	i, j := s.ringData()
	n += uvarintLen(s.ringBack(i, j)) + uvarintLen(uint64(j-i))
	s.ring.scan(i, j, func(_ int, pt point) bool {
		n += uvarintLen(uint64(pt.pods))
		if pt.pods > 0 {
			n += 4
		}
		return true
	})
	n += uvarintLen(uint64(len(s.blocks)))
	prev := floorDivMs(s.oldest(), s.blockPts) - 1
	for _, blk := range s.blocks {
		n += uvarintLen(uint64(blk.idx-prev-1)) + uvarintLen(uint64(blk.c.n)) + 5*8
		prev = blk.idx
	}
	n += uvarintLen(uint64(len(s.pods)))
	from := s.openFrom()
	for _, pp := range s.pods {
		n += uvarintLen(uint64(len(pp.name))) + len(pp.name) + uvarintLen(uint64(len(pp.containers)))
		for _, c := range pp.containers {
			n += uvarintLen(uint64(len(c.name))) + len(c.name) + uvarintLen(uint64(s.newestMs-c.lastMs)) + uvarintLen(uint64(len(c.parts)))
			prev := from - 1
			for _, pt := range c.parts {
				n += uvarintLen(uint64(pt.idx-prev-1)) + uvarintLen(uint64(pt.nCPU)) + uvarintLen(uint64(pt.nMem))
				prev = pt.idx
				if pt.nCPU > 0 {
					n += 8
				}
				if pt.nMem > 0 {
					n += 8
				}
			}
		}
	}
	return n
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

var errLoadState = errors.New("hpa: decoding load state")

// UnmarshalBinary replaces s with the state encoded at the start of b and
// returns what follows it. The encoding is checked whole, its step and
// retention as NewLoadState checks them; on error s is unchanged. Nothing
// is allocated beyond what the input's length justifies.
func (s *LoadState) UnmarshalBinary(b []byte) (rest []byte, err error) {
	r := stateReader{binread.Reader{B: b, Wrap: errLoadState, Canonical: true}}
	if v := r.Byte(); r.Err == nil && v != loadStateVersion {
		return b, fmt.Errorf("%w: unsupported version %d (want %d)", errLoadState, v, loadStateVersion)
	}
	stepMs, points, dropped, newest := r.Uvarint(), r.Uvarint(), r.Uvarint(), r.Uvarint()
	if r.Err != nil {
		return b, r.Err
	}
	if stepMs < 1000 || points < 1 || points > maxPoints || stepMs > uint64(math.MaxInt64/int64(time.Millisecond))/points {
		return b, fmt.Errorf("%w: step %d ms and %d points out of range", errLoadState, stepMs, points)
	}
	if dropped > math.MaxInt || newest > maxUnixMs+1 {
		return b, fmt.Errorf("%w: dropped %d or newest time %d out of range", errLoadState, dropped, newest)
	}
	st := newLoadState(int64(stepMs), int64(points))
	st.dropped = int(dropped)
	if newest == 0 {
		*s = *st
		return r.B, nil
	}
	st.setNewest(int64(newest - 1))
	if err := st.decode(&r); err != nil {
		return b, err
	}
	*s = *st
	return r.B, nil
}

// decode reads the ring, the blocks and the open points into st, whose step,
// retention and newest time are set.
func (st *LoadState) decode(r *stateReader) error {
	newestIdx, oldest, from := st.newestMs/st.stepMs, st.oldest(), st.openFrom()
	back, n := r.Uvarint(), r.Uvarint()
	if r.Err != nil {
		return r.Err
	}
	// The ring's points are retained and closed; each takes a byte at least.
	if (n == 0 && back != 0) || (n > 0 && (back > uint64(newestIdx-max(oldest, 0)) || n > uint64(len(r.B)) || newestIdx-int64(back)+int64(n) > from)) {
		return fmt.Errorf("%w: ring of %d points from %d back out of range", errLoadState, n, back)
	}
	if n > 0 {
		st.first = newestIdx - int64(back)
		for i := range int(n) {
			pods := r.Uvarint()
			if pods > math.MaxUint32 || ((i == 0 || i == int(n)-1) && pods == 0) {
				r.Fail("point pods %d", pods)
			}
			pt := point{pods: uint32(pods)}
			if pods > 0 {
				v := r.Float32()
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					r.Fail("point CPU %v", v)
				}
				pt.cpu = v
			}
			if r.Err != nil {
				return r.Err
			}
			st.ring.push(pt)
		}
	}

	nb := r.Uvarint()
	if r.Err == nil && nb > corrBlocks+1 {
		r.Fail("%d blocks", nb)
	}
	prev := floorDivMs(oldest, st.blockPts) - 1
	for range nb {
		d, pairs := r.Uvarint(), r.Uvarint()
		var v [5]float64
		for k := range v {
			v[k] = r.Float64()
		}
		if r.Err != nil {
			return r.Err
		}
		// The bounds of the values make those of the moments.
		np := float64(pairs)
		if d > uint64(newestIdx/st.blockPts-prev-1) || pairs == 0 || pairs > 1<<53 ||
			!(math.Abs(v[0]) <= maxCores) || !(math.Abs(v[1]) <= maxMemory) ||
			!(v[2] >= 0 && v[2] <= np*4*maxCores*maxCores) || !(v[3] >= 0 && v[3] <= np*4*maxMemory*maxMemory) ||
			!(math.Abs(v[4]) <= np*4*maxCores*maxMemory) {
			return fmt.Errorf("%w: block %d out of range", errLoadState, len(st.blocks))
		}
		prev += int64(d) + 1
		st.blocks = append(st.blocks, corrBlock{idx: prev, c: correlation{n: float64(pairs), meanX: v[0], meanY: v[1], m2X: v[2], m2Y: v[3], cXY: v[4]}})
	}

	np := r.Uvarint()
	// A pod takes 8 bytes at least: its name's length, one container with
	// its name's length, time, one point and its two counts.
	if r.Err == nil && np > uint64(len(r.B))/8 {
		r.Fail("%d pods", np)
	}
	maxParts := uint64(newestIdx - from + 1)
	for range np {
		name := r.string()
		nc := r.Uvarint()
		if r.Err == nil && (nc == 0 || nc > uint64(len(r.B))/6) {
			r.Fail("%d containers", nc)
		}
		if r.Err != nil {
			return r.Err
		}
		if _, dup := st.byName[name]; dup {
			return fmt.Errorf("%w: pod %q twice", errLoadState, name)
		}
		pp := &podPartial{name: name, containers: make([]containerPartial, 0, nc)}
		for range nc {
			c := containerPartial{name: r.string()}
			back, k := r.Uvarint(), r.Uvarint()
			if r.Err == nil && (k == 0 || k > maxParts || k > uint64(len(r.B))/3 || back > uint64(st.newestMs)) {
				r.Fail("container of %d points, %d ms back", k, back)
			}
			if r.Err != nil {
				return r.Err
			}
			c.lastMs = st.newestMs - int64(back)
			for _, o := range pp.containers {
				if o.name == c.name {
					return fmt.Errorf("%w: container %q of pod %q twice", errLoadState, c.name, name)
				}
			}
			c.parts = make([]partial, 0, k)
			prev := from - 1
			for range k {
				d := r.Uvarint()
				if r.Err == nil && (d > uint64(newestIdx-prev-1) || prev+int64(d)+1 < 0) {
					r.Fail("open point %d past the newest", d)
				}
				pt := partial{idx: prev + int64(d) + 1}
				prev = pt.idx
				nCPU := r.Uvarint()
				if nCPU > 0 {
					pt.cpu = r.Float64()
				}
				nMem := r.Uvarint()
				if nMem > 0 {
					pt.mem = r.Float64()
				}
				if r.Err != nil {
					return r.Err
				}
				if nCPU > math.MaxUint32 || nMem > math.MaxUint32 || nCPU+nMem == 0 ||
					!(math.Abs(pt.cpu) <= float64(nCPU)*maxCores) || !(math.Abs(pt.mem) <= float64(nMem)*maxMemory) {
					return fmt.Errorf("%w: open point of %d CPU and %d memory samples", errLoadState, nCPU, nMem)
				}
				pt.nCPU, pt.nMem = uint32(nCPU), uint32(nMem)
				c.parts = append(c.parts, pt)
			}
			if c.lastMs/st.stepMs != c.parts[k-1].idx {
				return fmt.Errorf("%w: container %q's last sample is not in its last open point", errLoadState, c.name)
			}
			pp.containers = append(pp.containers, c)
		}
		st.byName[name] = len(st.pods)
		st.pods = append(st.pods, pp)
	}
	return r.Err
}

// stateReader reads the encoding, keeping the first error.
type stateReader struct{ binread.Reader }

func (r *stateReader) string() string {
	n := r.Uvarint()
	if r.Err != nil {
		return ""
	}
	if n > uint64(len(r.B)) {
		r.Fail("truncated")
		return ""
	}
	v := string(r.B[:n])
	r.B = r.B[n:]
	return v
}
