package patch

import (
	"bytes"
	"flag"
	"io/fs"
	"maps"
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

// snapshot maps every path under dir to its mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = info.Mode().String()
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[rel] += " " + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// failRenameOf makes Write's moves into place fail for the file name.
func failRenameOf(t *testing.T, name string) {
	t.Helper()
	rename = func(from, to string) error {
		if filepath.Base(to) == name && filepath.Base(filepath.Dir(from)) == "new" {
			return fs.ErrPermission
		}
		return os.Rename(from, to)
	}
	t.Cleanup(func() { rename = os.Rename })
}

// TestWriteAllOrNothing: a failure part-way through leaves the directory as
// it was (or absent, if Write was to create it): no half-written set, no
// patch of this run beside the old kustomization, no staging left behind.
func TestWriteAllOrNothing(t *testing.T) {
	existing := func(t *testing.T, dir string) {
		t.Helper()
		for name, data := range map[string]string{
			KustomizationFile:              "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\npatches:\n- path: payments-deployment-api.yaml\n",
			"payments-deployment-api.yaml": "# an earlier run's patch\n",
			"README.md":                    "not rightsize's\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) // nil: dir does not exist
		fail  func(t *testing.T, dir string)
	}{
		{"third patch fails to move", existing, func(t *testing.T, _ string) { failRenameOf(t, "shop-statefulset-db.yaml") }},
		{"kustomization fails to move", existing, func(t *testing.T, _ string) { failRenameOf(t, KustomizationFile) }},
		{"first patch fails to move", existing, func(t *testing.T, _ string) { failRenameOf(t, "batch-cronjob-nightly-report.yaml") }},
		{"a directory in a patch's place", existing, func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "web-deployment-frontend.yaml"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"new directory, patch fails to move", nil, func(t *testing.T, _ string) { failRenameOf(t, "shop-statefulset-db.yaml") }},
		{"new directory, kustomization fails to move", nil, func(t *testing.T, _ string) { failRenameOf(t, KustomizationFile) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "overlay", "rightsize")
			if tc.setup != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				tc.setup(t, dir)
			}
			tc.fail(t, dir)
			before := snapshot(t, parent)

			written, _, err := Write(dir, testPlan())
			if err == nil {
				t.Fatalf("Write succeeded, wrote %q", written)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the directory", err)
			}
			if after := snapshot(t, parent); !reflect.DeepEqual(after, before) {
				t.Errorf("directory changed by a failed Write\n--- before\n%q\n--- after\n%q", before, after)
			}
		})
	}
}

// TestWriteReplacesAtomically: a successful Write keeps other files, the
// permissions of files it replaces, and leaves no staging directory.
func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "payments-deployment-api.yaml")
	if err := os.WriteFile(old, []byte("# old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stale.yaml"), []byte("# stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, _, err := Write(dir, testPlan())
	if err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, dir)
	if len(got) != len(written)+2 { // the directory itself and stale.yaml
		t.Errorf("entries after Write: %q", slices.Sorted(maps.Keys(got)))
	}
	if !strings.HasPrefix(got["stale.yaml"], "-rw-r--r-- # stale") {
		t.Errorf("stale.yaml = %q, want it untouched", got["stale.yaml"])
	}
	if want := "-rw------- # Generated by rightsize"; !strings.HasPrefix(got["payments-deployment-api.yaml"], want) {
		t.Errorf("replaced patch = %q, want %q…", got["payments-deployment-api.yaml"], want)
	}
}

func TestReadKustomizationBounds(t *testing.T) {
	dir := t.TempDir()
	big := "resources:\n- ../base\n# " + strings.Repeat("x", maxKustomization) + "\n"
	if err := os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if _, _, err := Write(dir, testPlan()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Write over a %d-byte kustomization: err %v", len(big), err)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
		t.Error("directory changed")
	}
}

func TestParseKustomization(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{"empty", "", nil, ""},
		{"comments only", "# nothing yet\n", nil, ""},
		{"null", "~\n", nil, ""},
		{"no resources", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", nil, ""},
		{"block list", "resources:\n- ../base\n- extra.yaml\npatches:\n- path: a.yaml\n", []string{"../base", "extra.yaml"}, ""},
		{"flow list, quoted", `{resources: ["../base", 'b c']}`, []string{"../base", "b c"}, ""},
		{"resources null", "resources:\n", nil, ""},
		{"repeated key: last wins", "resources: [a]\nresources: [b]\n", []string{"b"}, ""},
		{"alias to a list", "x: &r [../base]\nresources: *r\n", []string{"../base"}, ""},
		{"alias items", "x: &b ../base\nresources: [*b, *b]\n", []string{"../base", "../base"}, ""},
		{"only the first document", "resources: [a]\n---\nresources: [b]\n", []string{"a"}, ""},
		{"alias bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\nresources: [../base]\n", []string{"../base"}, ""},
		{"not a mapping", "- ../base\n", nil, "k.yaml:1: want a mapping"},
		{"resources a string", "resources: ../base\n", nil, "k.yaml:1: resources: want a list"},
		{"resources a number", "resources:\n- ../base\n- 12\n", nil, "k.yaml:3: resources: want a path"},
		{"nested list", "resources:\n- [a]\n", nil, "k.yaml:2: resources: want a path"},
		{"bad YAML", "resources: [a\n", nil, "parse existing k.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := parseKustomization("k.yaml", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(k.Resources, tc.want) {
				t.Errorf("resources = %q, want %q", k.Resources, tc.want)
			}
		})
	}
}
