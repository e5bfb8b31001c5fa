package prometheus

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// bigMatrix renders a valid matrix answer of at least size bytes.
func bigMatrix(size int) []byte {
	const head = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[`
	const point = `[1800000000,"0.25"],`
	var b bytes.Buffer
	b.WriteString(head)
	b.WriteString(strings.Repeat(point, size/len(point)+1))
	b.WriteString(`[1800000000,"0.25"]]}]}}`)
	return b.Bytes()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	gz.Write(b)
	gz.Close()
	return buf.Bytes()
}

// TestResponseSizeLimit guards against reading whole answers of any size:
// a response was read into memory however large it was (and four at a
// time), so a broken or hostile server, or a gzip bomb, could exhaust the
// memory. Now the body is cut at the limit, counted after decompression,
// and the request fails with an error naming it, without a retry.
func TestResponseSizeLimit(t *testing.T) {
	const limit = workload.MiB
	plain := bigMatrix(2 * int(limit))
	tests := []struct {
		name     string
		compress bool
		body     []byte
		// chunked leaves Content-Length out, so that the size shows only
		// while reading.
		chunked bool
	}{
		{"plain with Content-Length", false, plain, false},
		{"plain, chunked", false, plain, true},
		{"gzip", true, plain, true},
		{"gzip bomb", true, bigMatrix(16 * int(limit)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if tt.compress {
					assert.Contains(t, r.Header.Get("Accept-Encoding"), "gzip")
					w.Header().Set("Content-Encoding", "gzip")
					w.Write(gzipped(tt.body))
					return
				}
				if !tt.chunked {
					w.Header().Set("Content-Length", fmt.Sprint(len(tt.body)))
				}
				w.Write(tt.body[:1000])
				w.(http.Flusher).Flush()
				w.Write(tt.body[1000:])
			}))
			t.Cleanup(srv.Close)
			o := Options{URL: srv.URL, MaxResponseSize: limit, Compression: CompressionOff, Retries: 2, RetryBackoff: time.Millisecond}
			if tt.compress {
				o.Compression = CompressionOn
			}
			count := &counters{}
			o = o.withDefaults()
			q, hc, err := newQuerier(o, count, nil)
			require.NoError(t, err)
			t.Cleanup(hc.CloseIdleConnections)

			now := time.Unix(1_800_000_000, 0)
			_, err = q.queryRange(context.Background(), "reading cpu usage", "up", now.Add(-time.Hour), now, time.Minute)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrResponseTooLarge)
			assert.Contains(t, err.Error(), "reading cpu usage: response larger than the size limit of 1Mi (decompressed")
			assert.Equal(t, 1, requests, "not retried")
			assert.LessOrEqual(t, count.body.Load(), int64(limit), "read no further than the limit")
			if tt.compress {
				assert.Less(t, count.wire.Load(), int64(limit), "the limit holds for the decompressed body")
			}
		})
	}
}

// TestResponseSizeLimitSplitsChunks: a chunk whose answer is larger than
// the limit is split in time, as one the server refuses, and every sample
// is read; one that cannot be split further fails, named with its query;
// an index listing too large is split by namespaces.
func TestResponseSizeLimitSplitsChunks(t *testing.T) {
	pods := make([]string, 120)
	for i := range pods {
		pods[i] = fmt.Sprintf("web-%03d", i)
	}
	t.Run("chunk split in time", func(t *testing.T) {
		// 120 pods × 24 steps of CPU is about 90 kB; 12 steps fit 64Ki.
		srv := fakeProm(t, pods, nil)
		o := fakeOptions(srv.URL)
		o.MaxResponseSize = 64 * workload.KiB
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		assert.Empty(t, res.Failed)
		assert.Positive(t, res.Splits)
		assert.Equal(t, len(pods)*24, res.Samples)
	})
	t.Run("a single step too large", func(t *testing.T) {
		srv := fakeProm(t, pods[:1], func(w http.ResponseWriter, f fakeRequest) bool {
			if !f.cpu() {
				return false
			}
			w.Write(bigMatrix(100 << 10))
			return true
		})
		o := fakeOptions(srv.URL)
		o.MaxResponseSize = 64 * workload.KiB
		_, err := Collect(context.Background(), o, nil, nil)
		require.Error(t, err)
		assert.Regexp(t, `no samples read: every chunk failed, the first: namespace shop, 2026-11-14T\d\d:\d\dZ to 2026-11-14T\d\d:\d\dZ: reading cpu usage: response larger than the size limit of 64Ki`, err.Error())
	})
	t.Run("series listing split by namespaces", func(t *testing.T) {
		srv := fakeProm(t, pods[:1], func(w http.ResponseWriter, f fakeRequest) bool {
			switch {
			case strings.HasSuffix(f.path, "/values"):
				io.WriteString(w, `{"status":"success","data":["shop","cart"]}`)
			case strings.HasSuffix(f.path, "/series") && strings.Contains(f.form.Get("match[]"), "shop|cart"):
				w.Write(bigMatrix(100 << 10)) // never read: too large
			default:
				return false
			}
			return true
		})
		o := fakeOptions(srv.URL)
		o.MaxResponseSize = 64 * workload.KiB
		res, err := Collect(context.Background(), o, nil, nil)
		require.NoError(t, err)
		assert.Equal(t, 24, res.Samples)
		assert.Positive(t, res.Splits)
	})
	t.Run("namespaces listing too large", func(t *testing.T) {
		srv := fakeProm(t, pods[:1], func(w http.ResponseWriter, f fakeRequest) bool {
			if !strings.HasSuffix(f.path, "/values") {
				return false
			}
			w.Write(bigMatrix(100 << 10))
			return true
		})
		o := fakeOptions(srv.URL)
		o.MaxResponseSize = 64 * workload.KiB
		_, err := Collect(context.Background(), o, nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "prometheus "+srv.URL+": listing namespaces: response larger than the size limit of 64Ki")
	})
}

func TestDefaultMaxResponseSize(t *testing.T) {
	assert.Equal(t, 31*workload.MiB, DefaultMaxResponseSize(DefaultMaxPoints))
	assert.Equal(t, 31*workload.MiB, DefaultMaxResponseSize(0))
	assert.Equal(t, 16*workload.MiB, DefaultMaxResponseSize(1000), "at least 16Mi: the index listings are not bounded by points")
	assert.Equal(t, 153*workload.MiB, DefaultMaxResponseSize(1_000_000))
	assert.Equal(t, 31*workload.MiB, Options{URL: "http://p"}.withDefaults().MaxResponseSize)
	require.Error(t, Options{URL: "http://p", MaxResponseSize: 1000}.Validate())
}

// headerAnswer is a scripted answer with headers.
type headerAnswer struct {
	status int
	header map[string]string
	body   string
}

func scriptedHeaders(t *testing.T, answers ...headerAnswer) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header()["Date"] = nil // no Date unless the answer has one
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestRetryAfter guards against Retry-After being ignored on 429 and 503:
// the retry came after the exponential backoff alone, whatever the server
// asked for. Now the wait is at least what it asks, in seconds or as an
// HTTP-date (read against the server's Date), and a wait longer than the
// request timeout or five minutes, or past the context's deadline, ends
// the request instead.
func TestRetryAfter(t *testing.T) {
	clock := time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC)
	serverDate := clock.Add(-time.Hour) // the server's clock is an hour behind
	ok := headerAnswer{200, nil, emptyMatrix}
	tests := []struct {
		name     string
		timeout  time.Duration
		answers  []headerAnswer
		wantWait []time.Duration // nil: below a second (the backoff)
		wantErr  string
	}{
		{"429 with seconds", 0, []headerAnswer{{429, map[string]string{"Retry-After": "7"}, ""}, ok}, []time.Duration{7 * time.Second}, ""},
		{"503 with seconds", 0, []headerAnswer{{503, map[string]string{"Retry-After": " 3 "}, "busy"}, ok}, []time.Duration{3 * time.Second}, ""},
		{"503 with an HTTP-date against the server's Date", 0, []headerAnswer{{503, map[string]string{
			"Retry-After": serverDate.Add(30 * time.Second).Format(http.TimeFormat), "Date": serverDate.Format(http.TimeFormat),
		}, ""}, ok}, []time.Duration{30 * time.Second}, ""},
		{"429 with an HTTP-date, no Date: against the clock", 0, []headerAnswer{{429, map[string]string{
			"Retry-After": clock.Add(45 * time.Second).Format(time.RFC850),
		}, ""}, ok}, []time.Duration{45 * time.Second}, ""},
		{"twice", 0, []headerAnswer{{429, map[string]string{"Retry-After": "2"}, ""}, {503, map[string]string{"Retry-After": "4"}, ""}, ok},
			[]time.Duration{2 * time.Second, 4 * time.Second}, ""},
		{"too long after a first wait", 0, []headerAnswer{{429, map[string]string{"Retry-After": "2"}, ""}, {429, map[string]string{"Retry-After": "3600"}, ""}, ok},
			[]time.Duration{2 * time.Second}, "cpu: rate limited (429) (2 attempts; the server asks to retry after 1h0m0s, longer than the 2m0s waited at most)"},
		{"a date in the past: the backoff", 0, []headerAnswer{{503, map[string]string{"Retry-After": clock.Add(-time.Hour).Format(http.TimeFormat)}, ""}, ok}, nil, ""},
		{"500 has no Retry-After", 0, []headerAnswer{{500, map[string]string{"Retry-After": "7"}, ""}, ok}, nil, ""},
		{"unreadable: the backoff", 0, []headerAnswer{{429, map[string]string{"Retry-After": "soon"}, ""}, ok}, nil, ""},
		{"longer than the timeout", 30 * time.Second, []headerAnswer{{429, map[string]string{"Retry-After": "60"}, ""}, ok}, []time.Duration{},
			"cpu: rate limited (429) (the server asks to retry after 1m0s, longer than the 30s waited at most)"},
		{"longer than five minutes", time.Hour, []headerAnswer{{503, map[string]string{"Retry-After": "301"}, ""}, ok}, []time.Duration{},
			"cpu: server error: 503 (the server asks to retry after 5m1s, longer than the 5m0s waited at most)"},
		{"absurd", 0, []headerAnswer{{503, map[string]string{"Retry-After": "99999999999999999999999"}, ""}, ok}, []time.Duration{},
			"the server asks to retry after centuries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := scriptedHeaders(t, tt.answers...)
			q := testQuerier(t, Options{URL: srv.URL, Retries: 3, RetryBackoff: time.Millisecond, Timeout: tt.timeout})
			var waits []time.Duration
			q.now = func() time.Time { return clock }
			q.sleep = func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}
			now := time.Unix(1_800_000_000, 0)
			_, err := q.queryRange(context.Background(), "cpu", "up", now.Add(-time.Hour), now, time.Minute)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantWait == nil {
				require.Len(t, waits, 1)
				assert.Less(t, waits[0], time.Second)
			} else {
				assert.Equal(t, tt.wantWait, append([]time.Duration{}, waits...))
			}
			assert.Equal(t, len(waits)+1, *n, "requests")
		})
	}
}

// TestRetryAfterPastDeadline: a wait that would outlast the context ends
// the request at once, with the reason.
func TestRetryAfterPastDeadline(t *testing.T) {
	srv, n := scriptedHeaders(t, headerAnswer{429, map[string]string{"Retry-After": "60"}, ""})
	q := testQuerier(t, Options{URL: srv.URL, Retries: 3})
	var waits []time.Duration
	q.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := q.query(ctx, "reading owners", "up", time.Unix(1_800_000_000, 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading owners: rate limited (429) (no time left to wait 1m0s for another attempt)")
	assert.Empty(t, waits, "no wait that would outlast the context")
	assert.Equal(t, 1, *n)
}

// TestRetryAfterIsWaited checks the wait on the real clock.
func TestRetryAfterIsWaited(t *testing.T) {
	srv, n := scriptedHeaders(t, headerAnswer{503, map[string]string{"Retry-After": "1"}, "busy"}, headerAnswer{200, nil, emptyMatrix})
	q := testQuerier(t, Options{URL: srv.URL, Retries: 1, RetryBackoff: time.Millisecond})
	start := time.Now()
	now := time.Unix(1_800_000_000, 0)
	_, err := q.queryRange(context.Background(), "cpu", "up", now.Add(-time.Hour), now, time.Minute)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After: 1 is waited")
	assert.Equal(t, 2, *n)
}

// TestOutOfRangeSamplesAreSkipped guards against one value beyond
// float64's range ("1e400") failing the decoding of the whole chunk: such
// values, values that are no number, and timestamps that are negative,
// absurd or off the steps are skipped and counted as invalid, and the rest
// of the chunk is read.
func TestOutOfRangeSamplesAreSkipped(t *testing.T) {
	bad := map[int]string{3: "1e400", 4: "-1e400", 5: "twelve"}
	srv := fakeProm(t, []string{"web-0"}, func(w http.ResponseWriter, f fakeRequest) bool {
		if !f.cpu() {
			return false
		}
		var points []string
		for i, ts := range f.steps() {
			v := "0.25"
			if b, ok := bad[i]; ok {
				v = b
			}
			points = append(points, fmt.Sprintf(`[%d,%q]`, ts, v))
		}
		points = append(points, `[-300,"0.25"]`, `[1e300,"0.25"]`, `[99999999999999999,"0.25"]`, `[1e400,"0.25"]`, `[1731585600.5,"0.25"]`,
			`[`+fmt.Sprint(f.steps()[6])+`,"1e-400"]`) // an underflow is a zero
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[%s]}]}}`, strings.Join(points, ","))
		return true
	})
	res, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
	require.NoError(t, err)
	assert.Empty(t, res.Failed, "the chunk is read")
	assert.Equal(t, 24, res.Samples, "memory at every step")
	assert.Equal(t, 3+5, res.Skipped[skipInvalid], "three values, five timestamps")
	k := res.Store.Containers()[0]
	s := res.Store.Series(k)[0]
	var cpu int
	for i := range s.Len() {
		if smp := s.At(i); smp.HasCPU {
			cpu++
		}
	}
	assert.Equal(t, 24-3, cpu, "CPU at every step but the three")
}

