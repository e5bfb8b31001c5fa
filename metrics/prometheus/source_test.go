package prometheus

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestResultSummary(t *testing.T) {
	r := &Result{
		URL: "http://p:9090", Series: 40, Samples: 53912, Step: 5 * time.Minute,
		First: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2026, 11, 14, 23, 55, 0, 0, time.UTC),
		Queries: 16, BytesReceived: 3_900_000, BytesOnWire: 815_000, Retries: 2, Splits: 1,
		Failed: []ChunkError{{Chunk: "namespace shop, 2026-11-03T00:00Z to 2026-11-04T00:00Z", Err: errors.New("boom")}},
	}
	assert.Equal(t, "prometheus http://p:9090: 40 pod containers, 53912 samples from 2026-11-01T00:00Z to 2026-11-14T23:55Z at 5m steps, 0 workload specs from kube-state-metrics; "+
		"16 queries, 3.9 MB received (815.0 kB on the wire), 2 retries, 1 splits; 1 chunks failed", r.Summary())

	// With CPU shapes asked for: for how many they were found, or that
	// none were.
	r.CPUResolution, r.Shaped = time.Minute, 38
	assert.Contains(t, r.Summary(), " at 5m steps (CPU percentiles of 1m rates for 38), 0 workload specs")
	r.CPUResolution, r.Shaped = 2*time.Minute, 0
	assert.Contains(t, r.Summary(), " at 5m steps (no 2m CPU rates: scraped less often?), 0 workload specs")
}

func TestStepString(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 5 * time.Minute: "5m", 30 * time.Second: "30s", 1500 * time.Millisecond: "1.5s"} {
		assert.Equal(t, want, stepString(d))
	}
}
