package kubetest

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Restarter stands in front of the real apiserver and restarts it as its
// clients see a restart: every connection, watches too, is cut, new ones
// are refused for a while, then it answers again. The apiserver behind it
// keeps running, so that other tests sharing the cluster go on.
//
// A restart can be tied to a request (RestartAfter): the request reaches
// the apiserver and is carried out, and its answer is lost with the
// connection — the client cannot know that its write landed.
type Restarter struct {
	t        testing.TB
	addr     string
	upstream *url.URL
	rt       http.RoundTripper

	mu    sync.Mutex
	srv   *http.Server
	trips []trip
	// Restarts counts the restarts done.
	restarts int
}

type trip struct {
	match func(*http.Request) bool
	down  time.Duration
}

// Restartable starts a Restarter in front of cfg's apiserver and returns
// the config of its clients: plain HTTP to the Restarter, which speaks to
// the apiserver with cfg's credentials.
func Restartable(t testing.TB, cfg *rest.Config) (*Restarter, *rest.Config) {
	t.Helper()
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatalf("the apiserver's transport: %v", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatalf("the apiserver's address %q: %v", cfg.Host, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Restarter{t: t, addr: l.Addr().String(), upstream: u, rt: rt}
	r.serve(l)
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.srv != nil {
			_ = r.srv.Close()
		}
	})
	return r, &rest.Config{Host: "http://" + r.addr, QPS: cfg.QPS, Burst: cfg.Burst}
}

func (r *Restarter) serve(l net.Listener) {
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(r.upstream) },
		Transport:     r.rt,
		FlushInterval: -1, // watches stream
		ModifyResponse: func(resp *http.Response) error {
			if down, ok := r.tripped(resp.Request); ok {
				go r.Restart(down)
				// The write is done; its answer goes with the
				// connection.
				panic(http.ErrAbortHandler)
			}
			return nil
		},
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Logf("restarter: %v", err)
		}
	}()
}

// RestartAfter restarts the apiserver, down for the given time, once a
// request that match says is one has been carried out, before its answer
// goes back. Each call ties one restart.
func (r *Restarter) RestartAfter(down time.Duration, match func(*http.Request) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, trip{match: match, down: down})
}

func (r *Restarter) tripped(req *http.Request) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, tr := range r.trips {
		if tr.match(req) {
			r.trips = append(r.trips[:i], r.trips[i+1:]...)
			return tr.down, true
		}
	}
	return 0, false
}

// Restart cuts every connection, refuses new ones for down, and answers
// again on the same address.
func (r *Restarter) Restart(down time.Duration) {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return // restarting already
	}
	_ = srv.Close()
	r.t.Logf("restarter: apiserver down for %s", down)
	time.Sleep(down)
	var l net.Listener
	var err error
	for range 50 { // the port may linger a moment
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Errorf("restarter: listening again on %s: %v", r.addr, err)
		return
	}
	r.serve(l)
	r.mu.Lock()
	r.restarts++
	r.mu.Unlock()
	r.t.Logf("restarter: apiserver up again")
}

// Restarts is how many restarts are done.
func (r *Restarter) Restarts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.restarts
}

// Pending is how many tied restarts have not happened yet.
func (r *Restarter) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.trips)
}
