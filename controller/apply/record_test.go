package apply

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	from := workload.Settings{Requests: workload.Resources{CPU: 500, Memory: 1 * workload.GiB}, Limits: workload.Resources{Memory: 2 * workload.GiB}}
	to := workload.Settings{Requests: workload.Resources{CPU: 350, Memory: 800 * workload.MiB}, Limits: workload.Resources{CPU: 1500, Memory: 1600 * workload.MiB}}
	r := RecordOf([]Change{{Container: "app", From: from, To: to}, {Container: "proxy", Sidecar: true, To: to}}, at.Add(300*time.Millisecond))
	enc := r.Encode()
	assert.Equal(t, `{"at":"2026-12-06T19:00:00Z","containers":[`+
		`{"name":"app","from":{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"memory":"2Gi"}},"to":{"requests":{"cpu":"350m","memory":"800Mi"},"limits":{"cpu":"1500m","memory":"1600Mi"}}},`+
		`{"name":"proxy","sidecar":true,"from":{},"to":{"requests":{"cpu":"350m","memory":"800Mi"},"limits":{"cpu":"1500m","memory":"1600Mi"}}}]}`, enc)
	back, err := ParseRecord(enc)
	require.NoError(t, err)
	assert.Equal(t, r, back)
	c, ok := back.Container("app")
	require.True(t, ok)
	assert.Equal(t, from, c.From)
	_, ok = back.Container("db")
	assert.False(t, ok)

	r.HPA = &RecordedHPA{Name: "web", From: HPASettings{MinReplicas: 2, MaxReplicas: 10, CPUUtilization: 70}, To: HPASettings{MinReplicas: 3, MaxReplicas: 8, CPUUtilization: 60}}
	assert.Contains(t, r.Encode(), `"hpa":{"name":"web","from":{"minReplicas":2,"maxReplicas":10,"cpuUtilization":70},"to":{"minReplicas":3,"maxReplicas":8,"cpuUtilization":60}}`)
	assert.Equal(t, "3–8 replicas at 60 % CPU", r.HPA.To.String())
	r.RolledBack, r.Why = at.Add(time.Hour), "OOM kill of app in web-1"
	back, err = ParseRecord(r.Encode())
	require.NoError(t, err)
	assert.Equal(t, r, back)
}

func TestParseRecordRefuses(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"", "unexpected end of JSON"},
		{"{", "unexpected end"},
		{`{"at":"yesterday"}`, "at:"},
		{`{"at":"2026-12-06T19:00:00Z","rolledBack":"no"}`, "rolledBack"},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a"},{"name":"a"}]}`, `repeated name "a"`},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":""}]}`, "empty or repeated"},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","to":{"requests":{"cpu":"-1"}}}]}`, "want 0 to a million cores"},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","to":{"requests":{"cpu":"1e300"}}}]}`, "cpu"},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","from":{"limits":{"memory":"9Ei"}}}]}`, "want 0 to 1Ei"},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","from":{"limits":{"memory":"lots"}}}]}`, `limits memory "lots"`},
		{`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","from":{"limits":{"gpu":"1"}}}]}`, "want cpu or memory"},
		{`{"at":"2026-12-06T19:00:00Z","why":"` + strings.Repeat("x", MaxRecordSize) + `"}`, "more than"},
		{`{"at":"2026-12-06T19:00:00Z","hpa":{"name":"","from":{"minReplicas":1,"maxReplicas":2,"cpuUtilization":70},"to":{"minReplicas":1,"maxReplicas":2,"cpuUtilization":70}}}`, "hpa: name"},
		{`{"at":"2026-12-06T19:00:00Z","hpa":{"name":"web","from":{"minReplicas":5,"maxReplicas":2,"cpuUtilization":70},"to":{"minReplicas":1,"maxReplicas":2,"cpuUtilization":70}}}`, "want 0 ≤ minReplicas"},
		{`{"at":"2026-12-06T19:00:00Z","hpa":{"name":"web","from":{"minReplicas":1,"maxReplicas":2,"cpuUtilization":0},"to":{"minReplicas":1,"maxReplicas":2,"cpuUtilization":70}}}`, "cpuUtilization 1 to 1000"},
	} {
		_, err := ParseRecord(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.err, tc.in)
		assert.Contains(t, err.Error(), RecordKey)
	}
}

