package statestore

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

var (
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	web = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	db  = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}, Container: "postgres"}
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, warnings, err := Open(Options{Dir: dir, Name: "test", Now: c.now})
	require.NoError(t, err)
	require.Empty(t, warnings)
	t.Cleanup(func() { s.Close() })
	return s
}

func sample(pod string, at time.Time, cpu workload.Cores, mem workload.Bytes) workload.Sample {
	return workload.Sample{Time: at, Pod: pod, CPU: cpu, HasCPU: true, Memory: mem, HasMemory: true}
}

// fill loads every container of the store into a finalized history store.
func fill(s *Store) *history.Store {
	h := history.NewStore()
	s.Fill(h, func(workload.ContainerKey) (workload.Settings, bool) { return workload.Settings{}, true })
	h.Finalize()
	return h
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t0}
	s := open(t, dir, c)
	for i := range 10 {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		s.Add(web, sample("web-1", at, 0.25, 300*workload.MiB))
		s.Add(web, sample("web-2", at, 0.5, 310*workload.MiB))
	}
	s.Add(db, workload.Sample{Time: t0, Pod: "db-0", Memory: workload.GiB, HasMemory: true})
	require.NoError(t, s.Save())
	require.NoError(t, s.Close())

	s2 := open(t, dir, c)
	assert.Equal(t, Stats{Containers: 2, Pods: 3, Raw: 21}, s2.Stats())
	h := fill(s2)
	require.Equal(t, []workload.ContainerKey{web, db}, h.Containers())
	ser := h.Series(web)
	require.Len(t, ser, 2)
	assert.Equal(t, "web-1", ser[0].Pod)
	assert.Equal(t, 10, ser[0].Len())
	got := ser[1].At(3)
	assert.Equal(t, t0.Add(90*time.Second), got.Time)
	assert.InDelta(t, 0.5, float64(got.CPU), 1e-6)
	assert.Equal(t, 310*workload.MiB, got.Memory)
	dbs := h.Series(db)[0].At(0)
	assert.False(t, dbs.HasCPU, "a missing CPU value stays missing")
	assert.Equal(t, workload.GiB, dbs.Memory)
}

func TestAddIgnoresRepeatedAndOlderSamples(t *testing.T) {
	s := open(t, t.TempDir(), &clock{t0})
	s.Add(web, sample("web-1", t0, 0.1, workload.MiB))
	s.Add(web, sample("web-1", t0, 0.2, workload.MiB))
	s.Add(web, sample("web-1", t0.Add(-time.Second), 0.3, workload.MiB))
	s.Add(web, sample("web-1", t0.Add(time.Second), 0.4, workload.MiB))
	assert.Equal(t, 2, s.Stats().Raw)
}

func TestCompaction(t *testing.T) {
	c := &clock{t0}
	s := open(t, t.TempDir(), c)
	// Two days of samples every minute: the first day ends up in 5-minute
	// buckets, the last 24 h stay raw.
	for i := range 2 * 24 * 60 {
		at := t0.Add(time.Duration(i) * time.Minute)
		cpu := workload.Cores(0.1)
		mem := 100 * workload.MiB
		if i%5 == 4 {
			cpu, mem = 0.6, 200*workload.MiB // one spike per 5 minutes
		}
		s.Add(web, sample("web-1", at, cpu, mem))
	}
	c.t = t0.Add(48 * time.Hour)
	require.NoError(t, s.Save())
	st := s.Stats()
	assert.Equal(t, 24*60, st.Raw, "the last 24 h stay as taken")
	assert.Equal(t, 24*12, st.Buckets, "the day before in 5-minute buckets")

	h := fill(s)
	b := h.Series(web)[0].At(0)
	assert.Equal(t, t0, b.Time)
	assert.InDelta(t, 0.2, float64(b.CPU), 1e-6, "mean CPU of the bucket")
	assert.Equal(t, 200*workload.MiB, b.Memory, "peak memory of the bucket")

	// Buckets older than 14 days go; the raw samples were folded too.
	c.t = t0.Add(36*time.Hour + 14*24*time.Hour)
	s.Touch(web)
	require.NoError(t, s.Save())
	assert.Equal(t, Stats{Containers: 1, Pods: 1, Buckets: 12 * 12}, s.Stats(), "only the buckets younger than 14 days remain")
}

