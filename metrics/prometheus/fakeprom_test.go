package prometheus

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEnd is the end of the window the fake server's tests read: 2 hours
// at 5-minute steps, 24 steps.
var fakeEnd = time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC)

func fakeOptions(url string) Options {
	return Options{URL: url, End: fakeEnd, History: 2 * time.Hour, Step: 5 * time.Minute, Retries: -1, RetryBackoff: time.Millisecond}
}

// fakeRequest is what a fake server's hook sees of a request.
type fakeRequest struct {
	path string
	form url.Values // the query string and the form body
	r    *http.Request
}

func (f fakeRequest) cpu() bool {
	return strings.HasSuffix(f.path, "/query_range") && strings.Contains(f.form.Get("query"), "container_cpu_usage_seconds_total") && !f.shape()
}

// shape tells the CPU shapes' query.
func (f fakeRequest) shape() bool {
	return strings.HasSuffix(f.path, "/query_range") && strings.Contains(f.form.Get("query"), shapeLabel)
}

func (f fakeRequest) memory() bool {
	return strings.HasSuffix(f.path, "/query_range") && strings.Contains(f.form.Get("query"), "container_memory_working_set_bytes")
}

// steps returns the timestamps a range query asks for, in seconds.
func (f fakeRequest) steps() []int64 {
	start, _ := strconv.ParseFloat(f.form.Get("start"), 64)
	end, _ := strconv.ParseFloat(f.form.Get("end"), 64)
	step, _ := strconv.ParseFloat(f.form.Get("step"), 64)
	var out []int64
	for t := int64(start); step > 0 && t <= int64(end); t += int64(step) {
		out = append(out, t)
	}
	return out
}

// usageMatrix renders a matrix answer with one series per pod (container
// app in namespace shop) holding value at every step.
func usageMatrix(f fakeRequest, pods []string, value string) string {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i, p := range pods {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(p)
		fmt.Fprintf(&b, `{"metric":{"namespace":"shop","pod":%s,"container":"app"},"values":[`, name)
		for j, t := range f.steps() {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `[%d,%q]`, t, value)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}}")
	return b.String()
}

// fakeProm serves a minimal Prometheus API: namespace shop with the given
// pods (one container, app, each), CPU and memory at every step, nothing
// from kube-state-metrics. hook answers a request instead, when it returns
// true.
func fakeProm(t testing.TB, pods []string, hook func(w http.ResponseWriter, f fakeRequest) bool) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		for k, v := range r.URL.Query() {
			form[k] = append(form[k], v...)
		}
		f := fakeRequest{path: r.URL.Path, form: form, r: r}
		mu.Lock()
		defer mu.Unlock()
		if hook != nil && hook(w, f) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(f.path, "/values"):
			io.WriteString(w, `{"status":"success","data":["shop"]}`)
		case strings.HasSuffix(f.path, "/series"):
			var sets []string
			for _, p := range pods {
				sets = append(sets, fmt.Sprintf(`{"__name__":"container_cpu_usage_seconds_total","namespace":"shop","pod":%q,"container":"app"}`, p))
			}
			io.WriteString(w, `{"status":"success","data":[`+strings.Join(sets, ",")+`]}`)
		case f.cpu():
			io.WriteString(w, usageMatrix(f, pods, "0.25"))
		case f.memory():
			io.WriteString(w, usageMatrix(f, pods, "1048576"))
		case strings.HasSuffix(f.path, "/query_range"):
			io.WriteString(w, emptyMatrix)
		default:
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
