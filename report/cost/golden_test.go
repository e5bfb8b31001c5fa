package cost

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/report/pricing"
)

// TestGolden pins the Markdown and CSV reports on the demo data with a
// fixed end, the Markdown with teams and node-pool prices, and the
// Markdown of two clusters.
func TestGolden(t *testing.T) {
	teams := demoInputWithTeams(t)
	teams.Pricing.Currency = "EUR"
	teams.Pricing.NodePools = map[string]pricing.Override{"spot": {CPU: ptr(0.01)}}
	cases := []struct {
		file  string
		in    Input
		write func(*bytes.Buffer, *Report) error
	}{
		{"demo.md", demoInput(t), func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
		{"demo.csv", demoInput(t), func(b *bytes.Buffer, r *Report) error { return WriteCSV(b, r) }},
		{"demo-teams.md", teams, func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
		{"demo-clusters.md", demoInputClusters(t), func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Build(tc.in)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, tc.write(&buf, r))
			golden.Assert(t, filepath.Join("testdata", tc.file), buf.Bytes())
		})
	}
}
