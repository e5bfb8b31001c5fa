package statestore

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/workload"
)

// validPayload returns the payload of a store with raw samples and
// buckets: container 0 is web (pod web-1 with raw samples and buckets),
// container 1 is db.
func validPayload(t *testing.T) *fileV1 {
	t.Helper()
	c := &clock{t0}
	s := &Store{opts: Options{Now: c.now}.withDefaults(), containers: map[workload.ContainerKey]*container{}}
	for i := range 30 * 60 {
		s.Add(web, sample("web-1", t0.Add(time.Duration(i)*time.Minute), 0.25, 300*workload.MiB))
	}
	s.Add(db, sample("db-0", t0, 1, workload.GiB))
	c.t = t0.Add(30 * time.Hour)
	s.Touch(db)
	s.compact()
	f := s.to()
	require.Equal(t, "web", f.Containers[0].Name)
	require.NotEmpty(t, f.Containers[0].Series[0].RawT)
	require.NotEmpty(t, f.Containers[0].Series[0].BT)
	return f
}

// encodeFile returns f as a whole state file.
func encodeFile(t *testing.T, f *fileV1) []byte {
	t.Helper()
	var payload bytes.Buffer
	require.NoError(t, gob.NewEncoder(&payload).Encode(f))
	return buildFile(version, uint64(payload.Len()), payload.Bytes(), true)
}

