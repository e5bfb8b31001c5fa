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

	"rightsize.dev/rightsize/recommender/workload"
)

// counters are the traffic figures of one collection.
type counters struct {
	requests atomic.Int64 // HTTP requests sent, retries included
	body     atomic.Int64 // response bytes after decompression
	wire     atomic.Int64 // bytes read from the connections
}

// respInfoKey carries a *respInfo into a request's context; the transport
// fills it from the response, so that the caller can tell a 429 from other
// client errors and honour Retry-After after the API client has turned the
// response into an error.
type respInfoKey struct{}

// respInfo is what the caller learns of the last response to a request.
type respInfo struct {
	status     int
	retryAfter string // the Retry-After header
	date       string // the Date header, to read an HTTP-date Retry-After against
}

func withRespInfo(ctx context.Context) (context.Context, *respInfo) {
	a := new(respInfo)
	return context.WithValue(ctx, respInfoKey{}, a), a
}

// transport adds authentication, headers and parameters to each request to
// the configured server, counts the traffic and bounds the responses.
type transport struct {
	base http.RoundTripper
	// origin is the configured server's scheme://host:port: credentials,
	// headers and parameters go there and nowhere else.
	origin     string
	bearer     string
	bearerFile string
	user, pass string
	passFile   string
	headers    http.Header
	params     url.Values
	count      *counters
	// maxBody bounds a response body after decompression.
	maxBody int64
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The client follows no redirect to another host (checkRedirect);
	// this holds whatever asks the transport.
	if o := originOf(req.URL); o != t.origin {
		return nil, &crossHostError{from: t.origin, to: o}
	}
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
			// A redirect's target may carry them already.
			if req.Response != nil && q.Has(k) {
				continue
			}
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
	if a, ok := req.Context().Value(respInfoKey{}).(*respInfo); ok {
		*a = respInfo{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), date: resp.Header.Get("Date")}
	}
	b := &limitedBody{ReadCloser: resp.Body, n: &t.count.body, limit: t.maxBody}
	switch {
	case errorBody(resp.StatusCode):
		// Only the start of an error page is ever shown.
		b.limit, b.truncate = min(b.limit, errorBodyLimit), true
	case resp.ContentLength > b.limit:
		b.tooLarge = true
	}
	resp.Body = b
	return resp, nil
}

// errorBody reports whether a status carries an error page rather than an
// API answer (400 and 422 carry the API's JSON errors).
func errorBody(status int) bool {
	return status/100 != 2 && status != http.StatusBadRequest && status != http.StatusUnprocessableEntity
}

// errorBodyLimit bounds the error pages read: the messages cite
// untrusted.MaxQuoted bytes of them.
const errorBodyLimit = 64 << 10

// originOf returns a URL's scheme://host:port, the port made explicit, as
// browsers and Go's own client compare hosts before sending credentials.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// checkRedirect follows redirects within the configured server only: the
// transport adds credentials, headers and parameters to every request, so
// following one to another host would hand them over.
func checkRedirect(origin string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if o := originOf(req.URL); o != origin {
			return &crossHostError{from: origin, to: o}
		}
		return nil
	}
}

// crossHostError is a redirect (or request) to a host other than the
// configured one, refused.
type crossHostError struct{ from, to string }

func (e *crossHostError) Error() string {
	return fmt.Sprintf("%s redirects to another host, %s: not followed, since credentials, headers and parameters go to %s only (use the other host's URL, if it is the right one)",
		e.from, serverText(e.to), e.from)
}

// localError is a failure on this side (a credentials file that cannot be
// read): retrying does not help.
type localError struct{ error }

func (e localError) Unwrap() error { return e.error }

// ErrResponseTooLarge marks a response larger than Options.MaxResponseSize.
var ErrResponseTooLarge = errors.New("response too large")

type responseTooLargeError struct{ limit int64 }

func (e *responseTooLargeError) Error() string {
	return fmt.Sprintf("response larger than the size limit of %s (decompressed)", workload.Bytes(e.limit))
}

func (e *responseTooLargeError) Is(target error) bool { return target == ErrResponseTooLarge }

// limitedBody counts a response body as it is read (after decompression)
// and ends it at a limit: with an error, or for error pages quietly.
type limitedBody struct {
	io.ReadCloser
	n        *atomic.Int64
	read     int64
	limit    int64
	truncate bool
	// tooLarge is set when the body is known to exceed the limit before a
	// byte of it is read (Content-Length).
	tooLarge bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.tooLarge {
		return 0, &responseTooLargeError{limit: b.limit}
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte beyond the limit to tell a body of exactly the limit
	// from a longer one.
	if left := b.limit - b.read + 1; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		n -= int(b.read - b.limit)
		b.read = b.limit
		b.n.Add(int64(n))
		if b.truncate {
			return n, io.EOF
		}
		b.tooLarge = true
		return n, &responseTooLargeError{limit: b.limit}
	}
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
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, errors.New("the Prometheus URL does not parse")
	}
	t := &transport{
		base:       base,
		origin:     originOf(u),
		bearer:     o.BearerToken,
		bearerFile: o.BearerTokenFile,
		user:       o.Username,
		pass:       o.Password,
		passFile:   o.PasswordFile,
		headers:    o.Headers,
		params:     o.Params,
		count:      count,
		maxBody:    int64(o.MaxResponseSize),
	}
	if t.maxBody <= 0 {
		t.maxBody = int64(DefaultMaxResponseSize(o.MaxPoints))
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect(t.origin)}, nil
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
