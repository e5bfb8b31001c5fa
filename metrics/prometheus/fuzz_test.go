package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// The fuzz targets cover every parser of outside data in the package: the
// selector, URL, header and parameter options, Retry-After, and the
// answers of the server, from the bytes (decodeAnswer) through the HTTP
// client (FuzzQueryResponse) to the samples (FuzzCollect) and the HPAs
// (FuzzHPAs). Each checks
// that the call allocates within a bound of its input's size.

// safeMessage fails t when a message could drive a terminal or is
// unbounded.
func safeMessage(t *testing.T, msg string) {
	t.Helper()
	if hasControl(msg) || !utf8.ValidString(msg) {
		t.Fatalf("message with control characters or invalid UTF-8: %q", msg)
	}
	if len(msg) > 4*maxMessage {
		t.Fatalf("message of %d bytes", len(msg))
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		``, `cluster="prod"`, `{cluster="prod", namespace=~"shop|cart"}`, ` env != 'dev' ,team!~"a.*"`,
		`path="a\"b"`, "raw=`x\\y`", `ns=~"(("`, `a="\u00e9\x1b"`, `a='it\'s'`, `a=~"(a+)+$"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ms []Matcher
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { ms, err = ParseSelector(s) })
		if err != nil {
			safeMessageIfPrintable(t, s, err)
			return
		}
		for _, m := range ms {
			if !labelNameRE.MatchString(m.Name) || !slices.Contains([]string{"=", "!=", "=~", "!~"}, m.Op) {
				t.Fatalf("matcher %+v from %q", m, s)
			}
			if m.Op == "=~" || m.Op == "!~" {
				if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
					t.Fatalf("regexp %q accepted: %v", m.Value, err)
				}
			}
		}
		// What is rendered into a query parses back the same.
		again, err := ParseSelector(selector("", ms...))
		if err != nil {
			t.Fatalf("rendered %q does not parse: %v", selector("", ms...), err)
		}
		if len(ms) != len(again) || len(ms) > 0 && !slices.Equal(ms, again) {
			t.Fatalf("round trip of %q: %+v, then %+v", s, ms, again)
		}
	})
}

// safeMessageIfPrintable checks errors that cite user input: the input is
// the user's own (a flag), so only its printable part is the concern.
func safeMessageIfPrintable(t *testing.T, in string, err error) {
	t.Helper()
	if !hasControl(in) && utf8.ValidString(in) {
		safeMessage(t, err.Error())
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"http://prometheus:9090", "https://thanos-query.example/", "http://mimir/prometheus", "http://[::1]:9090/x",
		"http://admin:hunter2@p:9090", "prometheus:9090", "http://p/?dedup=true", "http://p/#x", "ftp://x", "::", "http://%zz",
	} {
		f.Add(s)
	}
	fixed := []string{
		"the Prometheus URL is empty", "the Prometheus URL does not parse", "the Prometheus URL has no host",
		"the Prometheus URL must not hold credentials: use the username and password (file) options",
		"the Prometheus URL must not have a query or fragment: use the params option",
	}
	f.Fuzz(func(t *testing.T, s string) {
		var u *url.URL
		var err error
		var redacted string
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() {
			u, err = parseURL(s)
			redacted = RedactedURL(s)
		})
		// What is shown holds no credentials, query or fragment.
		if ru, perr := url.Parse(redacted); strings.ContainsAny(redacted, "?#") || perr == nil && ru.User != nil {
			t.Fatalf("RedactedURL(%q) = %q shows more than scheme, host and path", s, redacted)
		}
		if err != nil {
			// The URL may hold a password: an error cites none of it but
			// the scheme.
			if !slices.Contains(fixed, err.Error()) && !strings.HasPrefix(err.Error(), "the Prometheus URL must start with http:// or https://, not ") {
				t.Fatalf("error %q cites the URL", err)
			}
			return
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("parseURL(%q) accepted %#v", s, u)
		}
		if o := originOf(u); !strings.HasPrefix(o, u.Scheme+"://") || strings.ContainsAny(o[len(u.Scheme)+3:], "/?#@") {
			t.Fatalf("originOf(%q) = %q", s, o)
		}
		if _, err := newHTTPClient(Options{URL: s, MaxResponseSize: DefaultMaxResponseSize(0)}, &counters{}); err != nil {
			t.Fatalf("no client for accepted URL %q: %v", s, err)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"X-Scope-OrgID=team-a", "x-extra=a=b", " Authorization = Bearer x", "X-Scope-OrgID", "=v", "Bad Header=x", "X=a\r\nY: b", "X=\t tab ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var name, value string
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { name, value, err = ParseHeader(s) })
		if err != nil {
			// The value may be a secret: the error cites the name only (as
			// a Go string, whose escapes may spell the value by chance).
			if k, v, ok := strings.Cut(s, "="); ok && len(v) >= 8 && strings.Contains(err.Error(), v) && !strings.Contains(strconv.Quote(strings.TrimSpace(k)), v) {
				t.Fatalf("error %q cites the value", err)
			}
			return
		}
		if !validHeaderName(name) || !validHeaderValue(value) || http.CanonicalHeaderKey(name) != name {
			t.Fatalf("ParseHeader(%q) = %q, %q", s, name, value)
		}
		if err := (Options{URL: "http://p", Headers: http.Header{name: {value}}}).Validate(); err != nil {
			t.Fatalf("accepted header %q does not validate: %v", s, err)
		}
		n2, v2, err := ParseHeader(name + "=" + value)
		if err != nil || n2 != name || v2 != value {
			t.Fatalf("round trip of %q: %q, %q, %v", s, n2, v2, err)
		}
	})
}

func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"dedup=true", "partial_response=false", "match[]=up{a=\"b\"}", "k=", "=v", "novalue", "a=b=c", "é=\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var name, value string
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { name, value, err = ParseParam(s) })
		if err != nil {
			return
		}
		// What is sent reads back the same on the server.
		q, perr := url.ParseQuery(url.Values{name: {value}}.Encode())
		if perr != nil || q.Get(name) != value || len(q) != 1 {
			t.Fatalf("parameter %q, %q does not survive encoding: %v %v", name, value, q, perr)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC)
	for _, s := range [][2]string{
		{"7", ""}, {" 120 ", ""}, {"Sat, 14 Nov 2026 12:00:30 GMT", ""}, {"Sat, 14 Nov 2026 12:00:30 GMT", "Sat, 14 Nov 2026 11:00:00 GMT"},
		{"Saturday, 14-Nov-26 12:00:30 GMT", ""}, {"Sat Nov 14 12:00:30 2026", ""}, {"99999999999999999999", ""}, {"-1", ""}, {"soon", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, header, date string) {
		var d time.Duration
		var ok bool
		alloclimit.Check(t, alloclimit.Bound(len(header)+len(date)), func() { d, ok = retryAfter(header, date, now) })
		if d < 0 || !ok && d != 0 {
			t.Fatalf("retryAfter(%q, %q) = %v, %v", header, date, d, ok)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(header), 10, 64); err == nil && n < 1<<30 && (!ok || d != time.Duration(n)*time.Second) {
			t.Fatalf("retryAfter(%q) = %v, %v", header, d, ok)
		}
	})
}

// answerSeeds are answers as Prometheus, Thanos and VictoriaMetrics give
// them, and broken ones.
var answerSeeds = []string{
	emptyMatrix,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[[1731110400,"0.25"],[1731110700.5,"NaN"],[1731111000,"+Inf"]]}]}}`,
	`{"status":"success","warnings":["partial response"],"data":{"resultType":"matrix","result":[{"metric":{},"values":[[1731110400,"1e400"],[-5,"1"],[1e300,"2"]],"histograms":[[1731110400,{"count":"1","sum":"2","buckets":[[0,"0","1","1"]]}]]}]}}`,
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"web-0"},"value":[1731110400.123,"\u0031.5"]},{"metric":{},"histogram":[1,{"count":"1","sum":"1"}]}]}}`,
	`{"status":"success","data":{"resultType":"scalar","result":[1731110400,"1"]}}`,
	// The one-pass reading's edges.
	`{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[[1731110400,"0.012345678901234567"],[1731110460.25,"123456789"],[-0,"-0"],[0.5e1,"007.50"],[1731110400.1234,"1."],[12,".5"]]}]},"stats":{"seriesFetched":"1","executionTimeMsec":3}}`,
	`{"status":"success","data":{"result":[{"values":[],"metric":{"pod":"é","Pod":"x"}},{"metric":null,"values":null}],"resultType":"matrix"},"infos":["x"],"warnings":[]}`,
	`{"status":"success","data":{"resultType":"matrix","Result":[]}}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a","pod":"b"},"values":[[1,"1"]]}]}}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a\"b"},"values":[[01,"1"],[1,"1\u0030"]]}]}}`,
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"\":\"\xff\"},\"value\":[1e3,\"1\"],\"value\":[2,\"2\"]}]}}",
	`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1731110400,"2"]}]},"warnings":["w1","w2"],"x":[{"a":[true,false,null,-1.5e-3]}]}`,
	`{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1, "2"] , [ 3 ,"4" ]]}]}}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"2",3]]}]}}`,
	`{"status":"success","data":{"resultType":"matrix","result":[{`,
	`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"cluster":"\u001b[2J\u202e","namespace":"shop","pod":"web-0","container":"app"},"values":[[1731110400,"0.25"]]},{"metric":{"cluster":"` + strings.Repeat("c", 300) + `","namespace":"shop","pod":"web-0","container":"app"},"values":[[1731110400,"0.5"]]}]}}`,
}

// encodeSeries renders decoded series as the API would, so that they can
// be decoded again.
func encodeSeries(want model.ValueType, series []apiSeries) []byte {
	point := func(p model.SamplePair) string {
		ts := "1e400"
		if p.Timestamp != badTime {
			ts = strconv.FormatFloat(float64(p.Timestamp)/1000, 'f', -1, 64)
		}
		v := strconv.FormatFloat(float64(p.Value), 'g', -1, 64)
		return "[" + ts + "," + strconv.Quote(v) + "]"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"status":"success","data":{"resultType":%q,"result":[`, want)
	for i, s := range series {
		if i > 0 {
			b.WriteByte(',')
		}
		m, _ := json.Marshal(s.Metric)
		b.WriteString(`{"metric":` + string(m))
		if s.Value != nil {
			b.WriteString(`,"value":` + point(model.SamplePair(*s.Value)))
		}
		if s.Values != nil {
			b.WriteString(`,"values":[`)
			for j, p := range s.Values {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(point(p))
			}
			b.WriteString("]")
		}
		b.WriteString("}")
	}
	b.WriteString("]}}")
	return b.Bytes()
}

