package prometheus

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
)

// addAll adds every sample of src to dst.
func addAll(dst, src *history.Store) {
	for _, k := range src.Containers() {
		for _, s := range src.Series(k) {
			for i := range s.Len() {
				dst.Add(k, s.At(i))
			}
		}
	}
}

// TestIntegrationFollowerReadsEachStepOnce follows the demo dataset in
// each store: read in stretches, and again in two reads that end and
// start at a cursor, it gives exactly the samples one collection of the
// same window gives, each once; a read with nothing new asks nothing, and
// a stretch before any pod ran is read past.
func TestIntegrationFollowerReadsEachStepOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		o := demoOptions(srv.URL, csv)
		o.CPUResolution = -1 // step by step (TestIntegrationFollowerShapes reads hours)
		f := &Follower{Options: o, MaxRange: 2 * time.Hour, Delay: 30 * time.Second}
		end := f.Align(o.End) // the demo's last step
		o.End = end

		whole := o
		whole.History = 10 * time.Hour
		want, err := Collect(context.Background(), whole, nil, nil)
		require.NoError(t, err)

		read := func(since, now time.Time) (*history.Store, time.Time, FollowStats) {
			t.Helper()
			got := history.NewStore()
			until, st, err := f.Read(context.Background(), since, now, func(r *Result) { addAll(got, r.Store) })
			require.NoError(t, err)
			got.Finalize()
			return got, until, st
		}
		since := end.Add(-10 * time.Hour)

		got, until, st := read(since, end.Add(f.Delay))
		assert.Equal(t, end, until)
		assert.Equal(t, 5, st.Collections, "10 hours in stretches of 2")
		assert.Equal(t, want.Samples, st.Samples)
		requireSameSamples(t, want.Store, got)

		// Two reads: the first stops at the last step ended a delay before
		// its now; the second reads on from there.
		mid := end.Add(-3*time.Hour - 2*time.Minute)
		first, cursor, _ := read(since, mid.Add(f.Delay))
		assert.Equal(t, f.Align(mid), cursor)
		second, until, _ := read(cursor, end.Add(f.Delay+time.Minute))
		assert.Equal(t, end, until)
		both := history.NewStore()
		addAll(both, first)
		addAll(both, second)
		assert.Zero(t, both.Finalize(), "no step read twice")
		requireSameSamples(t, want.Store, both)

		// Nothing new: no collection.
		_, until, st = read(end, end.Add(f.Delay+4*time.Minute))
		assert.Equal(t, end, until)
		assert.Zero(t, st.Collections)
		assert.Zero(t, st.Queries)

		// Before the demo's first sample: read past without an error.
		start, _ := csv.Span()
		_, until, st = read(start.Add(-6*time.Hour), start.Add(-time.Hour))
		assert.Equal(t, f.Align(start.Add(-time.Hour-f.Delay)), until)
		assert.Zero(t, st.Samples)
	})
}
