package prometheus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeAnswer(t *testing.T) {
	inf := model.SampleValue(math.Inf(1))
	tests := []struct {
		name    string
		status  int
		body    string
		want    model.ValueType
		points  []model.SamplePair // of the first series
		wantErr string
	}{
		{"matrix", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1731110400,"0.25"], [ 1731110700.5 , "NaN" ]]}]}}`, model.ValMatrix,
			[]model.SamplePair{{Timestamp: 1731110400000, Value: 0.25}, {Timestamp: 1731110700500, Value: model.SampleValue(math.NaN())}}, ""},
		{"values beyond float64 and no number", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1e400"],[2,"-1e400"],[3,"1e-400"],[4,"twelve"],[5,"\u0031"]]}]}}`, model.ValMatrix,
			[]model.SamplePair{{Timestamp: 1000, Value: inf}, {Timestamp: 2000, Value: -inf}, {Timestamp: 3000, Value: 0}, {Timestamp: 4000, Value: inf}, {Timestamp: 5000, Value: 1}}, ""},
		{"timestamps negative and absurd", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[-5,"1"],[1e400,"1"],[99999999999999999,"1"],[1.0005,"1"]]}]}}`, model.ValMatrix,
			[]model.SamplePair{{Timestamp: -5000, Value: 1}, {Timestamp: badTime, Value: 1}, {Timestamp: badTime, Value: 1}, {Timestamp: 1001, Value: 1}}, ""},
		{"native histograms are left out", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"1","sum":"1"}]]}]}}`, model.ValMatrix, nil, ""},
		{"vector", 200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1731110400,"2"]}]}}`, model.ValVector,
			[]model.SamplePair{{Timestamp: 1731110400000, Value: 2}}, ""},
		{"a vector where a matrix belongs", 200, `{"status":"success","data":{"resultType":"vector","result":[]}}`, model.ValMatrix, nil, "vector result where a matrix was expected"},
		{"a scalar where a vector belongs", 200, `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, model.ValVector, nil, "scalar result where a vector was expected"},
		{"truncated", 200, `{"status":"success","data":{"resultType":"matrix","result":[{`, model.ValMatrix, nil, "unexpected end of JSON input"},
		{"a point of three", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"2",3]]}]}}`, model.ValMatrix, nil, `a point is not [timestamp, "value"]`},
		{"a number for a value", 200, `{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,2]]}]}}`, model.ValMatrix, nil, `a point is not [timestamp, "value"]`},
		{"unknown status", 200, `{"status":"fine"}`, model.ValMatrix, nil, "status fine, neither success nor error"},
		{"success with 422", 422, `{"status":"success","data":{"resultType":"matrix","result":[]}}`, model.ValMatrix, nil, "success with status code 422"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decodeAnswer(tt.status, []byte(tt.body), tt.want)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var m *malformedError
				assert.True(t, errors.As(err, &m), "%T", err)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			var points []model.SamplePair
			if tt.want == model.ValVector {
				points = []model.SamplePair{model.SamplePair(*got[0].Value)}
			} else {
				points = got[0].Values
			}
			assert.True(t, samePoints(tt.points, points), "want %v, got %v", tt.points, points)
		})
	}

	// Errors come back as the API client's, for classify.
	_, _, err := decodeAnswer(503, []byte("busy"), model.ValMatrix)
	var apiErr *v1.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, v1.Error{Type: v1.ErrServer, Msg: "server error: 503", Detail: "busy"}, *apiErr)
	_, warnings, err := decodeAnswer(422, []byte(`{"status":"error","errorType":"execution","error":"too many samples","warnings":["w"]}`), model.ValMatrix)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, v1.Error{Type: v1.ErrExec, Msg: "too many samples"}, *apiErr)
	assert.Equal(t, v1.Warnings{"w"}, warnings)
}

// BenchmarkDecodeAnswer decodes an answer of 500 series × 400 steps, about
// 10 MB: the bulk of what a collection reads.
func BenchmarkDecodeAnswer(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for s := range 500 {
		if s > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"metric":{"namespace":"shop","pod":"web-5d8f7c9b4-x%04d","container":"app"},"values":[`, s)
		for p := range 400 {
			if p > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `[%d,"%g"]`, 1731110400+p*300, 0.0123456789*float64(p+s))
		}
		sb.WriteString(`]}`)
	}
	sb.WriteString(`]}}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := decodeAnswer(http.StatusOK, body, model.ValMatrix); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFastAnswer: the answers servers give are read in one pass; what the
// one-pass reading is not sure of goes to the general decoder.
func TestFastAnswer(t *testing.T) {
	tests := []struct {
		name string
		body string
		want model.ValueType
		fast bool
	}{
		{"Prometheus matrix", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1731110400,"0.012345678901234567"],[1731110400.5,"12"]]}]}}`, model.ValMatrix, true},
		{"VictoriaMetrics matrix", `{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1731110400,"1.5"]]}]},"stats":{"seriesFetched": "1","executionTimeMsec":0}}`, model.ValMatrix, true},
		{"Thanos warnings", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]},"warnings":["partial response"]}`, model.ValVector, true},
		{"spaced out", " {\n \"status\" : \"success\" , \"data\" : { \"resultType\" : \"matrix\" , \"result\" : [ ] } } \n", model.ValMatrix, true},
		{"UTF-8 label", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"team":"équipe"},"values":[]}]}}`, model.ValMatrix, true},
		{"escaped label", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a\u0062"},"values":[]}]}}`, model.ValMatrix, false},
		{"escaped value", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"\u0031"]]}]}}`, model.ValMatrix, false},
		{"label twice", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a","pod":"b"},"values":[]}]}}`, model.ValMatrix, false},
		{"a field's name in another case", `{"status":"success","data":{"resultType":"matrix","result":[{"Values":[]}]}}`, model.ValMatrix, false},
		{"another result type", `{"status":"success","data":{"resultType":"vector","result":[]}}`, model.ValMatrix, false},
		{"error", `{"status":"error","errorType":"execution","error":"x"}`, model.ValMatrix, false},
		{"not a JSON number", `{"status":"success","data":{"resultType":"matrix","result":[{"values":[[+1,"1"]]}]}}`, model.ValMatrix, false},
		{"trailing bytes", `{"status":"success","data":{"resultType":"matrix","result":[]}} x`, model.ValMatrix, false},
		{"invalid UTF-8", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"pod\":\"\xff\"}}]}}", model.ValMatrix, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, fw, ok := fastAnswer([]byte(tt.body), tt.want)
			require.Equal(t, tt.fast, ok)
			general, gw, err := decodeGeneral(http.StatusOK, []byte(tt.body), tt.want)
			if !ok {
				return
			}
			require.NoError(t, err)
			assert.Equal(t, gw, fw)
			sameSeries(t, fast, general)
		})
	}
}