func samePoints(a, b []model.SamplePair) bool {
	return slices.EqualFunc(a, b, func(x, y model.SamplePair) bool {
		return x.Timestamp == y.Timestamp && (x.Value == y.Value || math.IsNaN(float64(x.Value)) && math.IsNaN(float64(y.Value)))
	})
}

// sameSeries fails unless a and b hold the same series, values and
// samples, nil where the other is nil.
func sameSeries(t *testing.T, a, b []apiSeries) {
	t.Helper()
	if len(a) != len(b) || (a == nil) != (b == nil) {
		t.Fatalf("%d series, then %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if (x.Metric == nil) != (y.Metric == nil) || !x.Metric.Equal(y.Metric) || (x.Values == nil) != (y.Values == nil) || !samePoints(x.Values, y.Values) ||
			(x.Value == nil) != (y.Value == nil) || x.Value != nil && !samePoints([]model.SamplePair{model.SamplePair(*x.Value)}, []model.SamplePair{model.SamplePair(*y.Value)}) {
			t.Fatalf("series %d differs: %+v, then %+v", i, x, y)
		}
	}
}

// FuzzDecodeAnswer decodes answer bodies as matrices and vectors. Whatever
// the bytes: no panic, allocation within bounds, errors fit for a terminal;
// every timestamp is one Prometheus could store or badTime; and what
// decodes renders back into the same series.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, want := range []model.ValueType{model.ValMatrix, model.ValVector} {
			var series []apiSeries
			var err error
			alloclimit.Check(t, alloclimit.Bound(len(body)), func() { series, _, err = decodeAnswer(http.StatusOK, body, want) })
			if err != nil {
				// An error answer stays raw for classify to read the
				// server's words; what it makes of them is the message.
				if _, ok := errors.AsType[*v1.Error](err); ok {
					for _, status := range []int{http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusServiceUnavailable} {
						_, cerr := classify(err, status, false)
						safeMessage(t, cerr.Error())
					}
					continue
				}
				safeMessage(t, err.Error())
				continue
			}
			for _, s := range series {
				ps := slices.Clone(s.Values)
				if s.Value != nil {
					ps = append(ps, model.SamplePair(*s.Value))
				}
				for _, p := range ps {
					if p.Timestamp != badTime && math.Abs(float64(p.Timestamp)) > 1<<53 {
						t.Fatalf("timestamp %d out of bounds", p.Timestamp)
					}
				}
			}
			// The one-pass reading takes only what the general decoder
			// reads alike.
			if fast, fw, ok := fastAnswer(body, want); ok {
				general, gw, err := decodeGeneral(http.StatusOK, body, want)
				if err != nil {
					t.Fatalf("the one-pass decoder took an answer the general one refuses: %v", err)
				}
				if !slices.Equal(fw, gw) || (fw == nil) != (gw == nil) {
					t.Fatalf("warnings %q, generally %q", fw, gw)
				}
				sameSeries(t, fast, general)
			}
			again, _, err := decodeAnswer(http.StatusOK, encodeSeries(want, series), want)
			if err != nil {
				t.Fatalf("re-encoded answer does not decode: %v\n%s", err, encodeSeries(want, series))
			}
			if len(again) != len(series) {
				t.Fatalf("%d series, then %d", len(series), len(again))
			}
			for i := range series {
				a, b := series[i], again[i]
				if len(a.Metric) != len(b.Metric) || !a.Metric.Equal(b.Metric) && len(a.Metric) > 0 || !samePoints(a.Values, b.Values) ||
					(a.Value == nil) != (b.Value == nil) || a.Value != nil && !samePoints([]model.SamplePair{model.SamplePair(*a.Value)}, []model.SamplePair{model.SamplePair(*b.Value)}) {
					t.Fatalf("round trip changed series %d: %+v, then %+v", i, a, b)
				}
			}
		}
	})
}

