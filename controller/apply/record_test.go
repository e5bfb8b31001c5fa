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
