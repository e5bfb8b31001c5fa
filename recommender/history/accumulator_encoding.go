package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/internal/binread"
	"rightsize.dev/rightsize/recommender/workload"
)

// The encoding of an Accumulator, version 1: "RSA" 1, the options'
// fingerprint (uint32), then varints — times in milliseconds from the
// first sample, window slots relative to the newest, highs and peaks as
// deltas — with sums as float32 and the CPU histogram in sketch's compact
// form. Pod names are kept only for the pods still tracked.
const (
	accMagic   = "RSA"
	accVersion = 1
)

// maxEncodedItems bounds what a decoder accepts (MaxPods, MaxPeaks, MaxOOMs
// and a day of hourly highs over a long window are far below).
const maxEncodedItems = 1 << 16

// Fingerprint identifies options o in an encoding: a state kept with other
// options is not read as if it were kept with these.
func (o Options) Fingerprint() uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%+v", o)
	return h.Sum32()
}

// AppendBinary appends the accumulator's encoding to b. It expires nothing:
// call Expire first to save only what is still read.
func (a *Accumulator) AppendBinary(b []byte) []byte {
	b = append(b, accMagic...)
	b = append(b, accVersion)
	b = binary.LittleEndian.AppendUint32(b, a.o.Fingerprint())
	if a.Empty() {
		return append(b, 0)
	}
	b = append(b, 1)
	base := a.first
	b = binary.AppendUvarint(b, uint64(base))
	rel := func(t int64) uint64 { return uint64(t - base) }
	b = binary.AppendUvarint(b, rel(a.last))
	flags := byte(0)
	if a.cpuSamples > 0 {
		flags |= 1
	}
	if a.memSamples > 0 {
		flags |= 2
	}
	if a.currentAt != math.MinInt64 {
		flags |= 4
	}
	b = append(b, flags)
	if a.cpuSamples > 0 {
		b = binary.AppendUvarint(b, uint64(a.cpuSamples))
		b = binary.AppendUvarint(b, rel(a.cpuFirst))
		b = binary.AppendUvarint(b, rel(a.cpuLast))
	}
	if a.memSamples > 0 {
		b = binary.AppendUvarint(b, uint64(a.memSamples))
		b = binary.AppendUvarint(b, rel(a.memFirst))
		b = binary.AppendUvarint(b, rel(a.memLast))
		b = binary.AppendUvarint(b, uint64(math.Ceil(a.memMax)))
	}
	if flags&4 != 0 {
		b = binary.AppendVarint(b, a.currentAt-base)
		for _, v := range []int64{int64(a.current.Requests.CPU), int64(a.current.Requests.Memory), int64(a.current.Limits.CPU), int64(a.current.Limits.Memory)} {
			b = binary.AppendVarint(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(a.throttled))
	b = binary.AppendUvarint(b, uint64(a.observed))
	b = binary.AppendUvarint(b, uint64(a.dropped))
	b = a.cpu.AppendCompact(b)
	b = a.appendSlots(b)
	b = appendHighs(b, &a.cpuHighs, base, false)
	b = appendHighs(b, &a.memHighs, base, true)
	b = binary.AppendUvarint(b, uint64(len(a.peaks)))
	for _, p := range a.peaks {
		b = appendPeak(b, p, base)
	}
	b = binary.AppendUvarint(b, uint64(len(a.pods)))
	names := make([]string, 0, len(a.pods))
	for name := range a.pods {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := a.pods[name]
		b = binary.AppendUvarint(b, uint64(len(p.name)))
		b = append(b, p.name...)
		// A pod only killed (AddOOM) may predate the first sample.
		b = binary.AppendVarint(b, p.first-base)
		b = binary.AppendVarint(b, p.last-base)
		n := min(p.nsteps, stepRing)
		b = binary.AppendUvarint(b, uint64(n))
		for i := range n {
			b = binary.AppendUvarint(b, uint64(p.steps[(p.nsteps-n+i)%stepRing]))
		}
		pf := byte(0)
		for i, set := range []bool{p.hasOrigin, p.open, p.opened, p.hold, p.peak.OOM} {
			if set {
				pf |= 1 << i
			}
		}
		b = append(b, pf)
		if p.hasOrigin {
			b = binary.AppendVarint(b, p.origin-base)
			b = binary.AppendVarint(b, p.cur)
		}
		if p.open {
			b = binary.AppendUvarint(b, uint64(p.peak.Bytes))
			b = binary.AppendUvarint(b, uint64(p.peak.Observed))
		}
		if p.hold {
			b = binary.AppendVarint(b, p.holdFirstT-base)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(a.ooms)))
	for _, ev := range a.ooms {
		b = binary.AppendVarint(b, ev.Time.UnixMilli()-base)
		b = binary.AppendUvarint(b, uint64(len(ev.Pod)))
		b = append(b, ev.Pod...)
		b = binary.AppendUvarint(b, uint64(max(ev.Limit, 0)))
		b = binary.AppendUvarint(b, uint64(max(ev.Usage, 0)))
	}
	return b
}

// appendSlots writes the slots in use, newest first, each as its distance
// from the newest; a memory part with the CPU part's count and times
// keeps only its sum.
func (a *Accumulator) appendSlots(b []byte) []byte {
	newest := int64(-1)
	n := 0
	for _, s := range a.slots {
		if s.idx >= 0 {
			newest = max(newest, s.idx)
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	if n == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(newest))
	for _, s := range a.slots {
		if s.idx < 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(newest-s.idx))
		f := byte(0)
		same := s.cpu.n > 0 && s.cpu.n == s.mem.n && s.cpu.first == s.mem.first && s.cpu.last == s.mem.last
		for i, set := range []bool{s.cpu.n > 0, s.mem.n > 0, same, s.thrN > 0, s.podsEnded > 0} {
			if set {
				f |= 1 << i
			}
		}
		b = append(b, f)
		start := a.slotStart(s.idx)
		if s.cpu.n > 0 {
			b = appendPart(b, s.cpu, start)
		}
		if s.mem.n > 0 {
			if same {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(s.mem.sum)))
			} else {
				b = appendPart(b, s.mem, start)
			}
		}
		if s.thrN > 0 {
			b = binary.AppendUvarint(b, uint64(s.thrN))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(s.thrSum)))
		}
		if s.podsEnded > 0 {
			b = binary.AppendUvarint(b, uint64(s.podsEnded))
		}
	}
	return b
}