// A length field near 2^64 made the bounds check's n+4 overflow, and the
// payload slice then panicked.
func TestDecodeLengthFieldOverflow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       uint64
		rest    []byte
		wantErr error
	}{
		{"2^64-4, nothing after the header", math.MaxUint64 - 3, nil, errTruncated},
		{"2^64-3, one byte after the header", math.MaxUint64 - 2, []byte{0}, errTruncated},
		{"2^64-2, two bytes after the header", math.MaxUint64 - 1, []byte{0, 0}, errTruncated},
		{"2^64-1, three bytes after the header", math.MaxUint64, []byte{0, 0, 0}, errTruncated},
		{"2^63, checksum present", 1 << 63, []byte{0, 0, 0, 0}, errTruncated},
		{"2^64-1 with a payload", math.MaxUint64, []byte("payload and checksum"), errTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(buildFile(version, tc.n, tc.rest, false))
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestDecodeRejectsDamagedPayloads(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(f *fileV1)
		wantErr string
	}{
		{"raw columns of unequal length", func(f *fileV1) { web1(f).RawMem = web1(f).RawMem[1:] }, `Containers[0] (shop/Deployment/web app) pod "web-1": RawMem has 1439 values, an earlier column 1440`},
		{"bucket columns of unequal length", func(f *fileV1) { web1(f).BNCPU = nil }, "BNCPU has 0 values, want 72"},
		{"negative first time", func(f *fileV1) { web1(f).RawT[0] = -1 }, "RawT[0]: step -1 ms from 0 ms"},
		{"time going back", func(f *fileV1) { web1(f).RawT[5] = -60000 }, "RawT[5]: step -60000 ms"},
		{"repeated time", func(f *fileV1) { web1(f).BT[3] = 0 }, "BT[3]: step 0 ms"},
		{"time after 2262", func(f *fileV1) { web1(f).RawT[0] = maxMilli + 1 }, "RawT[0]: step 9223372036855 ms"},
		{"times overflowing int64", func(f *fileV1) { web1(f).BT[1] = math.MaxInt64 }, "BT[1]: step 9223372036854775807 ms"},
		{"negative CPU", func(f *fileV1) { web1(f).RawCPU[2] = -0.5 }, "RawCPU[2]: -0.5 is neither missing (NaN) nor finite"},
		{"infinite CPU", func(f *fileV1) { web1(f).RawCPU[2] = float32(math.Inf(1)) }, "RawCPU[2]: +Inf"},
		{"negative memory", func(f *fileV1) { web1(f).RawMem[0] = -2 }, "RawMem[0]: -2 is neither missing"},
		{"negative bucket memory", func(f *fileV1) { web1(f).BMem[0] = math.MinInt64 }, "BMem[0]: -9223372036854775808"},
		{"empty bucket", func(f *fileV1) { web1(f).BN[0], web1(f).BNCPU[0] = 0, 0 }, "BN[0], BNCPU[0]: 0 samples, 0 with CPU"},
		{"more CPU samples than samples", func(f *fileV1) { web1(f).BNCPU[0] = web1(f).BN[0] + 1 }, "BN[0], BNCPU[0]: 5 samples, 6 with CPU"},
		{"CPU mean without CPU samples", func(f *fileV1) { web1(f).BNCPU[1] = 0 }, "BCPU[1]: 0.25 does not fit 0 samples with CPU"},
		{"CPU samples without a mean", func(f *fileV1) { web1(f).BCPU[1] = float32(math.NaN()) }, "BCPU[1]: NaN does not fit 5 samples with CPU"},
		{"negative CPU mean", func(f *fileV1) { web1(f).BCPU[1] = -1 }, "BCPU[1]: -1 does not fit"},
		{"container twice", func(f *fileV1) { f.Containers[1] = f.Containers[0] }, "Containers[1]: shop/Deployment/web app appears twice"},
		{"pod twice", func(f *fileV1) {
			f.Containers[0].Series = append(f.Containers[0].Series, f.Containers[0].Series[0])
		}, `pod "web-1" appears twice`},
		{"last seen before 1970", func(f *fileV1) { f.Containers[1].LastSeen = -1 }, "Containers[1] (shop/StatefulSet/db postgres): LastSeen: time -1 ms out of range"},
		{"saved after 2262", func(f *fileV1) { f.Saved = math.MaxInt64 }, "Saved: time 9223372036854775807 ms out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validPayload(t)
			_, err := decode(encodeFile(t, f))
			require.NoError(t, err, "the undamaged payload")
			tt.damage(f)
			_, err = decode(encodeFile(t, f))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "payload: ")
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}

	t.Run("empty payload", func(t *testing.T) {
		_, err := decode(buildFile(version, 0, nil, true))
		assert.ErrorContains(t, err, "payload: unexpected end of payload")
	})
	t.Run("bytes after the gob value", func(t *testing.T) {
		var payload bytes.Buffer
		enc := gob.NewEncoder(&payload)
		require.NoError(t, enc.Encode(validPayload(t)))
		require.NoError(t, enc.Encode(validPayload(t)))
		_, err := decode(buildFile(version, uint64(payload.Len()), payload.Bytes(), true))
		assert.ErrorContains(t, err, "bytes after the state")
	})
	t.Run("not gob", func(t *testing.T) {
		p := []byte("definitely not a gob stream")
		_, err := decode(buildFile(version, uint64(len(p)), p, true))
		assert.ErrorContains(t, err, "payload: message of 100 bytes with 26 left")
	})
}

func web1(f *fileV1) *fileSeries { return &f.Containers[0].Series[0] }

// A gob payload may declare a slice far longer than the payload; decoding
// must fail without allocating for the declared length.
func TestDecodeHugeDeclaredSlice(t *testing.T) {
	f := validPayload(t)
	web1(f).RawT = []int64{33, 33, 33}
	web1(f).RawCPU = []float32{0, 0, 0}
	web1(f).RawMem = []int64{1, 1, 1}
	var payload bytes.Buffer
	require.NoError(t, gob.NewEncoder(&payload).Encode(f))
	// Messages are a length, then that many bytes; the last is the value.
	// RawT's three elements of 33 are encoded as 03 42 42 42.
	msgs := gobMessages(t, payload.Bytes())
	prefix := payload.Bytes()[:payload.Len()-len(msgs[len(msgs)-1])]
	r := &gobReader{b: msgs[len(msgs)-1]}
	r.uint() // the message's length
	last := r.b
	i := bytes.Index(last, []byte{3, 0x42, 0x42, 0x42})
	require.GreaterOrEqual(t, i, 0)
	for _, count := range []uint64{1 << 24, 1 << 40, math.MaxInt64 / 8} {
		msg := append(append(append([]byte(nil), last[:i]...), gobPutUint(count)...), last[i+1:]...)
		crafted := append(append(append([]byte(nil), prefix...), gobPutUint(uint64(len(msg)))...), msg...)
		file := buildFile(version, uint64(len(crafted)), crafted, true)
		var err error
		n := alloclimit.Allocated(func() { _, err = decode(file) })
		require.ErrorContains(t, err, fmt.Sprintf("length %d with ", count))
		assert.Less(t, n, 32*uint64(len(file)), "bytes allocated for a declared count of %d in a %d-byte file", count, len(file))
	}
}

// gobMessages splits a gob stream into its messages, each with its length.
func gobMessages(t *testing.T, p []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	r := &gobReader{b: p}
	for len(r.b) > 0 {
		before := len(p) - len(r.b)
		n := r.uint()
		require.NoError(t, r.err)
		r.b = r.b[n:]
		msgs = append(msgs, p[before:len(p)-len(r.b)])
	}
	return msgs
}

// gobPutUint encodes an unsigned integer as gob does.
func gobPutUint(v uint64) []byte {
	if v < 0x80 {
		return []byte{byte(v)}
	}
	var be []byte
	for ; v > 0; v >>= 8 {
		be = append([]byte{byte(v)}, be...)
	}
	return append([]byte{byte(-int8(len(be)))}, be...)
}

// A file of a newer format version used to be set aside as damaged and
// replaced at the next save; it is left alone and Open says why.
func TestNewerVersionIsLeftAlone(t *testing.T) {
	newer := func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		b[len(magic)+3] = 2
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"the file", newer, "state store {path}: written by a newer rightsize (format version 2, this one reads up to 1)"},
		{"the previous copy, the file missing", func(t *testing.T, path string) {
			newer(t, path+".prev")
			require.NoError(t, os.Remove(path))
		}, "state store {path}: previous copy {path}.prev: written by a newer rightsize (format version 2, this one reads up to 1)"},
		{"the previous copy, the file damaged", func(t *testing.T, path string) {
			newer(t, path+".prev")
			require.NoError(t, os.WriteFile(path, []byte("RSZ"), 0o600))
		}, "previous copy {path}.prev: written by a newer rightsize (format version 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := saved(t, dir)
			tt.damage(t, path)
			before := dirContents(t, dir)
			_, warnings, err := Open(Options{Dir: dir, Name: "test", Now: (&clock{t0}).now})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNewerVersion)
			assert.Contains(t, err.Error(), replacePath(tt.want, path))
			assert.Empty(t, warnings)
			assert.Equal(t, before, dirContents(t, dir), "nothing renamed or rewritten")
			// The lock was released: a second Open gives the same answer.
			_, _, err = Open(Options{Dir: dir, Name: "test"})
			assert.ErrorIs(t, err, ErrNewerVersion)
		})
	}
}

