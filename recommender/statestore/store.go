package statestore

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Options configure a store. Zero values take the defaults.
type Options struct {
	// Dir holds the store's files; Name distinguishes stores in one
	// directory (one per cluster).
	Dir, Name string
	// RawRetention is how long samples are kept as taken (default 24 h).
	RawRetention time.Duration
	// Bucket is the width older samples are folded into (default 5 min).
	Bucket time.Duration
	// Retention is how long buckets are kept (default 14 days).
	Retention time.Duration
	// ExpireAfter drops workload containers neither sampled nor touched for
	// this long (default 7 days).
	ExpireAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxFileSize is the largest state file read or written, in bytes
	// (default DefaultMaxFileSize). A larger file is treated as damaged;
	// a state that would make one is not saved.
	MaxFileSize int64
}

func (o Options) withDefaults() Options {
	if o.RawRetention <= 0 {
		o.RawRetention = 24 * time.Hour
	}
	if o.Bucket < time.Millisecond { // buckets are whole milliseconds
		o.Bucket = 5 * time.Minute
	}
	if o.Retention <= 0 {
		o.Retention = 14 * 24 * time.Hour
	}
	if o.ExpireAfter <= 0 {
		o.ExpireAfter = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Name == "" {
		o.Name = "history"
	}
	return o
}

// point is one sample as taken. CPU is NaN and Mem negative when missing.
type point struct {
	T   int64 // Unix ms
	CPU float32
	Mem int64
}

// bucket summarizes the samples of one Bucket-wide interval.
type bucket struct {
	Start int64 // Unix ms
	CPU   float32
	Mem   int64
	N     uint32 // samples folded in (weights the CPU mean when merging)
	NCPU  uint32
}

type series struct {
	raw     []point
	buckets []bucket
}

type container struct {
	lastSeen int64
	pods     map[string]*series
}

// Store is the history kept between runs. It is not safe for concurrent
// use; one run owns it (the lock file enforces that across processes).
type Store struct {
	opts       Options
	path       string
	lock       *os.File
	containers map[workload.ContainerKey]*container
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// Open locks the store and loads it. A corrupt file is not an error: the
// previous copy is used and warnings say so. Errors are for a store that
// cannot be used at all: another run holds it, the directory or file cannot
// be read, or a newer build wrote it (ErrNewerVersion; the file is left as
// it is, for that build).
func Open(o Options) (*Store, []string, error) {
	o = o.withDefaults()
	if o.Dir == "" {
		return nil, nil, errors.New("state store: no directory")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("state store: %w", err)
	}
	s := &Store{opts: o, path: filepath.Join(o.Dir, o.Name+".rsh"), containers: map[workload.ContainerKey]*container{}}
	lock, err := acquireLock(filepath.Join(o.Dir, o.Name+".lock"))
	if err != nil {
		return nil, nil, fmt.Errorf("state store %s: %w", s.path, err)
	}
	s.lock = lock
	warnings, err := s.load()
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("state store %s: %w", s.path, err)
	}
	return s, warnings, nil
}

// Close releases the lock without saving.
func (s *Store) Close() error {
	if s.lock == nil {
		return nil
	}
	err := releaseLock(s.lock)
	s.lock = nil
	return err
}

// load reads the file, falling back to the previous copy when it is
// damaged or missing. A file this build cannot read without being damaged
// (a newer version, an I/O error) is an error, and nothing is renamed: a
// save would replace what a newer build wrote.
func (s *Store) load() (warnings []string, err error) {
	c, err := readFile(s.path, s.opts.MaxFileSize)
	if err == nil {
		s.containers = c.containers
		return nil, nil
	}
	missing := errors.Is(err, os.ErrNotExist)
	if !missing && !isDamaged(err) {
		return nil, err
	}
	prev, perr := readFile(s.path+".prev", s.opts.MaxFileSize)
	if perr != nil && !errors.Is(perr, os.ErrNotExist) && !isDamaged(perr) {
		return nil, fmt.Errorf("previous copy %s: %w", s.path+".prev", perr)
	}
	if missing {
		// A crash between the two renames of a save cannot remove the
		// file, but a person can; the previous copy is still history.
		if perr == nil {
			s.containers = prev.containers
			return []string{fmt.Sprintf("state file %s is missing; using the previous copy from %s", s.path, time.UnixMilli(prev.saved).UTC().Format(time.RFC3339))}, nil
		}
		return nil, nil
	}
	msg := fmt.Sprintf("state file %s is damaged (%v)", s.path, err)
	if rerr := os.Rename(s.path, s.path+".corrupt"); rerr == nil {
		msg += "; kept as " + s.path + ".corrupt"
	}
	if perr == nil {
		s.containers = prev.containers
		return []string{msg + fmt.Sprintf("; using the previous copy from %s", time.UnixMilli(prev.saved).UTC().Format(time.RFC3339))}, nil
	}
	return []string{msg + "; starting with empty history"}, nil
}

// Add records one sample of container k (Time, Pod, CPU, Memory are used).
// Samples at or before the pod's newest one are ignored: metrics-server
// answers the same window until its next scrape. So are samples outside
// the times a file may hold (1970 to 2262), and a negative or non-finite
// value counts as missing: Save writes nothing the next load would refuse.
func (s *Store) Add(k workload.ContainerKey, smp workload.Sample) {
	t := smp.Time.UnixMilli()
	if t < 0 || t > maxMilli {
		return
	}
	c := s.containers[k]
	if c == nil {
		c = &container{pods: map[string]*series{}}
		s.containers[k] = c
	}
	ser := c.pods[smp.Pod]
	if ser == nil {
		if c.pods == nil { // a loaded container without pods has none
			c.pods = map[string]*series{}
		}
		ser = &series{}
		c.pods[smp.Pod] = ser
	}
	if n := len(ser.raw); n > 0 && ser.raw[n-1].T >= t {
		return
	}
	if n := len(ser.buckets); n > 0 && ser.buckets[n-1].Start+s.opts.Bucket.Milliseconds() > t {
		return
	}
	p := point{T: t, CPU: float32(math.NaN()), Mem: -1}
	if cpu := float32(smp.CPU); smp.HasCPU && finiteNonNegative32(cpu) {
		p.CPU = cpu
	}
	if smp.HasMemory && smp.Memory >= 0 {
		p.Mem = int64(smp.Memory)
	}
	ser.raw = append(ser.raw, p)
	c.lastSeen = max(c.lastSeen, t)
}

// Touch marks workload containers as present in the cluster now, so that
// they do not expire while they are not sampled.
func (s *Store) Touch(keys ...workload.ContainerKey) {
	now := s.opts.Now().UnixMilli()
	for _, k := range keys {
		if c := s.containers[k]; c != nil {
			c.lastSeen = max(c.lastSeen, now)
		} else {
			s.containers[k] = &container{lastSeen: now, pods: map[string]*series{}}
		}
	}
}

// Containers returns the workload containers held, sorted.
func (s *Store) Containers() []workload.ContainerKey {
	keys := make([]workload.ContainerKey, 0, len(s.containers))
	for k := range s.containers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

// Fill adds the samples of the containers that selected accepts to h, with
// the settings it returns; a bucket becomes one sample at its start. It
// returns the number of samples added. h still needs Finalize.
func (s *Store) Fill(h *history.Store, selected func(workload.ContainerKey) (workload.Settings, bool)) int {
	n := 0
	for k, c := range s.containers {
		settings, ok := selected(k)
		if !ok {
			continue
		}
		for pod, ser := range c.pods {
			for _, b := range ser.buckets {
				smp := workload.Sample{Time: time.UnixMilli(b.Start).UTC(), Pod: pod, Settings: settings}
				if b.NCPU > 0 {
					smp.CPU, smp.HasCPU = workload.Cores(b.CPU), true
				}
				if b.Mem >= 0 {
					smp.Memory, smp.HasMemory = workload.Bytes(b.Mem), true
				}
				h.Add(k, smp)
				n++
			}
			for _, p := range ser.raw {
				smp := workload.Sample{Time: time.UnixMilli(p.T).UTC(), Pod: pod, Settings: settings}
				if !math.IsNaN(float64(p.CPU)) {
					smp.CPU, smp.HasCPU = workload.Cores(p.CPU), true
				}
				if p.Mem >= 0 {
					smp.Memory, smp.HasMemory = workload.Bytes(p.Mem), true
				}
				h.Add(k, smp)
				n++
			}
		}
	}
	return n
}

// Stats counts what the store holds.
type Stats struct {
	Containers, Pods, Raw, Buckets int
}

// Stats returns the store's size.
func (s *Store) Stats() Stats {
	var st Stats
	st.Containers = len(s.containers)
	for _, c := range s.containers {
		st.Pods += len(c.pods)
		for _, ser := range c.pods {
			st.Raw += len(ser.raw)
			st.Buckets += len(ser.buckets)
		}
	}
	return st
}

// compact folds raw samples older than RawRetention into buckets, drops
// buckets older than Retention and containers unseen for ExpireAfter.
func (s *Store) compact() {
	now := s.opts.Now()
	rawCut := now.Add(-s.opts.RawRetention).UnixMilli()
	bucketCut := now.Add(-s.opts.Retention).UnixMilli()
	expireCut := now.Add(-s.opts.ExpireAfter).UnixMilli()
	width := s.opts.Bucket.Milliseconds()
	for k, c := range s.containers {
		if c.lastSeen < expireCut {
			delete(s.containers, k)
			continue
		}
		for pod, ser := range c.pods {
			i := sort.Search(len(ser.raw), func(i int) bool { return ser.raw[i].T >= rawCut })
			for _, p := range ser.raw[:i] {
				ser.fold(p, width)
			}
			// Slicing off the front copies nothing: the next append that
			// outgrows the array copies only what is left, so a compaction
			// every few minutes costs what it folds or drops, not the
			// whole history.
			ser.raw = ser.raw[i:]
			j := sort.Search(len(ser.buckets), func(j int) bool { return ser.buckets[j].Start >= bucketCut })
			ser.buckets = ser.buckets[j:]
			if len(ser.raw) == 0 && len(ser.buckets) == 0 {
				delete(c.pods, pod)
			}
		}
	}
}

// fold merges a raw sample into the bucket it falls in; samples arrive in
// time order, so that is the last bucket or a new one. A sample that falls
// before the last bucket (kept as taken under a narrower Bucket, folded
// under a wider one) joins the last bucket, so that bucket starts keep
// increasing.
func (ser *series) fold(p point, width int64) {
	start := p.T - p.T%width
	n := len(ser.buckets)
	if n > 0 && start < ser.buckets[n-1].Start {
		start = ser.buckets[n-1].Start
	}
	if n == 0 || ser.buckets[n-1].Start != start {
		ser.buckets = append(ser.buckets, bucket{Start: start, CPU: float32(math.NaN()), Mem: -1})
		n++
	}
	b := &ser.buckets[n-1]
	b.N++
	if !math.IsNaN(float64(p.CPU)) {
		if b.NCPU == 0 {
			b.CPU = 0
		}
		b.NCPU++
		b.CPU += (p.CPU - b.CPU) / float32(b.NCPU)
	}
	b.Mem = max(b.Mem, p.Mem)
}
