package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/workload"
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

// TestPlanClusters: a usage file of two clusters with the same workload
// plans two workloads, each named with its cluster in every format;
// --clusters reads one; --patches writes one directory per cluster.
func TestPlanClusters(t *testing.T) {
	var buf bytes.Buffer
	w := usagecsv.NewWriter(&buf)
	w.Cluster = true
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2 * 288 {
		for c, cluster := range []string{"prod-eu", "prod-us"} {
			require.NoError(t, w.Write(usagecsv.Row{
				Key: workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web", Cluster: cluster}, Container: "app"},
				Sample: workload.Sample{Time: start.Add(time.Duration(i) * 5 * time.Minute), Pod: "web-1",
					CPU: workload.Cores(0.1 + 0.4*float64(c)), HasCPU: true, Memory: workload.Bytes(100+200*c) * workload.MiB, HasMemory: true,
					Settings: workload.Settings{Requests: workload.Resources{CPU: 2000, Memory: 2 * workload.GiB}}},
			}))
		}
	}
	require.NoError(t, w.Flush())
	file := filepath.Join(t.TempDir(), "usage.csv")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))

	code, out, errOut := run(t, "plan", "--input", file, "-o", "json")
	require.Equal(t, 0, code, errOut)
	var doc report.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Workloads, 2)
	assert.Equal(t, "prod-eu", doc.Workloads[0].Cluster)
	assert.Equal(t, "prod-us", doc.Workloads[1].Cluster)
	assert.NotEqual(t, doc.Workloads[0].Containers[0].Recommended, doc.Workloads[1].Containers[0].Recommended, "each from its own cluster's usage")

	code, out, errOut = run(t, "plan", "--input", file)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "shop/Deployment/web@prod-eu")
	assert.Contains(t, out, "shop/Deployment/web@prod-us")

	code, out, errOut = run(t, "plan", "--input", file, "-o", "csv")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "cluster,namespace,kind,workload,"), out)
	assert.Contains(t, out, "\nprod-us,shop,Deployment,web,app,")

	code, out, errOut = run(t, "plan", "--input", file, "--clusters", "prod-us", "-o", "json")
	require.Equal(t, 0, code, errOut)
	doc = report.PlanDocument{}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Workloads, 1)
	assert.Equal(t, "prod-us", doc.Workloads[0].Cluster)
	assert.Contains(t, errOut, "576 other cluster")

	// --critical names the workload of one cluster as the plan writes it.
	code, out, errOut = run(t, "plan", "--input", file, "--critical", "shop/Deployment/web@prod-us", "-o", "json")
	require.Equal(t, 0, code, errOut)
	doc = report.PlanDocument{}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Workloads, 2)
	assert.False(t, doc.Workloads[0].Critical, "prod-eu's web")
	assert.True(t, doc.Workloads[1].Critical, "prod-us's web")

	dir := t.TempDir()
	code, _, errOut = run(t, "plan", "--input", file, "--patches", dir)
	require.Equal(t, 0, code, errOut)
	for _, c := range []string{"prod-eu", "prod-us"} {
		assert.FileExists(t, filepath.Join(dir, c, patch.KustomizationFile))
		assert.FileExists(t, filepath.Join(dir, c, "shop-deployment-web.yaml"))
		assert.Contains(t, errOut, "wrote 1 patch file(s) and kustomization.yaml to "+filepath.Join(dir, c)+"\n")
	}
}

// TestPlanBoundedMemory: --bounded-memory reads a usage file into sketches;
// it needs a file or Prometheus, and refuses a profile whose window quantile the
// sketches do not keep.
func TestPlanBoundedMemory(t *testing.T) {
	code, _, errOut := run(t, "plan", "--bounded-memory")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "--bounded-memory reads a usage file or Prometheus: give --input or --prometheus-url")

	file := filepath.Join(t.TempDir(), "usage.csv")
	var buf bytes.Buffer
	w := usagecsv.NewWriter(&buf)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * 288 {
		require.NoError(t, w.Write(usagecsv.Row{
			Key: workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"},
			Sample: workload.Sample{Time: start.Add(time.Duration(i) * 5 * time.Minute), Pod: "web-1", CPU: workload.Cores(0.2 + 0.1*float64(i%7)), HasCPU: true,
				Memory: 300 * workload.MiB, HasMemory: true},
		}))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))

	code, _, errOut = run(t, "plan", "--input", file, "--bounded-memory", "--profile", "krr")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "profile krr takes a quantile of the exact window")

	code, sketched, errOut := run(t, "plan", "--input", file, "--bounded-memory", "-o", "json")
	require.Equal(t, 0, code, errOut)
	code, sampled, errOut := run(t, "plan", "--input", file, "-o", "json")
	require.Equal(t, 0, code, errOut)
	var a, b report.PlanDocument
	require.NoError(t, json.Unmarshal([]byte(sampled), &a))
	require.NoError(t, json.Unmarshal([]byte(sketched), &b))
	require.Len(t, b.Workloads, 1)
	// The same requests, limits and HPA; the HPA's replay figures differ
	// in their last digits (the load kept as float32 on an aligned grid).
	assert.Equal(t, a.Workloads[0].Containers[0].Recommended, b.Workloads[0].Containers[0].Recommended)
	require.NotNil(t, b.Workloads[0].HPA)
	assert.Equal(t, a.Workloads[0].HPA.Recommended, b.Workloads[0].HPA.Recommended)

	// As of an instant inside the file: the rows after it are left out.
	end := "2026-11-02T12:00:00Z"
	code, sketched, errOut = run(t, "plan", "--input", file, "--bounded-memory", "-o", "json", "--end", end)
	require.Equal(t, 0, code, errOut)
	code, sampled, errOut = run(t, "plan", "--input", file, "-o", "json", "--end", end)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(sampled), &a))
	require.NoError(t, json.Unmarshal([]byte(sketched), &b))
	assert.Equal(t, a.Workloads[0].Containers[0].Recommended, b.Workloads[0].Containers[0].Recommended)
	assert.Equal(t, 432, a.Workloads[0].Containers[0].Samples, "a day and a half of 5-minute samples")
	assert.Equal(t, a.Workloads[0].Containers[0].Samples, b.Workloads[0].Containers[0].Samples)
}
