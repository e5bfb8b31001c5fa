package prometheus

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// TestHTTPConfigFile reads authentication and headers from a file of the
// shape promtool's --http.config.file takes, its relative paths taken from
// the file's directory: they reach the server, and no secret reaches the
// error or the log.
func TestHTTPConfigFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "password", "pass-s3cret\n")
	writeFile(t, dir, "token", "tok-s3cret\n")
	bearer := func(r recorded) bool { return r.header.Get("Authorization") == "Bearer tok-s3cret" }
	tests := []struct {
		name, yaml string
		sent       func(r recorded) bool
	}{
		{"basic auth with a password file", "basic_auth:\n  username: reader\n  password_file: password\n", func(r recorded) bool {
			return r.header.Get("Authorization") == "Basic cmVhZGVyOnBhc3MtczNjcmV0" // reader:pass-s3cret
		}},
		{"authorization with a credentials file", "authorization:\n  credentials_file: token\n", bearer},
		{"bearer_token_file, the older key", "bearer_token_file: token\n", bearer},
		{"headers", "http_headers:\n  X-Scope-OrgID:\n    secrets: [tenant-s3cret]\n  X-Extra:\n    values: [a, b]\n", func(r recorded) bool {
			return r.header.Get("X-Scope-OrgID") == "tenant-s3cret" && strings.Join(r.header.Values("X-Extra"), ",") == "a,b"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := recorder(t)
			o := Options{URL: srv.URL, HTTPConfigFile: writeFile(t, dir, "http.yml", tt.yaml), Retries: -1}
			var logs bytes.Buffer
			_, err := Collect(context.Background(), o, nil, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "no container series match", "the server answered")
			require.NotEmpty(t, seen())
			for _, r := range seen() {
				assert.True(t, tt.sent(r), "%v", r.header)
			}
			assert.NotContains(t, err.Error(), "s3cret")
			assert.NotContains(t, logs.String(), "s3cret")
		})
	}
}

