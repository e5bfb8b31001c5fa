package prometheus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/common/config"

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
	// victoria: the answer came from VictoriaMetrics, which names the
	// answering host in X-Server-Hostname on every response.
	victoria bool
}

func withRespInfo(ctx context.Context) (context.Context, *respInfo) {
	a := new(respInfo)
	return context.WithValue(ctx, respInfoKey{}, a), a
}

// guard wraps the round tripper the HTTP client configuration builds (which
// authenticates and adds headers): it sends to the configured server only,
// adds the parameters, asks for and decompresses gzip, counts the traffic
// and bounds the responses.
//
// The library leaves the Authorization header off a redirect only once it
// leaves the host name and its subdomains (another port or scheme of the
// same host keeps it), and its configured headers follow every redirect;
// the parameters are this package's own. Hence the origin check here, for
// every request, whatever asks the transport.
type guard struct {
	next http.RoundTripper
	// origin is the configured server's scheme://host:port: credentials,
	// headers and parameters go there and nowhere else.
	origin string
	params url.Values
	// gzip asks for compressed responses; the library's transport never
	// does (it turns Go's transparent compression off).
	gzip  bool
	count *counters
	// maxBody bounds a response body after decompression.
	maxBody int64
	// files names the files the configuration reads for each request:
	// failing to read one is a local error, said as such.
	files map[string]string
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	// The client follows no redirect to another host (checkRedirect);
	// this holds whatever asks the transport.
	if o := originOf(req.URL); o != g.origin {
		return nil, &crossHostError{from: g.origin, to: o}
	}
	req = req.Clone(req.Context())
	if len(g.params) > 0 {
		q := req.URL.Query()
		for _, k := range sortedKeys(g.params) {
			// A redirect's target may carry them already.
			if req.Response != nil && q.Has(k) {
				continue
			}
			for _, v := range g.params[k] {
				q.Add(k, v)
			}
		}
		req.URL.RawQuery = q.Encode()
	}
	if g.gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	g.count.requests.Add(1)
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, g.localFile(err)
	}
	if a, ok := req.Context().Value(respInfoKey{}).(*respInfo); ok {
		*a = respInfo{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), date: resp.Header.Get("Date"),
			victoria: resp.Header.Get("X-Server-Hostname") != ""}
	}
	if g.gzip && strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		// As Go's transport does when it asks for gzip itself.
		resp.Body = &gzipBody{body: resp.Body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	b := &limitedBody{ReadCloser: resp.Body, n: &g.count.body, limit: g.maxBody}
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

// localFile turns a failure to read a file of the configuration (a token
// file removed, say) into a localError naming the file's role: retrying
// does not help, and the library's message does not say which file it was.
func (g *guard) localFile(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if what, ok := g.files[pe.Path]; ok {
			return localError{fmt.Errorf("reading %s: %w", what, pe)}
		}
	}
	return err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// library's transport.
func (g *guard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// gzipBody decompresses a response body, from its first read on.
type gzipBody struct {
	body io.ReadCloser
	zr   *gzip.Reader
	err  error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.zr == nil && b.err == nil {
		b.zr, b.err = gzip.NewReader(b.body)
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.zr.Read(p)
}

func (b *gzipBody) Close() error { return b.body.Close() }

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

// checkRedirect follows redirects within the configured server only
// (follow_redirects: false, none at all): the transport adds credentials,
// headers and parameters to every request, so following one to another
// host would hand them over.
func checkRedirect(origin string, follow bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if o := originOf(req.URL); o != origin {
			return &crossHostError{from: origin, to: o}
		}
		if via[0].Method == http.MethodPost && req.Method != http.MethodPost {
			// A 301, 302 or 303 turns the POST into a GET without the
			// form: the server would answer a query nobody asked.
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &lostQueryError{status: status, to: req.URL}
		}
		return nil
	}
}

// lostQueryError is a redirect that would drop a POSTed query, refused.
type lostQueryError struct {
	status int
	to     *url.URL
}

func (e *lostQueryError) Error() string {
	// Without the parameters, which may name a tenant.
	to := *e.to
	to.RawQuery, to.Fragment, to.User = "", "", nil
	base := to
	if i := strings.Index(base.Path, "/api/v1/"); i >= 0 {
		base.Path = base.Path[:i]
	}
	return fmt.Sprintf("the server answers a query with a redirect (%d) to %s, which HTTP clients follow as a GET without the query: not followed; use %s as the server's URL (or make the server redirect with 307 or 308)",
		e.status, serverText(to.String()), serverText(base.String()))
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

// newHTTPClient builds the client the API calls go through: Prometheus's
// HTTP client from the configuration (Options.httpClientConfig), inside
// the guard.
func newHTTPClient(o Options, count *counters) (*http.Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, errors.New("the Prometheus URL does not parse")
	}
	cfg, err := o.httpClientConfig()
	if err != nil {
		return nil, err
	}
	next := o.Transport
	if next == nil {
		if err := checkCA(cfg.TLSConfig); err != nil {
			return nil, err
		}
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		next, err = config.NewRoundTripperFromConfig(cfg, "prometheus",
			config.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, n: &count.wire}, nil
			}),
			config.WithIdleConnTimeout(90*time.Second))
		if err != nil {
			return nil, fmt.Errorf("HTTP client configuration: %w", err)
		}
	}
	g := &guard{
		next:    next,
		origin:  originOf(u),
		params:  o.Params,
		gzip:    o.Compression.compress(u.Hostname()),
		count:   count,
		maxBody: o.responseLimit(),
		files:   configFiles(cfg),
	}
	return &http.Client{Transport: g, CheckRedirect: checkRedirect(g.origin, cfg.FollowRedirects)}, nil
}

// responseLimit is the most bytes of one response read, after
// decompression.
func (o Options) responseLimit() int64 {
	if o.MaxResponseSize > 0 {
		return int64(o.MaxResponseSize)
	}
	return int64(DefaultMaxResponseSize(o.MaxPoints))
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
