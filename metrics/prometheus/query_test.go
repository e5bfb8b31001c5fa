package prometheus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/clock"
)

type answer struct {
	status int
	body   string
}

const emptyMatrix = `{"status":"success","data":{"resultType":"matrix","result":[]}}`

// scripted serves the answers in order, repeating the last, and counts
// the requests.
func scripted(t *testing.T, answers ...answer) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// instantClock fires every timer at once and records the waits asked for,
// so that tests of retries take no wall-clock time and say what was waited.
type instantClock struct {
	clock.RealClock
	mu    sync.Mutex
	waits []time.Duration
}

func (c *instantClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	t := make(firedTimer, 1)
	t <- time.Time{}
	return t
}

func (c *instantClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

type firedTimer chan time.Time

func (t firedTimer) C() <-chan time.Time    { return t }
func (firedTimer) Stop() bool               { return false }
func (firedTimer) Reset(time.Duration) bool { return false }

func testQuerier(t *testing.T, o Options) *querier {
	t.Helper()
	o.Retries = max(o.Retries, -1)
	o = o.withDefaults()
	q, hc, err := newQuerier(o, &counters{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(hc.CloseIdleConnections)
	return q
}

func TestQuerierRetriesAndClassifies(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		wantErr  string // empty: success
		wantIs   error
		attempts int
	}{
		{"success", []answer{{200, emptyMatrix}}, "", nil, 1},
		{"503 then success", []answer{{503, "busy"}, {200, emptyMatrix}}, "", nil, 2},
		{"429 then success", []answer{{429, "slow down"}, {200, emptyMatrix}}, "", nil, 2},
		{"502 then 504 then success", []answer{{502, ""}, {504, ""}, {200, emptyMatrix}}, "", nil, 3},
		{"500 until retries run out", []answer{{500, "broken"}}, "cpu: server error: 500: broken (3 attempts)", nil, 3},
		{"422 too many samples is split, not retried",
			[]answer{{422, `{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`}},
			"cpu: query too large for the server: query processing would load too many samples", ErrTooLarge, 1},
		{"422 VictoriaMetrics points limit is split, naming the flag and limit",
			[]answer{{422, `{"status":"error","errorType":"422","error":"error when executing query=\"foo\" on the time range (start=1793491200000, end=1793501200000, step=60000): too many points for the given step=60000, start=1793491200000 and end=1793501200000: 167; cannot exceed -search.maxPointsPerTimeseries=100"}`}},
			"cpu: query too large for the server: at most 100 steps per query (-search.maxPointsPerTimeseries=100): error when executing", ErrTooLarge, 1},
		{"422 VictoriaMetrics samples limit is split, naming the flag",
			[]answer{{422, `{"status":"error","errorType":"422","error":"error when executing query=\"count_over_time(bar[2h])\" for (time=1793494200000, step=300000): cannot evaluate \"count_over_time(bar[2h])\": cannot select more than -search.maxSamplesPerQuery=1000 samples; possible solutions: to increase the -search.maxSamplesPerQuery; to reduce time range for the query; to use more specific label filters in order to select lower number of series"}`}},
			"cpu: query too large for the server (-search.maxSamplesPerQuery=1000): error when executing", ErrTooLarge, 1},
		{"422 VictoriaMetrics parse errors are not split",
			[]answer{{422, `{"status":"error","errorType":"422","error":"error when executing query=\"foo[\": cannot parse"}`}},
			"cpu: 422: error when executing", nil, 1},
		{"422 other execution errors are not split",
			[]answer{{422, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`}},
			"cpu: rejected: found duplicate series", nil, 1},
		{"400 bad data is not retried",
			[]answer{{400, `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected <EOF>"}`}},
			"cpu: bad_data: 1:5: parse error", nil, 1},
		{"401 is not retried", []answer{{401, "no"}}, "cpu: not authorized (401)", nil, 1},
		{"malformed JSON", []answer{{200, `{"status":"success","data":{"resultType":"matrix","result":[{`}}, "cpu: malformed response", nil, 1},
		{"a vector where a matrix belongs", []answer{{200, `{"status":"success","data":{"resultType":"vector","result":[]}}`}},
			"cpu: malformed response: vector result where a matrix was expected", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := scripted(t, tt.answers...)
			q := testQuerier(t, Options{URL: srv.URL, Retries: 2, RetryBackoff: time.Millisecond})
			now := time.Unix(1_800_000_000, 0)
			_, err := q.queryRange(context.Background(), "cpu", "up", now.Add(-time.Hour), now, time.Minute)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.Equal(t, tt.attempts, *n, "requests sent")
			assert.Equal(t, int64(tt.attempts-1), q.retried.Load())
		})
	}
}

func TestQuerierKeepsServerWarnings(t *testing.T) {
	srv, _ := scripted(t, answer{200, `{"status":"success","warnings":["partial response: store b unavailable"],"data":{"resultType":"vector","result":[]}}`})
	q := testQuerier(t, Options{URL: srv.URL})
	_, err := q.query(context.Background(), "owners", "up", time.Unix(1_800_000_000, 0))
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"partial response: store b unavailable": true}, q.warnings)
}

// TestServerDown points at a port nobody listens on.
func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := "http://" + l.Addr().String()
	require.NoError(t, l.Close())

	clk := &instantClock{}
	_, err = Collect(context.Background(), Options{URL: addr + "/prom", Retries: 1, Clock: clk}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "prometheus "+addr+"/prom: listing namespaces: not reachable")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "(2 attempts)")
	assert.ErrorIs(t, err, ErrUnreachable)
	waits := clk.Waits()
	require.Len(t, waits, 1, "one wait, between the two attempts")
	assert.True(t, waits[0] >= DefaultBackoff/2 && waits[0] <= DefaultBackoff, "the first backoff is half to all of RetryBackoff: %s", waits[0])
}