func TestExpiry(t *testing.T) {
	c := &clock{t0}
	s := open(t, t.TempDir(), c)
	s.Add(web, sample("web-1", t0, 0.1, workload.MiB))
	s.Add(db, sample("db-0", t0, 0.1, workload.MiB))
	c.t = t0.Add(6 * 24 * time.Hour)
	s.Touch(web) // still in the cluster
	c.t = t0.Add(8 * 24 * time.Hour)
	require.NoError(t, s.Save())
	assert.Equal(t, []workload.ContainerKey{web}, s.Containers(), "db was not seen for more than 7 days")
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, &clock{t0})
	_, _, err := Open(Options{Dir: dir, Name: "test"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use by another rightsize run (pid ")
	require.NoError(t, s.Close())
	s2, _, err := Open(Options{Dir: dir, Name: "test"})
	require.NoError(t, err, "the lock is released on Close")
	s2.Close()
}

// saved writes a store with one sample per generation into dir and returns
// its path; the second save leaves the first as the previous copy.
func saved(t *testing.T, dir string) string {
	t.Helper()
	c := &clock{t0}
	s := open(t, dir, c)
	s.Add(web, sample("web-1", t0, 0.1, workload.MiB))
	require.NoError(t, s.Save())
	s.Add(web, sample("web-1", t0.Add(time.Minute), 0.2, 2*workload.MiB))
	c.t = t0.Add(time.Minute)
	require.NoError(t, s.Save())
	require.NoError(t, s.Close())
	return s.Path()
}

func TestDamagedFiles(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string)
		warning string
		samples int
	}{
		{
			name: "crash while writing leaves the current file",
			damage: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path+".tmp", []byte("RSZHIST\x00\x00\x00"), 0o600))
			},
			samples: 2,
		},
		{
			name: "truncated file falls back to the previous copy",
			damage: func(t *testing.T, path string) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(path, b[:len(b)/2], 0o600))
			},
			warning: "is damaged (truncated); kept as {path}.corrupt; using the previous copy from 2026-03-01T12:00:00Z",
			samples: 1,
		},
		{
			name: "flipped byte fails the checksum",
			damage: func(t *testing.T, path string) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				b[len(b)-10] ^= 0xff
				require.NoError(t, os.WriteFile(path, b, 0o600))
			},
			warning: "is damaged (checksum mismatch)",
			samples: 1,
		},
		{
			name: "another file",
			damage: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path, []byte("hello, this is not a state file at all"), 0o600))
			},
			warning: "is damaged (not a rightsize state file)",
			samples: 1,
		},
		{
			name: "version 0",
			damage: func(t *testing.T, path string) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				b[len(magic)+3] = 0
				require.NoError(t, os.WriteFile(path, b, 0o600))
			},
			warning: "is damaged (unsupported format version 0 (this build reads 1))",
			samples: 1,
		},
		{
			name: "length field near 2^64",
			damage: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path, buildFile(version, math.MaxUint64-3, nil, false), 0o600))
			},
			warning: "is damaged (truncated); kept as {path}.corrupt; using the previous copy",
			samples: 1,
		},
		{
			name: "values a save cannot write",
			damage: func(t *testing.T, path string) {
				f := validPayload(t)
				f.Containers[0].Series[0].RawCPU[0] = -1
				require.NoError(t, os.WriteFile(path, encodeFile(t, f), 0o600))
			},
			warning: "is damaged (payload: Containers[0] (shop/Deployment/web app) pod \"web-1\": RawCPU[0]: -1 is neither missing (NaN) nor finite and non-negative)",
			samples: 1,
		},
		{
			name: "damaged without a previous copy starts empty",
			damage: func(t *testing.T, path string) {
				require.NoError(t, os.Remove(path+".prev"))
				require.NoError(t, os.WriteFile(path, []byte("RSZ"), 0o600))
			},
			warning: "is damaged (truncated); kept as {path}.corrupt; starting with empty history",
		},
		{
			name: "missing file with a previous copy",
			damage: func(t *testing.T, path string) {
				require.NoError(t, os.Remove(path))
			},
			warning: "is missing; using the previous copy",
			samples: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := saved(t, dir)
			tt.damage(t, path)
			s, warnings, err := Open(Options{Dir: dir, Name: "test", Now: (&clock{t0}).now})
			require.NoError(t, err, "a damaged file never stops the run")
			defer s.Close()
			if tt.warning == "" {
				assert.Empty(t, warnings)
			} else {
				require.Len(t, warnings, 1)
				assert.Contains(t, warnings[0], "state file "+path)
				assert.Contains(t, warnings[0], strings.ReplaceAll(tt.warning, "{path}", path))
			}
			assert.Equal(t, tt.samples, s.Stats().Raw)
			if tt.warning != "" && tt.name != "missing file with a previous copy" {
				_, err := os.Stat(path + ".corrupt")
				assert.NoError(t, err, "the damaged file is kept for inspection")
			}
			// The next save writes a good file again.
			require.NoError(t, s.Save())
			_, err = readFile(path, DefaultMaxFileSize)
			assert.NoError(t, err)
		})
	}
}