// hasControl reports control characters (ESC, BEL, ...) in s.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 })
}

// TestServerTextIsEscaped guards against text from the server reaching a
// terminal raw: error strings, error pages, error types, warnings and
// label values could carry escape sequences ("\x1b[2J" clears the screen)
// into messages. Now they are escaped, and at most 200 bytes of each are
// cited, with an ellipsis and the length.
func TestServerTextIsEscaped(t *testing.T) {
	const evil = "\x1b[2J\x07"
	long := strings.Repeat("A", 10_000)
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"API error string", 400, `{"status":"error","errorType":"bad_data","error":"` + "\\u001b[2J\\u0007" + `boom"}`, `cpu: bad_data: \x1b[2J\aboom`},
		{"execution error", 422, `{"status":"error","errorType":"execution","error":"\u001b]0;title\u0007"}`, `cpu: rejected: \x1b]0;title\a`},
		{"error type", 400, `{"status":"error","errorType":"\u001b[31m","error":"x"}`, `cpu: \x1b[31m: x`},
		{"error page", 500, evil, `cpu: server error: 500: \x1b[2J\a`},
		{"error page with invalid UTF-8 and bidi controls", 502, "\xff\xfe\u202eevil", `cpu: server error: 502: \xff\xfe\u202eevil`},
		{"malformed answer", 200, `{"status":"success","data":{"resultType":"` + "\\u001b[2J" + `"}}`, `cpu: malformed response: \x1b[2J result where a matrix was expected`},
		{"long error", 400, `{"status":"error","errorType":"bad_data","error":"` + long + `"}`, "cpu: bad_data: " + long[:200] + "… (10000 bytes)"},
		{"long error page", 503, long, "cpu: server error: 503: " + long[:200] + "… (10000 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := scripted(t, answer{tt.status, tt.body})
			q := testQuerier(t, Options{URL: srv.URL, Retries: -1})
			now := time.Unix(1_800_000_000, 0)
			_, err := q.queryRange(context.Background(), "cpu", "up", now.Add(-time.Hour), now, time.Minute)
			require.Error(t, err)
			assert.False(t, hasControl(err.Error()), "%q", err.Error())
			assert.Contains(t, err.Error(), tt.want)
			assert.Less(t, len(err.Error()), 300)
		})
	}

	t.Run("warnings and label values", func(t *testing.T) {
		srv := fakeProm(t, []string{"web-0"}, func(w http.ResponseWriter, f fakeRequest) bool {
			switch {
			case strings.HasSuffix(f.path, "/values"):
				io.WriteString(w, `{"status":"success","data":["shop","\u001b[2J"]}`)
			case strings.HasSuffix(f.path, "/series"):
				io.WriteString(w, `{"status":"success","data":[{"namespace":"shop","pod":"web-0","container":"app"},{"namespace":"shop","pod":"\u001b]0;x\u0007","container":"app"}]}`)
			case f.cpu():
				io.WriteString(w, `{"status":"success","warnings":["partial response: \u001b[2J\u0007"],`+strings.TrimPrefix(usageMatrix(f, []string{"web-0", "\u001b[2J"}, "0.25"), `{"status":"success",`))
			default:
				return false
			}
			return true
		})
		res, err := Collect(context.Background(), fakeOptions(srv.URL), nil, nil)
		require.NoError(t, err)
		assert.Contains(t, res.Warnings, `server: partial response: \x1b[2J\a`)
		assert.Contains(t, res.Warnings, "2 "+skipNames, "the namespace and the pod named with escapes")
		for _, w := range res.Warnings {
			assert.False(t, hasControl(w), "%q", w)
		}
		for _, k := range res.Store.Containers() {
			for _, s := range res.Store.Series(k) {
				assert.False(t, hasControl(k.String()+s.Pod), "%q", s.Pod)
			}
		}
		assert.Equal(t, 24, res.Samples)
	})

	t.Run("label values of a failing group", func(t *testing.T) {
		g := group{namespaces: []string{"shop" + evil}, pods: []string{evil, "b"}}
		assert.Equal(t, `namespace shop\x1b[2J\a (pods \x1b[2J\a … b, 2 pods)`, g.String())
	})
}

