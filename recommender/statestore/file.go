package statestore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"rightsize.dev/rightsize/recommender/workload"
)

// The file is magic, version (uint32), payload length (uint64), the gob
// payload and its CRC-32C (uint32), all big-endian. A new layout of the
// payload gets a new version; an unknown version is refused, not guessed.
const (
	magic   = "RSZHIST\x00"
	version = 1
	header  = len(magic) + 4 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileV1 is the payload of version 1. Times are delta-encoded so that gob's
// varints keep them at one or two bytes.
type fileV1 struct {
	Saved      int64
	Containers []fileContainer
}

type fileContainer struct {
	Namespace, Kind, Name, Container string
	LastSeen                         int64
	Series                           []fileSeries
}

type fileSeries struct {
	Pod    string
	RawT   []int64
	RawCPU []float32
	RawMem []int64
	BT     []int64
	BCPU   []float32
	BMem   []int64
	BN     []uint32
	BNCPU  []uint32
}

// Save compacts the store and writes it: to a temporary file, synced, then
// renamed over the old file after keeping that as the previous copy.
func (s *Store) Save() error {
	s.compact()
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(s.to()); err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := writeSynced(tmp, payload.Bytes()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing state: %w", err)
	}
	if _, err := os.Stat(s.path); err == nil {
		// Link, then rename: the previous copy is replaced atomically
		// and the current file never goes missing.
		prevTmp := s.path + ".prev.tmp"
		os.Remove(prevTmp)
		if err := os.Link(s.path, prevTmp); err == nil {
			if err := os.Rename(prevTmp, s.path+".prev"); err != nil {
				os.Remove(prevTmp)
			}
		}
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing state: %w", err)
	}
	return syncDir(filepath.Dir(s.path))
}

func writeSynced(path string, payload []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var hdr [header]byte
	copy(hdr[:], magic)
	binary.BigEndian.PutUint32(hdr[len(magic):], version)
	binary.BigEndian.PutUint64(hdr[len(magic)+4:], uint64(len(payload)))
	w.Write(hdr[:])
	w.Write(payload)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(payload, castagnoli))
	w.Write(sum[:])
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some filesystems cannot sync a directory; the rename still happened.
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// Errors of a damaged file.
var (
	errNotState  = errors.New("not a rightsize state file")
	errTruncated = errors.New("truncated")
	errChecksum  = errors.New("checksum mismatch")
)

func readFile(path string) (*fileV1, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decode(b)
}

func decode(b []byte) (*fileV1, error) {
	if len(b) < header || string(b[:len(magic)]) != magic {
		if len(b) < header && bytes.HasPrefix([]byte(magic), b) {
			return nil, errTruncated
		}
		return nil, errNotState
	}
	if v := binary.BigEndian.Uint32(b[len(magic):]); v != version {
		return nil, fmt.Errorf("unsupported version %d (this build reads %d)", v, version)
	}
	n := binary.BigEndian.Uint64(b[len(magic)+4:])
	if uint64(len(b)-header) < n+4 {
		return nil, errTruncated
	}
	if uint64(len(b)-header) > n+4 {
		return nil, fmt.Errorf("%d bytes of trailing data", uint64(len(b)-header)-n-4)
	}
	payload := b[header : header+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[header+int(n):]) {
		return nil, errChecksum
	}
	var f fileV1
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	return &f, nil
}

func (s *Store) to() *fileV1 {
	f := &fileV1{Saved: s.opts.Now().UnixMilli()}
	for _, k := range s.Containers() {
		c := s.containers[k]
		fc := fileContainer{Namespace: k.Workload.Namespace, Kind: string(k.Workload.Kind), Name: k.Workload.Name, Container: k.Container, LastSeen: c.lastSeen}
		pods := make([]string, 0, len(c.pods))
		for p := range c.pods {
			pods = append(pods, p)
		}
		sort.Strings(pods)
		for _, p := range pods {
			ser := c.pods[p]
			fs := fileSeries{Pod: p}
			var prev int64
			for _, r := range ser.raw {
				fs.RawT = append(fs.RawT, r.T-prev)
				prev = r.T
				fs.RawCPU = append(fs.RawCPU, r.CPU)
				fs.RawMem = append(fs.RawMem, r.Mem)
			}
			prev = 0
			for _, b := range ser.buckets {
				fs.BT = append(fs.BT, b.Start-prev)
				prev = b.Start
				fs.BCPU = append(fs.BCPU, b.CPU)
				fs.BMem = append(fs.BMem, b.Mem)
				fs.BN = append(fs.BN, b.N)
				fs.BNCPU = append(fs.BNCPU, b.NCPU)
			}
			fc.Series = append(fc.Series, fs)
		}
		f.Containers = append(f.Containers, fc)
	}
	return f
}

func (s *Store) from(f *fileV1) {
	for _, fc := range f.Containers {
		k := workload.ContainerKey{Workload: workload.Key{Namespace: fc.Namespace, Kind: workload.Kind(fc.Kind), Name: fc.Name}, Container: fc.Container}
		c := &container{lastSeen: fc.LastSeen, pods: map[string]*series{}}
		for _, fs := range fc.Series {
			ser := &series{}
			var t int64
			for i := range fs.RawT {
				t += fs.RawT[i]
				ser.raw = append(ser.raw, point{T: t, CPU: at(fs.RawCPU, i, float32(math.NaN())), Mem: at(fs.RawMem, i, -1)})
			}
			t = 0
			for i := range fs.BT {
				t += fs.BT[i]
				ser.buckets = append(ser.buckets, bucket{Start: t, CPU: at(fs.BCPU, i, float32(math.NaN())), Mem: at(fs.BMem, i, -1), N: at(fs.BN, i, 0), NCPU: at(fs.BNCPU, i, 0)})
			}
			c.pods[fs.Pod] = ser
		}
		s.containers[k] = c
	}
}

// at guards against columns of unequal length in a file that passed the
// checksum but was written by a buggy build.
func at[T any](xs []T, i int, def T) T {
	if i < len(xs) {
		return xs[i]
	}
	return def
}
