package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/controller"
)

// TestPrometheusKustomization renders the kustomization docs/controller.md
// gives for reading usage from Prometheus, over the base: the base's
// objects, and arguments the controller's flags accept.
func TestPrometheusKustomization(t *testing.T) {
	doc, err := os.ReadFile("../../docs/controller.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```yaml\n(resources:\n  - \\.\\./rightsize/deploy/controller\n.*?)```").FindSubmatch(doc)
	require.NotNil(t, m, "the kustomization in docs/controller.md")
	base, err := filepath.Abs(baseDir)
	require.NoError(t, err)
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, base) // kustomize takes no absolute base
	require.NoError(t, err)
	k := strings.Replace(string(m[1]), "../rightsize/deploy/controller", rel, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644))

	r, b := renderDir(t, dir), render(t)
	assert.Len(t, r.objects, len(b.objects), "the base's objects, no more")
	require.Len(t, r.deployments, 1)
	args := r.deployments[0].Spec.Template.Spec.Containers[0].Args
	baseArgs := b.deployments[0].Spec.Template.Spec.Containers[0].Args
	require.Greater(t, len(args), len(baseArgs))
	assert.Equal(t, baseArgs, args[:len(baseArgs)], "the base's args first")

	f := controller.NewFlags()
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true // the cluster's flags are the command's
	f.AddFlags(fs)
	require.NoError(t, fs.Parse(args[1:]))
	require.NoError(t, f.Validate())
	assert.True(t, f.Prometheus.Enabled())
	assert.Equal(t, "168h0m0s", f.Backfill.String())
}
