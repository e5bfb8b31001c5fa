package main

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkedTestPackages are the packages named for tests that the binary links
// through its dependencies, with the importer that brings each in; no small
// change removes them (docs/benchmarks.md, "Binary size").
var linkedTestPackages = map[string]string{
	"testing":                  "github.com/pandatix/go-abnf, through prometheus/common/expfmt",
	"internal/testlog":         "the standard library (os)",
	"k8s.io/client-go/testing": "k8s.io/client-go/gentype",
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper": "k8s.io/client-go/gentype",
}

// TestBinaryLinksNoTestPackages keeps test-only code out of the release
// binary: no package whose path names a test, a fake or a mock, no test
// helper of rightsize's own, testify or the generators, beyond the few its
// dependencies bring in.
func TestBinaryLinksNoTestPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	require.NoError(t, err, "go list -deps")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "rightsize.dev/rightsize/cmd/rightsize/app", "the command's packages are listed")
	var bad []string
	for _, p := range deps {
		if _, ok := linkedTestPackages[p]; ok {
			continue
		}
		if testOnly(p) {
			bad = append(bad, p)
		}
	}
	assert.Empty(t, bad, "test-only packages linked into rightsize; find the importer with go mod why -m or go list -deps -json")
}

// testOnly says whether a package path looks like test or tool code.
func testOnly(path string) bool {
	for _, prefix := range []string{"github.com/stretchr/testify", "sigs.k8s.io/controller-tools", "rightsize.dev/rightsize/hack/",
		"rightsize.dev/rightsize/internal/golden", "rightsize.dev/rightsize/internal/deploytest"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	if strings.HasPrefix(path, "rightsize.dev/rightsize/internal/") && strings.HasSuffix(path, "test") {
		return true // internal/deploytest and its like; recommender/backtest is no test
	}
	for _, seg := range strings.Split(path, "/") {
		for _, word := range []string{"test", "fake", "mock", "gomock", "envtest"} {
			if strings.HasPrefix(seg, word) {
				return true
			}
		}
	}
	return false
}

func TestTestOnly(t *testing.T) {
	for _, p := range []string{"testing", "k8s.io/client-go/kubernetes/fake", "github.com/stretchr/testify/assert",
		"rightsize.dev/rightsize/internal/golden", "rightsize.dev/rightsize/internal/deploytest", "github.com/prometheus/client_golang/prometheus/testutil",
		"go.uber.org/mock/gomock", "rightsize.dev/rightsize/hack/benchcontroller", "sigs.k8s.io/controller-runtime/pkg/envtest", "internal/testlog"} {
		assert.True(t, testOnly(p), p)
	}
	for _, p := range []string{"rightsize.dev/rightsize/recommender/backtest", "rightsize.dev/rightsize/recommender/statestore", "k8s.io/client-go/kubernetes", "internal/synctest"} {
		assert.False(t, testOnly(p), p)
	}
}

// TestMakeBuildIsLean builds rightsize as make build does and checks that
// the release is lean and stamped: no symbol table or DWARF, no local paths,
// the version set by the linker and the VCS stamp kept.
func TestMakeBuildIsLean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary (-short)")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	bin := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", root, "build", "BIN="+bin)
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9-test")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make build: %s", out)
	path := filepath.Join(bin, "rightsize")

	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	for _, s := range []string{".symtab", ".debug_info", ".zdebug_info", ".debug_line"} {
		assert.Nil(t, f.Section(s), "section %s: the release is built with -s -w", s)
	}

	info, err := buildinfo.ReadFile(path)
	require.NoError(t, err)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// -trimpath keeps -ldflags out of the build information: what -s -w
	// and -X do is checked above and below instead.
	assert.Equal(t, "true", settings["-trimpath"], "no local paths")
	assert.NotEmpty(t, settings["vcs.revision"], "the commit is stamped")

	version, err := exec.Command(path, "version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(version), "v9.9.9-test")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), root+"/", "no local path of the build")
}