func (a *Accumulator) slotStart(idx int64) int64 {
	if a.slotMs == math.MaxInt64 {
		return 0
	}
	return idx * a.slotMs
}

// appendPart writes a slot's part: count, sum, first and last as seconds
// from the slot's start (first rounded down, last up: a window never
// counts the part out for the rounding).
func appendPart(b []byte, p part, start int64) []byte {
	b = binary.AppendUvarint(b, uint64(p.n))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(p.sum)))
	b = binary.AppendUvarint(b, uint64((p.first-start)/1000))
	return binary.AppendUvarint(b, uint64((p.last-p.first+999)/1000))
}

// appendHighs writes the highs oldest first, times as deltas in whole
// seconds, rounded up (a high holds until then); memory highs as whole bytes, CPU highs as float32 rounded
// up, so a high is never understated.
func appendHighs(b []byte, h *highs, base int64, bytes bool) []byte {
	b = binary.AppendUvarint(b, uint64(h.len()))
	prev := ceilSec(base)
	for x := range h.all {
		sec := ceilSec(x.t)
		b = binary.AppendVarint(b, sec-prev)
		prev = sec
		if bytes {
			b = binary.AppendUvarint(b, uint64(math.Ceil(x.v)))
		} else {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(roundUp32(x.v)))
		}
	}
	return b
}

func ceilSec(ms int64) int64 { return (ms + 999) / 1000 }

func roundUp32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

func appendPeak(b []byte, p keptPeak, base int64) []byte {
	b = binary.AppendVarint(b, p.End-base)
	b = binary.AppendUvarint(b, uint64(max(p.Bytes, 0)))
	oom := uint64(0)
	if p.OOM {
		oom = 1
	}
	return binary.AppendUvarint(b, uint64(max(p.Observed, 0))<<1|oom)
}

