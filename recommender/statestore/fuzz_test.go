package statestore

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// corpusDir holds FuzzDecode's seed corpus: valid state files written by
// TestSeedCorpus -update, which FuzzDecodeHeader splits into its fields.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzDecode")

// corpusStores returns stores of several sizes for the seed corpus.
func corpusStores() map[string]*Store {
	out := map[string]*Store{}
	newStore := func(c *clock) *Store {
		return &Store{opts: Options{Now: c.now}.withDefaults(), containers: map[workload.ContainerKey]*container{}}
	}

	s := newStore(&clock{t0})
	s.Add(web, sample("web-1", t0, 0.25, 300*workload.MiB))
	out["one-sample"] = s

	// An hour every 2 minutes: two pods, one without CPU values now and
	// then, and a memory-only container. The files are kept small: the
	// fuzzer minimizes what it finds starting from them.
	s = newStore(&clock{t0})
	for i := range 30 {
		at := t0.Add(time.Duration(i) * 2 * time.Minute)
		s.Add(web, sample("web-1", at, workload.Cores(0.2+float64(i%7)/100), workload.Bytes(300+i%5)*workload.MiB))
		smp := sample("web-2", at, 0.4, 310*workload.MiB)
		smp.HasCPU = i%10 != 0
		s.Add(web, smp)
		s.Add(db, workload.Sample{Time: at, Pod: "db-0", Memory: workload.GiB + workload.Bytes(i)*workload.KiB, HasMemory: true})
	}
	out["hour"] = s

	// Two days every 20 minutes, compacted: a day as taken, a day in
	// buckets; and a container touched but never sampled.
	c := &clock{t0}
	s = newStore(c)
	for i := range 2 * 24 * 3 {
		at := t0.Add(time.Duration(i) * 20 * time.Minute)
		s.Add(web, sample("web-7d9f-x2k4q", at, workload.Cores(0.1+float64(i%13)/50), workload.Bytes(200+i%17)*workload.MiB))
	}
	c.t = t0.Add(48 * time.Hour)
	s.Touch(db)
	s.compact()
	out["two-days"] = s
	return out
}

// TestSeedCorpus checks that the seed corpus holds valid files of the
// current layout; -update writes it again.
func TestSeedCorpus(t *testing.T) {
	if golden.Update() {
		require.NoError(t, os.MkdirAll(corpusDir, 0o755))
		golden, err := os.ReadFile(filepath.Join("testdata", "v1.rsh"))
		require.NoError(t, err)
		files := map[string][]byte{"golden-v1": golden}
		for name, s := range corpusStores() {
			var payload bytes.Buffer
			require.NoError(t, gob.NewEncoder(&payload).Encode(s.to()))
			files["store-"+name] = buildFile(version, uint64(payload.Len()), payload.Bytes(), true)
		}
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(corpusDir, name), []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(b))+")\n"), 0o644))
		}
	}
	files := seedFiles(t)
	require.Len(t, files, 4)
	for _, b := range files {
		_, err := decode(b)
		require.NoError(t, err)
	}
}

// seedFiles returns the state files of the seed corpus.
func seedFiles(tb testing.TB) [][]byte {
	tb.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		tb.Fatal(err)
	}
	var files [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		quoted, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
		if !ok || !strings.HasSuffix(quoted, ")") {
			tb.Fatalf("%s: not a corpus file of one []byte", e.Name())
		}
		s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		files = append(files, []byte(s))
	}
	return files
}

// decodeAndUse decodes b within the allocation bound of its size and, when
// decode accepts it, checks that gob reads the same and puts it through what
// a run does with a loaded store: what decode accepts, the rest of the
// pipeline must take, and Save must write a file decode accepts again.
func decodeAndUse(t *testing.T, b []byte) {
	var c *contents
	alloclimit.Check(t, alloclimit.Bound(len(b)), func() {
		c, _ = decode(b)
	})
	if c == nil {
		return
	}
	now := func() time.Time { return time.UnixMilli(c.saved) }
	s := &Store{opts: Options{Now: now}.withDefaults(), containers: c.containers}

	var f fileV1
	if err := gob.NewDecoder(bytes.NewReader(b[header : len(b)-trailer])).Decode(&f); err != nil {
		t.Fatalf("decode accepted a payload gob does not: %v", err)
	}
	if f.Saved != c.saved || !bytes.Equal(encodePayload(t, s), encodePayload(t, storeFromFile(&f, now))) {
		t.Fatalf("decode and gob read different states")
	}

	h := history.NewStore()
	s.Fill(h, func(workload.ContainerKey) (workload.Settings, bool) { return workload.Settings{}, true })
	h.Finalize()
	s.compact()
	p := encodePayload(t, s)
	if _, err := decode(buildFile(version, uint64(len(p)), p, true)); err != nil {
		t.Fatalf("decoding a decoded, compacted and encoded state: %v", err)
	}
}