// An unreadable file is not a damaged one: it is not set aside.
func TestUnreadableFileIsNotSetAside(t *testing.T) {
	dir := t.TempDir()
	path := saved(t, dir)
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o700))
	_, _, err := Open(Options{Dir: dir, Name: "test"})
	require.ErrorContains(t, err, "not a regular file")
	_, err = os.Stat(path + ".corrupt")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == "test.lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

func replacePath(s, path string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte("{path}"), []byte(path)))
}

func TestMaxFileSize(t *testing.T) {
	t.Run("a larger file is damaged and not read", func(t *testing.T) {
		dir := t.TempDir()
		path := saved(t, dir)
		fi, err := os.Stat(path)
		require.NoError(t, err)
		limit := fi.Size() - 1
		s, warnings, err := Open(Options{Dir: dir, Name: "test", Now: (&clock{t0}).now, MaxFileSize: limit})
		require.NoError(t, err)
		defer s.Close()
		require.Len(t, warnings, 1)
		assert.Contains(t, warnings[0], "state file "+path+" is damaged (")
		assert.Contains(t, warnings[0], "more than the limit of ")
		assert.Contains(t, warnings[0], "kept as "+path+".corrupt")
		_, err = os.Stat(path + ".corrupt")
		assert.NoError(t, err)
	})
	t.Run("a state that would make a larger file is not saved", func(t *testing.T) {
		dir := t.TempDir()
		path := saved(t, dir)
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		c := &clock{t0.Add(time.Minute)}
		s, warnings, err := Open(Options{Dir: dir, Name: "test", Now: c.now, MaxFileSize: int64(len(before)) + 10})
		require.NoError(t, err)
		require.Empty(t, warnings)
		defer s.Close()
		for i := range 100 {
			s.Add(web, sample("web-1", t0.Add(time.Duration(2+i)*time.Minute), 0.3, 3*workload.MiB))
		}
		err = s.Save()
		require.ErrorContains(t, err, "writing state "+path+": ")
		assert.ErrorContains(t, err, "more than the limit of ")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "the file is kept as it was")
	})
	assert.Equal(t, int64(DefaultMaxFileSize), Options{}.withDefaults().MaxFileSize)
}

