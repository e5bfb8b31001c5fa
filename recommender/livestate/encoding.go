package livestate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"rightsize.dev/rightsize/internal/binread"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/statestore"
	"rightsize.dev/rightsize/recommender/workload"
)

// The encoding, version 2: "RSL" 2, the cursor (its source's name and
// the Unix ms it was read until, 0 for none), the number of containers,
// each as its key (namespace, kind, workload, container), when it was last
// seen (Unix ms) and its accumulator's encoding (length first); the number
// of workloads with loads, each as its key and its load's encoding (length
// first); then the CRC-32C of all that. Containers and workloads are
// sorted, so one state always encodes to the same bytes. Version 1 is
// version 2 without the cursor; it is read still.
const (
	magic   = "RSL"
	version = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// oldMagic starts a checkpoint written as a sample store (statestore).
const oldMagic = "RSZHIST\x00"

// ErrNewerVersion says a newer build wrote the state.
var ErrNewerVersion = errors.New("the state was written by a newer version")

// Encode expires nothing: call Expire first. Its size is about 850 bytes
// per container after 14 days at 30 s (history's encoding) plus 5 bytes per
// load point of each scalable workload.
func (s *State) Encode() []byte {
	b := append([]byte(magic), version)
	b = appendString(b, s.cursor.Source)
	var until uint64
	if !s.cursor.Until.IsZero() {
		until = uint64(max(s.cursor.Until.UnixMilli(), 0))
	}
	b = binary.AppendUvarint(b, until)
	keys := s.keys()
	b = binary.AppendUvarint(b, uint64(len(keys)))
	var scratch []byte
	for _, k := range keys {
		b = appendKey(b, k.Workload)
		b = appendString(b, k.Container)
		b = binary.AppendUvarint(b, uint64(max(s.seen[k], 0)))
		scratch = s.containers.Get(k, false).AppendBinary(scratch[:0])
		b = binary.AppendUvarint(b, uint64(len(scratch)))
		b = append(b, scratch...)
	}
	wks := s.workloads()
	b = binary.AppendUvarint(b, uint64(len(wks)))
	for _, k := range wks {
		b = appendKey(b, k)
		scratch = s.loads[k].AppendBinary(scratch[:0])
		b = binary.AppendUvarint(b, uint64(len(scratch)))
		b = append(b, scratch...)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func appendKey(b []byte, k workload.Key) []byte {
	return appendString(appendString(appendString(b, k.Namespace), string(k.Kind)), k.Name)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Restore replaces what the state holds with an encoded state, or with the
// samples of a sample store the controller checkpointed before (replayed
// in time order). Damaged input or a newer version is an error and leaves
// the state as it was. Parts that are sound but cannot be kept — a
// container kept with other history options (another profile), a load of
// another step — are skipped and said in the warnings.
func (s *State) Restore(b []byte) (warnings []string, err error) {
	if bytes.HasPrefix(b, []byte(oldMagic)) {
		return s.restoreSamples(b)
	}
	if len(b) < len(magic)+1+4 || string(b[:len(magic)]) != magic {
		return nil, errors.New("live state: not a state (bad magic)")
	}
	v := b[len(magic)]
	if v != version && v != 1 {
		if v > version {
			return nil, fmt.Errorf("live state: version %d: %w", v, ErrNewerVersion)
		}
		return nil, fmt.Errorf("live state: unknown version %d", v)
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, errors.New("live state: checksum mismatch (damaged)")
	}
	next, err := New(s.o)
	if err != nil {
		return nil, err
	}
	r := &reader{binread.Reader{B: body[len(magic)+1:]}}
	if v >= 2 {
		next.cursor.Source = r.str("cursor source")
		switch until := r.uvarint("cursor"); {
		case until > math.MaxInt64:
			r.Fail("cursor out of range")
		case until > 0:
			next.cursor.Until = time.UnixMilli(int64(until)).UTC()
		}
	}
	n := r.count("containers")
	skippedOptions := 0
	for i := 0; i < n && r.Err == nil; i++ {
		k := workload.ContainerKey{Workload: r.key(), Container: r.str("container")}
		seen := r.uvarint("last seen")
		enc := r.bytes("accumulator")
		if r.Err != nil {
			break
		}
		if k.Container == "" {
			r.Fail("container %d: no container name", i)
			break
		}
		if seen > math.MaxInt64 {
			r.Fail("container %s: last seen out of range", k)
			break
		}
		a, err := history.UnmarshalAccumulator(enc, s.o.History)
		switch {
		case errors.Is(err, history.ErrOtherOptions):
			skippedOptions++
			continue
		case err != nil:
			r.Fail("container %s: %v", k, err)
		case next.containers.Get(k, false) != nil:
			r.Fail("container %s twice", k)
		default:
			_ = next.containers.Put(k, a) // made with the state's options
			next.seen[k] = int64(seen)
		}
	}
	n = r.count("workloads")
	for i := 0; i < n && r.Err == nil; i++ {
		k := r.key()
		enc := r.bytes("load")
		if r.Err != nil {
			break
		}
		var l hpa.LoadState
		rest, err := l.UnmarshalBinary(enc)
		switch {
		case err != nil:
			r.Fail("workload %s: load: %v", k, err)
		case len(rest) != 0:
			r.Fail("workload %s: load: %d bytes too many", k, len(rest))
		case next.loads[k] != nil:
			r.Fail("workload %s twice", k)
		case l.Step() != s.o.LoadStep:
			warnings = append(warnings, fmt.Sprintf("workload %s: load kept at a step of %s, not %s: starting it over", k, l.Step(), s.o.LoadStep))
		default:
			next.loads[k] = &l
		}
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Fail("%d bytes after the end", len(r.B))
	}
	if r.Err != nil {
		return nil, fmt.Errorf("live state: %w", r.Err)
	}
	if skippedOptions > 0 {
		warnings = append(warnings, fmt.Sprintf("%d containers kept with other history options (another profile): their history starts over", skippedOptions))
	}
	*s = *next
	return warnings, nil
}

// restoreSamples replays a sample store's samples, workload by workload in
// time order, so that the windows, peaks and loads see them as they came.
func (s *State) restoreSamples(b []byte) ([]string, error) {
	old := statestore.NewMemory(statestore.Options{MaxFileSize: math.MaxInt64})
	if err := old.Restore(b); err != nil {
		return nil, fmt.Errorf("live state: a sample store: %w", err)
	}
	h := history.NewStore()
	old.Fill(h, func(workload.ContainerKey) (workload.Settings, bool) { return workload.Settings{}, true })
	h.Finalize()
	next, err := New(s.o)
	if err != nil {
		return nil, err
	}
	next.AddStore(h, nil)
	*s = *next
	return []string{fmt.Sprintf("read a sample store of %d samples (an earlier format) into sketches", h.Samples())}, nil
}

// reader decodes; the first error sticks and every read after it is zero.
type reader struct{ binread.Reader }

func (r *reader) uvarint(what string) uint64 {
	had := r.Err != nil
	v := r.Uvarint()
	if !had && r.Err != nil {
		r.Err = fmt.Errorf("%s: %w", what, r.Err)
	}
	return v
}

// count reads a count of items, each at least 2 bytes: more than the
// bytes left could hold is damage, not a reason to allocate.
func (r *reader) count(what string) int {
	v := r.uvarint(what)
	if v > uint64(len(r.B)/2) {
		r.Fail("%s: %d, more than the %d bytes left could hold", what, v, len(r.B))
		return 0
	}
	return int(v)
}

func (r *reader) bytes(what string) []byte {
	n := r.uvarint(what)
	if r.Err != nil {
		return nil
	}
	if n > uint64(len(r.B)) {
		r.Fail("%s: %d bytes, only %d left", what, n, len(r.B))
		return nil
	}
	return r.Next(n)
}

// maxName bounds a name read: Kubernetes names are at most 253 bytes.
const maxName = 253

func (r *reader) str(what string) string {
	b := r.bytes(what)
	if len(b) > maxName {
		r.Fail("%s: %d bytes, longer than a Kubernetes name", what, len(b))
		return ""
	}
	return string(b)
}

func (r *reader) key() workload.Key {
	ns, kind, name := r.str("namespace"), r.str("kind"), r.str("workload")
	if r.Err != nil {
		return workload.Key{}
	}
	k, ok := workload.ParseKind(kind)
	if !ok || ns == "" || name == "" {
		r.Fail("workload %q/%q/%q: not a workload key", ns, kind, name)
		return workload.Key{}
	}
	return workload.Key{Namespace: ns, Kind: k, Name: name}
}
