package statestore

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sort"

	"rightsize.dev/rightsize/internal/atomicfile"
)

// The file is magic, version (uint32), payload length (uint64), the gob
// payload and its CRC-32C (uint32), all big-endian. A new layout of the
// payload gets a new version; an unknown version is refused, not guessed.
const (
	magic   = "RSZHIST\x00"
	version = 1
	header  = len(magic) + 4 + 8
	trailer = 4 // the CRC-32C
)

// DefaultMaxFileSize is the largest state file a store reads or writes
// unless Options.MaxFileSize says otherwise. A pod container sampled every
// 30 s for 14 days takes about 100 KB, so 1 GiB holds some ten thousand; the
// limit keeps a damaged or crafted file from making a run read and decode
// without bound.
const DefaultMaxFileSize = 1 << 30

// maxMilli is the latest time a file may hold, in Unix milliseconds: the
// pipeline measures times as time.Duration since 1970, which ends in 2262.
const maxMilli = math.MaxInt64 / 1_000_000

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
// renamed over the old file after keeping that as the previous copy. A state
// larger than the file size limit is not written, so that the next run is
// not left with a file it refuses to read.
func (s *Store) Save() error {
	if s.path == "" {
		return errors.New("writing state: the store has no file")
	}
	s.compact()
	payload, err := s.payload()
	if err != nil {
		return err
	}
	if size := int64(header + len(payload) + trailer); size > s.opts.MaxFileSize {
		return fmt.Errorf("writing state %s: %d bytes, more than the limit of %d", s.path, size, s.opts.MaxFileSize)
	}
	// Under the lock, any temporary file beside the state is a crashed
	// run's.
	if _, err := atomicfile.RemoveLeftovers(s.path); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	next, err := atomicfile.Prepare(s.path, 0o600, func(w io.Writer) error { return writeContents(w, payload) })
	if err != nil {
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
	if err := next.Commit(); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

// payload encodes the compacted store.
func (s *Store) payload() ([]byte, error) {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(s.to()); err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return payload.Bytes(), nil
}

// writeContents writes the file's layout: header, payload, checksum.
func writeContents(w io.Writer, payload []byte) error {
	if _, err := w.Write(appendHeader(nil, version, uint64(len(payload)))); err != nil {
		return err
	}
	if _, err := w.Write(payload); err != nil {
		return err
	}
	var sum [trailer]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(payload, castagnoli))
	_, err := w.Write(sum[:])
	return err
}

func appendHeader(b []byte, v uint32, n uint64) []byte {
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint32(b, v)
	return binary.BigEndian.AppendUint64(b, n)
}

// ErrNewerVersion is the error of a state file written by a newer build.
// Such a file is not damaged and this build must not replace it, so Open
// fails instead of setting it aside.
var ErrNewerVersion = errors.New("written by a newer rightsize")

// Errors of a damaged file.
var (
	errNotState  = errors.New("not a rightsize state file")
	errTruncated = errors.New("truncated")
	errChecksum  = errors.New("checksum mismatch")
)

// damagedError marks what is wrong with a file's contents, as opposed to
// not being able to read it: only a damaged file is set aside.
type damagedError struct{ err error }

func (e *damagedError) Error() string { return e.err.Error() }
func (e *damagedError) Unwrap() error { return e.err }

func isDamaged(err error) bool {
	var d *damagedError
	return errors.As(err, &d)
}

// readFile reads and decodes the file at path, refusing one larger than
// limit before reading it.
func readFile(path string, limit int64) (*contents, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	// Opening a named pipe would wait for a writer.
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > limit {
		return nil, &damagedError{fmt.Errorf("%d bytes, more than the limit of %d", fi.Size(), limit)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The size sizes the buffer; the limited reader keeps a file that grew
	// since within the limit too.
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, &damagedError{fmt.Errorf("more than the limit of %d bytes", limit)}
	}
	c, err := decode(buf.Bytes())
	if err != nil && !errors.Is(err, ErrNewerVersion) {
		return nil, &damagedError{err}
	}
	return c, err
}

// decode checks and decodes a whole file. Every length is compared with the
// bytes that are there, so no field can make it read past the input, and
// the decoded values are checked against what Save can write, so that a
// file that decodes is one the rest of the pipeline can take.
func decode(b []byte) (*contents, error) {
	if len(b) < header || string(b[:len(magic)]) != magic {
		if len(b) < header && bytes.HasPrefix([]byte(magic), b) {
			return nil, errTruncated
		}
		return nil, errNotState
	}
	switch v := binary.BigEndian.Uint32(b[len(magic):]); {
	case v > version:
		return nil, fmt.Errorf("%w (format version %d, this one reads up to %d)", ErrNewerVersion, v, version)
	case v != version:
		return nil, fmt.Errorf("unsupported format version %d (this build reads %d)", v, version)
	}
	// The length field is compared with the bytes after the header, never
	// added to: n+trailer overflows for a length near 2^64.
	n := binary.BigEndian.Uint64(b[len(magic)+4:])
	rest := uint64(len(b) - header)
	if rest < trailer || n > rest-trailer {
		return nil, errTruncated
	}
	if n < rest-trailer {
		return nil, fmt.Errorf("%d bytes of trailing data", rest-trailer-n)
	}
	payload := b[header : header+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[header+int(n):]) {
		return nil, errChecksum
	}
	c, err := decodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return c, nil
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
