package prometheus

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFollowerFailures: a stretch whose chunks failed is not given (a
// histogram must not count a step twice) and is read again, up to
// MaxTries, after which what was read is given and the rest named; an
// error that ends a collection leaves the cursor where it was.
func TestFollowerFailures(t *testing.T) {
	const malformed = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":`
	for _, tc := range []struct {
		name      string
		failFor   int // memory queries answered malformed
		discovery bool
		// reads made, the one that gives, and the samples given
		reads, gives, samples int
		// wantErr is each failed read's error, # its number.
		wantErr, wantWarn string
	}{
		{name: "healthy", reads: 1, gives: 1, samples: 2 * 12},
		{name: "one failed read, then whole", failFor: 1, reads: 2, gives: 2, samples: 2 * 12, wantErr: "(try # of 3): 1 chunks failed"},
		{name: "given up at the third try", failFor: 99, reads: 3, wantErr: "(try # of 3)", wantWarn: "given up after 3 tries"},
		{name: "discovery fails", discovery: true, failFor: 99, reads: 2, wantErr: "listing namespaces: malformed response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failures := 0
			srv := fakeProm(t, []string{"web-1", "web-2"}, func(w http.ResponseWriter, f fakeRequest) bool {
				bad := (tc.discovery && strings.Contains(f.path, "/label/")) || f.memory()
				if bad && failures < tc.failFor {
					if f.memory() {
						failures++
					}
					io.WriteString(w, malformed)
					return true
				}
				return false
			})
			f := &Follower{Options: fakeOptions(srv.URL), Delay: time.Minute}
			since := fakeEnd.Add(-time.Hour)
			var gave, samples int
			var err error
			var st FollowStats
			cursor := since
			for i := 1; i <= tc.reads; i++ {
				cursor, st, err = f.Read(context.Background(), cursor, fakeEnd.Add(time.Minute), func(r *Result) {
					gave = i
					samples += r.Samples
				})
				if i < tc.reads && tc.wantErr != "" {
					require.Error(t, err, "read %d", i)
					assert.Contains(t, err.Error(), strings.ReplaceAll(tc.wantErr, "#", strconv.Itoa(i)))
					assert.Equal(t, since, cursor, "read %d: the cursor stays", i)
				}
			}
			assert.Equal(t, tc.gives, gave)
			assert.Equal(t, tc.samples, samples)
			if tc.wantWarn == "" && tc.gives == 0 {
				require.Error(t, err)
				assert.Equal(t, since, cursor)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, fakeEnd, cursor)
			if tc.wantWarn != "" {
				assert.Contains(t, strings.Join(st.Warnings, "\n"), tc.wantWarn)
			}
		})
	}
}

// TestFollowerSource: the source names server, step and selection, never
// the credentials in the URL.
func TestFollowerSource(t *testing.T) {
	f := &Follower{Options: Options{URL: "https://user:secret@prom.example:9090/", Step: time.Minute, Selector: `cluster="a"`}}
	assert.Equal(t, `prometheus https://prom.example:9090/ step 1m0s selector cluster="a"`, f.Source())
	assert.NotContains(t, f.Source(), "secret")
	assert.Equal(t, time.Date(2026, 1, 1, 10, 3, 0, 0, time.UTC), f.Align(time.Date(2026, 1, 1, 10, 3, 59, 0, time.UTC)))
}
