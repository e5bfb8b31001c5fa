package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/report/patch"
)

// TestPlanPatchCount: the count on stderr is of the patch files written,
// kustomization.yaml named apart and not counted among them.
func TestPlanPatchCount(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "plan", "--patches", dir)
	require.Equal(t, 0, code, errOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	patches := 0
	for _, e := range entries {
		if e.Name() != patch.KustomizationFile && filepath.Ext(e.Name()) == ".yaml" {
			patches++
		}
	}
	require.NotZero(t, patches)
	assert.Contains(t, errOut, fmt.Sprintf("wrote %d patch file(s) and kustomization.yaml to %s\n", patches, dir))
}

// TestPlanCriticalInvalidName: --critical with a name no workload can have
// is a usage error that quotes it, control characters escaped.
func TestPlanCriticalInvalidName(t *testing.T) {
	code, _, errOut := run(t, "plan", "--critical", "shop/Deployment/web\n\x1b[2J")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, `"shop/Deployment/web\n\x1b[2J": invalid name`)
	assert.NotContains(t, errOut, "\x1b")
}