// FuzzParseRecord: the annotation is anyone's who may edit the workload.
// No input panics, and what parses encodes to a record that parses to the
// same.
func FuzzParseRecord(f *testing.F) {
	f.Add(`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"app","from":{"requests":{"cpu":"500m"}},"to":{"requests":{"cpu":"350m","memory":"800Mi"}}}]}`)
	f.Add(`{"at":"2026-12-06T19:00:00Z","rolledBack":"2026-12-06T20:00:00Z","why":"oom"}`)
	f.Add(`{"at":"2026-12-06T19:00:00Z","hpa":{"name":"web","from":{"minReplicas":2,"maxReplicas":10,"cpuUtilization":70},"to":{"minReplicas":3,"maxReplicas":8,"cpuUtilization":60}}}`)
	f.Add(`{"at":"2026-12-06T19:00:00Z","containers":[{"name":"a","to":{"limits":{"memory":"1.5Gi","cpu":"0.001"}}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			return
		}
		back, err := ParseRecord(r.Encode())
		if err != nil {
			t.Fatalf("%q parsed, its encoding %q does not: %v", s, r.Encode(), err)
		}
		if back.Encode() != r.Encode() {
			t.Fatalf("%q: encodes as %q, then as %q", s, r.Encode(), back.Encode())
		}
	})
}

func TestHarmedAndUndo(t *testing.T) {
	at := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	set := func(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}, Limits: workload.Resources{Memory: 2 * mem}}
	}
	rec := RecordOf([]Change{{Container: "app", From: set(500, workload.GiB), To: set(350, 700*workload.MiB)},
		{Container: "cpu-only", From: set(200, workload.GiB), To: set(140, workload.GiB)}}, at)
	kill := func(c string, after time.Duration) Kill { return Kill{Pod: "web-1", Container: c, At: at.Add(after)} }
	const watch = time.Hour
	for _, tc := range []struct {
		name           string
		rec            Record
		kills, loops   []Kill
		rolling        bool
		ready, desired int32
		now            time.Duration
		reason         string
		memoryOnly     bool
	}{
		{name: "quiet", rec: rec, ready: 3, desired: 3, now: 10 * time.Minute},
		{name: "OOM kill of a container whose memory moved", rec: rec, kills: []Kill{kill("app", 5*time.Minute)}, ready: 3, desired: 3, now: 10 * time.Minute, reason: ReasonOOMKill, memoryOnly: true},
		{name: "a kill before the apply", rec: rec, kills: []Kill{kill("app", -time.Minute)}, ready: 3, desired: 3, now: 10 * time.Minute},
		{name: "a kill of a container whose memory stayed", rec: rec, kills: []Kill{kill("cpu-only", time.Minute)}, ready: 3, desired: 3, now: 10 * time.Minute},
		{name: "a kill of another container", rec: rec, kills: []Kill{kill("proxy", time.Minute)}, ready: 3, desired: 3, now: 10 * time.Minute},
		{name: "a changed container in a restart loop: everything back", rec: rec, loops: []Kill{kill("cpu-only", 0)}, ready: 2, desired: 3, now: 10 * time.Minute, reason: ReasonRestartLoop},
		{name: "another container in a restart loop", rec: rec, loops: []Kill{kill("proxy", 0)}, ready: 3, desired: 3, now: 10 * time.Minute},
		{name: "not ready once rolled out", rec: rec, ready: 2, desired: 3, now: 10 * time.Minute, reason: ReasonNotReady},
		{name: "not ready while rolling out: wait", rec: rec, rolling: true, ready: 2, desired: 3, now: 10 * time.Minute},
		{name: "past the watch", rec: rec, kills: []Kill{kill("app", 2*time.Hour)}, ready: 3, desired: 3, now: 2 * time.Hour},
		{name: "rolled back already", rec: func() Record { r := rec; r.RolledBack = at.Add(time.Minute); return r }(), kills: []Kill{kill("app", 5*time.Minute)}, now: 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Harmed(tc.rec, tc.kills, tc.loops, tc.rolling, tc.ready, tc.desired, at.Add(tc.now), watch)
			if tc.reason == "" {
				assert.Nil(t, h)
				return
			}
			require.NotNil(t, h)
			assert.Equal(t, tc.reason, h.Reason)
			assert.Equal(t, tc.memoryOnly, h.MemoryOnly)
		})
	}

	live := func(c string) (workload.Settings, bool) {
		switch c {
		case "app":
			return set(350, 700*workload.MiB), true
		case "cpu-only":
			return set(140, workload.GiB), true
		}
		return workload.Settings{}, false
	}
	undo := Undo(rec, live, Harm{MemoryOnly: true})
	require.Len(t, undo, 1, "cpu-only's memory did not move")
	assert.Equal(t, set(350, workload.GiB), undo[0].To, "memory back, cpu kept")
	undo = Undo(rec, live, Harm{})
	require.Len(t, undo, 2)
	assert.Equal(t, set(500, workload.GiB), undo[0].To)
	assert.Equal(t, set(200, workload.GiB), undo[1].To)
}
