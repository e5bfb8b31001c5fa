package statestore

import (
	"bytes"
	"fmt"

	"rightsize.dev/rightsize/recommender/workload"
)

// NewMemory returns a store kept in memory only, for a process that keeps
// its state elsewhere (the controller checkpoints it to the cluster with
// Encode and Restore). Dir, Name and the lock are not used; Save is not
// available.
func NewMemory(o Options) *Store {
	return &Store{opts: o.withDefaults(), containers: map[workload.ContainerKey]*container{}}
}

// Encode compacts the store and returns it in the state file's format
// (header, payload, checksum). A state larger than MaxFileSize is an error:
// Restore would refuse it.
func (s *Store) Encode() ([]byte, error) {
	s.compact()
	payload, err := s.payload()
	if err != nil {
		return nil, err
	}
	if size := int64(header + len(payload) + trailer); size > s.opts.MaxFileSize {
		return nil, fmt.Errorf("encoding state: %d bytes, more than the limit of %d", size, s.opts.MaxFileSize)
	}
	var b bytes.Buffer
	b.Grow(header + len(payload) + trailer)
	if err := writeContents(&b, payload); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Restore replaces what the store holds with an encoded state. Input that
// is damaged, too large or from a newer build is an error and leaves the
// store as it was.
func (s *Store) Restore(b []byte) error {
	if int64(len(b)) > s.opts.MaxFileSize {
		return fmt.Errorf("state of %d bytes, more than the limit of %d", len(b), s.opts.MaxFileSize)
	}
	c, err := decode(b)
	if err != nil {
		return err
	}
	s.containers = c.containers
	return nil
}
