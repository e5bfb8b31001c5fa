package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestMemoryTrend(t *testing.T) {
	until := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	gib := float64(workload.GiB)
	// peaks lists daily peaks in GiB, oldest first, the newest ending at until.
	summary := func(peaks ...float64) *Summary {
		s := &Summary{Until: until}
		for i, p := range peaks {
			end := until.Add(-time.Duration(len(peaks)-1-i) * day)
			s.Peaks = append(s.Peaks, Peak{Pod: "p", End: end, Bytes: workload.BytesOf(p * gib), Observed: workload.BytesOf(p * gib)})
		}
		return s
	}
	cases := []struct {
		name    string
		peaks   []float64
		growing bool
		perDay  float64 // GiB
		tau     float64
	}{
		{name: "steady leak", peaks: []float64{1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.4}, growing: true, perDay: 0.2, tau: 1},
		{name: "leak with one spike", peaks: []float64{1, 1.2, 5, 1.6, 1.8, 2.0, 2.2, 2.4}, growing: true, perDay: 0.2, tau: 18.0 / 28}, // 5 of 28 pairs discordant
		{name: "flat", peaks: []float64{2, 2, 2, 2, 2, 2}, growing: false, perDay: 0, tau: 0},
		{name: "shrinking", peaks: []float64{3, 2.8, 2.6, 2.4, 2.2}, growing: false, perDay: -0.2, tau: -1},
		{name: "noise around a level", peaks: []float64{2, 2.1, 1.9, 2.05, 1.95, 2.0, 2.1, 1.9}, growing: false},
		{name: "rise too small to matter", peaks: []float64{10, 10.1, 10.2, 10.3, 10.4}, growing: false, perDay: 0.1, tau: 1},
		{name: "too few days", peaks: []float64{1, 2, 3}, growing: false, perDay: 1, tau: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := summary(tc.peaks...).MemoryTrend(day)
			assert.Equal(t, tc.growing, tr.Growing(4, 0.6, 0.1), "%+v", tr)
			if tc.perDay != 0 || tc.tau != 0 {
				assert.InDelta(t, tc.perDay, tr.PerDay/gib, 1e-6)
				assert.InDelta(t, tc.tau, tr.Tau, 0.01)
			}
			assert.Equal(t, len(tc.peaks), tr.Intervals)
		})
	}
}

func TestMemoryTrendIgnoresOOMBumps(t *testing.T) {
	until := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	s := &Summary{Until: until}
	for i := range 6 {
		p := Peak{Pod: "p", End: until.Add(-time.Duration(5-i) * 24 * time.Hour), Observed: workload.GiB, Bytes: workload.GiB}
		if i >= 3 {
			p.Bytes, p.OOM = 3*workload.GiB, true // the bump, not usage
		}
		s.Peaks = append(s.Peaks, p)
	}
	assert.False(t, s.MemoryTrend(24*time.Hour).Growing(4, 0.6, 0.1))
}
