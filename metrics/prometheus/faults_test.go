package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fault decides the answer to a request instead of the server: ok false
// passes it on. form holds the request's parameters (query, start, ...).
type fault func(path string, form url.Values, attempt int) (status int, body string, ok bool)

// faultProxy is a reverse proxy in front of a real server that injects
// faults. attempt counts earlier requests with the same path and body.
func faultProxy(t *testing.T, target string, f fault) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			form[k] = append(form[k], v...)
		}
		mu.Lock()
		key := r.URL.Path + "?" + string(body) + r.URL.RawQuery
		attempt := seen[key]
		seen[key]++
		mu.Unlock()
		if status, out, ok := f(r.URL.Path, form, attempt); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, out)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestIntegrationRetries fails the first attempt of every request with a
// status that deserves a retry: the collection still reads every sample,
// with one retry per query.
func TestIntegrationRetries(t *testing.T) {
	srv, csv := demoPrometheus(t)
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusGatewayTimeout, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			url := faultProxy(t, srv.URL, func(_ string, _ url.Values, attempt int) (int, string, bool) {
				return status, `{"status":"error","errorType":"internal","error":"injected"}`, attempt == 0
			})
			res, err := Collect(context.Background(), demoOptions(url, csv), nil, nil)
			require.NoError(t, err)
			assert.Empty(t, res.Failed)
			assert.Equal(t, res.Queries, res.Retries, "one retry per query")
			assert.Equal(t, 2*res.Queries, res.Requests)
			requireSameSamples(t, csv, res.Store)
		})
	}
}

// TestIntegrationFailingChunkIsReported makes the server fail every
// request for one part of the window: those chunks are named in the
// result, the rest is read.
func TestIntegrationFailingChunkIsReported(t *testing.T) {
	srv, csv := demoPrometheus(t)
	o := demoOptions(srv.URL, csv)
	o.MaxPoints = 20_000 // chunks of a few days
	o.Retries = 1
	first, _ := csv.Span()
	badFrom, badTo := first.Add(72*time.Hour), first.Add(96*time.Hour)
	o.URL = faultProxy(t, srv.URL, func(path string, form url.Values, _ int) (int, string, bool) {
		start, err1 := strconv.ParseFloat(form.Get("start"), 64)
		end, err2 := strconv.ParseFloat(form.Get("end"), 64)
		if !strings.HasSuffix(path, "/query_range") || err1 != nil || err2 != nil {
			return 0, "", false
		}
		overlaps := time.Unix(int64(start), 0).Before(badTo) && !time.Unix(int64(end), 0).Before(badFrom)
		return http.StatusInternalServerError, "boom", overlaps
	})
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err, "the rest completes")

	// Every chunk that overlaps the failing day is named, and its samples
	// alone are missing.
	require.NotEmpty(t, res.Failed)
	var lost [][2]time.Time
	for _, f := range res.Failed {
		assert.Contains(t, f.Error(), "server error: 500")
		assert.Contains(t, f.Error(), "(2 attempts)")
		var from, to string
		_, err := fmt.Sscanf(f.Chunk, "namespace shop, %s to %s", &from, &to)
		require.NoError(t, err, f.Chunk)
		a, err := time.Parse("2006-01-02T15:04Z", strings.TrimSuffix(from, ","))
		require.NoError(t, err)
		b, err := time.Parse("2006-01-02T15:04Z", to)
		require.NoError(t, err)
		assert.True(t, a.Before(badTo) && !b.Before(badFrom), "%s overlaps the failing day", f.Chunk)
		lost = append(lost, [2]time.Time{a, b})
	}
	want := 0
	for _, k := range csv.Containers() {
		for _, s := range csv.Series(k) {
			for _, ms := range s.Time {
				tm := time.UnixMilli(ms)
				in := false
				for _, l := range lost {
					in = in || !tm.Before(l[0]) && !tm.After(l[1])
				}
				if !in {
					want++
				}
			}
		}
	}
	assert.Equal(t, want, res.Samples, "every sample outside the failed chunks, none inside")
}

// TestIntegrationMalformedResponse answers with truncated JSON: during
// discovery the collection fails with a clear error naming the server;
// for one chunk's query that chunk is reported and the rest is read.
func TestIntegrationMalformedResponse(t *testing.T) {
	srv, csv := demoPrometheus(t)
	truncated := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop"`

	t.Run("discovery", func(t *testing.T) {
		url := faultProxy(t, srv.URL, func(path string, _ url.Values, _ int) (int, string, bool) {
			return http.StatusOK, truncated, strings.Contains(path, "/label/")
		})
		_, err := Collect(context.Background(), demoOptions(url, csv), nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "prometheus "+url)
		assert.Contains(t, err.Error(), "listing namespaces: malformed response")
	})

	t.Run("one chunk", func(t *testing.T) {
		o := demoOptions(srv.URL, csv)
		o.MaxPoints = 20_000
		o.URL = faultProxy(t, srv.URL, func(path string, form url.Values, _ int) (int, string, bool) {
			start, _ := strconv.ParseFloat(form.Get("start"), 64)
			first, _ := csv.Span()
			return http.StatusOK, truncated, strings.HasSuffix(path, "/query_range") &&
				strings.Contains(form.Get("query"), "container_memory_working_set_bytes") && int64(start) == first.Unix()
		})
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		require.Len(t, res.Failed, 1)
		assert.Contains(t, res.Failed[0].Error(), "reading memory usage: malformed response")
		assert.Less(t, res.Samples, csv.Samples())
		assert.Positive(t, res.Samples)
	})
}

// stallingProxy forwards connections to target after holding each one for
// delay.
func stallingProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				select {
				case <-time.After(delay):
				case <-done:
					return
				}
				up, err := net.Dial("tcp", u.Host)
				if err != nil {
					return
				}
				defer up.Close()
				go func() {
					io.Copy(up, c)
					up.Close() // ends the copy below once the client side is closed
				}()
				io.Copy(c, up)
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// TestIntegrationStallingServer puts a proxy that holds every connection
// for a second in front of the server: a shorter timeout ends each attempt
// and then the run with a timeout error; a longer one reads it all.
func TestIntegrationStallingServer(t *testing.T) {
	srv, csv := demoPrometheus(t)
	url := stallingProxy(t, srv.URL, time.Second)

	o := demoOptions(url, csv)
	o.Timeout, o.Retries = 200*time.Millisecond, 1
	clk := &instantClock{}
	o.Clock = clk
	_, err := Collect(context.Background(), o, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "prometheus "+url)
	assert.Contains(t, err.Error(), "timed out after 200ms (2 attempts)")
	assert.Len(t, clk.Waits(), 1, "one retry, waited on the clock")

	o.Timeout, o.Clock = 10*time.Second, nil
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)
	requireSameSamples(t, csv, res.Store)
}