// Add keeps out what a file may not hold, so that Save never writes a file
// the next Open refuses.
func TestAddKeepsOutWhatAFileCannotHold(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t0}
	s := open(t, dir, c)
	s.Add(web, sample("web-1", time.Unix(-1, 0), 0.1, workload.MiB))
	s.Add(web, sample("web-1", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 0.1, workload.MiB))
	s.Add(web, sample("web-1", t0, -0.1, -workload.MiB))
	s.Add(web, sample("web-1", t0.Add(time.Minute), workload.Cores(math.Inf(1)), workload.MiB))
	s.Add(web, sample("web-1", t0.Add(2*time.Minute), 1e39, workload.MiB)) // +Inf as a float32
	s.Add(web, sample("web-1", t0.Add(3*time.Minute), workload.Cores(math.NaN()), workload.MiB))
	require.Equal(t, 4, s.Stats().Raw)
	require.NoError(t, s.Save())
	got, err := readFile(s.Path(), DefaultMaxFileSize)
	require.NoError(t, err)
	raw := got.containers[web].pods["web-1"].raw
	for _, p := range raw {
		assert.True(t, math.IsNaN(float64(p.CPU)), "a bad CPU value is missing")
	}
	assert.Equal(t, int64(-1), raw[0].Mem, "negative memory is missing")
}

// Raw samples kept under a narrow bucket width and folded under a wider one
// may fall before the last bucket; they join it, so bucket starts keep
// increasing and the file stays readable.
func TestFoldKeepsBucketsInOrder(t *testing.T) {
	ser := &series{buckets: []bucket{{Start: 600_000, CPU: 1, Mem: 10, N: 1, NCPU: 1}}}
	ser.fold(point{T: 610_000, CPU: 3, Mem: 20}, 420_000) // a 7-minute bucket would start at 420 000
	ser.fold(point{T: 900_000, CPU: 2, Mem: 5}, 420_000)
	require.Len(t, ser.buckets, 2)
	assert.Equal(t, bucket{Start: 600_000, CPU: 2, Mem: 20, N: 2, NCPU: 2}, ser.buckets[0])
	assert.Equal(t, int64(840_000), ser.buckets[1].Start)
}

func TestEveryTruncationIsAnError(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "v1.rsh"))
	require.NoError(t, err)
	for n := range len(b) {
		_, err := decode(b[:n])
		require.Error(t, err, "%d bytes", n)
		require.False(t, errors.Is(err, ErrNewerVersion))
	}
}

// gobFile returns v, encoded by gob, as a whole state file.
func gobFile(t *testing.T, v any) []byte {
	t.Helper()
	var payload bytes.Buffer
	require.NoError(t, gob.NewEncoder(&payload).Encode(v))
	return buildFile(version, uint64(payload.Len()), payload.Bytes(), true)
}

// Types gob describes on the wire as other payloads than fileV1's.
type (
	withExtraField struct {
		Saved      int64
		Containers []fileContainer
		Extra      int
	}
	withStringSaved struct{ Saved string }
	withMap         struct {
		Saved      int64
		Containers map[string]int
	}
	wideSeries struct {
		Pod    string
		RawT   []int64
		RawCPU []float64
		RawMem []int64
		BT     []int64
		BCPU   []float32
		BMem   []int64
		BN     []uint64
		BNCPU  []uint32
	}
	wideContainer struct {
		Name   string
		Series []wideSeries
	}
	wideFile struct {
		Saved      int64
		Containers []wideContainer
	}
)

