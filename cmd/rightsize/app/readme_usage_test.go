package app

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/usagecsv/demo"
)

// TestREADMEUsage runs every `rightsize` command of the README's Usage
// section against the demo data, its files standing in for the ones the
// README names, and fails on a non-zero exit or on a warning: the README
// stays true as a whole, not only its first sample. Commands that need a
// live Prometheus or cluster are left to the integration tests, which
// cover both sources; the test says which it skipped.
func TestREADMEUsage(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)## Usage\n\n```sh\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the README's Usage section with its sh block")

	dir := t.TempDir()
	gz := filepath.Join(dir, "usage.csv.gz")
	f, err := os.Create(gz)
	require.NoError(t, err)
	_, err = io.Copy(f, demo.Open())
	require.NoError(t, err)
	require.NoError(t, f.Close())
	pricing := filepath.Join(dir, "pricing.yaml")
	require.NoError(t, os.WriteFile(pricing, []byte("currency: EUR\ncpu: 0.05\nmemory: 0.002\n"), 0o644))
	files := map[string]string{
		"usage.csv.gz":   gz,
		"usage.csv":      gz, // the reader takes plain or gzip whatever the name
		"hpas.yaml":      filepath.Join("..", "..", "..", "testdata", "hpa", "demo-hpas.yaml"),
		"pricing.yaml":   pricing,
		"./patches":      filepath.Join(dir, "patches"),
		"weekly.html":    filepath.Join(dir, "weekly.html"),
		"~/.kube/config": "",
	}

	ran := 0
	for _, line := range strings.Split(string(block[1]), "\n") {
		cmd, _, _ := strings.Cut(line, " #")
		cmd, _, _ = strings.Cut(cmd, "|") // what a pipe feeds is the shell's business
		fields := strings.Fields(cmd)
		if len(fields) < 2 || fields[0] != "rightsize" {
			continue // make, kubectl
		}
		if strings.Contains(cmd, "--prometheus-url") || strings.Contains(cmd, "--kubeconfig") {
			t.Logf("left to the integration tests: %s", strings.TrimSpace(cmd))
			continue
		}
		name := strings.Join(fields[1:], " ")
		args := append([]string{}, fields[1:]...)
		for i, a := range args {
			if f, ok := files[a]; ok {
				args[i] = f
			}
		}
		t.Run(name, func(t *testing.T) {
			code, _, errOut := run(t, args...)
			require.Equal(t, 0, code, "%s\n%s", cmd, errOut)
			assert.NotContains(t, errOut, "warning", cmd)
		})
		ran++
	}
	assert.GreaterOrEqual(t, ran, 9, "the Usage section's commands were found")
}