func TestGoldenFile(t *testing.T) {
	c := &clock{t0}
	s := &Store{opts: Options{Now: c.now}.withDefaults(), containers: map[workload.ContainerKey]*container{}}
	s.Add(web, sample("web-1", t0, 0.25, 300*workload.MiB))
	s.Add(web, sample("web-1", t0.Add(30*time.Second), 0.5, 310*workload.MiB))
	s.Add(db, workload.Sample{Time: t0, Pod: "db-0", Memory: workload.GiB, HasMemory: true})
	dir := t.TempDir()
	s.path = filepath.Join(dir, "v1.rsh")
	require.NoError(t, s.Save())
	got, err := os.ReadFile(s.path)
	require.NoError(t, err)
	goldenPath := filepath.Join("testdata", "v1.rsh")
	golden.Assert(t, goldenPath, got, "the version 1 layout changed: bump the version (run with -update only for a new version)")
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err)

	c2, err := decode(want)
	require.NoError(t, err)
	s2 := &Store{opts: s.opts, containers: c2.containers, path: filepath.Join(dir, "again.rsh")}
	require.NoError(t, s2.Save())
	again, err := os.ReadFile(s2.path)
	require.NoError(t, err)
	assert.Equal(t, want, again, "decoding and encoding again gives the same bytes")
}

func TestMemoryStoreEncodeRestore(t *testing.T) {
	c := &clock{t0}
	s := NewMemory(Options{Now: c.now})
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	for i := range 10 {
		s.Add(k, workload.Sample{Time: t0.Add(time.Duration(i) * 30 * time.Second), Pod: "web-1", CPU: 0.25, HasCPU: true, Memory: 100 << 20, HasMemory: true})
	}
	b, err := s.Encode()
	require.NoError(t, err)
	require.ErrorContains(t, s.Save(), "no file")

	r := NewMemory(Options{Now: c.now})
	require.NoError(t, r.Restore(b))
	assert.Equal(t, s.Stats(), r.Stats())
	assert.Equal(t, Stats{Containers: 1, Pods: 1, Raw: 10}, r.Stats())

	// Damaged input changes nothing.
	bad := append([]byte(nil), b...)
	bad[len(bad)-1] ^= 1
	require.Error(t, r.Restore(bad))
	require.Error(t, r.Restore(b[:len(b)-3]))
	assert.Equal(t, Stats{Containers: 1, Pods: 1, Raw: 10}, r.Stats())

	small := NewMemory(Options{Now: c.now, MaxFileSize: 32})
	_, err = s.Encode()
	require.NoError(t, err)
	require.ErrorContains(t, small.Restore(b), "more than the limit")
	for i := range 10 {
		small.Add(k, workload.Sample{Time: t0.Add(time.Duration(i) * time.Second), Pod: "p", CPU: 1, HasCPU: true})
	}
	_, err = small.Encode()
	require.ErrorContains(t, err, "more than the limit")
}

// TestSaveRemovesACrashedRunsTemporaryFile: a run that died between
// writing its new state and renaming it left a temporary file; the next
// save, under the lock, removes it.
func TestSaveRemovesACrashedRunsTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t0}
	s := open(t, dir, c)
	s.Add(web, sample("web-1", t0, 0.25, 300*workload.MiB))
	require.NoError(t, s.Save())
	leftover := filepath.Join(dir, ".test.rsh.123456.tmp")
	require.NoError(t, os.WriteFile(leftover, []byte("half a state"), 0o600))
	require.NoError(t, s.Save())
	_, err := os.Stat(leftover)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp")
	}
}