// TestHTTPConfigFileTLS talks to a server that requires a client
// certificate, with the CA, certificate and key named in the file.
func TestHTTPConfigFileTLS(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"success","data":[]}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := filepath.Dir(pki.caFile)
	for _, tt := range []struct{ name, yaml, wantErr string }{
		{"CA, certificate and key", "tls_config:\n  ca_file: ca.pem\n  cert_file: client.pem\n  key_file: client-key.pem\n", "no container series match"},
		{"insecure skip verify", "tls_config:\n  insecure_skip_verify: true\n  cert_file: client.pem\n  key_file: client-key.pem\n", "no container series match"},
		{"no CA", "tls_config:\n  cert_file: client.pem\n  key_file: client-key.pem\n", "TLS: tls: failed to verify certificate"},
		{"a CA file without certificates", "tls_config:\n  ca_file: client-key.pem\n", "holds no PEM certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{URL: srv.URL, HTTPConfigFile: writeFile(t, dir, "http.yml", tt.yaml), Retries: -1}
			_, err := Collect(context.Background(), o, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestHTTPConfigConflicts: an option that sets what the file sets too is
// an error naming both; options that set something else fill in what the
// file leaves out.
func TestHTTPConfigConflicts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		o       Options
		yaml    string
		want    *ConflictError // nil: no conflict
		wantMsg string
	}{
		{"bearer token file and authorization", Options{BearerTokenFile: "/t"}, "authorization:\n  credentials_file: /u\n",
			&ConflictError{Setting: "authentication", Options: []string{"BearerTokenFile"}, Key: "authorization"},
			`authentication is set both by BearerTokenFile and by authorization in the HTTP client configuration file "`},
		{"basic auth and basic_auth", Options{Username: "u", PasswordFile: "/p"}, "basic_auth:\n  username: v\n",
			&ConflictError{Setting: "authentication", Options: []string{"Username", "PasswordFile"}, Key: "basic_auth"}, ""},
		{"basic auth and a bearer token in the file", Options{Username: "u"}, "bearer_token: s3cret\n",
			&ConflictError{Setting: "authentication", Options: []string{"Username"}, Key: "bearer_token"}, ""},
		{"CA file", Options{CAFile: "/ca"}, "tls_config:\n  ca_file: /other\n",
			&ConflictError{Setting: "the CA certificates", Options: []string{"CAFile"}, Key: "tls_config.ca_file"}, ""},
		{"client certificate", Options{CertFile: "/c", KeyFile: "/k"}, "tls_config:\n  cert: PEM\n  key: PEM\n",
			&ConflictError{Setting: "the client certificate", Options: []string{"CertFile", "KeyFile"}, Key: "tls_config.cert"}, ""},
		{"insecure skip verify set false in the file", Options{InsecureSkipVerify: true}, "tls_config:\n  insecure_skip_verify: false\n",
			&ConflictError{Setting: "certificate verification", Options: []string{"InsecureSkipVerify"}, Key: "tls_config.insecure_skip_verify"}, ""},
		{"the same header, written otherwise", Options{Headers: http.Header{"X-Scope-Orgid": {"a"}}}, "http_headers:\n  x-scope-orgid:\n    values: [b]\n",
			&ConflictError{Setting: "header X-Scope-Orgid", Options: []string{"Headers"}, Key: "http_headers.x-scope-orgid"}, ""},
		{"other headers, TLS settings and authentication", Options{Headers: http.Header{"X-A": {"a"}}, CAFile: "/ca", BearerTokenFile: "/t"},
			"http_headers:\n  X-B:\n    values: [b]\ntls_config:\n  insecure_skip_verify: true\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.URL = "http://p"
			o.HTTPConfigFile = writeFile(t, dir, "http.yml", tt.yaml)
			_, err := o.httpClientConfig()
			var c *ConflictError
			switch {
			case tt.want != nil:
				require.ErrorAs(t, err, &c)
				tt.want.File = o.HTTPConfigFile
				assert.Equal(t, tt.want, c)
				assert.Contains(t, err.Error(), tt.wantMsg)
				assert.ErrorAs(t, o.Validate(), &c, "Validate reports it too")
			case tt.wantMsg != "":
				require.Error(t, err)
			default:
				require.NoError(t, err)
			}
			assert.NotContains(t, errString(err), "s3cret")
		})
	}

	t.Run("merged", func(t *testing.T) {
		o := Options{URL: "http://p", Headers: http.Header{"X-A": {"hdr-s3cret"}}, CAFile: "/ca", BearerTokenFile: "/t",
			HTTPConfigFile: writeFile(t, dir, "http.yml", "http_headers:\n  X-B:\n    values: [b]\ntls_config:\n  insecure_skip_verify: true\nfollow_redirects: false\n")}
		cfg, err := o.httpClientConfig()
		require.NoError(t, err)
		assert.Equal(t, []string{"b"}, cfg.HTTPHeaders.Headers["X-B"].Values)
		assert.Len(t, cfg.HTTPHeaders.Headers["X-A"].Secrets, 1)
		assert.True(t, cfg.TLSConfig.InsecureSkipVerify)
		assert.Equal(t, "/ca", cfg.TLSConfig.CAFile)
		assert.Equal(t, "/t", cfg.Authorization.CredentialsFile)
		assert.False(t, cfg.FollowRedirects)
		assert.True(t, cfg.ProxyFromEnvironment, "proxies from the environment, as the file names none")
		assert.NotContains(t, cfg.String(), "hdr-s3cret", "header values given as options are secrets")
	})
	t.Run("defaults", func(t *testing.T) {
		cfg, err := Options{URL: "http://p"}.httpClientConfig()
		require.NoError(t, err)
		assert.True(t, cfg.ProxyFromEnvironment, "without a file")
		assert.True(t, cfg.FollowRedirects)
		assert.False(t, cfg.EnableHTTP2, "HTTP/1.1 unless the file says otherwise")
		cfg, err = Options{URL: "http://p", HTTPConfigFile: writeFile(t, dir, "http.yml", "enable_http2: true\n")}.httpClientConfig()
		require.NoError(t, err)
		assert.True(t, cfg.EnableHTTP2)
		cfg, err = Options{URL: "http://p", HTTPConfigFile: writeFile(t, dir, "http.yml", "proxy_from_environment: false\n")}.httpClientConfig()
		require.NoError(t, err)
		assert.False(t, cfg.ProxyFromEnvironment, "the file turns it off")
		cfg, err = Options{URL: "http://p", HTTPConfigFile: writeFile(t, dir, "http.yml", "proxy_url: http://proxy:3128\n")}.httpClientConfig()
		require.NoError(t, err)
		assert.False(t, cfg.ProxyFromEnvironment)
		assert.Equal(t, "http://proxy:3128", cfg.ProxyURL.String())
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestHTTPConfigFileErrors: a file that cannot be used is an error naming
// it, escaped, that quotes no value of it (a value may be a secret).
func TestHTTPConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, yaml, want string }{
		{"a value of the wrong type", "basic_auth: hunter2-s3cret\n", "line 1: cannot unmarshal !!str `…` into"},
		{"a secret where a bool belongs", "tls_config:\n  insecure_skip_verify: s3cret\n", "cannot unmarshal !!str `…` into bool"},
		{"an unknown key", "bearer_tokn: x\n", "field bearer_tokn not found"},
		{"a proxy URL that does not parse", "proxy_url: \"http://user:s3cret@pro xy:3128\"\n", `parse "…"`},
		{"two kinds of authentication", "bearer_token: s3cret\nbasic_auth:\n  username: u\n", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"},
		{"a header the client sets", "http_headers:\n  Authorization:\n    secrets: [s3cret]\n", `setting header "Authorization" is not allowed`},
		{"escape sequences", "\"\\e[2J\": 1\n", `field \x1b[2J not found`},
		{"not YAML", "a: [\n", "HTTP client configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := writeFile(t, dir, "http.yml", tt.yaml)
			err := Options{URL: "http://p", HTTPConfigFile: f}.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), f)
			assert.NotContains(t, err.Error(), "s3cret")
			assert.False(t, hasControl(err.Error()), "%q", err.Error())
		})
	}
	err := Options{URL: "http://p", HTTPConfigFile: filepath.Join(dir, "absent.yml")}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading the HTTP client configuration file: open "+filepath.Join(dir, "absent.yml"))
}

