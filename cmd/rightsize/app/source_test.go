package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// acceptFile writes a usage file of 200 good rows from 2023-11-14 on, and
// rows a reader must not pass on: far-off times, absurd values, bad names.
func acceptFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes,cpu_limit_cores\n")
	for i := range 200 {
		fmt.Fprintf(&b, "%d,ns,Deployment,app,app-1,main,0.25,268435456,2\n", 1700000000+i*300)
	}
	b.WriteString("99999999999999999,ns,Deployment,app,app-1,main,0.25,268435456,2\n")    // line 202
	b.WriteString("-99999999999999999,ns,Deployment,app,app-1,main,0.25,268435456,2\n")   // line 203
	b.WriteString("1700099999,ns,Deployment,app,app-1,main,1e300,268435456,2\n")          // line 204
	b.WriteString("1700099999,ns,Deployment,app,app-1,main,0.25,1e30,2\n")                // line 205
	b.WriteString("1700099999,ns,Deployment,app,app-1,main,0.25,268435456,99999999999\n") // line 206
	b.WriteString("1700099999,ns,Deployment,App,app-1,main,0.25,268435456,2\n")           // line 207
	b.WriteString("1700099999,ns,Deployment,app,app-1,\"ma\x1bin\",0.25,268435456,2\n")   // line 208
	path := filepath.Join(t.TempDir(), "usage.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestSourceAcceptFlags: the file commands skip rows outside the --accept
// bounds, and their summary line says which and where.
func TestSourceAcceptFlags(t *testing.T) {
	path := acceptFile(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"defaults", nil, "read 207 rows, used 200, skipped 7 (2 CPU above 10000 cores, 2 invalid name, 2 timestamp outside 2000-01-01…now+24h, 1 memory above 1Pi): " +
			"first CPU above 10000 cores at line 204, first invalid name at line 207, first timestamp outside 2000-01-01…now+24h at line 202, first memory above 1Pi at line 205"},
		{"bounds from flags", []string{"--accept-since", "2023-11-15T00:00:00Z", "--accept-future", "2d", "--accept-max-cpu", "4", "--accept-max-memory", "1Gi"},
			"read 207 rows, used 178, skipped 29 (24 timestamp outside 2023-11-15…now+2d, 2 CPU above 4 cores, 2 invalid name, 1 memory above 1Gi): " +
				"first timestamp outside 2023-11-15…now+2d at line 2, first CPU above 4 cores at line 204, first invalid name at line 207, first memory above 1Gi at line 205"},
	} {
		for _, cmd := range []string{"plan", "backtest", "report"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				args := append([]string{cmd, "--input", path}, tc.args...)
				switch cmd {
				case "report":
					args = append(args, "--format", "json", "--out", filepath.Join(t.TempDir(), "r.json"))
				case "backtest":
					// Hours of history: decisions need a shorter warm-up.
					args = append(args, "--warmup", "1h", "--interval", "1h")
				}
				code, _, errOut := run(t, args...)
				require.Equal(t, 0, code, errOut)
				assert.Contains(t, errOut, path+": "+tc.want)
				assert.NotContains(t, errOut, "\x1b")
			})
		}
	}
}

func TestSourceAcceptFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--accept-future", "-1h"}, "--accept-future must not be negative"},
		{[]string{"--accept-since", "2999-01-01T00:00:00Z"}, "--accept-since 2999-01-01T00:00:00Z is not before now + --accept-future"},
		{[]string{"--accept-max-cpu", "0"}, `invalid quantity "0": must be positive`},
		{[]string{"--accept-max-memory", "lots"}, `invalid quantity "lots"`},
		{[]string{"--accept-future", "99999999999d"}, "more than 106751 days"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"plan"}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}
