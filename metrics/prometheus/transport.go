package prometheus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// counters are the traffic figures of one collection.
type counters struct {
	requests atomic.Int64 // HTTP requests sent, retries included
	body     atomic.Int64 // response bytes after decompression
	wire     atomic.Int64 // bytes read from the connections
}

// statusKey carries a *int into a request's context; the transport stores
// the response's status code there, so that the caller can tell a 429 from
// other client errors after the API client has turned it into an error.
type statusKey struct{}

func withStatus(ctx context.Context) (context.Context, *int) {
	code := new(int)
	return context.WithValue(ctx, statusKey{}, code), code
}

// transport adds authentication, headers and parameters to each request and
// counts the traffic.
type transport struct {
	base       http.RoundTripper
	bearer     string
	bearerFile string
	user, pass string
	passFile   string
	headers    http.Header
	params     url.Values
	count      *counters
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	switch {
	case t.bearer != "" || t.bearerFile != "":
		tok := t.bearer
		if t.bearerFile != "" {
			b, err := os.ReadFile(t.bearerFile)
			if err != nil {
				return nil, localError{fmt.Errorf("reading bearer token file: %w", err)}
			}
			tok = strings.TrimSpace(string(b))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case t.user != "":
		pass := t.pass
		if t.passFile != "" {
			b, err := os.ReadFile(t.passFile)
			if err != nil {
				return nil, localError{fmt.Errorf("reading password file: %w", err)}
			}
			pass = strings.TrimRight(string(b), "\r\n")
		}
		req.SetBasicAuth(t.user, pass)
	}
	for k, vs := range t.headers {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if len(t.params) > 0 {
		q := req.URL.Query()
		for _, k := range sortedKeys(t.params) {
			for _, v := range t.params[k] {
				q.Add(k, v)
			}
		}
		req.URL.RawQuery = q.Encode()
	}
	t.count.requests.Add(1)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if code, ok := req.Context().Value(statusKey{}).(*int); ok {
		*code = resp.StatusCode
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.count.body}
	return resp, nil
}

// localError is a failure on this side (a credentials file that cannot be
// read): retrying does not help.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// newHTTPClient builds the client the API calls go through.
func newHTTPClient(o Options, count *counters) (*http.Client, error) {
	base := o.Transport
	if base == nil {
		tlsConfig, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		base = &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, n: &count.wire}, nil
			},
			TLSClientConfig:     tlsConfig,
			DisableCompression:  !o.Compression.compress(hostOf(o.URL)),
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: max(o.Concurrency, 2),
			IdleConnTimeout:     90 * time.Second,
		}
	}
	t := &transport{
		base:       base,
		bearer:     o.BearerToken,
		bearerFile: o.BearerTokenFile,
		user:       o.Username,
		pass:       o.Password,
		passFile:   o.PasswordFile,
		headers:    o.Headers,
		params:     o.Params,
		count:      count,
	}
	return &http.Client{Transport: t}, nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // the user asked for it
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		c.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// hostOf returns the host of a URL, without the port.
func hostOf(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// errorCause strips the request URL from transport errors: it may carry
// parameters the user considers secret, and the caller names the server
// itself.
func errorCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
