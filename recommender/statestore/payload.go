package statestore

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"rightsize.dev/rightsize/recommender/workload"
)

// The payload is what encoding/gob writes for a fileV1: messages, each a
// length and a type id, that define the types (negative id) and then carry
// the one value. It is read here rather than by gob's decoder, which
// allocates a whole element for every element of a slice of structs however
// few bytes it takes (an empty fileSeries is 1 byte on the wire and 232 in
// memory, and the slice is regrown as it fills), so a crafted payload made
// it allocate a thousand times its size. This reader compares every count
// with the bytes left, builds the store's structures directly and refuses
// what Save never writes (unknown types or fields, a series without
// samples, values out of range), which keeps what it allocates within a
// small multiple of the payload.

// contents is a decoded file.
type contents struct {
	saved      int64 // Unix ms
	containers map[workload.ContainerKey]*container
}

// gob's predefined type ids.
const (
	gobInt    = 2
	gobUint   = 3
	gobFloat  = 4
	gobString = 6
)

// fileV1 needs 8 type definitions of at most 9 fields each.
const (
	maxWireTypes  = 64
	maxWireFields = 64
)

// wireType is a type definition: a slice of elem, or a struct.
type wireType struct {
	slice  bool
	elem   int64
	fields []wireField
}

type wireField struct {
	name string
	id   int64
}

// gobReader reads gob's encoding from b. The first error sticks: later reads
// return zero values and consume nothing, so loops over counts read before
// it end at once.
type gobReader struct {
	b     []byte
	err   error
	types map[int64]*wireType
}

