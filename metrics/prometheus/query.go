package prometheus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
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
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &querier{
		answers: newAnswerClient(client, hc, o.Concurrency, o.responseLimit()), api: v1.NewAPI(client),
		timeout: o.Timeout, retries: o.Retries, backoff: o.RetryBackoff,
		log: log, now: o.Now, sleep: sleepOn(o.Clock),
	}
	return q, hc, nil
}

// querier runs API calls with a timeout each, retrying what may pass.
type querier struct {
	answers *answerClient // instant and range queries, decoded here
	api     v1.API        // index listings
	timeout time.Duration
	retries int
	backoff time.Duration
	log     *slog.Logger
	// now and sleep are the clock (tests replace them; Options.Clock
	// makes the waits of a whole collection instant).
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	queries atomic.Int64 // logical calls, retries not counted
	retried atomic.Int64 // retries
	// victoria is set once a successful answer came from VictoriaMetrics.
	victoria atomic.Bool

	mu       sync.Mutex
	warnings map[string]bool
	// moreWarnings counts the warnings that came after maxWarnings
	// distinct ones, repeats included.
	moreWarnings int
}

// maxRetryAfter bounds the wait a server may ask for with Retry-After; a
// longer one (and one longer than the request timeout) ends the request
// instead: retrying earlier than asked would only be refused again.
const maxRetryAfter = 5 * time.Minute

// maxBackoff bounds the wait between retries that the backoff alone
// asks for: past a minute, a server that still fails is better reported.
const maxBackoff = time.Minute

// maxWarnings bounds the distinct server warnings kept.
const maxWarnings = 50

// sleepOn waits d on the clock c, or until ctx ends.
func sleepOn(c clock.Clock) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		t := c.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			return nil
		}
	}
}

// newBackoff returns the waits between the attempts of one call: from half
// the backoff up to it for the first retry (Jitter 1 adds up to the
// duration again), doubling with each further one, below maxBackoff.
func (q *querier) newBackoff() wait.Backoff {
	return wait.Backoff{Duration: q.backoff / 2, Factor: 2, Jitter: 1, Steps: q.retries, Cap: maxBackoff / 2}
}

// verdict says what to do after a failed attempt.
type verdict int

const (
	fail verdict = iota
	retry
	split
)