// UnmarshalAccumulator decodes an accumulator encoded with options o. A
// state kept with other options, damaged or from a newer build is an
// error; nothing is allocated beyond what the input's length justifies.
func UnmarshalAccumulator(b []byte, o Options) (*Accumulator, error) {
	a, err := NewAccumulator(o)
	if err != nil {
		return nil, err
	}
	if len(b) < len(accMagic)+1+4+1 || string(b[:len(accMagic)]) != accMagic {
		return nil, errors.New("not an accumulator encoding")
	}
	if v := b[len(accMagic)]; v != accVersion {
		return nil, fmt.Errorf("accumulator encoding version %d, this build reads %d", v, accVersion)
	}
	if fp := binary.LittleEndian.Uint32(b[len(accMagic)+1:]); fp != o.Fingerprint() {
		return nil, ErrOtherOptions
	}
	r := &accReader{Reader: binread.Reader{B: b[len(accMagic)+5:]}}
	if r.Byte() == 0 {
		if r.Err == nil && len(r.B) > 0 {
			return nil, errors.New("accumulator encoding: trailing bytes")
		}
		return a, r.Err
	}
	base := int64(r.Uvarint())
	if base > maxMs {
		return nil, fmt.Errorf("accumulator encoding: first sample %d ms out of range", base)
	}
	r.base = base
	a.first, a.last = base, r.time()
	flags := r.Byte()
	if flags&1 != 0 {
		a.cpuSamples = r.count()
		a.cpuFirst, a.cpuLast = r.time(), r.time()
	}
	if flags&2 != 0 {
		a.memSamples = r.count()
		a.memFirst, a.memLast = r.time(), r.time()
		a.memMax = float64(r.nonNeg())
	}
	if flags&4 != 0 {
		a.currentAt = r.signedTime()
		a.current.Requests.CPU = workload.Millicores(r.Varint())
		a.current.Requests.Memory = workload.Bytes(r.Varint())
		a.current.Limits.CPU = workload.Millicores(r.Varint())
		a.current.Limits.Memory = workload.Bytes(r.Varint())
	}
	a.throttled = r.count()
	a.observed = r.nonNeg()
	a.dropped = r.count()
	if r.Err != nil {
		return nil, r.Err
	}
	rest, err := a.cpu.UnmarshalCompact(r.B)
	if err != nil {
		return nil, fmt.Errorf("accumulator encoding: cpu histogram: %w", err)
	}
	r.B = rest
	r.slots(a)
	a.cpuHighs = r.highs(false)
	a.memHighs = r.highs(true)
	for range r.items() {
		a.appendPeak(r.peak())
	}
	for range r.items() {
		p := &podState{name: r.str()}
		p.first, p.last = r.signedTime(), r.signedTime()
		n := r.Uvarint()
		if n > stepRing {
			r.Fail("%d steps", n)
			n = 0
		}
		for i := range int(n) {
			p.steps[i] = r.nonNeg()
		}
		p.nsteps, p.ring = int(n), int(n)%stepRing
		if n > 0 {
			var s [stepRing]int64
			copy(s[:], p.steps[:n])
			sortInt64(s[:n])
			p.stepCap = workload.MulSat(s[n/2], 2)
		}
		pf := r.Byte()
		p.hasOrigin, p.open, p.opened, p.hold, p.peak.OOM = pf&1 != 0, pf&2 != 0, pf&4 != 0, pf&8 != 0, pf&16 != 0
		if p.hasOrigin {
			p.origin = r.signedTime()
			p.cur = r.Varint()
		}
		if p.open {
			if !p.hasOrigin {
				r.Fail("pod %q: an open interval without an origin", p.name)
			}
			p.peak.Pod = p.name
			p.peak.End = workload.AddSat(p.origin, workload.MulSat(workload.AddSat(p.cur, 1), a.intervalMs))
			p.peak.Bytes = workload.Bytes(r.nonNeg())
			p.peak.Observed = workload.Bytes(r.nonNeg())
		}
		if p.hold {
			p.holdFirstT = r.signedTime()
		}
		if r.Err != nil {
			break
		}
		if _, dup := a.pods[p.name]; dup {
			r.Fail("pod %q twice", p.name)
		}
		a.putPod(p)
	}
	for range r.items() {
		ev := OOMEvent{Time: time.UnixMilli(r.signedTime()).UTC()}
		ev.Pod = r.str()
		ev.Limit, ev.Usage = workload.Bytes(r.nonNeg()), workload.Bytes(r.nonNeg())
		a.ooms = append(a.ooms, ev)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("accumulator encoding: %w", r.Err)
	}
	if len(r.B) > 0 {
		return nil, errors.New("accumulator encoding: trailing bytes")
	}
	return a, nil
}