// TestServerText: server text is trimmed, escaped and cut (the escaping
// itself is internal/untrusted's, tested there).
func TestServerText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"  trimmed\n", "trimmed"},
		{"\x1b[2J\x07", `\x1b[2J\a`},
		{"tab\tand\r\nbreak", `tab\tand\r\nbreak`},
		{"ünïcödé ok", "ünïcödé ok"},
		{"bidi \u202e and zero width \u200b", `bidi \u202e and zero width \u200b`},
		{"bad \xff utf-8", `bad \xff utf-8`},
		{"del \x7f and C1 \u009b", `del \x7f and C1 \u009b`},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "… (300 bytes)"},
		{strings.Repeat("a", 199) + "é", strings.Repeat("a", 199) + "… (201 bytes)"},
	}
	for _, tt := range tests {
		got := serverText(tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.False(t, hasControl(got))
	}
}

func TestKubeName(t *testing.T) {
	for in, want := range map[string]bool{
		"shop": true, "web-5d8f7c9b4-x2k9p": true, "kube-apiserver-node-1.example.com": true, "a": true, "0": true,
		"": false, "Shop": false, "-web": false, "web-": false, "web_1": false, "a b": false, "\x1b[2J": false,
		"<none>": false, "../etc": false, strings.Repeat("a", 253): true, strings.Repeat("a", 254): false,
	} {
		assert.Equal(t, want, kubeName(in), "%q", in)
	}
}