// fakeRoundTripper answers every request itself.
type fakeRoundTripper func(*http.Request) *http.Response

func (f fakeRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return f(r), nil
}

func fakeResponse(status int, header http.Header, body []byte) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1}
}

// FuzzQueryResponse runs a range query over an HTTP response of any status,
// Retry-After and body: the error, if any, is fit for a terminal, the body
// is read no further than the limit, and nothing is retried (retries are
// off) or slept on.
func FuzzQueryResponse(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add(200, "", []byte(s))
	}
	f.Add(429, "7", []byte("slow down"))
	f.Add(503, "Sat, 14 Nov 2026 12:00:30 GMT", []byte("<html>\x1b[2J</html>"))
	f.Add(422, "", []byte(`{"status":"error","errorType":"execution","error":"exceeded maximum resolution"}`))
	f.Add(400, "", []byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	f.Add(302, "", []byte(""))
	f.Add(405, "", []byte(""))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if status < 100 || status > 999 {
			status = 200
		}
		var requests int
		count := &counters{}
		o := Options{
			URL: "http://prometheus:9090", Retries: -1, MaxResponseSize: 64 * workload.KiB,
			Transport: fakeRoundTripper(func(r *http.Request) *http.Response {
				requests++
				h := http.Header{"Retry-After": {retryAfter}}
				if status/100 == 3 {
					h.Set("Location", "http://elsewhere/")
				}
				return fakeResponse(status, h, body)
			}),
		}.withDefaults()
		q, _, err := newQuerier(o, count, nil)
		if err != nil {
			t.Fatal(err)
		}
		q.sleep = func(context.Context, time.Duration) error { t.Fatal("slept with retries off"); return nil }
		end := time.Unix(1_800_000_000, 0)
		alloclimit.Check(t, alloclimit.Bound(len(body)+len(retryAfter)), func() {
			_, err = q.queryRange(context.Background(), "reading cpu usage", "up", end.Add(-time.Hour), end, time.Minute)
		})
		if err != nil {
			safeMessage(t, err.Error())
		}
		if requests > 2 { // POST, and GET after 405 or 501
			t.Fatalf("%d requests", requests)
		}
		if count.body.Load() > int64(o.MaxResponseSize)*2 {
			t.Fatalf("read %d bytes", count.body.Load())
		}
	})
}

