package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestStoreDropsRepeatsOnArrival: every sample was kept until Finalize, so a
// source repeating one sample a million times held a million of them. A
// sample with its pod container's last timestamp is dropped at once.
func TestStoreDropsRepeatsOnArrival(t *testing.T) {
	const n = 1_000_000
	st := NewStore()
	smp := cpuSample("a", 0, 1)
	// Kept, the samples would take about 29 MB; allocated, twice that.
	alloclimit.Check(t, 1<<20, func() {
		for range n {
			st.Add(key, smp)
		}
	})
	assert.Equal(t, n-1, st.Finalize())
	assert.Equal(t, 1, st.Samples())
	assert.Equal(t, 0, st.Finalize(), "a second Finalize has nothing more to drop")
}

func TestStoreRecord(t *testing.T) {
	st := NewStore()
	set := func(m workload.Millicores) workload.Sample {
		s := cpuSample("a", 5*time.Minute, float64(m))
		s.Settings.Requests.CPU = m
		return s
	}
	for _, tc := range []struct {
		smp  workload.Sample
		kept bool
	}{
		{cpuSample("a", 0, 1), true},
		{cpuSample("a", 0, 2), false},                    // same instant: the first stays
		{cpuSample("a", 500*time.Microsecond, 3), false}, // same millisecond
		{cpuSample("b", 0, 4), true},                     // another pod
		{set(500), true},
		{set(700), false}, // its settings go with it
		{cpuSample("a", -time.Minute, 5), true},
		{cpuSample("a", 0, 6), true}, // a duplicate out of order: Finalize drops it
	} {
		assert.Equal(t, tc.kept, st.Record(key, tc.smp), "%v", tc.smp)
	}
	assert.Equal(t, 4, st.Finalize(), "three on arrival, one by sorting")
	ss := st.Series(key)
	require.Len(t, ss, 2)
	a := ss[0]
	require.Equal(t, 3, a.Len())
	assert.Equal(t, []float64{5, 1, 500}, a.CPU)
	assert.Equal(t, workload.Millicores(500), a.SettingsAt(2).Requests.CPU)
}

func TestSeriesReserve(t *testing.T) {
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: "Deployment", Name: "web"}, Container: "app"}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fill := func(st *Store, s *Series, from, n int) {
		for i := from; i < from+n; i++ {
			require.True(t, st.RecordTo(s, workload.Sample{Time: base.Add(time.Duration(i) * time.Minute), Pod: "web-1",
				CPU: workload.Cores(i), HasCPU: true, Memory: workload.Bytes(i), HasMemory: i%2 == 0,
				Throttled: float64(i%4) / 4, HasThrottled: i%3 == 0, OOMKilled: i == 7}))
		}
	}
	plain, reserved := NewStore(), NewStore()
	fill(plain, plain.SeriesOf(k, "web-1"), 0, 100)
	s := reserved.SeriesOf(k, "web-1")
	fill(reserved, s, 0, 5) // staged, not yet in the columns
	s.Reserve(95)
	caps := []int{cap(s.Time), cap(s.CPU), cap(s.Memory), cap(s.Throttled), cap(s.OOM)}
	for _, c := range caps {
		assert.GreaterOrEqual(t, c, 100, "room for the staged samples and the reserved ones")
	}
	fill(reserved, s, 5, 95)
	plain.Finalize()
	reserved.Finalize()
	assert.Equal(t, caps, []int{cap(s.Time), cap(s.CPU), cap(s.Memory), cap(s.Throttled), cap(s.OOM)}, "no column grew again")
	want := plain.Series(k)[0]
	assert.Equal(t, want.Time, s.Time)
	assert.Equal(t, want.OOM, s.OOM)
	for i := range want.Len() {
		assert.Equal(t, want.At(i), s.At(i))
	}
}
