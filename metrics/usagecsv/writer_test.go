package usagecsv

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestWriterFormat(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.Write(Row{
		Key: workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"},
		Sample: workload.Sample{
			Time: time.Unix(1700000000, 0), Pod: "web-1",
			CPU: 0.25, HasCPU: true, Memory: 256 * workload.MiB, HasMemory: true,
			Throttled: 0.1, HasThrottled: true,
			Settings: workload.Settings{
				Requests: workload.Resources{CPU: 500, Memory: 512 * workload.MiB},
				Limits:   workload.Resources{CPU: 1000, Memory: workload.GiB},
			},
		},
	}))
	require.NoError(t, w.Write(Row{
		Key:    workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Pod, Name: "p"}, Container: "c"},
		Sample: workload.Sample{Time: time.Unix(1700000300, 250e6), Pod: "p", OOMKilled: true},
	}))
	require.NoError(t, w.Flush())
	assert.Equal(t, header+good+"1700000300.25,shop,Pod,p,p,c,,,,,,,1,\n", buf.String())
}

func TestWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, NewWriter(&buf).Flush())
	assert.Equal(t, header, buf.String(), "an empty export still has its header")
}

func TestWriterQuotes(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.Write(Row{
		Key:    workload.ContainerKey{Workload: workload.Key{Namespace: "ops", Kind: workload.CronJob, Name: "report"}, Container: `odd, "name"`},
		Sample: workload.Sample{Time: time.Unix(1700000000, 0), Pod: "report-1", Memory: 5, HasMemory: true},
	}))
	require.NoError(t, w.Flush())
	assert.Equal(t, header+`1700000000,ops,CronJob,report,report-1,"odd, ""name""",,5,,,,,0,`+"\n", buf.String())
}

func TestRoundTrip(t *testing.T) {
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	rows := []Row{
		{
			Key: workload.ContainerKey{Workload: web, Container: "app"},
			Sample: workload.Sample{Time: base, Pod: "web-7d9f-abcde", CPU: 0.2123, HasCPU: true,
				Memory: 268435456, HasMemory: true,
				Settings: workload.Settings{Requests: workload.Resources{CPU: 333, Memory: 512 * workload.MiB}}},
		},
		{
			Key: workload.ContainerKey{Workload: web, Container: "app"},
			Sample: workload.Sample{Time: base.Add(1500 * time.Millisecond), Pod: "web-7d9f-abcde",
				CPU: 1.0 / 3, HasCPU: true, Throttled: 0.37, HasThrottled: true,
				Settings: workload.Settings{Limits: workload.Resources{CPU: 1500, Memory: 8 * workload.GiB}}},
		},
		{
			Key:    workload.ContainerKey{Workload: workload.Key{Namespace: "ops", Kind: workload.CronJob, Name: "report"}, Container: "report"},
			Sample: workload.Sample{Time: time.Unix(-3, -5e8).UTC(), Pod: "report-1", Memory: 5, HasMemory: true, OOMKilled: true},
		},
		{
			Key:    workload.ContainerKey{Workload: web, Container: "app"},
			Sample: workload.Sample{Time: base, Pod: "web-7d9f-abcde", CPU: 1e-7, HasCPU: true, Memory: 1 << 40, HasMemory: true},
		},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	text := buf.String()
	assert.NotContains(t, text, "e+", "bytes are written as integers")

	// The window reaches back before 1970 for the negative timestamp.
	o := DefaultOptions()
	o.Since = time.Unix(-10, 0)
	r, err := o.NewReader(&buf, "round.csv")
	require.NoError(t, err)
	for i, want := range rows {
		got, err := r.Read()
		require.NoError(t, err, i)
		assert.Equal(t, want.Key, got.Key, i)
		assert.True(t, want.Sample.Time.Equal(got.Sample.Time), "row %d: %v != %v", i, want.Sample.Time, got.Sample.Time)
		got.Sample.Time = want.Sample.Time
		assert.Equal(t, want.Sample, got.Sample, i)
	}
	_, err = r.Read()
	assert.Equal(t, io.EOF, err)
	assert.Equal(t, "read 4 rows, used 4, skipped 0", r.Stats().String())
}
