package source

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"rightsize.dev/rightsize/internal/memlimit"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/hpafile"
	"rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/workload"
)

// usageFile writes a usage file of 200 rows five minutes apart from
// 2023-11-14T22:13:20Z on.
func usageFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes,cpu_limit_cores\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,ns,Deployment,app,app-1,main,0.25,268435456,2\n", 1700000000+i*300)
	}
	path := filepath.Join(t.TempDir(), "usage.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestReaderOptions: the flags become the reader's options, with the
// source's clock; unregistered flags mean the defaults.
func TestReaderOptions(t *testing.T) {
	now := time.Date(2023, 11, 14, 23, 0, 0, 0, time.UTC)
	s := &Flags{Now: func() time.Time { return now }}
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	s.AddFlags(fs)
	o := s.ReaderOptions()
	assert.Equal(t, usagecsv.DefaultSince, o.Since)
	assert.Equal(t, usagecsv.DefaultFuture, o.Future)
	assert.Equal(t, usagecsv.DefaultMaxCPU, o.MaxCPU)
	assert.Equal(t, usagecsv.DefaultMaxMemory, o.MaxMemory)
	assert.Equal(t, now, o.Now())

	require.NoError(t, fs.Parse([]string{"--accept-since", "2020-01-01T00:00:00Z", "--accept-future", "1h", "--accept-max-cpu", "128", "--accept-max-memory", "4Ti"}))
	o = s.ReaderOptions()
	assert.Equal(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), o.Since)
	assert.Equal(t, time.Hour, o.Future)
	assert.Equal(t, workload.Cores(128), o.MaxCPU)
	assert.Equal(t, 4*1024*workload.GiB, o.MaxMemory)

	bare := (&Flags{}).ReaderOptions()
	bare.Now = nil
	assert.Equal(t, usagecsv.DefaultOptions(), bare)

	// The clock decides which rows lie in the future: with the file's first
	// rows just before now+1h, the later ones are skipped.
	s.Input = usageFile(t)
	s.Cluster = nil
	d := loadData(t, s)
	assert.Contains(t, d.Summary, "timestamp outside 2020-01-01…now+1h")
	_, last := d.Store.Span()
	assert.False(t, last.After(now.Add(time.Hour)), "last sample %v", last)
}

// The demo's instants are fixed when it is generated; a clock behind them
// must not skip them as rows from the future.
func TestDemoIgnoresTheClock(t *testing.T) {
	s := &Flags{Now: func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }}
	s.AddFlags(pflag.NewFlagSet("plan", pflag.ContinueOnError))
	s.Cluster = nil
	d := loadData(t, s)
	assert.Equal(t, demo.Name, d.Name)
	assert.Contains(t, d.Summary, "skipped 0")
}

// loadData runs the source the options choose.
func loadData(t *testing.T, s *Flags) *recommender.Data {
	t.Helper()
	src, err := s.Open(slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	d, err := (&recommender.Pipeline{Source: src}).Load(context.Background())
	require.NoError(t, err)
	return d
}

// TestHeapPacing: the sources whose loading keeps its heap near what is
// live are Prometheus (under specs or an HPA file too, into sketches or
// not) and a file read into sketches, the latter nearer; a file read as
// samples and the demo are not.
func TestHeapPacing(t *testing.T) {
	sketches := &livestate.Options{}
	for _, tc := range []struct {
		name string
		src  recommender.Source
		want bool
		h    memlimit.Headroom
	}{
		{"prometheus", prometheus.Source{}, true, memlimit.Default},
		{"prometheus into sketches", prometheus.Source{Sketches: sketches}, true, memlimit.Default},
		{"prometheus under an HPA file", hpafile.Source{Source: prometheus.Source{}}, true, memlimit.Default},
		{"usage file into sketches", usagecsv.File{Sketches: sketches}, true, memlimit.Tight},
		{"usage file as samples", usagecsv.File{}, false, memlimit.Headroom{}},
		{"demo", demo.Source{}, false, memlimit.Headroom{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := HeapPacing(tc.src)
			assert.Equal(t, tc.want, ok)
			if ok {
				assert.Equal(t, tc.h, h)
			}
		})
	}
}
