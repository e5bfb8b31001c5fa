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

// TestApplyOverlay checks overlays/apply: the base, the apply role bound to
// the controller's ServiceAccount, and --apply=on; the base alone has
// neither (its Deployment keeps the dry-run default).
func TestApplyOverlay(t *testing.T) {
	base, over := render(t), renderDir(t, applyDir)
	assert.Len(t, over.objects, len(base.objects)+2, "the base and the apply role and binding")
	require.Len(t, over.deployments, 1)
	assert.Contains(t, over.deployments[0].Spec.Template.Spec.Containers[0].Args, "--apply=on")
	assert.NotContains(t, strings.Join(base.deployments[0].Spec.Template.Spec.Containers[0].Args, " "), "--apply")

	role, ok := over.roles["ClusterRole//rightsize-controller-apply"]
	require.True(t, ok, "the apply ClusterRole")
	require.Len(t, role.Rules, 4)
	assert.Equal(t, []string{"apps"}, role.Rules[0].APIGroups)
	assert.ElementsMatch(t, []string{"deployments", "statefulsets", "daemonsets"}, role.Rules[0].Resources)
	assert.Equal(t, []string{"patch"}, role.Rules[0].Verbs)
	assert.Equal(t, []string{""}, role.Rules[1].APIGroups)
	assert.Equal(t, []string{"pods/resize"}, role.Rules[1].Resources, "of a pod, its resize only")
	assert.Equal(t, []string{"patch"}, role.Rules[1].Verbs)
	assert.Equal(t, []string{"autoscaling"}, role.Rules[2].APIGroups)
	assert.Equal(t, []string{"horizontalpodautoscalers"}, role.Rules[2].Resources, "written with a CPU request they scale on (R10)")
	assert.Equal(t, []string{"patch"}, role.Rules[2].Verbs)
	assert.Equal(t, []string{"policy"}, role.Rules[3].APIGroups)
	assert.Equal(t, []string{"poddisruptionbudgets"}, role.Rules[3].Resources)
	assert.Equal(t, []string{"list"}, role.Rules[3].Verbs, "read only")
	_, inBase := base.roles["ClusterRole//rightsize-controller-apply"]
	assert.False(t, inBase)
	bound := false
	for _, b := range over.bindings {
		if b.RoleRef.Name == role.Name {
			bound = len(b.Subjects) == 1 && b.Subjects[0].Name == serviceAccount && b.Subjects[0].Namespace == namespace
		}
	}
	assert.True(t, bound, "bound to %s/%s only", namespace, serviceAccount)
}
