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

func TestVersionFormat(t *testing.T) {
	deps := []*debug.Module{
		{Path: "github.com/spf13/cobra", Version: "v1.10.1"},
		{Path: "k8s.io/client-go", Version: "v0.34.4"},
	}
	settings := func(kv ...string) []debug.BuildSetting {
		s := []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "305b462d81c4a0e9f7b6c5d4e3f2a1b0c9d8e7f6"
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		version string
		want    string
	}{{
		name:    "release build from a clean checkout",
		version: "v0.3.0",
		bi: &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "rightsize.dev/rightsize", Version: "(devel)"}, Deps: deps,
			Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-05T10:00:00Z", "vcs.modified", "false")},
		want: "rightsize v0.3.0 (commit 305b462d81c4, 2026-12-05T10:00:00Z), go1.27.3 linux/arm64, client-go v0.34.4",
	}, {
		name:    "modified tree",
		version: "v0.3.0-2-g305b462-dirty",
		bi: &debug.BuildInfo{GoVersion: "go1.27.3", Deps: deps,
			Settings: settings("vcs.revision", rev, "vcs.time", "2026-12-05T10:00:00Z", "vcs.modified", "true")},
		want: "rightsize v0.3.0-2-g305b462-dirty (commit 305b462d81c4, 2026-12-05T10:00:00Z, modified), go1.27.3 linux/arm64, client-go v0.34.4",
	}, {
		name: "go install of a release: no VCS stamp, the module's version",
		bi:   &debug.BuildInfo{GoVersion: "go1.26.2", Main: debug.Module{Path: "rightsize.dev/rightsize", Version: "v0.3.0"}, Deps: deps, Settings: settings()},
		want: "rightsize v0.3.0, go1.26.2 linux/arm64, client-go v0.34.4",
	}, {
		name: "plain go build without VCS stamp",
		bi:   &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "rightsize.dev/rightsize", Version: "(devel)"}, Deps: deps, Settings: settings()},
		want: "rightsize dev, go1.27.3 linux/arm64, client-go v0.34.4",
	}, {
		name: "client-go replaced",
		bi: &debug.BuildInfo{GoVersion: "go1.27.3", Settings: settings(), Deps: []*debug.Module{
			{Path: "k8s.io/client-go", Version: "v0.34.4", Replace: &debug.Module{Path: "../client-go", Version: "v0.35.0-alpha.1"}},
		}},
		want: "rightsize dev, go1.27.3 linux/arm64, client-go v0.35.0-alpha.1",
	}, {
		name:    "no build information",
		version: "v0.3.0",
		want:    "rightsize v0.3.0, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, readVersion(tc.bi, tc.version).String())
		})
	}
}