// TestFileCredentialsStayOnTheHost: credentials and headers from the file
// go to the configured origin only. The library drops Authorization on a
// redirect to another host name, but not the configured headers, nor
// anything on a redirect to another port of the same host, as here (both
// servers listen on 127.0.0.1): the guard refuses those.
func TestFileCredentialsStayOnTheHost(t *testing.T) {
	dir := t.TempDir()
	other, seen := recorder(t)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(first.Close)
	f := writeFile(t, dir, "http.yml", "authorization:\n  credentials: tok-s3cret\nhttp_headers:\n  X-Scope-OrgID:\n    values: [tenant-s3cret]\n  X-Key:\n    secrets: [key-s3cret]\n")
	q := testQuerier(t, Options{URL: first.URL, HTTPConfigFile: f, Params: url.Values{"api_key": {"param-s3cret"}}})
	_, err := q.query(context.Background(), "reading owners", "up", time.Unix(1_800_000_000, 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), originOfURL(t, first.URL)+" redirects to another host, "+originOfURL(t, other.URL)+": not followed")
	assert.Empty(t, seen(), "the other host got no request")
	assert.NotContains(t, err.Error(), "s3cret")
}

// TestFollowRedirectsOff: with follow_redirects: false a redirect, even
// within the server, ends the request with that reason, unretried.
func TestFollowRedirectsOff(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, "/new"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	f := writeFile(t, t.TempDir(), "http.yml", "follow_redirects: false\n")
	q := testQuerier(t, Options{URL: srv.URL, HTTPConfigFile: f, Retries: 2, RetryBackoff: time.Millisecond})
	_, err := q.query(context.Background(), "reading owners", "up", time.Unix(1_800_000_000, 0))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading owners: redirect (307) not followed")
	assert.Equal(t, int32(1), n.Load(), "neither followed nor retried")
}

// TestProxyFromEnvironment: requests go through the proxy HTTP_PROXY names,
// as they did with Go's default transport.
func TestProxyFromEnvironment(t *testing.T) {
	var mu sync.Mutex
	var hosts []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.URL.Host)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":[]}`)
	}))
	t.Cleanup(proxy.Close)
	for _, k := range []string{"HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	for _, k := range []string{"NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	_, err := Collect(context.Background(), Options{URL: "http://prometheus.example:9090", Retries: -1}, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no container series match", "the proxy answered")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"prometheus.example:9090"}, hosts)
}

// TestReservedHeaders: headers the HTTP client sets itself cannot be given
// as extra headers, and the refusal quotes no value.
func TestReservedHeaders(t *testing.T) {
	for _, h := range []string{"Authorization=Bearer s3cret-token", "content-type=text/plain", "Accept-Encoding=br"} {
		_, _, err := ParseHeader(h)
		require.Error(t, err, h)
		assert.Contains(t, err.Error(), "set by the HTTP client itself")
		assert.NotContains(t, err.Error(), "s3cret")
	}
	err := Options{URL: "http://p", Headers: http.Header{"User-Agent": {"x"}}}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `header "User-Agent": set by the HTTP client itself`)
}

// TestConfigFileReadErrorsAreLocal: a file of the configuration that cannot
// be read is said as such, names its role, and is not retried.
func TestConfigFileReadErrorsAreLocal(t *testing.T) {
	dir := t.TempDir()
	absent := filepath.Join(dir, "absent")
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"password file", Options{Username: "u", PasswordFile: absent}, "reading password file: open " + absent},
		{"header file", Options{HTTPConfigFile: writeFile(t, dir, "http.yml", "http_headers:\n  X-Key:\n    files: [absent]\n")}, "reading header file: open " + absent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := scripted(t, answer{200, emptyMatrix})
			o := tt.o
			o.URL, o.Retries, o.Clock = srv.URL, 3, &instantClock{}
			_, err := Collect(context.Background(), o, nil, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "listing namespaces: "+tt.want)
			assert.Equal(t, 0, *n, "nothing sent")
			assert.Empty(t, o.Clock.(*instantClock).Waits(), "not retried")
		})
	}
}

// TestForEach: at most Concurrency calls at once; the first error stops the
// rest and is returned, and so is the cancellation of the context.
func TestForEach(t *testing.T) {
	c := &collector{o: Options{Concurrency: 3}}
	var cur, peak, calls atomic.Int32
	err := c.forEach(context.Background(), 20, func(ctx context.Context, i int) error {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
		calls.Add(1)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, int32(20), calls.Load())
	assert.LessOrEqual(t, peak.Load(), int32(3))

	boom := errors.New("boom")
	calls.Store(0)
	err = c.forEach(context.Background(), 20, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 0 {
			return boom
		}
		<-ctx.Done() // the others wait for the error to stop them
		return nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Less(t, calls.Load(), int32(20), "no call started after the error was seen")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.forEach(ctx, 20, func(ctx context.Context, i int) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
}