// FuzzCollect runs a whole collection whose range and instant queries are
// answered with the inputs, the index listings with one pod container:
// whatever the answers, no panic, messages fit for a terminal, and the
// samples kept are within the window, with finite, non-negative usage.
func FuzzCollect(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add([]byte(s), []byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app","rightsize_setting":"requests","resource":"cpu"},"values":[[1763107500,"0.25"],[1763121600,"1e400"],[1763114400,"-1"]]}]}}`),
		[]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app","owner_kind":"ReplicaSet","owner_name":"web-5d8f","resource":"memory"},"value":[1763121600,"1e400"]}]}}`))
	f.Add([]byte(`{"status":"success","warnings":["\u001b[2J"],"data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[[1763114700,"0.5"],[1763114700,"0.7"],[1763121600,"NaN"]]}]}}`),
		[]byte(`{"status":"error","errorType":"bad_data","error":"\u001b]0;x\u0007"}`))
	// steady is CPU of 0.25 at every step of the window.
	steady := []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app"},"values":[[1763114700,"0.25"],[1763115000,"0.25"],[1763115300,"0.25"],[1763115600,"0.25"],[1763115900,"0.25"],[1763116200,"0.25"],[1763116500,"0.25"],[1763116800,"0.25"],[1763117100,"0.25"],[1763117400,"0.25"],[1763117700,"0.25"],[1763118000,"0.25"],[1763118300,"0.25"],[1763118600,"0.25"],[1763118900,"0.25"],[1763119200,"0.25"],[1763119500,"0.25"],[1763119800,"0.25"],[1763120100,"0.25"],[1763120400,"0.25"],[1763120700,"0.25"],[1763121000,"0.25"],[1763121300,"0.25"],[1763121600,"0.25"]]}]}}`)
	f.Add(steady,
		[]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","pod":"web-0","container":"app","owner_kind":"Node","owner_name":"node-1"},"value":[1763121600,"1"]}]}}`))
	// Every instant query gets the one body: the HPA queries read it as
	// scale targets, replicas and metric targets at once.
	f.Add(steady, []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","pod":"web-0","owner_kind":"<none>","owner_name":"<none>","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web","metric_name":"cpu","metric_target_type":"utilization"},"value":[1763121600,"3"]}]}}`))
	// Two clusters of the same names, and clusters that are no names.
	f.Add([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"cluster":"east","namespace":"shop","pod":"web-0","container":"app"},"values":[[1763114700,"0.25"]]},{"metric":{"cluster":"west","namespace":"shop","pod":"web-0","container":"app"},"values":[[1763114700,"0.5"]]},{"metric":{"cluster":"\u001b]0;x\u0007","namespace":"shop","pod":"web-0","container":"app"},"values":[[1763114700,"1"]]}]}}`),
		[]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cluster":"east","namespace":"shop","pod":"web-0","owner_kind":"StatefulSet","owner_name":"web","horizontalpodautoscaler":"web","scaletargetref_kind":"StatefulSet","scaletargetref_name":"web"},"value":[1763121600,"2"]},{"metric":{"cluster":"\u202e\u001b[2J","namespace":"shop","pod":"web-0","owner_kind":"DaemonSet","owner_name":"evil","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"},"value":[1763121600,"3"]}]}}`))
	// CPU shapes: two hours' nine levels, the second hour's out of order,
	// and a level that is none.
	var shape strings.Builder
	shape.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i, l := range append(shapeLevelStrings(time.Minute), "2") {
		if i > 0 {
			shape.WriteString(",")
		}
		fmt.Fprintf(&shape, `{"metric":{"namespace":"shop","pod":"web-0","container":"app","rightsize_quantile":%q},"values":[[1763118000,"%d"],[1763121600,"%d"]]}`, l, i, 10-i)
	}
	shape.WriteString(`]}}`)
	f.Add([]byte(shape.String()), []byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	series := []byte(`{"status":"success","data":[{"namespace":"shop","pod":"web-0","container":"app"}]}`)
	// With a cluster label the listing names the pod container in a
	// cluster, and in one that is no name.
	clustered := []byte(`{"status":"success","data":[{"cluster":"east","namespace":"shop","pod":"web-0","container":"app"},{"cluster":"\u001b[2J","namespace":"shop","pod":"web-0","container":"app"}]}`)
	f.Fuzz(func(t *testing.T, rangeBody, instantBody []byte) {
		fuzzCollect(t, "", series, rangeBody, instantBody)
		fuzzCollect(t, "cluster", clustered, rangeBody, instantBody)
	})
}

