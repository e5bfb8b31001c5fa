package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/internal/untrusted"
)

// Answers to instant and range queries are decoded here rather than by the
// API client, whose decoder fails a whole answer on one value beyond
// float64's range ("1e400") and wraps absurd timestamps around: one bad
// point is skipped and counted instead, like a NaN, and the rest of the
// chunk is kept. The index listings (series, label values) hold no numbers
// and go through the API client.

const (
	epQuery      = "/api/v1/query"
	epQueryRange = "/api/v1/query_range"
)

// badTime stands for a timestamp outside what can be a step: beyond
// ±2^53 ms (where a float64 of milliseconds is no longer exact, some
// 285,000 years) or not a finite number. It matches no step.
const badTime = model.Time(math.MinInt64)

// maxTimestamp bounds the timestamps read, in seconds from the epoch.
const maxTimestamp = float64(1<<53) / 1000

// badValue stands for a sample value that is no number: every reader skips
// infinities and counts them as invalid, as it does values beyond
// float64's range, which parse as infinities.
var badValue = math.Inf(1)

// answerClient sends instant and range queries and reads each answer
// into a buffer it reuses: bytes.Buffer grown from nothing, as the API
// client reads, allocates an answer about twice over, and a fleet's
// answers add up to gigabytes, most of what a collection would otherwise
// allocate.
type answerClient struct {
	api api.Client // the URLs
	hc  *http.Client
	// free holds the buffers not in use, at most as many as requests in
	// flight, each of at most keep bytes.
	free chan *bytes.Buffer
	keep int
	// limit is the transport's response limit: a Content-Length beyond
	// it is refused before a byte is read, and an error page is read
	// only in part, so neither sizes a buffer.
	limit int64
}

// maxKeptBuffer bounds the buffers kept for reuse: a rare larger answer's
// is left to the garbage collector rather than held for the whole run.
const maxKeptBuffer = 64 << 20

func newAnswerClient(c api.Client, hc *http.Client, inFlight int, limit int64) *answerClient {
	return &answerClient{api: c, hc: hc, free: make(chan *bytes.Buffer, max(inFlight, 1)), keep: maxKeptBuffer, limit: limit}
}

// do sends req and reads the whole answer; the caller gives the buffer
// back (release) once nothing refers to its bytes.
func (c *answerClient) do(ctx context.Context, req *http.Request) (*http.Response, *bytes.Buffer, error) {
	resp, err := c.hc.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var buf *bytes.Buffer
	select {
	case buf = <-c.free:
	default:
		buf = new(bytes.Buffer)
	}
	if resp.ContentLength > 0 && resp.ContentLength <= c.limit && !errorBody(resp.StatusCode) {
		buf.Grow(int(resp.ContentLength))
	}
	_, err = buf.ReadFrom(resp.Body)
	return resp, buf, err
}

// release keeps buf for another answer, if there is room and it is not
// too large.
func (c *answerClient) release(buf *bytes.Buffer) {
	if buf == nil || buf.Cap() > c.keep {
		return
	}
	buf.Reset()
	select {
	case c.free <- buf:
	default:
	}
}

// queryAPI posts a query to ep (falling back to GET where POST is not
// allowed, as the API client does) and decodes the answer, which must be of
// type want (model.ValMatrix or model.ValVector).
func queryAPI(ctx context.Context, client *answerClient, ep string, args url.Values, want model.ValueType) ([]apiSeries, v1.Warnings, error) {
	u := client.api.URL(ep, nil)
	encoded := args.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(encoded))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// An Idempotency-Key lets the transport retry the POST on a broken
	// idle connection; a nil value is not sent.
	req.Header["Idempotency-Key"] = nil
	resp, body, err := client.do(ctx, req)
	if err == nil && (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		client.release(body)
		u.RawQuery = encoded
		if req, err = http.NewRequest(http.MethodGet, u.String(), nil); err != nil {
			return nil, nil, err
		}
		resp, body, err = client.do(ctx, req)
	}
	defer client.release(body)
	if err != nil {
		return nil, nil, err
	}
	// Nothing decoded refers to the body's bytes: labels, values and
	// messages are copies.
	return decodeAnswer(resp.StatusCode, body.Bytes(), want)
}

// apiResponse is the envelope of every API answer.
type apiResponse struct {
	Status    string       `json:"status"`
	Data      queryData    `json:"data"`
	ErrorType v1.ErrorType `json:"errorType"`
	Error     string       `json:"error"`
	Warnings  []string     `json:"warnings"`
}

type queryData struct {
	ResultType string      `json:"resultType"`
	Result     []apiSeries `json:"result"`
}

// apiSeries is one series of a matrix (Values) or one sample of a vector
// (Value). Native histograms are left out: the queries ask for floats.
type apiSeries struct {
	Metric model.Metric `json:"metric"`
	Values pointList    `json:"values"`
	Value  *apiPoint    `json:"value"`
}

// malformedError is an answer that does not decode. Its message escapes
// whatever it cites of the answer.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

// decodeAnswer decodes an API answer with the HTTP status code, as the API
// client does: a status other than 2xx, 400 and 422 is an error with the
// body as detail; an error answer becomes a *v1.Error.
func decodeAnswer(code int, body []byte, want model.ValueType) ([]apiSeries, v1.Warnings, error) {
	if errorBody(code) {
		typ, msg := v1.ErrBadResponse, fmt.Sprintf("bad response code %d", code)
		switch code / 100 {
		case 4:
			typ, msg = v1.ErrClient, fmt.Sprintf("client error: %d", code)
		case 5:
			typ, msg = v1.ErrServer, fmt.Sprintf("server error: %d", code)
		}
		return nil, nil, &v1.Error{Type: typ, Msg: msg, Detail: string(body)}
	}
	if code/100 == 2 {
		if series, warnings, ok := fastAnswer(body, want); ok {
			return series, warnings, nil
		}
	}
	return decodeGeneral(code, body, want)
}