func encodePayload(t *testing.T, s *Store) []byte {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(s.to()); err != nil {
		t.Fatalf("encoding a decoded state: %v", err)
	}
	return payload.Bytes()
}

// storeFromFile is a store holding what gob decoded, for comparison.
func storeFromFile(f *fileV1, now func() time.Time) *Store {
	s := &Store{opts: Options{Now: now}.withDefaults(), containers: map[workload.ContainerKey]*container{}}
	for _, fc := range f.Containers {
		k := workload.ContainerKey{Workload: workload.Key{Namespace: fc.Namespace, Kind: workload.Kind(fc.Kind), Name: fc.Name}, Container: fc.Container}
		c := &container{lastSeen: fc.LastSeen, pods: map[string]*series{}}
		for _, fs := range fc.Series {
			ser := &series{}
			var t int64
			for i := range fs.RawT {
				t += fs.RawT[i]
				ser.raw = append(ser.raw, point{T: t, CPU: fs.RawCPU[i], Mem: fs.RawMem[i]})
			}
			t = 0
			for i := range fs.BT {
				t += fs.BT[i]
				ser.buckets = append(ser.buckets, bucket{Start: t, CPU: fs.BCPU[i], Mem: fs.BMem[i], N: fs.BN[i], NCPU: fs.BNCPU[i]})
			}
			c.pods[fs.Pod] = ser
		}
		s.containers[k] = c
	}
	return s
}

// buildFile assembles a state file from its fields; with crc false the
// payload goes in as it is, with the checksum (right or wrong) or without.
func buildFile(v uint32, n uint64, payload []byte, crc bool) []byte {
	b := binary.BigEndian.AppendUint32([]byte(magic), v)
	b = binary.BigEndian.AppendUint64(b, n)
	b = append(b, payload...)
	if crc {
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	}
	return b
}

// FuzzDecode starts from the files in testdata/fuzz/FuzzDecode. Each input
// is also decoded with its checksum made right, so that mutations of the
// payload get past the checksum.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeAndUse(t, b)
		if len(b) >= header+trailer {
			fixed := bytes.Clone(b)
			binary.BigEndian.PutUint32(fixed[len(b)-trailer:], crc32.Checksum(b[header:len(b)-trailer], castagnoli))
			decodeAndUse(t, fixed)
		}
	})
}

// FuzzDecodeHeader builds the file from its fields, so that the fuzzer
// varies the version and the length field directly instead of hoping for a
// byte mutation to hit them. The length field is the fuzzed one added to
// the length the bytes after the header call for, wrapping: 0 is a
// consistent file, and the mutator's small steps explore lengths a few
// bytes off, where bounds checks go wrong, from any seed; the seeds add the
// integer boundaries. Without crc the payload goes in as it is, so the file
// may also end before the checksum.
func FuzzDecodeHeader(f *testing.F) {
	for _, b := range seedFiles(f) {
		// The fuzzer minimizes what it finds, in time quadratic in the
		// input's size: only the small files seed this target.
		if len(b) > 1024 {
			continue
		}
		payload := b[header : len(b)-trailer]
		f.Add(uint32(version), uint64(0), payload, true)
		f.Add(uint32(version), uint64(0), payload[:len(payload)/2], true)
		f.Add(uint32(version), uint64(0), payload, false)
	}
	for _, n := range []uint64{1, 1 << 32, math.MaxInt64, math.MaxUint64} {
		f.Add(uint32(version), n, []byte("payload"), true)
	}
	// The shortest consistent files: an empty payload and its checksum.
	for _, v := range []uint32{0, version, math.MaxUint32} {
		f.Add(v, uint64(0), []byte{}, true)
	}
	f.Fuzz(func(t *testing.T, v uint32, delta uint64, payload []byte, crc bool) {
		rest := uint64(len(payload))
		if crc {
			rest += trailer
		}
		decodeAndUse(t, buildFile(v, rest-trailer+delta, payload, crc))
	})
}
