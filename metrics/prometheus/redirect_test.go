package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorded is what a test server saw of a request.
type recorded struct {
	header http.Header
	query  url.Values
	body   string
}

// recorder is a server that records every request and answers with an
// empty vector (or an empty label list).
func recorder(t *testing.T) (*httptest.Server, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, recorded{header: r.Header.Clone(), query: r.URL.Query(), body: string(body)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "/label/") {
			io.WriteString(w, `{"status":"success","data":[]}`)
			return
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), seen...)
	}
}

func originOfURL(t *testing.T, s string) string {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return originOf(u)
}

// TestCrossHostRedirectSendsNoCredentials guards against credentials
// following redirects to other hosts: the transport adds the bearer token,
// basic-auth password, headers and parameters to every round trip, and the
// client had no redirect policy, so a server answering 302 or 307 to
// another host handed all of them over. Now such a redirect is refused
// with an error naming both hosts, and the other host receives none of
// them.
func TestCrossHostRedirectSendsNoCredentials(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tok-s3cret\n"), 0o600))
	passFile := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(passFile, []byte("pass-s3cret\n"), 0o600))

	auths := []struct {
		name string
		o    Options
	}{
		{"bearer token", Options{BearerToken: "tok-s3cret"}},
		{"bearer token file", Options{BearerTokenFile: tokenFile}},
		{"basic auth", Options{Username: "reader", Password: "pass-s3cret"}},
		{"basic auth with password file", Options{Username: "reader", PasswordFile: passFile}},
		{"headers and parameters only", Options{}},
	}
	calls := []struct {
		name string
		call func(q *querier) error
	}{
		{"POST query", func(q *querier) error {
			_, err := q.query(context.Background(), "reading owners", "up", time.Unix(1_800_000_000, 0))
			return err
		}},
		{"GET label values", func(q *querier) error {
			_, err := q.labelValues(context.Background(), "listing namespaces", "namespace", nil, time.Unix(1_800_000_000, 0), time.Unix(1_800_000_300, 0))
			return err
		}},
	}
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		for _, a := range auths {
			for _, c := range calls {
				t.Run(http.StatusText(status)+"/"+a.name+"/"+c.name, func(t *testing.T) {
					other, seen := recorder(t)
					first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						http.Redirect(w, r, other.URL+r.URL.RequestURI(), status)
					}))
					t.Cleanup(first.Close)

					o := a.o
					o.URL = first.URL
					o.Headers = http.Header{"X-Scope-Orgid": {"tenant-s3cret"}}
					o.Params = url.Values{"api_key": {"param-s3cret"}}
					err := c.call(testQuerier(t, o))

					for _, r := range seen() {
						assert.Empty(t, r.header.Get("Authorization"), "no credentials to another host")
						assert.Empty(t, r.header.Get("X-Scope-OrgID"), "no configured headers to another host")
						assert.False(t, r.query.Has("api_key"), "no configured parameters to another host")
						assert.NotContains(t, r.body, "s3cret")
					}
					require.Error(t, err, "the redirect is refused")
					assert.Contains(t, err.Error(), originOfURL(t, first.URL)+" redirects to another host, "+originOfURL(t, other.URL)+": not followed")
					assert.NotContains(t, err.Error(), "s3cret")
				})
			}
		}
	}
}

// TestSameHostRedirectIsFollowed moves the API within the server: the
// redirect is followed, with the credentials, headers and parameters.
func TestSameHostRedirectIsFollowed(t *testing.T) {
	var mu sync.Mutex
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/old"); ok {
			u := *r.URL
			u.Path = "/new" + rest
			// 307 keeps a POST a POST, with its body.
			status := http.StatusFound
			if r.Method == http.MethodPost {
				status = http.StatusTemporaryRedirect
			}
			http.Redirect(w, r, u.String(), status)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, recorded{header: r.Header.Clone(), query: r.URL.Query(), body: string(body)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "/label/") {
			io.WriteString(w, `{"status":"success","data":["shop"]}`)
			return
		}
		io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"web-0"},"value":[1800000000,"1"]}]}}`)
	}))
	t.Cleanup(srv.Close)

	o := Options{URL: srv.URL + "/old", BearerToken: "tok", Headers: http.Header{"X-Scope-Orgid": {"tenant"}}, Params: url.Values{"dedup": {"true"}}}
	q := testQuerier(t, o)
	vec, err := q.query(context.Background(), "reading owners", "up", time.Unix(1_800_000_000, 0))
	require.NoError(t, err)
	require.Len(t, vec, 1)
	names, err := q.labelValues(context.Background(), "listing namespaces", "namespace", nil, time.Unix(1_800_000_000, 0), time.Unix(1_800_000_300, 0))
	require.NoError(t, err)
	assert.Equal(t, "shop", string(names[0]))

	require.Len(t, seen, 2)
	for _, r := range seen {
		assert.Equal(t, "Bearer tok", r.header.Get("Authorization"))
		assert.Equal(t, "tenant", r.header.Get("X-Scope-OrgID"))
		assert.Equal(t, []string{"true"}, r.query["dedup"], "the parameters once, though the redirect's target carries them")
	}
	assert.Contains(t, seen[0].body, "query=up", "the POST body survives the redirect")
}

// TestTransportSendsOnlyToTheConfiguredHost asks the transport itself for
// another host: it refuses before anything is sent.
func TestTransportSendsOnlyToTheConfiguredHost(t *testing.T) {
	other, seen := recorder(t)
	hc, err := newHTTPClient(Options{URL: "http://prometheus.example:9090", BearerToken: "tok-s3cret", MaxResponseSize: DefaultMaxResponseSize(0)}, &counters{})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, other.URL+"/api/v1/query?query=up", nil)
	require.NoError(t, err)
	_, err = hc.Transport.RoundTrip(req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http://prometheus.example:9090 redirects to another host, "+originOfURL(t, other.URL))
	assert.Empty(t, seen())
}

func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://prometheus:9090/prom": "http://prometheus:9090",
		"http://Prometheus/":          "http://prometheus:80",
		"HTTPS://thanos.example":      "https://thanos.example:443",
		"https://thanos.example:443/": "https://thanos.example:443",
		"http://[::1]:9090":           "http://[::1]:9090",
	} {
		assert.Equal(t, want, originOfURL(t, in), in)
	}
}

// TestRedirectThatDropsTheQueryIsRefused: a 301, 302 or 303 turns the
// POSTed query into a GET without it; the collector stops there and names
// the URL to use instead of asking the server an empty question.
func TestRedirectThatDropsTheQueryIsRefused(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var mu sync.Mutex
			var reached []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if rest, ok := strings.CutPrefix(r.URL.Path, "/old"); ok {
					u := *r.URL
					u.Path = "/new" + rest
					http.Redirect(w, r, u.String(), status)
					return
				}
				mu.Lock()
				reached = append(reached, r.Method+" "+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}`)
			}))
			t.Cleanup(srv.Close)

			q := testQuerier(t, Options{URL: srv.URL + "/old", Params: url.Values{"tenant": {"team-a"}}})
			_, err := q.query(context.Background(), "reading owners", "up", time.Unix(1_800_000_000, 0))
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("redirect (%d) to %s/new/api/v1/query, which HTTP clients follow as a GET without the query: not followed; use %s/new as the server's URL", status, srv.URL, srv.URL))
			assert.NotContains(t, err.Error(), "team-a", "the parameters are not printed")
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, reached, "no query without its body reaches the server")
		})
	}
}
