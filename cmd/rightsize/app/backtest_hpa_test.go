package app

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/golden"
)

// TestBacktestHPAGolden pins backtest --hpa on the demo data: the table and
// the JSON document.
func TestBacktestHPAGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "golden")
	code, out, errOut := run(t, "backtest", "--hpa")
	require.Equal(t, 0, code, errOut)
	golden.Assert(t, filepath.Join(dir, "backtest-hpa-demo.txt"), []byte(out))

	code, out, errOut = run(t, "backtest", "--hpa", "-o", "json")
	require.Equal(t, 0, code, errOut)
	golden.Assert(t, filepath.Join(dir, "backtest-hpa-demo.json"), []byte(out))

	var doc struct {
		Workloads []struct {
			Workload string `json:"workload"`
			Class    string `json:"class"`
			Setups   []struct {
				Setup        string  `json:"setup"`
				ReplicaHours float64 `json:"replica_hours"`
				Saturated    float64 `json:"saturated"`
				AboveTarget  float64 `json:"above_target"`
				Events       int     `json:"events"`
			} `json:"setups"`
		} `json:"workloads"`
		Totals []struct {
			Group string `json:"group"`
			Setup string `json:"setup"`
		} `json:"totals"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Workloads, 6, "five Deployments and the StatefulSet")
	for _, w := range doc.Workloads {
		assert.Contains(t, []string{"flat", "diurnal", "bursty"}, w.Class, w.Workload)
		require.NotEmpty(t, w.Setups, w.Workload)
		for _, s := range w.Setups {
			assert.Positive(t, s.ReplicaHours, "%s %s", w.Workload, s.Setup)
		}
	}
	assert.NotEmpty(t, doc.Totals)

	// YAML is the same document.
	code, yout, errOut := run(t, "backtest", "--hpa", "-o", "yaml")
	require.Equal(t, 0, code, errOut)
	j, err := yaml.YAMLToJSON([]byte(yout))
	require.NoError(t, err)
	assert.JSONEq(t, out, string(j))

	// CSV: a header, one row per workload and setup, then the totals.
	code, cout, errOut := run(t, "backtest", "--hpa", "-o", "csv")
	require.Equal(t, 0, code, errOut)
	rows, err := csv.NewReader(strings.NewReader(cout)).ReadAll()
	require.NoError(t, err)
	n := 0
	for _, w := range doc.Workloads {
		n += len(w.Setups)
	}
	assert.Len(t, rows, 1+n+len(doc.Totals))
	assert.Equal(t, "replica_hours", rows[0][14])
}

func TestBacktestHPAFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hpa-sync", "0s"}, "--hpa-sync must be at least 1s"},
		{[]string{"--hpa-sync", "500ms"}, "--hpa-sync must be at least 1s"},
		{[]string{"--hpa-startup", "-1s"}, "--hpa-startup must be between 0 and 24h"},
		{[]string{"--hpa-startup", "48h"}, "--hpa-startup must be between 0 and 24h"},
		{[]string{"-o", "markdown"}, `unknown output format "markdown"`},
	} {
		code, _, errOut := run(t, append([]string{"backtest", "--hpa"}, tc.args...)...)
		assert.Equal(t, 2, code, tc.args)
		assert.Contains(t, errOut, tc.want, tc.args)
	}
	// yaml and csv are for --hpa: the plain backtest keeps table and json.
	code, _, errOut := run(t, "backtest", "-o", "csv")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "yaml and csv with --hpa")

	// A slower controller: fewer events than the default's on the demo.
	code, out, errOut := run(t, "backtest", "--hpa", "--hpa-sync", "60s", "--hpa-startup", "2m", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Sync    string `json:"sync"`
		StartUp string `json:"startup"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "1m0s", doc.Sync)
	assert.Equal(t, "2m0s", doc.StartUp)
}

// TestBacktestHPAFile: the HPAs of --hpa-file are replayed as the current
// setup of their workloads; --hpa-file alone is refused.
func TestBacktestHPAFile(t *testing.T) {
	code, out, errOut := run(t, "backtest", "--hpa", "--hpa-file", filepath.Join("..", "..", "..", "testdata", "hpa", "demo-hpas.yaml"), "-o", "json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Workloads []struct {
			Workload string `json:"workload"`
			Setups   []struct {
				Setup     string `json:"setup"`
				CPUTarget int    `json:"cpu_target"`
				Max       int    `json:"max_replicas"`
			} `json:"setups"`
		} `json:"workloads"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	found := false
	for _, w := range doc.Workloads {
		for _, s := range w.Setups {
			if w.Workload == "shop/Deployment/web" && s.Setup == "current" {
				found = true
				assert.Equal(t, 50, s.CPUTarget, "the file's HPA")
				assert.Equal(t, 10, s.Max)
			}
		}
	}
	assert.True(t, found, "web's current HPA replayed")

	code, _, errOut = run(t, "backtest", "--hpa-file", "x.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--hpa-file needs --hpa")
}
