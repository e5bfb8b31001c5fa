// Package binread reads the varints, floats and byte strings of this
// module's binary encodings. A Reader keeps the first error and reads zeros
// after it, so a decoder reads a whole structure and checks once.
package binread

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Reader reads B from the front. The zero value reads plain varints and
// reports errors as they are.
type Reader struct {
	B   []byte
	Err error
	// Wrap, when set, is wrapped by every error (errors.Is finds it).
	Wrap error
	// Canonical refuses a varint longer than its value needs, so that one
	// value has one encoding.
	Canonical bool
}

// Fail records an error unless one is recorded already.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if r.Wrap != nil {
		r.Err = fmt.Errorf("%w: %s", r.Wrap, msg)
		return
	}
	r.Err = errors.New(msg)
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	b := r.Next(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Next reads the next n bytes (nil after an error or past the end).
func (r *Reader) Next(n uint64) []byte {
	if r.Err != nil {
		return nil
	}
	if n > uint64(len(r.B)) {
		r.Fail("truncated")
		return nil
	}
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	switch {
	case n > 0 && r.Canonical && n != max(1, (bits.Len64(v)+6)/7):
		r.Fail("truncated or overlong varint")
		return 0
	case n <= 0 && r.Canonical:
		r.Fail("truncated or overlong varint")
		return 0
	case n <= 0:
		r.Fail("bad or truncated varint")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail("bad or truncated varint")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Float32 reads a little-endian float32.
func (r *Reader) Float32() float32 {
	b := r.Next(4)
	if b == nil {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

// Float64 reads a little-endian float64.
func (r *Reader) Float64() float64 {
	b := r.Next(8)
	if b == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}
