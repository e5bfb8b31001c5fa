package prometheus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// ErrTooLarge marks a query the server refused as too expensive (HTTP 422
// with a limit message): the caller splits it.
var ErrTooLarge = errors.New("query too large for the server")

// ErrUnreachable marks a server that cannot be connected to at all.
var ErrUnreachable = errors.New("not reachable")

// newQuerier builds the HTTP client and the API client over it.
func newQuerier(o Options, count *counters, log *slog.Logger) (*querier, *http.Client, error) {
	hc, err := newHTTPClient(o, count)
	if err != nil {
		return nil, nil, err
	}
	client, err := api.NewClient(api.Config{Address: o.URL, Client: hc})
	if err != nil {
		return nil, nil, errorCause(err)
	}
	return &querier{api: v1.NewAPI(client), timeout: o.Timeout, retries: o.Retries, backoff: o.RetryBackoff, log: log}, hc, nil
}

// querier runs API calls with a timeout each, retrying what may pass.
type querier struct {
	api     v1.API
	timeout time.Duration
	retries int
	backoff time.Duration
	log     *slog.Logger

	queries atomic.Int64 // logical calls, retries not counted
	retried atomic.Int64 // retries

	mu       sync.Mutex
	warnings map[string]bool
}

// verdict says what to do after a failed attempt.
type verdict int

const (
	fail verdict = iota
	retry
	split
)

// classify turns an attempt's error into a verdict and a message without the
// request URL. status is the HTTP status seen (0 if none).
func classify(err error, status int, attemptTimedOut bool) (verdict, error) {
	var apiErr *v1.Error
	switch {
	case attemptTimedOut:
		return retry, errors.New("timed out")
	case errors.As(err, &apiErr):
		detail := strings.TrimSpace(apiErr.Detail)
		if len(detail) > 200 {
			detail = detail[:200] + "…"
		}
		switch apiErr.Type {
		case v1.ErrServer, v1.ErrTimeout, v1.ErrCanceled:
			if detail != "" {
				return retry, fmt.Errorf("%s: %s", apiErr.Msg, detail)
			}
			return retry, errors.New(apiErr.Msg)
		case v1.ErrClient:
			if status == http.StatusTooManyRequests {
				return retry, errors.New("rate limited (429)")
			}
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				return fail, fmt.Errorf("not authorized (%d): check the token, username and password", status)
			}
			if detail != "" {
				return fail, fmt.Errorf("%s: %s", apiErr.Msg, detail)
			}
			return fail, errors.New(apiErr.Msg)
		case v1.ErrExec:
			if status == http.StatusUnprocessableEntity && looksLikeLimit(apiErr.Msg) {
				return split, fmt.Errorf("%w: %s", ErrTooLarge, apiErr.Msg)
			}
			return fail, fmt.Errorf("rejected: %s", apiErr.Msg)
		case v1.ErrBadResponse:
			return fail, fmt.Errorf("malformed response: %s", apiErr.Msg)
		default:
			return fail, fmt.Errorf("%s: %s", apiErr.Type, apiErr.Msg)
		}
	}
	cause := errorCause(err)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	var local localError
	switch {
	case errors.As(cause, &local):
		return fail, local
	case errors.As(cause, &certErr), errors.As(cause, &authErr), errors.As(cause, &hostErr):
		return fail, fmt.Errorf("TLS: %v", cause)
	case errors.As(cause, &netErr), errors.Is(cause, syscall.ECONNRESET), errors.Is(cause, io.ErrUnexpectedEOF):
		if errors.Is(cause, syscall.ECONNREFUSED) || errors.Is(cause, syscall.EHOSTUNREACH) || errors.Is(cause, syscall.ENETUNREACH) {
			return retry, fmt.Errorf("%w: %v", ErrUnreachable, cause)
		}
		if errors.As(cause, &dnsErr) && dnsErr.IsNotFound {
			return fail, fmt.Errorf("%w: %v", ErrUnreachable, cause)
		}
		return retry, cause
	case status == http.StatusOK || status == http.StatusNoContent:
		// The server answered; the answer did not decode.
		return fail, fmt.Errorf("malformed response: %v", cause)
	case errors.Is(cause, context.DeadlineExceeded):
		return retry, errors.New("timed out")
	}
	// Connections reset or closed early, TLS alerts: may pass next time.
	return retry, cause
}

// looksLikeLimit tells a refusal for size (Prometheus "query processing
// would load too many samples", "exceeded maximum resolution", Mimir and
// Thanos limits) from other execution errors, which splitting cannot cure.
func looksLikeLimit(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"too many", "exceed", "limit", "maximum"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// do runs call with retries. what names the request in errors.
func do[T any](ctx context.Context, q *querier, what string, call func(context.Context) (T, v1.Warnings, error)) (T, error) {
	q.queries.Add(1)
	var zero T
	var lastErr error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		actx, cancel := context.WithTimeout(ctx, q.timeout)
		actx, status := withStatus(actx)
		res, warnings, err := call(actx)
		timedOut := err != nil && actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			q.warn(warnings)
			return res, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		v, cause := classify(err, *status, timedOut)
		if timedOut {
			cause = fmt.Errorf("timed out after %s", q.timeout)
		}
		lastErr = cause
		if v != retry || attempt >= q.retries {
			if v == retry && attempt > 0 {
				return zero, fmt.Errorf("%s: %w (%d attempts)", what, lastErr, attempt+1)
			}
			return zero, fmt.Errorf("%s: %w", what, lastErr)
		}
		wait := q.backoff << attempt
		wait = wait/2 + rand.N(wait/2+1)
		q.retried.Add(1)
		q.log.Debug("retrying prometheus request", "what", what, "error", cause, "attempt", attempt+1, "wait", wait)
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (q *querier) warn(ws v1.Warnings) {
	if len(ws) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.warnings == nil {
		q.warnings = map[string]bool{}
	}
	for _, w := range ws {
		q.warnings[w] = true
	}
}

// queryRange evaluates expr at every step from start to end inclusive.
func (q *querier) queryRange(ctx context.Context, what, expr string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	v, err := do(ctx, q, what, func(ctx context.Context) (model.Value, v1.Warnings, error) {
		return q.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step})
	})
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: malformed response: %s result where a matrix was expected", what, v.Type())
	}
	return m, nil
}

// query evaluates expr at one instant.
func (q *querier) query(ctx context.Context, what, expr string, at time.Time) (model.Vector, error) {
	v, err := do(ctx, q, what, func(ctx context.Context) (model.Value, v1.Warnings, error) {
		return q.api.Query(ctx, expr, at)
	})
	if err != nil {
		return nil, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%s: malformed response: %s result where a vector was expected", what, v.Type())
	}
	return vec, nil
}

// series lists the series matching match between start and end, from the
// index alone.
func (q *querier) series(ctx context.Context, what string, match []string, start, end time.Time) ([]model.LabelSet, error) {
	return do(ctx, q, what, func(ctx context.Context) ([]model.LabelSet, v1.Warnings, error) {
		return q.api.Series(ctx, match, start, end)
	})
}

// labelValues lists the values of a label on series matching match.
func (q *querier) labelValues(ctx context.Context, what, label string, match []string, start, end time.Time) (model.LabelValues, error) {
	return do(ctx, q, what, func(ctx context.Context) (model.LabelValues, v1.Warnings, error) {
		return q.api.LabelValues(ctx, label, match, start, end)
	})
}