func sortInt64(s []int64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// accReader reads an encoding, keeping the first error; times are read
// relative to base.
type accReader struct {
	binread.Reader
	base int64
}

// items reads a count and yields that many times while the input lasts:
// each item takes at least a byte, so a count beyond the bytes left is
// refused before anything is allocated.
func (r *accReader) items() func(func(int) bool) {
	n := r.Uvarint()
	if n > uint64(len(r.B)) || n > maxEncodedItems {
		r.Fail("%d items in %d bytes", n, len(r.B))
		n = 0
	}
	return func(yield func(int) bool) {
		for i := range int(n) {
			if r.Err != nil || !yield(i) {
				return
			}
		}
	}
}

func (r *accReader) count() int {
	v := r.Uvarint()
	if v > math.MaxInt32 {
		r.Fail("count %d", v)
		return 0
	}
	return int(v)
}

func (r *accReader) nonNeg() int64 {
	v := r.Uvarint()
	if v > math.MaxInt64 {
		r.Fail("value %d", v)
		return 0
	}
	return int64(v)
}

// time reads a time at or after the first sample; signedTime one either
// side of it. Both stay within the times a state holds.
func (r *accReader) time() int64 {
	v := r.Uvarint()
	if v > uint64(maxMs-r.base) {
		r.Fail("time %d ms after %d out of range", v, r.base)
		return r.base
	}
	return r.base + int64(v)
}

func (r *accReader) signedTime() int64 {
	v := r.Varint()
	if v < -r.base-maxMs || v > maxMs-r.base {
		r.Fail("time %d ms from %d out of range", v, r.base)
		return r.base
	}
	return r.base + v
}

func (r *accReader) str() string {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.Fail("string of %d bytes in %d", n, len(r.B))
		return ""
	}
	return string(r.Next(n))
}

func (r *accReader) float32() float64 {
	v := float64(r.Float32())
	if !(v >= 0 && v <= math.MaxFloat64) {
		r.Fail("value %v", v)
		return 0
	}
	return v
}

func (r *accReader) slots(a *Accumulator) {
	n := r.Uvarint()
	if n > uint64(len(a.slots)) {
		r.Fail("%d window slots, at most %d", n, len(a.slots))
		return
	}
	if n == 0 {
		return
	}
	newest := r.nonNeg()
	for range n {
		d := r.nonNeg()
		if d > newest || r.Err != nil {
			r.Fail("slot %d before %d", d, newest)
			return
		}
		idx := newest - d
		s := &a.slots[idx%int64(len(a.slots))]
		if s.idx >= 0 {
			r.Fail("slot %d twice", idx)
			return
		}
		*s = slot{idx: idx}
		f := r.Byte()
		start := a.slotStart(idx)
		if f&1 != 0 {
			s.cpu = r.part(start)
		}
		if f&2 != 0 {
			if f&4 != 0 && f&1 != 0 {
				s.mem = s.cpu
				s.mem.sum = r.float32()
			} else {
				s.mem = r.part(start)
			}
		}
		if f&8 != 0 {
			s.thrN = uint32(min(r.count(), math.MaxUint32))
			s.thrSum = r.float32()
		}
		if f&16 != 0 {
			s.podsEnded = uint32(min(r.count(), math.MaxUint32))
		}
	}
}

func (r *accReader) part(start int64) part {
	var p part
	p.n = uint32(min(r.count(), math.MaxUint32))
	p.sum = r.float32()
	first, span := r.nonNeg(), r.nonNeg()
	if first > maxMs/1000 || span > maxMs/1000 {
		r.Fail("slot times %d, %d", first, span)
		return p
	}
	p.first = workload.AddSat(start, first*1000)
	p.last = workload.AddSat(p.first, span*1000)
	return p
}

func (r *accReader) highs(bytes bool) highs {
	var h highs
	prev := ceilSec(r.base)
	for range r.items() {
		d := r.Varint()
		if d < -maxMs/1000 || d > maxMs/1000 || prev+d < 0 || prev+d > maxMs/1000 {
			r.Fail("high at %d s + %d s out of range", prev, d)
			return h
		}
		t := (prev + d) * 1000
		var v float64
		if bytes {
			v = float64(r.nonNeg())
		} else {
			v = r.float32()
		}
		h.push(timedHigh{t, v})
		prev += d
	}
	return h
}

func (r *accReader) peak() keptPeak {
	end := r.signedTime()
	bytes := r.nonNeg()
	obs := r.nonNeg()
	return keptPeak{End: end, Bytes: workload.Bytes(bytes), Observed: workload.Bytes(obs >> 1), OOM: obs&1 != 0}
}
