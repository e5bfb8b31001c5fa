package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/report"
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

// TestPlanHPAFile: --hpa gives the demo's web Deployment its HPA; the plan
// shows it as current beside the one recommended, and every other
// scalable workload as having none. The web workload's hpa object is
// pinned by a golden file.
func TestPlanHPAFile(t *testing.T) {
	file := filepath.Join("..", "..", "..", "testdata", "hpa", "demo-hpas.yaml")
	code, out, errOut := run(t, "plan", "--hpa", file, "-o", "json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "; 1 HPA from "+file)
	var doc report.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	var web *report.WorkloadDocument
	for i, w := range doc.Workloads {
		switch {
		case w.Kind == "Deployment" && w.Name == "web":
			web = &doc.Workloads[i]
		case w.HPA != nil:
			assert.Nil(t, w.HPA.Current, "%s/%s has no HPA in the file", w.Kind, w.Name)
		}
	}
	require.NotNil(t, web)
	require.NotNil(t, web.HPA)
	cur := web.HPA.Current
	require.NotNil(t, cur)
	assert.Equal(t, "web", cur.Name)
	require.NotNil(t, cur.MinReplicas)
	assert.Equal(t, int32(2), *cur.MinReplicas)
	assert.Equal(t, int32(10), cur.MaxReplicas)
	require.Len(t, cur.Metrics, 1)
	require.NotNil(t, cur.Metrics[0].Resource)
	assert.Equal(t, "cpu", string(cur.Metrics[0].Resource.Name))
	require.NotNil(t, cur.Metrics[0].Resource.Target.AverageUtilization)
	assert.Equal(t, int32(50), *cur.Metrics[0].Resource.Target.AverageUtilization)
	require.NotNil(t, web.HPA.Recommended)
	assert.NotNil(t, web.HPA.Replay("current"), "the current HPA is replayed")

	b, err := json.MarshalIndent(web.HPA, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, filepath.Join("..", "..", "..", "testdata", "golden", "plan-demo-hpa-web.json"), append(b, '\n'))

	// The table names it too.
	code, out, errOut = run(t, "plan", "--hpa", file)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `shop/Deployment/web +2–10 pods, cpu 50 % +\d+–\d+ pods`, out)
}

// TestPlanHPAFileSkipsBadObjects: an object the file cannot hold is a
// warning naming the file, the document and the field; the run goes on
// with the rest. A file that cannot be read fails the run.
func TestPlanHPAFileSkipsBadObjects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "hpa", "demo-hpas.yaml"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hpas.yaml")
	bad := "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api, namespace: shop}\n" +
		"spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  maxReplicas: 5\n  minReplicaz: 2\n"
	require.NoError(t, os.WriteFile(path, append(append(good, "---\n"...), bad...), 0o600))
	code, out, errOut := run(t, "plan", "--hpa", path, "-o", "json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "warning: skipped HPA: "+path+": document 2 (line ")
	assert.Contains(t, errOut, "minReplicaz")
	assert.Contains(t, errOut, "; 1 HPA from ")
	assert.Contains(t, out, `"averageUtilization": 50`)

	code, _, errOut = run(t, "plan", "--hpa", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--hpa: ")
}
