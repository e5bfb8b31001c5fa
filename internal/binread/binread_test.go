package binread

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReader(t *testing.T) {
	wrap := errors.New("decoding")
	for _, tc := range []struct {
		name      string
		in        []byte
		canonical bool
		want      uint64
		err       string
	}{
		{"one byte", []byte{5}, false, 5, ""},
		{"two bytes", []byte{0x80, 0x01}, false, 128, ""},
		{"overlong, plain", []byte{0x85, 0x00}, false, 5, ""},
		{"overlong, canonical", []byte{0x85, 0x00}, true, 0, "decoding: truncated or overlong varint"},
		{"truncated", []byte{0x80}, false, 0, "decoding: bad or truncated varint"},
		{"empty", nil, false, 0, "decoding: bad or truncated varint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Reader{B: tc.in, Wrap: wrap, Canonical: tc.canonical}
			assert.Equal(t, tc.want, r.Uvarint())
			if tc.err == "" {
				assert.NoError(t, r.Err)
				assert.Empty(t, r.B)
				return
			}
			assert.EqualError(t, r.Err, tc.err)
			assert.ErrorIs(t, r.Err, wrap)
		})
	}
}

// TestReaderSticky: after the first error every read is zero and the
// error stays the first one.
func TestReaderSticky(t *testing.T) {
	r := Reader{B: []byte{1, 2}}
	assert.Equal(t, byte(1), r.Byte())
	assert.Zero(t, r.Float64())
	assert.EqualError(t, r.Err, "truncated")
	assert.Zero(t, r.Byte(), "the byte left is not read after an error")
	r.Fail("later")
	assert.EqualError(t, r.Err, "truncated")
	assert.Nil(t, r.Next(1))
}