// classify turns an attempt's error into a verdict and a message without the
// request URL. status is the HTTP status seen (0 if none). Whatever the
// server said is escaped and cut (serverText).
func classify(err error, status int, attemptTimedOut bool) (verdict, error) {
	var apiErr *v1.Error
	switch {
	case attemptTimedOut:
		return retry, errors.New("timed out")
	case errors.As(err, &apiErr):
		msg, detail := serverText(apiErr.Msg), serverText(apiErr.Detail)
		withDetail := func(v verdict) (verdict, error) {
			if detail != "" {
				return v, fmt.Errorf("%s: %s", msg, detail)
			}
			return v, errors.New(msg)
		}
		if status == http.StatusUnprocessableEntity && apiErr.Type != v1.ErrExec && looksLikeLimit(apiErr.Msg) {
			// VictoriaMetrics answers its limits with errorType "422".
			return split, tooLarge(apiErr.Msg)
		}
		switch apiErr.Type {
		case v1.ErrServer, v1.ErrTimeout, v1.ErrCanceled:
			return withDetail(retry)
		case v1.ErrClient:
			if status == http.StatusTooManyRequests {
				return retry, errors.New("rate limited (429)")
			}
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				return fail, fmt.Errorf("not authorized (%d): check the token, username and password", status)
			}
			return withDetail(fail)
		case v1.ErrExec:
			if status == http.StatusUnprocessableEntity && looksLikeLimit(apiErr.Msg) {
				return split, tooLarge(apiErr.Msg)
			}
			return fail, fmt.Errorf("rejected: %s", msg)
		case v1.ErrBadResponse:
			if status/100 == 3 {
				// follow_redirects: false, or a redirect without a Location.
				return fail, fmt.Errorf("redirect (%d) not followed", status)
			}
			return fail, fmt.Errorf("malformed response: %s", msg)
		default:
			return fail, fmt.Errorf("%s: %s", serverText(string(apiErr.Type)), msg)
		}
	}
	cause := errorCause(err)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	var local localError
	var cross *crossHostError
	var lost *lostQueryError
	var tooLarge *responseTooLargeError
	var malformed *malformedError
	switch {
	case errors.As(cause, &local):
		return fail, local
	case errors.As(cause, &cross):
		return fail, cross
	case errors.As(cause, &lost):
		return fail, lost
	case errors.As(cause, &tooLarge):
		return split, tooLarge
	case errors.As(cause, &malformed):
		return fail, fmt.Errorf("malformed response: %w", malformed)
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

// retryAfter reads a Retry-After header, delay-seconds or an HTTP-date; a
// date is taken against the response's Date header where there is one (the
// server's clock), else against now. ok is false without a readable one.
func retryAfter(header, date string, now time.Time) (d time.Duration, ok bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if header[0] >= '0' && header[0] <= '9' {
		n, err := strconv.ParseUint(header, 10, 64)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				return math.MaxInt64, true
			}
			return 0, false
		}
		if n > uint64(math.MaxInt64/int64(time.Second)) {
			return math.MaxInt64, true
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(header)
	if err != nil {
		return 0, false
	}
	if d, err := http.ParseTime(date); err == nil {
		now = d
	}
	return max(at.Sub(now), 0), true
}

// looksLikeLimit tells a refusal for size (Prometheus "query processing
// would load too many samples", "exceeded maximum resolution", Mimir and
// Thanos limits, VictoriaMetrics' -search.max* flags) from other execution
// errors, which splitting cannot cure.
func looksLikeLimit(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"too many", "exceed", "limit", "maximum", "-search.max"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// vmLimit finds the VictoriaMetrics flag and value a refusal names
// ("cannot exceed -search.maxPointsPerTimeseries=30000"): the messages
// start with the whole query, so the flag would often be cut off the
// message shown.
var vmLimit = regexp.MustCompile(`-search\.max[A-Za-z]+=[0-9]+`)

// vmPointsLimit is VictoriaMetrics' limit of steps per range query.
const vmPointsLimit = "-search.maxPointsPerTimeseries="

// TooManyStepsError is a range query refused for its steps: the server
// returns at most Limit points per series (VictoriaMetrics'
// -search.maxPointsPerTimeseries). It is an ErrTooLarge.
type TooManyStepsError struct {
	Limit int
	msg   string
}

func (e *TooManyStepsError) Error() string {
	return fmt.Sprintf("%s: at most %d steps per query (%s%d): %s", ErrTooLarge, e.Limit, vmPointsLimit, e.Limit, e.msg)
}

func (e *TooManyStepsError) Is(target error) bool { return target == ErrTooLarge }

// tooLarge is the error of a refusal for size, naming the server's flag
// where the message does.
func tooLarge(msg string) error {
	flag := vmLimit.FindString(msg)
	if rest, ok := strings.CutPrefix(flag, vmPointsLimit); ok {
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			return &TooManyStepsError{Limit: n, msg: serverText(msg)}
		}
	}
	if flag != "" {
		return fmt.Errorf("%w (%s): %s", ErrTooLarge, flag, serverText(msg))
	}
	return fmt.Errorf("%w: %s", ErrTooLarge, serverText(msg))
}

// do runs call with retries. what names the request in errors.
func do[T any](ctx context.Context, q *querier, what string, call func(context.Context) (T, v1.Warnings, error)) (T, error) {
	q.queries.Add(1)
	var zero T
	backoff := q.newBackoff()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		actx, cancel := context.WithTimeout(ctx, q.timeout)
		actx, ans := withRespInfo(actx)
		res, warnings, err := call(actx)
		timedOut := err != nil && actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			q.warn(warnings)
			if ans.victoria {
				q.victoria.Store(true)
			}
			return res, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		v, cause := classify(err, ans.status, timedOut)
		if timedOut {
			cause = fmt.Errorf("timed out after %s", q.timeout)
		}
		cause = cleanError(cause)
		if v != retry || attempt >= q.retries {
			if v == retry && attempt > 0 {
				return zero, fmt.Errorf("%s: %w (%d attempts)", what, cause, attempt+1)
			}
			return zero, fmt.Errorf("%s: %w", what, cause)
		}
		wait := backoff.Step()
		if ans.status == http.StatusTooManyRequests || ans.status == http.StatusServiceUnavailable {
			if ra, ok := retryAfter(ans.retryAfter, ans.date, q.now()); ok {
				if limit := min(q.timeout, maxRetryAfter); ra > limit {
					return zero, fmt.Errorf("%s: %w (%sthe server asks to retry after %s, longer than the %s waited at most)",
						what, cause, attempts(attempt+1), roundWait(ra), limit)
				}
				wait = max(wait, ra)
			}
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return zero, fmt.Errorf("%s: %w (%sno time left to wait %s for another attempt)", what, cause, attempts(attempt+1), roundWait(wait))
		}
		q.retried.Add(1)
		q.log.Debug("retrying prometheus request", "what", what, "error", cause, "attempt", attempt+1, "wait", wait)
		if err := q.sleep(ctx, wait); err != nil {
			return zero, err
		}
	}
}

// attempts prefixes a reason with the attempts made, if more than one.
func attempts(n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf("%d attempts; ", n)
}

// roundWait renders a wait for a message; a Retry-After beyond any sane
// date shows as such.
func roundWait(d time.Duration) string {
	if d >= math.MaxInt64/2 {
		return "centuries"
	}
	return d.Round(time.Second).String()
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
		switch {
		case q.warnings[w]:
		case len(q.warnings) < maxWarnings:
			q.warnings[w] = true
		default:
			q.moreWarnings++
		}
	}
}

// serverWarnings returns the server's warnings for the result, escaped.
func (q *querier) serverWarnings() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, w := range sortedKeys(q.warnings) {
		out = append(out, "server: "+serverText(w))
	}
	if q.moreWarnings > 0 {
		out = append(out, fmt.Sprintf("server: %d further warnings not shown", q.moreWarnings))
	}
	return out
}

// queryRange evaluates expr at every step from start to end inclusive.
func (q *querier) queryRange(ctx context.Context, what, expr string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	args := url.Values{
		"query": {expr},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
		// VictoriaMetrics otherwise moves start and end of a range of 50
		// points or more to multiples of the step (the settings grid's
		// are not), and answers from its rollup result cache, which does
		// not see samples that arrive late. Other servers ignore it.
		"nocache": {"1"},
	}
	res, err := do(ctx, q, what, func(ctx context.Context) ([]apiSeries, v1.Warnings, error) {
		return queryAPI(ctx, q.answers, epQueryRange, args, model.ValMatrix)
	})
	if err != nil {
		return nil, err
	}
	return matrix(res), nil
}

// query evaluates expr at one instant.
func (q *querier) query(ctx context.Context, what, expr string, at time.Time) (model.Vector, error) {
	args := url.Values{"query": {expr}, "time": {formatTime(at)}}
	res, err := do(ctx, q, what, func(ctx context.Context) ([]apiSeries, v1.Warnings, error) {
		return queryAPI(ctx, q.answers, epQuery, args, model.ValVector)
	})
	if err != nil {
		return nil, err
	}
	return vector(res), nil
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
