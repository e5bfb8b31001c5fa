package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

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
			assert.Equal(t, tc.want, Read(tc.bi, tc.version).String())
		})
	}
}