func TestDecodeRejectsPayloadsSaveDoesNotWrite(t *testing.T) {
	oneRaw := wideSeries{Pod: "p", RawT: []int64{1}, RawCPU: []float64{1}, RawMem: []int64{1}}
	tests := []struct {
		name    string
		value   any
		wantErr string
	}{
		{"unknown field", withExtraField{Saved: 1, Extra: 3}, `payload: state: unknown field "Extra"`},
		// Declared but not in the value: gob refuses a definition it
		// cannot compile, so this reader must too.
		{"unknown field left out of the value", withExtraField{Saved: 1}, `payload: state: unknown field "Extra"`},
		{"field of another type", withStringSaved{Saved: "yesterday"}, "payload: state.Saved: type 6, want 2"},
		{"map", withMap{Saved: 1, Containers: map[string]int{"a": 1}}, "payload: type definition of kind 3, not a slice or struct"},
		{"series without samples", &fileV1{Saved: 1, Containers: []fileContainer{{Name: "w", Series: []fileSeries{{Pod: "p"}}}}}, `payload: Containers[0] (//w ) pod "p": no samples`},
		{"float64 CPU beyond float32", wideFile{Saved: 1, Containers: []wideContainer{{Name: "w", Series: []wideSeries{{Pod: "p", RawT: []int64{1}, RawCPU: []float64{1e300}, RawMem: []int64{1}}}}}}, "payload: 1e+300 overflows a float32"},
		{"count beyond uint32", wideFile{Saved: 1, Containers: []wideContainer{{Name: "w", Series: []wideSeries{{Pod: "p", BT: []int64{1}, BCPU: []float32{1}, BMem: []int64{1}, BN: []uint64{1 << 40}, BNCPU: []uint32{1}}}}}}, "payload: 1099511627776 overflows a uint32"},
		{"a valid wide file, for contrast", wideFile{Saved: 1, Containers: []wideContainer{{Name: "w", Series: []wideSeries{oneRaw}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(gobFile(t, tt.value))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}

	valid := gobFile(t, validPayload(t))
	payload := valid[header : len(valid)-trailer]
	msgs := gobMessages(t, payload)
	tests2 := []struct {
		name    string
		payload []byte
		wantErr string
	}{
		{"message longer than the payload", append(gobPutUint(uint64(len(payload))), payload...)[:len(payload)], "payload: message of"},
		{"type defined twice", append(append([]byte(nil), msgs[0]...), payload...), "predefined, repeated or too many"},
		{"value only, no types", msgs[len(msgs)-1], "is not a defined struct"},
		{"two values", append(append([]byte(nil), payload...), msgs[len(msgs)-1]...), "payload: "},
		{"integer of 9 bytes", []byte{0xf7, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "payload: integer of 9 bytes"},
	}
	for _, tt := range tests2 {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(buildFile(version, uint64(len(tt.payload)), tt.payload, true))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// What decoding allocates stays within a small multiple of the file, also
// for files made of many small elements, the shape that made gob's decoder
// allocate a thousand times the file's size.
func TestDecodeMemoryIsBoundedByFileSize(t *testing.T) {
	const n = 20000
	many := func(build func(i int, f *fileV1)) *fileV1 {
		f := &fileV1{Saved: 1, Containers: []fileContainer{{Name: "w"}}}
		for i := range n {
			build(i, f)
		}
		return f
	}
	tests := []struct {
		name  string
		file  *fileV1
		valid bool
	}{
		{"containers without series", many(func(i int, f *fileV1) {
			f.Containers = append(f.Containers, fileContainer{Container: strconv.Itoa(i)})
		}), true},
		{"series of one sample", many(func(i int, f *fileV1) {
			f.Containers[0].Series = append(f.Containers[0].Series, fileSeries{Pod: strconv.Itoa(i), RawT: []int64{0}, RawCPU: []float32{0}, RawMem: []int64{0}})
		}), true},
		{"series of one bucket", many(func(i int, f *fileV1) {
			f.Containers[0].Series = append(f.Containers[0].Series, fileSeries{Pod: strconv.Itoa(i), BT: []int64{0}, BCPU: []float32{float32(math.NaN())}, BMem: []int64{0}, BN: []uint32{1}, BNCPU: []uint32{0}})
		}), true},
		{"empty series, a byte each", many(func(i int, f *fileV1) {
			f.Containers[0].Series = append(f.Containers[0].Series, fileSeries{})
		}), false},
		{"one long series", many(func(i int, f *fileV1) {
			if i == 0 {
				f.Containers[0].Series = []fileSeries{{Pod: "p"}}
			}
			s := &f.Containers[0].Series[0]
			s.RawT, s.RawCPU, s.RawMem = append(s.RawT, 1), append(s.RawCPU, 0), append(s.RawMem, 0)
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := gobFile(t, tt.file)
			var err error
			got := alloclimit.Allocated(func() { _, err = decode(file) })
			if tt.valid {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			t.Logf("%d bytes allocated for %d bytes, %.1f a byte", got, len(file), float64(got)/float64(len(file)))
			assert.Less(t, got, 32*uint64(len(file)))
		})
	}
}