// TestFastValue: plain decimals are computed directly, to the bit what
// strconv makes of them; the rest is parseValue's.
func TestFastValue(t *testing.T) {
	for _, s := range []string{"0", "-0", "12", "0.25", "0.012345678901234", "0.0123456789012345", "123456789012345", "1234567890123456789",
		"007.50", "1.", ".5", "-.5", "+1", "1e3", "NaN", "+Inf", "-Inf", "0x1p-2", "", "-", ".", "1.2.3", "1e400", "999999999999999.9"} {
		want := parseValue([]byte(s))
		got := fastValue([]byte(s))
		assert.True(t, got == want || math.IsNaN(got) && math.IsNaN(want), "%q: %v, strconv %v", s, got, want)
		assert.Equal(t, math.Signbit(want), math.Signbit(got), "%q: sign", s)
	}
}

// TestFastNumbersMatchStrconv: usage values and timestamps as servers
// print them read to the same bits both ways.
func TestFastNumbersMatchStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		x := r.ExpFloat64() * math.Pow(10, float64(r.IntN(20)-10))
		for _, s := range []string{strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(x, 'f', r.IntN(12), 64), strconv.FormatFloat(x, 'g', r.IntN(17)+1, 64)} {
			if got, want := fastValue([]byte(s)), parseValue([]byte(s)); got != want {
				t.Fatalf("%q: %v, strconv %v", s, got, want)
			}
		}
		ts := strconv.FormatFloat(float64(r.Int64N(4e12))/float64([]int{1, 10, 100, 1000, 10000}[r.IntN(5)]), 'f', -1, 64)
		got, n, ok := jsonTimestamp([]byte(ts))
		if want := parseTimestamp([]byte(ts)); !ok || n != len(ts) || got != want {
			t.Fatalf("timestamp %q: %v (%d bytes, %v), strconv %v", ts, got, n, ok, want)
		}
	}
}

func TestAnswerClientReusesBuffers(t *testing.T) {
	answers := []string{
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1,"0.25"]]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"b"},"values":[[2,"0.5"]]}]}}`,
		strings.Repeat(" ", 2048) + `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
	}
	var methods []string
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if next == 1 && r.Method == http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if next == len(answers) {
			// A length no buffer is sized for: beyond the limit.
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
			_, _ = io.WriteString(w, answers[0])
			return
		}
		_, _ = io.WriteString(w, answers[next])
		next++
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(api.Config{Address: srv.URL})
	require.NoError(t, err)
	ac := newAnswerClient(c, srv.Client(), 2, 1<<20)
	ac.keep = 1024

	first, _, err := queryAPI(context.Background(), ac, epQueryRange, url.Values{"query": {"a"}}, model.ValMatrix)
	require.NoError(t, err)
	require.Len(t, ac.free, 1, "the buffer is kept")
	kept := <-ac.free
	ac.free <- kept

	// The second answer comes after a 405, by GET, into the same buffer.
	second, _, err := queryAPI(context.Background(), ac, epQueryRange, url.Values{"query": {"b"}}, model.ValMatrix)
	require.NoError(t, err)
	assert.Equal(t, []string{"POST", "POST", "GET"}, methods)
	require.Len(t, ac.free, 1)
	assert.Same(t, kept, <-ac.free, "one buffer served both answers")
	ac.free <- kept

	// What was decoded from the buffer does not change with its reuse.
	assert.Equal(t, model.LabelValue("a"), first[0].Metric["pod"])
	assert.Equal(t, []model.SamplePair{{Timestamp: 1000, Value: 0.25}}, []model.SamplePair(first[0].Values))
	assert.Equal(t, model.LabelValue("b"), second[0].Metric["pod"])
	assert.Equal(t, []model.SamplePair{{Timestamp: 2000, Value: 0.5}}, []model.SamplePair(second[0].Values))

	// A buffer grown beyond keep is not kept.
	_, _, err = queryAPI(context.Background(), ac, epQueryRange, url.Values{"query": {"c"}}, model.ValMatrix)
	require.NoError(t, err)
	assert.Empty(t, ac.free, "a large buffer is left to the collector")

	// A Content-Length beyond the limit sizes nothing (the transport
	// refuses such an answer; this one ends early).
	_, _, err = queryAPI(context.Background(), ac, epQueryRange, url.Values{"query": {"d"}}, model.ValMatrix)
	require.Error(t, err)
	require.Len(t, ac.free, 1)
	assert.Less(t, (<-ac.free).Cap(), 1<<20)
}
