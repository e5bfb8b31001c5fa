package patch

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/recommender/workload"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/patch/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./report/patch/ -update to refresh):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rightsize")
	written, skipped, err := Write(dir, testPlan())
	if err != nil {
		t.Fatal(err)
	}
	wantWritten := []string{
		"batch-cronjob-nightly-report.yaml",
		"payments-deployment-api.yaml",
		"shop-statefulset-db.yaml",
		"web-deployment-frontend.yaml",
		KustomizationFile,
	}
	if !slices.Equal(written, wantWritten) {
		t.Errorf("written = %q, want %q", written, wantWritten)
	}
	if len(skipped) != 1 || !strings.HasPrefix(skipped[0], "default/Pod/debug: ") {
		t.Errorf("skipped = %q, want the bare Pod with a reason", skipped)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(written) {
		t.Errorf("%d files in %s, want %d", len(entries), dir, len(written))
	}
	for _, name := range written {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, name, data)
	}
}

func TestRender(t *testing.T) {
	for _, k := range []workload.Key{apiKey, frontendKey, dbKey, reportKey} {
		name, data, ok, err := Render(workloadPlan(k))
		if err != nil || !ok {
			t.Fatalf("Render(%s) = ok %v, err %v", k, ok, err)
		}
		if name != FileName(k) {
			t.Errorf("Render(%s) name = %q, want %q", k, name, FileName(k))
		}
		golden, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, golden) {
			t.Errorf("Render(%s) differs from what Write wrote", k)
		}
	}
	for _, k := range []workload.Key{debugKey, exporterKey} {
		if _, _, ok, err := Render(workloadPlan(k)); ok || err != nil {
			t.Errorf("Render(%s) = ok %v, err %v; want nothing to patch", k, ok, err)
		}
	}
}

func TestRenderLeavesOutUnchanged(t *testing.T) {
	_, data, _, err := Render(workloadPlan(apiKey))
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers, InitContainers []struct {
						Name      string
						Resources map[string]map[string]any
					}
				}
			}
		}
	}
	if err := yaml.UnmarshalStrict(data, &obj); err == nil {
		t.Fatal("strict decoding ignored apiVersion, kind and metadata")
	}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	pod := obj.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.Containers[0].Name != "app" {
		t.Errorf("containers = %+v, want only app (log-shipper does not change)", pod.Containers)
	}
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != "envoy" {
		t.Fatalf("initContainers = %+v, want the envoy sidecar", pod.InitContainers)
	}
	want := map[string]map[string]any{"requests": {"cpu": "150m"}, "limits": {"cpu": "150m", "memory": "128Mi"}}
	if got := pod.InitContainers[0].Resources; !reflect.DeepEqual(got, want) {
		t.Errorf("envoy resources = %v, want %v (its memory request does not change)", got, want)
	}
}

func TestRenderJob(t *testing.T) {
	wp := workloadPlan(reportKey)
	wp.Key = workload.Key{Namespace: "batch", Kind: workload.Job, Name: "migrate"}
	name, data, ok, err := Render(wp)
	if err != nil || !ok {
		t.Fatalf("Render(Job) = ok %v, err %v", ok, err)
	}
	if name != "batch-job-migrate.yaml" || !strings.Contains(string(data), "apiVersion: batch/v1\nkind: Job\n") ||
		!strings.Contains(string(data), "spec:\n  template:\n    spec:\n      containers:") {
		t.Errorf("Job patch %s:\n%s", name, data)
	}
}

func TestRenderBadName(t *testing.T) {
	wp := workloadPlan(apiKey)
	wp.Key.Name = "../../etc"
	if _, _, _, err := Render(wp); err == nil {
		t.Error("Render accepted a name with a path separator")
	}
}

func TestWriteKeepsResources(t *testing.T) {
	dir := t.TempDir()
	mine := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n- extra.yaml\npatches:\n- path: stale.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Write(dir, testPlan()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	if !strings.Contains(s, "resources:\n- ../base\n- extra.yaml\n") {
		t.Errorf("resources not kept:\n%s", s)
	}
	if strings.Contains(s, "stale.yaml") {
		t.Errorf("old patch kept:\n%s", s)
	}
	if !strings.Contains(s, "profile documents") {
		t.Errorf("header lacks the profile:\n%s", s)
	}
}

func TestWriteNothingToPatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	written, skipped, err := Write(dir, workload.Plan{Workloads: []workload.WorkloadPlan{workloadPlan(exporterKey)}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(written, []string{KustomizationFile}) || skipped != nil {
		t.Errorf("written %q, skipped %q", written, skipped)
	}
}
