package backtest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/backtest"
)

func TestWriteTableGapToOracle(t *testing.T) {
	res := []backtest.Result{
		{Profile: "balanced", Covered: 1, CPU: backtest.CPU{RequestCoreHours: 10, Slack: 0.25, Insufficient: 0.015}},
		{Profile: "oracle", Covered: 1, CPU: backtest.CPU{RequestCoreHours: 9, Slack: 0.20, Insufficient: 0.02}},
	}
	var b strings.Builder
	require.NoError(t, backtest.WriteTable(&b, res))
	assert.Contains(t, b.String(), "CPU against the oracle (slack / insufficient, points): balanced +5.00 / -0.50\n")
	b.Reset()
	require.NoError(t, backtest.WriteTable(&b, res[:1]))
	assert.NotContains(t, b.String(), "against the oracle")
}

// TestWriteTopEscapesNames: container names come from the input file and
// reached the terminal as they were, control sequences included.
func TestWriteTopEscapesNames(t *testing.T) {
	res := []backtest.Result{{
		Profile: "balanced", Covered: 2, CPU: backtest.CPU{RequestCoreHours: 10, Slack: 0.5},
		ByContainer: []backtest.ContainerResult{
			{Container: "shop/Deployment/\x1b[31mweb/app", CPUIdleCoreHours: 4, CPUShortHours: 1},
			{Container: "shop/Deployment/api/\u202eppa", CPUIdleCoreHours: 1, CPUShortHours: 2},
		},
	}}
	var b strings.Builder
	require.NoError(t, backtest.WriteTop(&b, res, 5))
	out := b.String()
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\u202e")
	assert.Contains(t, out, `"shop/Deployment/\x1b[31mweb/app"`)
	assert.Contains(t, out, `"shop/Deployment/api/\u202eppa"`)
}

// TestWriteTableUncovered: a profile that scored no container shows dashes
// and says why, not zeros that read as perfect.
func TestWriteTableUncovered(t *testing.T) {
	for _, tc := range []struct {
		profile, why string
	}{
		{backtest.Current, "— for current: the history records no requests or limits to score."},
		{"balanced", "— for balanced: no container had a recommendation to score."},
	} {
		var b strings.Builder
		require.NoError(t, backtest.WriteTable(&b, []backtest.Result{{Profile: tc.profile}}))
		out := b.String()
		assert.NotContains(t, out, "0.00 %", tc.profile)
		assert.Contains(t, out, tc.why)
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, tc.profile+" ") {
				line = l
			}
		}
		assert.Equal(t, 9, strings.Count(line, "—"), "every figure a dash: %q", line)
	}
}