// TestStallingServer accepts connections and never answers.
func TestStallingServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	clk := &instantClock{}
	_, err = Collect(context.Background(), Options{URL: "http://" + l.Addr().String(), Timeout: 100 * time.Millisecond, Retries: 2, Clock: clk}, nil, nil)
	require.Error(t, err)
	// Each attempt ended by its own timeout, and the retries were waited
	// for on the clock, twice.
	assert.Contains(t, err.Error(), "listing namespaces: timed out after 100ms (3 attempts)")
	assert.Len(t, clk.Waits(), 2)
}

// TestCancelStopsCollection cancels the context while the server stalls.
func TestCancelStopsCollection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Collect(ctx, Options{URL: srv.URL}, nil, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestCredentialsAreSentAndNeverShown checks that the token, password,
// headers and parameters reach the server, and that none of them appears
// in the error or the debug log of a failing run.
func TestCredentialsAreSentAndNeverShown(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tok-s3cret\n"), 0o600))
	passFile := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(passFile, []byte("pass-s3cret\n"), 0o600))

	tests := []struct {
		name string
		o    Options
		auth func(r *http.Request) bool
	}{
		{"bearer token file", Options{BearerTokenFile: tokenFile}, func(r *http.Request) bool {
			return r.Header.Get("Authorization") == "Bearer tok-s3cret"
		}},
		{"basic auth", Options{Username: "reader", PasswordFile: passFile}, func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "reader" && p == "pass-s3cret"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []*http.Request
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Clone(context.Background()))
				mu.Unlock()
				w.WriteHeader(http.StatusInternalServerError)
			}))
			t.Cleanup(srv.Close)
			o := tt.o
			o.URL = srv.URL
			o.Headers = http.Header{"X-Scope-Orgid": {"tenant-s3cret"}}
			o.Params = url.Values{"dedup": {"true"}, "api_key": {"param-s3cret"}}
			o.Retries, o.RetryBackoff = 1, time.Millisecond
			var logs bytes.Buffer
			_, err := Collect(context.Background(), o, nil, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			require.Error(t, err)
			require.NotEmpty(t, seen)
			for _, r := range seen {
				assert.True(t, tt.auth(r), "credentials sent")
				assert.Equal(t, "tenant-s3cret", r.Header.Get("X-Scope-OrgID"))
				assert.Equal(t, "true", r.URL.Query().Get("dedup"))
				assert.Equal(t, "param-s3cret", r.URL.Query().Get("api_key"))
			}
			assert.NotContains(t, err.Error(), "s3cret")
			assert.NotContains(t, logs.String(), "s3cret")
			assert.Contains(t, logs.String(), "retrying prometheus request", "the log is not empty")
		})
	}
}

func TestMissingTokenFileIsReported(t *testing.T) {
	srv, _ := scripted(t, answer{200, emptyMatrix})
	_, err := Collect(context.Background(), Options{URL: srv.URL, BearerTokenFile: filepath.Join(t.TempDir(), "absent")}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading bearer token file")
	assert.False(t, errors.Is(err, ErrTooLarge))
}

func TestLooksLikeLimit(t *testing.T) {
	for msg, want := range map[string]bool{
		"query processing would load too many samples into memory in query execution":                      true,
		"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution": true,
		"the query exceeded the maximum number of chunks (limit: 2000000 chunks)":                          true,
		"expanding series: the query hit the max number of series limit (limit: 100000 series)":            true,
		"found duplicate series for the match group":                                                       false,
		"vector cannot contain metrics with the same labelset":                                             false,
		"cannot select more than -search.maxSamplesPerQuery=1000 samples":                                  true,
		"too many points for the given step=60000: 167; cannot exceed -search.maxPointsPerTimeseries=100":  true,
	} {
		assert.Equal(t, want, looksLikeLimit(msg), msg)
	}
}
