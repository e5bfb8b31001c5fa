package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

var testEnd = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)

// testFleet is small, with every kind of workload, rollouts, OOM kills
// and throttling (TestFleetShape).
func testFleet() *fleet { return newFleet(13, 60, 2, time.Minute, testEnd) }

// points are a rendering's series: labels (sorted, as text) → time (Unix
// ms) → value.
type points map[string]map[int64]float64

func (p points) add(t *testing.T, labels map[string]string, ts int64, v float64) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(labels))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	s := p[b.String()]
	if s == nil {
		s = map[int64]float64{}
		p[b.String()] = s
	}
	if _, dup := s[ts]; dup {
		t.Fatalf("%s: two points at %d", b.String(), ts)
	}
	s[ts] = v
}

// TestImportMatchesOpenMetrics: the JSON lines of a fleet written in
// slices that cut the window anywhere, in chunks, hold exactly the series
// and points openmetrics.Write renders for the same fleet drawn at once.
func TestImportMatchesOpenMetrics(t *testing.T) {
	var om bytes.Buffer
	require.NoError(t, renderOM(&om, testFleet()))
	want := parseOM(t, &om)

	f := testFleet()
	var jl bytes.Buffer
	n := int64(0)
	for until := f.start.Add(5*time.Hour + 7*time.Minute); ; until = until.Add(5 * time.Hour) {
		if until.After(f.end) {
			until = f.end
		}
		for i := 0; i < len(f.streams); i += 7 {
			k, err := encodeStreams(&jl, f, f.streams[i:min(i+7, len(f.streams))], until.UnixMilli())
			require.NoError(t, err)
			n += k
		}
		if until.Equal(f.end) {
			break
		}
	}
	got := parseJSONLines(t, &jl)

	total := 0
	for _, s := range got {
		total += len(s)
	}
	if int64(total) != n {
		t.Errorf("encoder counted %d samples, wrote %d", n, total)
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("series %s missing", k)
		case !maps.Equal(g, w):
			t.Errorf("series %s: %d points, want %d (or values differ)", k, len(g), len(w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("series %s not in the OpenMetrics rendering", k)
		}
	}
	t.Logf("%d series, %d points", len(want), total)
	if len(want) < 500 {
		t.Errorf("only %d series: the fleet is smaller than expected", len(want))
	}
}

// TestFleetShape: the test fleet has every workload kind, rollouts, OOM
// kills and throttling.
func TestFleetShape(t *testing.T) {
	f := testFleet()
	kinds := map[workload.Kind]bool{}
	rollouts := 0
	for _, p := range f.pods {
		kinds[p.key.Kind] = true
		if p.key.Kind == workload.Deployment && p.to.Before(f.end) {
			rollouts++
		}
	}
	for _, k := range []workload.Kind{workload.Deployment, workload.StatefulSet, workload.DaemonSet, workload.CronJob} {
		if !kinds[k] {
			t.Errorf("no %s", k)
		}
	}
	if rollouts == 0 {
		t.Error("no rollout")
	}
	killed, throttled := 0, 0
	var smp samples
	for _, s := range f.streams {
		s.draw(f, f.end.UnixMilli(), &smp)
		if slices.Contains(smp.oom, true) {
			killed++
		}
		if slices.ContainsFunc(smp.thr, func(v float64) bool { return v > 0 }) {
			throttled++
		}
	}
	t.Logf("%d pods, %d pod containers, %d rolled out, %d OOM-killed, %d throttled", len(f.pods), len(f.streams), rollouts, killed, throttled)
	if killed == 0 || throttled == 0 {
		t.Errorf("%d pod containers OOM-killed, %d throttled: want some of each", killed, throttled)
	}
}

// parseOM reads openmetrics.Write's text: name{k="v",…} value seconds.
func parseOM(t *testing.T, r io.Reader) points {
	t.Helper()
	p := points{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		labels := map[string]string{"__name__": line[:open]}
		for _, kv := range splitLabels(line[open+1 : end]) {
			k, v, _ := strings.Cut(kv, "=")
			u, err := strconv.Unquote(v)
			require.NoError(t, err)
			labels[k] = u
		}
		f := strings.Fields(line[end+1:])
		v, err := strconv.ParseFloat(f[0], 64)
		require.NoError(t, err)
		sec, err := strconv.ParseFloat(f[1], 64)
		require.NoError(t, err)
		p.add(t, labels, int64(sec*1000+0.5), v)
	}
	require.NoError(t, sc.Err())
	return p
}

// splitLabels splits k="v",k="v" at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	quoted, from := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[from:i])
				from = i + 1
			}
		}
	}
	return append(out, s[from:])
}

func parseJSONLines(t *testing.T, r io.Reader) points {
	t.Helper()
	p := points{}
	dec := json.NewDecoder(r)
	for {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := dec.Decode(&line); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		if len(line.Values) != len(line.Timestamps) || len(line.Values) == 0 {
			t.Fatalf("%v: %d values at %d timestamps", line.Metric, len(line.Values), len(line.Timestamps))
		}
		for i, ts := range line.Timestamps {
			p.add(t, line.Metric, ts, line.Values[i])
		}
	}
	return p
}