// fuzzCollect runs one collection of FuzzCollect, with clusterLabel as the
// cluster label, the listing answered with series. Every cluster read is
// a name (none without the label).
func fuzzCollect(t *testing.T, clusterLabel string, series, rangeBody, instantBody []byte) {
	o := fakeOptions("http://prometheus:9090")
	o.End = time.Unix(1763121600, 0) // 2025-11-14T12:00:00Z, a step
	o.Names.ClusterLabel = clusterLabel
	o.Transport = fakeRoundTripper(func(r *http.Request) *http.Response {
		switch {
		case strings.HasSuffix(r.URL.Path, "/values"):
			return fakeResponse(200, nil, []byte(`{"status":"success","data":["shop"]}`))
		case strings.HasSuffix(r.URL.Path, "/series"):
			return fakeResponse(200, nil, series)
		case strings.HasSuffix(r.URL.Path, "/query_range"):
			return fakeResponse(200, nil, rangeBody)
		}
		return fakeResponse(200, nil, instantBody)
	})
	var res *Result
	var err error
	alloclimit.Check(t, alloclimit.Bound(len(rangeBody)+len(instantBody)), func() { res, err = Collect(context.Background(), o, nil, nil) })
	if err != nil {
		safeMessage(t, err.Error())
		return
	}
	if testing.Verbose() {
		t.Logf("cluster label %q: %d samples, %d failed, %d HPAs, clusters %q, warnings %q", clusterLabel, res.Samples, len(res.Failed), len(res.HPAs), res.Clusters, res.Warnings)
	}
	for _, w := range res.Warnings {
		safeMessage(t, w)
	}
	for _, f := range res.Failed {
		safeMessage(t, f.Error())
	}
	cluster := func(k workload.Key) {
		t.Helper()
		if clusterLabel == "" && k.Cluster != "" || !clusterName(k.Cluster) {
			t.Fatalf("%+v: cluster %q", k, k.Cluster)
		}
	}
	if !res.HPAsKnown && len(res.HPAs) > 0 {
		t.Fatalf("%d HPAs, unknown", len(res.HPAs))
	}
	for _, h := range res.HPAs {
		if !kubeName(h.Name) || !kubeName(h.Target.Name) || h.MinReplicas < 1 || h.MinReplicas > h.MaxReplicas || h.MaxReplicas > maxHPAReplicas {
			t.Fatalf("HPA %+v", h)
		}
		cluster(h.Target)
	}
	for k := range res.Specs {
		cluster(k)
	}
	first, last := o.End.Add(-o.History), o.End
	for _, k := range res.Store.Containers() {
		cluster(k.Workload)
		for _, s := range res.Store.Series(k) {
			for i := range s.Len() {
				smp := s.At(i)
				if smp.Time.Before(first) || smp.Time.After(last) {
					t.Fatalf("sample at %s outside the window", smp.Time)
				}
				if smp.HasCPU && (math.IsNaN(float64(smp.CPU)) || math.IsInf(float64(smp.CPU), 0) || smp.CPU < 0) {
					t.Fatalf("CPU %v", smp.CPU)
				}
				if smp.HasThrottled && !(smp.Throttled >= 0 && smp.Throttled <= 1) {
					t.Fatalf("throttled %v", smp.Throttled)
				}
			}
			for i, sh := range s.Shapes {
				end := time.UnixMilli(sh.End)
				if !sh.Valid() || end.Add(-history.ShapeSpan).Before(first.Add(-o.Step)) || end.After(last) || i > 0 && sh.End <= s.Shapes[i-1].End {
					t.Fatalf("shape %+v of a window from %s to %s", sh, first, last)
				}
			}
		}
	}
}

