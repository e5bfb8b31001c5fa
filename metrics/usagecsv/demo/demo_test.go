package demo

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo/internal/gen"
	"rightsize.dev/rightsize/recommender/workload"
)

func TestEmbeddedFileIsGenerated(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, gen.Write(&buf))
	if bytes.Equal(buf.Bytes(), data) {
		return
	}
	// Go releases compress differently, and the module builds with more
	// than one: the rows are what must match, not the compressed bytes.
	if !bytes.Equal(gunzip(t, buf.Bytes()), gunzip(t, data)) {
		t.Fatal("demo.csv.gz is not what the generator writes; run go generate ./metrics/usagecsv/demo")
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func TestShape(t *testing.T) {
	assert.LessOrEqual(t, len(data), 5<<20, "the demo file stays small")

	r, err := usagecsv.NewReader(Open(), Name)
	require.NoError(t, err)

	type series struct {
		rows, oom, throttled int
		pods                 map[string]bool
		settings             map[workload.Settings]bool
		maxMem               workload.Bytes
	}
	all := map[workload.ContainerKey]*series{}
	var first, last time.Time
	steps := map[time.Time]bool{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		s := row.Sample
		require.True(t, s.HasCPU && s.HasMemory, "every row has both samples")
		require.True(t, s.CPU >= 0.005 && s.CPU <= 4, "cpu %v out of range at %v", s.CPU, row.Key)
		require.True(t, s.Memory >= 50*workload.MiB && s.Memory <= 8*workload.GiB, "memory %v out of range at %v", s.Memory, row.Key)
		sr := all[row.Key]
		if sr == nil {
			sr = &series{pods: map[string]bool{}, settings: map[workload.Settings]bool{}}
			all[row.Key] = sr
		}
		sr.rows++
		sr.pods[s.Pod] = true
		sr.settings[s.Settings] = true
		sr.maxMem = max(sr.maxMem, s.Memory)
		if s.OOMKilled {
			sr.oom++
		}
		if s.Throttled > 0.3 {
			sr.throttled++
		}
		if first.IsZero() || s.Time.Before(first) {
			first = s.Time
		}
		last = s.Time
		steps[s.Time] = true
	}
	st := r.Stats()
	assert.Zero(t, st.SkippedTotal(), st.String())
	assert.Equal(t, st.Read, st.Used)
	assert.Greater(t, st.Read, 50_000)

	assert.Equal(t, gen.Start, first)
	assert.Equal(t, gen.Start.Add(14*24*time.Hour-5*time.Minute), last)
	assert.Len(t, steps, 14*24*12, "one step every 5 minutes")

	key := func(kind workload.Kind, name, container string) workload.ContainerKey {
		return workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: kind, Name: name}, Container: container}
	}
	web := key(workload.Deployment, "web", "app")
	api := key(workload.Deployment, "api", "api")
	worker := key(workload.Deployment, "worker", "worker")
	db := key(workload.StatefulSet, "orders-db", "postgres")
	catalog := key(workload.Deployment, "catalog", "jvm")
	nginx := key(workload.Deployment, "frontend", "nginx")
	shipper := key(workload.Deployment, "frontend", "log-shipper")
	report := key(workload.CronJob, "report-nightly", "report")
	assert.ElementsMatch(t, []workload.ContainerKey{web, api, worker, db, catalog, nginx, shipper, report}, slices.Collect(maps.Keys(all)))

	assert.Len(t, all[web].pods, 6, "three pods, replaced by a rollout")
	assert.Len(t, all[db].pods, 1)
	assert.Len(t, all[report].pods, 14, "a pod a night")
	assert.Equal(t, 14*4, all[report].rows, "20 minutes a night")

	assert.Positive(t, all[api].throttled, "api is throttled in its bursts")
	assert.Zero(t, all[web].throttled)
	assert.GreaterOrEqual(t, all[worker].oom, 3, "the worker is OOM-killed a few times")
	assert.LessOrEqual(t, all[worker].oom, 10)
	for k, sr := range all {
		if k != worker {
			assert.Zero(t, sr.oom, k.String())
		}
	}

	assert.Equal(t, map[workload.Settings]bool{{}: true}, all[shipper].settings, "the sidecar has no requests or limits")
	assert.Greater(t, all[db].maxMem, 4*workload.GiB, "the database holds several GiB")
	for k, sr := range all {
		assert.Len(t, sr.settings, 1, "%v: settings do not change", k)
	}

	for _, c := range Critical() {
		assert.Contains(t, all, workload.ContainerKey{Workload: c, Container: "postgres"})
	}
	assert.NotEmpty(t, Description)
}
