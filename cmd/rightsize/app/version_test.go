package app

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary carries build information with its dependencies: the
// version line names the Go release and the client-go module linked in.
func TestVersionFromBuildInfo(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok, "the test binary has build information")
	var clientGo string
	for _, d := range bi.Deps {
		if d.Path == "k8s.io/client-go" {
			clientGo = d.Version
		}
	}
	require.NotEmpty(t, clientGo, "client-go is a dependency")

	code, out, errOut := run(t, "version")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "rightsize "), out)
	assert.Contains(t, out, runtime.Version())
	assert.Contains(t, out, "client-go "+clientGo)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line")

	code, out, errOut = run(t, "version", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	assert.Equal(t, runtime.Version(), v["goVersion"])
	assert.Equal(t, clientGo, v["clientGoVersion"])
	assert.NotEmpty(t, v["version"])

	code, _, errOut = run(t, "version", "-o", "yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown output format "yaml"`)
	code, _, _ = run(t, "version", "extra")
	assert.Equal(t, 2, code)
}