// FuzzHPAs converts the answers of the four HPA queries, decoded as
// vectors, into HPAs. Whatever the answers: no panic, allocation within
// bounds, and every HPA kept is one Kubernetes could hold within rightsize's
// bounds: names it allows, 1 ≤ min ≤ max ≤ 100000 replicas, utilization
// targets of 1..1000 %, value targets that parse as positive quantities,
// one target per metric, in order.
func FuzzHPAs(f *testing.F) {
	const info = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"},"value":[1763121600,"1"]},{"metric":{"namespace":"shop","horizontalpodautoscaler":"canary","scaletargetref_kind":"Rollout","scaletargetref_name":"canary"},"value":[1763121600,"1"]}]}}`
	replicas := func(web, canary string) string {
		return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"shop","horizontalpodautoscaler":"web"},"value":[1763121600,"` + web +
			`"]},{"metric":{"namespace":"shop","horizontalpodautoscaler":"canary"},"value":[1763121600,"` + canary + `"]}]}}`
	}
	const targets = `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"namespace":"shop","horizontalpodautoscaler":"web","metric_name":"cpu","metric_target_type":"utilization"},"value":[1763121600,"70"]},` +
		`{"metric":{"namespace":"shop","horizontalpodautoscaler":"web","metric_name":"memory","metric_target_type":"average"},"value":[1763121600,"536870912"]},` +
		`{"metric":{"namespace":"shop","horizontalpodautoscaler":"canary","metric_name":"rps","metric_target_type":"value"},"value":[1763121600,"0.5"]}]}}`
	f.Add([]byte(info), []byte(replicas("2", "1")), []byte(replicas("10", "4")), []byte(targets))
	f.Add([]byte(info), []byte(replicas("NaN", "1e400")), []byte(replicas("-Inf", "2.5")), []byte(strings.ReplaceAll(targets, "70", "1e9")))
	f.Add([]byte(strings.ReplaceAll(info, "shop", `\u001b[2J`)), []byte(replicas("5", "1")), []byte(replicas("4", "100001")), []byte(emptyMatrix))
	for _, s := range answerSeeds {
		f.Add([]byte(info), []byte(s), []byte(s), []byte(s))
	}
	f.Fuzz(func(t *testing.T, info, minReplicas, maxReplicas, targets []byte) {
		var a hpaAnswers
		var hpas []workload.HPA
		alloclimit.Check(t, alloclimit.Bound(len(info)+len(minReplicas)+len(maxReplicas)+len(targets)), func() {
			for _, in := range []struct {
				body []byte
				vec  *model.Vector
			}{{info, &a.info}, {minReplicas, &a.minReplicas}, {maxReplicas, &a.maxReplicas}, {targets, &a.targets}} {
				if series, _, err := decodeAnswer(http.StatusOK, in.body, model.ValVector); err == nil {
					*in.vec = vector(series)
				}
			}
			hpas, _ = a.hpas("namespace", "")
		})
		for i, h := range hpas {
			if !kubeName(h.Name) || !kubeName(h.Target.Namespace) || !kubeName(h.Target.Name) || !kindName(string(h.Target.Kind)) {
				t.Fatalf("HPA %+v: a name Kubernetes does not allow", h)
			}
			if h.MinReplicas < 1 || h.MinReplicas > h.MaxReplicas || h.MaxReplicas > maxHPAReplicas {
				t.Fatalf("HPA %+v: replicas %d..%d", h, h.MinReplicas, h.MaxReplicas)
			}
			if i > 0 && (hpas[i-1].Target.Namespace+"/"+hpas[i-1].Name >= h.Target.Namespace+"/"+h.Name) {
				t.Fatalf("HPAs out of order or twice: %s/%s after %s/%s", h.Target.Namespace, h.Name, hpas[i-1].Target.Namespace, hpas[i-1].Name)
			}
			for j, m := range h.Metrics {
				if !hpaMetricName(m.Resource) || j > 0 && h.Metrics[j-1].Resource >= m.Resource {
					t.Fatalf("HPA %+v: metric %q out of order, twice or not a name", h, m.Resource)
				}
				if m.AverageUtilization == 0 && m.AverageValue == "" || m.AverageUtilization < 0 || m.AverageUtilization > maxHPAUtilization {
					t.Fatalf("HPA %+v: metric %+v", h, m)
				}
				if m.AverageValue != "" {
					if q, err := resource.ParseQuantity(m.AverageValue); err != nil || q.Sign() <= 0 {
						t.Fatalf("HPA %+v: value %q is no positive quantity (%v)", h, m.AverageValue, err)
					}
				}
			}
		}
	})
}