func (r *gobReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

var errShort = errors.New("unexpected end of payload")

// uint reads an unsigned integer: one byte below 128, else the negated
// byte count and the bytes, big-endian.
func (r *gobReader) uint() uint64 {
	if len(r.b) == 0 {
		if r.err == nil {
			r.err = errShort
		}
		return 0
	}
	c := r.b[0]
	if c < 0x80 {
		r.b = r.b[1:]
		return uint64(c)
	}
	n := -int(int8(c))
	if n > 8 || n >= len(r.b) {
		r.fail("integer of %d bytes at %d bytes before the end", n, len(r.b))
		return 0
	}
	var v uint64
	for _, x := range r.b[1 : 1+n] {
		v = v<<8 | uint64(x)
	}
	r.b = r.b[1+n:]
	return v
}

// int reads a signed integer: the sign in the lowest bit.
func (r *gobReader) int() int64 {
	u := r.uint()
	if u&1 != 0 {
		return ^int64(u >> 1)
	}
	return int64(u >> 1)
}

// float reads a float64 sent as its bits, byte-reversed.
func (r *gobReader) float() float64 {
	return math.Float64frombits(bits.ReverseBytes64(r.uint()))
}

// float32 reads a float sent for a float32, refusing what does not fit as
// gob does.
func (r *gobReader) float32() float32 {
	f := r.float()
	if a := math.Abs(f); a > math.MaxFloat32 && !math.IsInf(a, 1) {
		r.fail("%v overflows a float32", f)
	}
	return float32(f)
}

func (r *gobReader) uint32() uint32 {
	u := r.uint()
	if u > math.MaxUint32 {
		r.fail("%d overflows a uint32", u)
	}
	return uint32(u)
}

// count reads the length of a string or slice, each element of which takes
// at least a byte: more than are left is an error, before anything is
// allocated for it.
func (r *gobReader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail("length %d with %d bytes left", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *gobReader) string() string {
	n := r.count()
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// fields reads a struct's fields, each a delta from the previous field's
// number and the value, which f reads; a delta of 0 ends the struct.
// Field numbers above last are an error.
func (r *gobReader) fields(last int, f func(field int)) {
	field := -1
	for {
		d := r.uint()
		if d == 0 || r.err != nil {
			return
		}
		if d > uint64(last-field) {
			r.fail("field %d after field %d, want at most %d", d, field, last)
			return
		}
		field += int(d)
		f(field)
	}
}

// wireType reads gob's definition of a type: a struct whose field 1 is a
// sliceType {CommonType, Elem} and field 2 a structType {CommonType,
// Field}; arrays, maps and encoders (fields 0, 3 to 6) are not in fileV1.
func (r *gobReader) wireType() *wireType {
	t := &wireType{}
	kinds := 0
	r.fields(6, func(f int) {
		kinds++
		switch f {
		case 1:
			t.slice = true
			r.fields(1, func(f int) {
				if f == 0 {
					r.commonType()
				} else {
					t.elem = r.int()
				}
			})
		case 2:
			r.fields(1, func(f int) {
				if f == 0 {
					r.commonType()
				} else {
					t.fields = r.wireFields()
				}
			})
		default:
			r.fail("type definition of kind %d, not a slice or struct", f)
		}
	})
	if kinds != 1 {
		r.fail("type definition of %d kinds", kinds)
	}
	return t
}

// commonType skips a CommonType {Name, Id}: types are matched by their
// fields.
func (r *gobReader) commonType() {
	r.fields(1, func(f int) {
		if f == 0 {
			r.string()
		} else {
			r.int()
		}
	})
}

func (r *gobReader) wireFields() []wireField {
	n := r.count()
	if n > maxWireFields {
		r.fail("struct of %d fields", n)
		return nil
	}
	fs := make([]wireField, 0, n)
	for range n {
		var wf wireField
		r.fields(1, func(f int) {
			if f == 0 {
				wf.name = r.string()
			} else {
				wf.id = r.int()
			}
		})
		for _, o := range fs {
			if o.name == wf.name {
				r.fail("field %s defined twice", wf.name)
			}
		}
		fs = append(fs, wf)
	}
	return fs
}

// fieldSpec is what a field of fileV1's structs must be: a predefined
// scalar, a slice of a predefined type (elem), or a slice of structs (of).
type fieldSpec struct {
	name   string
	scalar int64
	elem   int64
	of     []fieldSpec
}

var (
	seriesSpec = []fieldSpec{{name: "Pod", scalar: gobString},
		{name: "RawT", elem: gobInt}, {name: "RawCPU", elem: gobFloat}, {name: "RawMem", elem: gobInt},
		{name: "BT", elem: gobInt}, {name: "BCPU", elem: gobFloat}, {name: "BMem", elem: gobInt}, {name: "BN", elem: gobUint}, {name: "BNCPU", elem: gobUint}}
	containerSpec = []fieldSpec{{name: "Namespace", scalar: gobString}, {name: "Kind", scalar: gobString}, {name: "Name", scalar: gobString},
		{name: "Container", scalar: gobString}, {name: "LastSeen", scalar: gobInt}, {name: "Series", of: seriesSpec}}
	fileSpec = []fieldSpec{{name: "Saved", scalar: gobInt}, {name: "Containers", of: containerSpec}}
)

// checkStruct checks every field the definition of struct id declares,
// whether or not the value holds it, against spec: a definition may leave
// fields out but not add or change any. The value is then read by name.
func (r *gobReader) checkStruct(id int64, spec []fieldSpec, what string) *wireType {
	t := r.types[id]
	if t == nil || t.slice {
		r.fail("%s: type %d is not a defined struct", what, id)
		return &wireType{}
	}
	for _, f := range t.fields {
		i := slices.IndexFunc(spec, func(s fieldSpec) bool { return s.name == f.name })
		if i < 0 {
			r.fail("%s: unknown field %q", what, f.name)
			return t
		}
		s := spec[i]
		if s.scalar != 0 {
			if f.id != s.scalar {
				r.fail("%s.%s: type %d, want %d", what, f.name, f.id, s.scalar)
			}
			continue
		}
		st := r.types[f.id]
		switch {
		case st == nil || !st.slice:
			r.fail("%s.%s: type %d is not a defined slice", what, f.name, f.id)
		case s.of != nil:
			r.checkStruct(st.elem, s.of, f.name)
		case st.elem != s.elem:
			r.fail("%s.%s: slice of type %d, want %d", what, f.name, st.elem, s.elem)
		}
	}
	return t
}

// slice reads the length of a slice field of type id, which checkStruct
// checked, and returns the type of its elements if they are structs.
func (r *gobReader) slice(id int64) (int, *wireType) {
	return r.count(), r.types[r.types[id].elem]
}

// decodePayload reads the messages of a payload and returns its contents.
func decodePayload(p []byte) (*contents, error) {
	r := &gobReader{b: p, types: map[int64]*wireType{}}
	for {
		n := r.uint()
		if r.err == nil && n > uint64(len(r.b)) {
			r.fail("message of %d bytes with %d left", n, len(r.b))
		}
		if r.err != nil {
			return nil, r.err
		}
		msg := &gobReader{b: r.b[:n], types: r.types}
		r.b = r.b[n:]
		id := msg.int()
		if id < 0 {
			if -id < 64 || r.types[-id] != nil || len(r.types) >= maxWireTypes {
				msg.fail("type definition %d: predefined, repeated or too many", -id)
			}
			t := msg.wireType()
			if msg.err == nil && len(msg.b) != 0 {
				msg.fail("%d bytes after type definition %d", len(msg.b), -id)
			}
			if msg.err != nil {
				return nil, msg.err
			}
			r.types[-id] = t
			continue
		}
		t := msg.checkStruct(id, fileSpec, "state")
		if msg.err != nil {
			return nil, msg.err
		}
		c := msg.contents(t)
		switch {
		case msg.err != nil:
			return nil, msg.err
		case len(msg.b) != 0:
			return nil, fmt.Errorf("%d bytes after the value", len(msg.b))
		case len(r.b) != 0:
			return nil, fmt.Errorf("%d bytes after the state", len(r.b))
		}
		return c, nil
	}
}

// contents reads a fileV1 {Saved, Containers}.
func (r *gobReader) contents(t *wireType) *contents {
	c := &contents{containers: map[workload.ContainerKey]*container{}}
	r.fields(len(t.fields)-1, func(i int) {
		switch f := t.fields[i]; f.name {
		case "Saved":
			if c.saved = r.int(); c.saved < 0 || c.saved > maxMilli {
				r.fail("Saved: time %d ms out of range", c.saved)
			}
		case "Containers":
			n, ct := r.slice(f.id)
			// A container with a name takes 4 bytes at least; the hint
			// only saves growing the map.
			c.containers = make(map[workload.ContainerKey]*container, min(n, len(r.b)/4))
			for i := range n {
				k, ctr := r.container(ct, i)
				if r.err != nil {
					return
				}
				if c.containers[k] != nil {
					r.fail("Containers[%d]: %s %s appears twice", i, k.Workload, k.Container)
					return
				}
				c.containers[k] = ctr
			}
		default:
			r.fail("unknown field %s", f.name)
		}
	})
	return c
}

// container reads a fileContainer {Namespace, Kind, Name, Container,
// LastSeen, Series}.
func (r *gobReader) container(t *wireType, i int) (workload.ContainerKey, *container) {
	var k workload.ContainerKey
	c := &container{}
	where := func() string { return fmt.Sprintf("Containers[%d] (%s %s)", i, k.Workload, k.Container) }
	r.fields(len(t.fields)-1, func(j int) {
		switch f := t.fields[j]; f.name {
		case "Namespace":
			k.Workload.Namespace = r.string()
		case "Kind":
			k.Workload.Kind = workload.Kind(r.string())
		case "Name":
			k.Workload.Name = r.string()
		case "Container":
			k.Container = r.string()
		case "LastSeen":
			if c.lastSeen = r.int(); c.lastSeen < 0 || c.lastSeen > maxMilli {
				r.fail("%s: LastSeen: time %d ms out of range", where(), c.lastSeen)
			}
		case "Series":
			n, st := r.slice(f.id)
			// A series takes 10 bytes at least (a sample in 3 columns).
			c.pods = make(map[string]*series, min(n, len(r.b)/10))
			for range n {
				pod, ser := r.series(st, where)
				if r.err != nil {
					return
				}
				if c.pods[pod] != nil {
					r.fail("%s: pod %q appears twice", where(), pod)
					return
				}
				c.pods[pod] = ser
			}
		default:
			r.fail("%s: unknown field %s", where(), f.name)
		}
	})
	return k, c
}

// seriesColumns are the columns of a fileSeries: seriesSpec after Pod.
var seriesColumns = seriesSpec[1:]

func seriesColumn(name string) int {
	return slices.IndexFunc(seriesColumns, func(c fieldSpec) bool { return c.name == name })
}

// series reads a fileSeries {Pod, RawT, RawCPU, RawMem, BT, BCPU, BMem, BN,
// BNCPU}: the raw columns fill points, the bucket columns buckets, each
// allocated once at the first column's length, which the others must have.
func (r *gobReader) series(t *wireType, container func() string) (string, *series) {
	var pod string
	ser := &series{}
	var counts [8]int // one per column
	where := func() string { return fmt.Sprintf("%s pod %q", container(), pod) }
	raw := func(n int) []point {
		if ser.raw == nil {
			ser.raw = make([]point, n)
		}
		return ser.raw
	}
	buckets := func(n int) []bucket {
		if ser.buckets == nil {
			ser.buckets = make([]bucket, n)
		}
		return ser.buckets
	}
	r.fields(len(t.fields)-1, func(j int) {
		f := t.fields[j]
		if f.name == "Pod" {
			pod = r.string()
			return
		}
		col := seriesColumn(f.name)
		n, _ := r.slice(f.id)
		counts[col] = n
		if r.err != nil || n == 0 {
			return
		}
		var have int
		if f.name[0] == 'R' {
			have = len(raw(n))
		} else {
			have = len(buckets(n))
		}
		if n != have {
			r.fail("%s: %s has %d values, an earlier column %d", where(), f.name, n, have)
			return
		}
		switch f.name {
		case "RawT":
			r.times(where, f.name, n, func(i int, t int64) { ser.raw[i].T = t })
		case "BT":
			r.times(where, f.name, n, func(i int, t int64) { ser.buckets[i].Start = t })
		case "RawCPU":
			for i := range ser.raw {
				if c := r.float32(); isNaN32(c) || finiteNonNegative32(c) {
					ser.raw[i].CPU = c
				} else {
					r.fail("%s: RawCPU[%d]: %v is neither missing (NaN) nor finite and non-negative", where(), i, c)
				}
			}
		case "RawMem":
			for i := range ser.raw {
				if ser.raw[i].Mem = r.int(); ser.raw[i].Mem < -1 {
					r.fail("%s: RawMem[%d]: %d is neither missing (−1) nor non-negative", where(), i, ser.raw[i].Mem)
				}
			}
		case "BCPU":
			for i := range ser.buckets {
				ser.buckets[i].CPU = r.float32()
			}
		case "BMem":
			for i := range ser.buckets {
				if ser.buckets[i].Mem = r.int(); ser.buckets[i].Mem < -1 {
					r.fail("%s: BMem[%d]: %d is neither missing (−1) nor non-negative", where(), i, ser.buckets[i].Mem)
				}
			}
		case "BN":
			for i := range ser.buckets {
				ser.buckets[i].N = r.uint32()
			}
		case "BNCPU":
			for i := range ser.buckets {
				ser.buckets[i].NCPU = r.uint32()
			}
		}
	})
	if r.err != nil {
		return "", nil
	}
	for i, col := range seriesColumns {
		want := len(ser.raw)
		if col.name[0] == 'B' {
			want = len(ser.buckets)
		}
		if counts[i] != want {
			r.fail("%s: %s has %d values, want %d", where(), col.name, counts[i], want)
			return "", nil
		}
	}
	if len(ser.raw)+len(ser.buckets) == 0 {
		r.fail("%s: no samples", where())
		return "", nil
	}
	for i, b := range ser.buckets {
		// A bucket holds at least one sample, and a CPU mean exactly
		// when some of them had CPU.
		if b.N == 0 || b.NCPU > b.N {
			r.fail("%s: BN[%d], BNCPU[%d]: %d samples, %d with CPU: want at least one, and no more with CPU", where(), i, i, b.N, b.NCPU)
			return "", nil
		}
		if (b.NCPU == 0) != isNaN32(b.CPU) || (b.NCPU > 0 && !finiteNonNegative32(b.CPU)) {
			r.fail("%s: BCPU[%d]: %v does not fit %d samples with CPU", where(), i, b.CPU, b.NCPU)
			return "", nil
		}
	}
	return pod, ser
}

// times reads n delta-encoded times: the first from 0, all within
// [0, maxMilli] and strictly increasing. Each delta is compared with the
// room left, so the running sum cannot overflow.
func (r *gobReader) times(where func() string, field string, n int, set func(i int, t int64)) {
	var t int64
	for i := range n {
		d := r.int()
		if r.err != nil {
			return
		}
		if d < 0 || (i > 0 && d == 0) || d > maxMilli-t {
			r.fail("%s: %s[%d]: step %d ms from %d ms: times must increase and stay within [0, %d] ms", where(), field, i, d, t, int64(maxMilli))
			return
		}
		t += d
		set(i, t)
	}
}

func isNaN32(v float32) bool { return v != v }

func finiteNonNegative32(v float32) bool { return v >= 0 && v <= math.MaxFloat32 }
