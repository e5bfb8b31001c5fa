package usagecsv

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestLoadSketchesMatchSamples plans a file read into sketches and the same
// file read as samples, HPAs included, with the balanced profile: the
// recommended requests and limits agree within 1 % for 95 % of the values
// and within 5 % for all but 2 %.
func TestLoadSketchesMatchSamples(t *testing.T) {
	data := benchFile(t, 200_000, 50) // 50 containers, 14 days at 5 minutes
	plan := func(d *recommender.Data) workload.Plan {
		t.Helper()
		p := &recommender.Pipeline{Recommender: recommender.Recommender{Profile: policy.Balanced()}}
		pl, err := p.Plan(context.Background(), d, time.Time{})
		require.NoError(t, err)
		return pl
	}
	samples, _, err := DefaultOptions().LoadData(bytes.NewReader(data), "usage.csv")
	require.NoError(t, err)
	sketches, stats, err := DefaultOptions().LoadSketches(bytes.NewReader(data), "usage.csv", livestate.Options{History: policy.Balanced().History})
	require.NoError(t, err)
	assert.Equal(t, 200_000, stats.Used)
	require.NotNil(t, sketches.States)
	diffs := SettingsDiffs(t, plan(samples), plan(sketches))
	over5 := 0
	for _, d := range diffs {
		if d > 0.05 {
			over5++
		}
	}
	t.Logf("%d values: p50 %.4f %%, p95 %.4f %%, max %.4f %%", len(diffs), 100*diffs[len(diffs)/2], 100*diffs[len(diffs)*95/100], 100*diffs[len(diffs)-1])
	assert.LessOrEqual(t, diffs[len(diffs)*95/100], 0.01, "95 %% of the values within 1 %%")
	assert.LessOrEqual(t, over5, len(diffs)/50, "at most 2 %% over 5 %%")
}

// TestLoadSketchesOrder: a duplicate is skipped and counted as the samples'
// reading counts it; a row before a newer one of its pod container ends
// this way of reading, and File reads the file again as samples, saying
// so.
func TestLoadSketchesOrder(t *testing.T) {
	const header = "timestamp,namespace,kind,workload,pod,container,cpu_cores\n"
	row := func(ts, pod string) string { return ts + ",shop,Deployment,web," + pod + ",app,0.5\n" }
	lo := livestate.Options{History: policy.Balanced().History}

	d, stats, err := DefaultOptions().LoadSketches(strings.NewReader(header+row("1700000000", "web-1")+row("1700000000", "web-1")+row("1700000300", "web-1")), "dup.csv", lo)
	require.NoError(t, err)
	assert.Equal(t, 1, stats.Skipped[SkipDuplicate])
	assert.Equal(t, 2, stats.Used)
	cpu, _ := d.States.Get(workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}, false).Samples()
	assert.Equal(t, 2, cpu, "the duplicate left out")

	shuffled := header + row("1700000300", "web-1") + row("1700000000", "web-1")
	_, _, err = DefaultOptions().LoadSketches(strings.NewReader(shuffled), "shuffled.csv", lo)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrOutOfOrder), "%v", err)
	assert.Contains(t, err.Error(), "shuffled.csv:3: ")

	path := filepath.Join(t.TempDir(), "shuffled.csv")
	require.NoError(t, os.WriteFile(path, []byte(shuffled), 0o600))
	d, err = File{Path: path, Options: DefaultOptions(), Sketches: &lo}.Load(context.Background(), nil)
	require.NoError(t, err)
	require.NotNil(t, d.Store, "read again as samples")
	assert.Nil(t, d.States)
	require.Len(t, d.Warnings, 1)
	assert.Contains(t, d.Warnings[0], "read again keeping every sample")
	assert.Equal(t, 2, d.Store.Samples())
}

// SettingsDiffs are the relative differences of every recommended request
// and limit between two plans of the same workloads, sorted. (Exported for
// the tests of package usagecsv_test.)
func SettingsDiffs(t testing.TB, want, got workload.Plan) []float64 {
	t.Helper()
	require.Len(t, got.Workloads, len(want.Workloads))
	var diffs []float64
	for i, wp := range want.Workloads {
		gp := got.Workloads[i]
		require.Equal(t, wp.Key, gp.Key)
		require.Len(t, gp.Containers, len(wp.Containers))
		for j, c := range wp.Containers {
			a, b := c.Recommended(), gp.Containers[j].Recommended()
			for _, v := range [][2]float64{{float64(a.Requests.CPU), float64(b.Requests.CPU)}, {float64(a.Limits.CPU), float64(b.Limits.CPU)},
				{float64(a.Requests.Memory), float64(b.Requests.Memory)}, {float64(a.Limits.Memory), float64(b.Limits.Memory)}} {
				d := 0.0
				if v[0] != v[1] {
					d = math.Abs(v[0]-v[1]) / max(math.Abs(v[0]), math.Abs(v[1]))
				}
				diffs = append(diffs, d)
			}
		}
	}
	slices.Sort(diffs)
	return diffs
}
