package hpa

import (
	"fmt"
	"os"
	"sync"
)

// Spill keeps the sealed blocks of loads' points in a temporary file
// instead of the heap: a plan that reads a fleet's history once (a usage
// file, Prometheus) holds two weeks of every workload's load until the HPA
// recommendations read each of them back once. The file is removed from
// its directory as soon as it is made (where the system allows it), so
// nothing is left behind whatever ends the process; its pages are the
// kernel's to keep or write out, not the process's. Blocks are appended and
// never freed: a load that forgets its oldest points leaves them in the
// file, so a Spill is for a run's reading, not for a process that samples
// for ever. A Spill is safe for concurrent use.
type Spill struct {
	mu sync.Mutex
	f  *os.File
	// buf holds what was put after the file's first flushed bytes.
	buf     []byte
	flushed int64
	// writeErr: the file took no more; the blocks since stay in buf.
	// readErr: a block could not be read back.
	writeErr, readErr error
}

// spillBuffer is how much a Spill gathers before it writes.
const spillBuffer = 256 << 10

// maxSpillOffset bounds the file: a block's reference packs its offset
// into 48 bits and its length into 16.
const maxSpillOffset = 1 << 48

// NewSpill makes a Spill in a new temporary file in dir (os.TempDir when
// empty).
func NewSpill(dir string) (*Spill, error) {
	f, err := os.CreateTemp(dir, "rightsize-loads-*")
	if err != nil {
		return nil, fmt.Errorf("hpa: a file for the loads: %w", err)
	}
	// Gone from the directory at once; the file lives while f is open
	// (os.File closes it once unreachable).
	_ = os.Remove(f.Name())
	return &Spill{f: f, buf: make([]byte, 0, spillBuffer)}, nil
}

// put appends block b (at most 65,535 bytes) and returns its reference.
func (s *Spill) put(b []byte) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf)+len(b) > cap(s.buf) && s.writeErr == nil {
		s.flush()
	}
	off := s.flushed + int64(len(s.buf))
	if off+int64(len(b)) >= maxSpillOffset && s.readErr == nil {
		// Past what a reference holds (256 TiB): not to be read back.
		s.readErr = fmt.Errorf("hpa: the loads' file reached %d bytes", off)
	}
	s.buf = append(s.buf, b...)
	return uint64(off)<<16 | uint64(len(b))
}

// flush writes buf to the file; after a failed write the blocks stay in
// buf, and buf grows.
func (s *Spill) flush() {
	if _, err := s.f.WriteAt(s.buf, s.flushed); err != nil {
		s.writeErr = fmt.Errorf("hpa: writing the loads to %s: %w", s.f.Name(), err)
		return
	}
	s.flushed += int64(len(s.buf))
	s.buf = s.buf[:0]
}

// get reads the block of reference ref into dst's storage and returns it.
// A block that cannot be read back reads as zeros, and Err says so.
func (s *Spill) get(ref uint64, dst []byte) []byte {
	off, n := int64(ref>>16), int(ref&0xffff)
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	s.mu.Lock()
	if off >= s.flushed {
		copy(dst, s.buf[off-s.flushed:])
		s.mu.Unlock()
		return dst
	}
	s.mu.Unlock()
	if _, err := s.f.ReadAt(dst, off); err != nil {
		clear(dst)
		s.mu.Lock()
		if s.readErr == nil {
			s.readErr = fmt.Errorf("hpa: reading the loads back from %s: %w", s.f.Name(), err)
		}
		s.mu.Unlock()
	}
	return dst
}

// Err reports a load that could not be read back: the loads read since
// are not to be trusted.
func (s *Spill) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readErr
}

// Warning says why loads stayed in memory after all, "" when none did.
func (s *Spill) Warning() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.writeErr == nil {
		return ""
	}
	return s.writeErr.Error() + ": the loads after it stayed in memory"
}