// decodeGeneral decodes any answer that is not an error status with
// encoding/json: what fastAnswer does not take, and says what is wrong
// with it.
func decodeGeneral(code int, body []byte, want model.ValueType) ([]apiSeries, v1.Warnings, error) {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// A value of the wrong type leaves the rest decoded: an error
		// answer with odd data, or a scalar result, say, where a matrix
		// was asked for, which are better said as such.
		var te *json.UnmarshalTypeError
		mismatch := r.Status == "success" && r.Data.ResultType != "" && r.Data.ResultType != want.String()
		if !errors.As(err, &te) || !mismatch && r.Status != "error" {
			return nil, nil, &malformedError{untrusted.Clip(err.Error(), untrusted.MaxQuoted)}
		}
	}
	switch {
	case r.Status == "error":
		return nil, r.Warnings, &v1.Error{Type: r.ErrorType, Msg: r.Error}
	case r.Status != "success":
		return nil, nil, &malformedError{fmt.Sprintf("status %s, neither success nor error", serverText(r.Status))}
	case code/100 != 2: // 400 or 422
		return nil, nil, &malformedError{fmt.Sprintf("success with status code %d", code)}
	case r.Data.ResultType != want.String():
		return nil, r.Warnings, &malformedError{fmt.Sprintf("%s result where a %s was expected", serverText(r.Data.ResultType), want)}
	}
	return r.Data.Result, r.Warnings, nil
}

// matrix turns decoded series into a model.Matrix.
func matrix(series []apiSeries) model.Matrix {
	m := make(model.Matrix, len(series))
	for i, s := range series {
		m[i] = &model.SampleStream{Metric: s.Metric, Values: s.Values}
	}
	return m
}

// vector turns decoded samples into a model.Vector.
func vector(series []apiSeries) model.Vector {
	v := make(model.Vector, 0, len(series))
	for _, s := range series {
		if s.Value == nil {
			continue // a native histogram, or nothing
		}
		v = append(v, &model.Sample{Metric: s.Metric, Timestamp: s.Value.Timestamp, Value: s.Value.Value})
	}
	return v
}

// pointList is a matrix series' values, [[timestamp, "value"], ...]; it
// is parsed by hand, being most of every answer.
type pointList []model.SamplePair

// apiPoint is a vector sample's value, [timestamp, "value"].
type apiPoint model.SamplePair

var errPoint = errors.New(`a point is not [timestamp, "value"]`)

// UnmarshalJSON parses b, a valid JSON value (the decoder checks that
// before it calls this).
func (l *pointList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = nil
		return nil
	}
	if len(b) < 2 || b[0] != '[' {
		return errPoint
	}
	// Every point opens one bracket and the list one more.
	out := make(pointList, 0, max(bytes.Count(b, []byte{'['})-1, 0))
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		*l = out
		return nil
	}
	for {
		p, n, err := parsePoint(b[i:])
		if err != nil {
			return err
		}
		out = append(out, p)
		i = skipSpace(b, i+n)
		if i >= len(b) {
			return errPoint
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			*l = out
			return nil
		default:
			return errPoint
		}
	}
}

// UnmarshalJSON parses b, a valid JSON value.
func (p *apiPoint) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	sp, n, err := parsePoint(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return errPoint
	}
	*p = apiPoint(sp)
	return nil
}

// parsePoint parses [timestamp, "value"] at the start of b and returns the
// bytes it took. A timestamp out of bounds becomes badTime; a value that is
// no float, badValue; a value beyond float64's range, an infinity.
func parsePoint(b []byte) (model.SamplePair, int, error) {
	var p model.SamplePair
	if len(b) == 0 || b[0] != '[' {
		return p, 0, errPoint
	}
	i := skipSpace(b, 1)
	j := i
	for j < len(b) && strings.IndexByte("+-.0123456789eE", b[j]) >= 0 {
		j++
	}
	if j == i {
		return p, 0, errPoint
	}
	p.Timestamp = parseTimestamp(b[i:j])
	i = skipSpace(b, j)
	if i >= len(b) || b[i] != ',' {
		return p, 0, errPoint
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return p, 0, errPoint
	}
	escaped := false
	j = i + 1
	for ; j < len(b) && b[j] != '"'; j++ {
		if b[j] == '\\' {
			escaped = true
			j++
		}
	}
	if j >= len(b) {
		return p, 0, errPoint
	}
	v := b[i+1 : j]
	if escaped {
		var s string
		if err := json.Unmarshal(b[i:j+1], &s); err != nil {
			return p, 0, errPoint
		}
		v = []byte(s)
	}
	p.Value = model.SampleValue(parseValue(v))
	i = skipSpace(b, j+1)
	if i >= len(b) || b[i] != ']' {
		return p, 0, errPoint
	}
	return p, i + 1, nil
}

// parseTimestamp reads seconds since the epoch, with up to millisecond
// precision.
func parseTimestamp(b []byte) model.Time {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxTimestamp {
		return badTime
	}
	return model.Time(math.Round(f * 1000))
}

// parseValue reads a sample value: a float, "NaN", "+Inf" or "-Inf".
func parseValue(b []byte) float64 {
	f, err := strconv.ParseFloat(string(b), 64)
	if err == nil {
		return f
	}
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return f // ±Inf beyond the range, 0 below it
	}
	return badValue
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// formatTime renders a time as the API takes it: seconds, with a fraction
// if any.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}
