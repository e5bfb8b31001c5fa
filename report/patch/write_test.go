package patch

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/workload"
)

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
		golden.Assert(t, filepath.Join("testdata", name), data)
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

// TestWriteKeepsKustomization: an existing kustomization keeps its fields,
// their order and its comments; rightsize's patches are added after the
// user's, a file already listed (here as ./payments-deployment-api.yaml)
// only once, and a second run changes nothing.
func TestWriteKeepsKustomization(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "kept", "kustomization.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kpath := filepath.Join(dir, KustomizationFile)
	if err := os.WriteFile(kpath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Write(dir, testPlan()); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(kpath)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "kept", KustomizationFile), out)

	before, err := decodeTyped(in)
	if err != nil {
		t.Fatal(err)
	}
	after, err := decodeTyped(out)
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, p := range after.Patches[len(before.Patches):] {
		added = append(added, p.Path)
	}
	if want := []string{"batch-cronjob-nightly-report.yaml", "shop-statefulset-db.yaml", "web-deployment-frontend.yaml"}; !slices.Equal(added, want) {
		t.Errorf("patches added: %q, want %q", added, want)
	}
	after.Patches = after.Patches[:len(before.Patches)]
	if !reflect.DeepEqual(after, before) {
		t.Errorf("fields changed:\n%s", out)
	}
	for _, comment := range []string{"# Production overlay", "# every name, generated ones too", "# Hand-written patches first", "# from an earlier run"} {
		if !bytes.Contains(out, []byte(comment)) {
			t.Errorf("comment %q lost", comment)
		}
	}
	if bytes.Contains(out, []byte(headerStart)) {
		t.Errorf("rightsize's header added to a file it did not create:\n%s", out)
	}

	if _, _, err := Write(dir, testPlan()); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(kpath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) {
		t.Errorf("a second run changed the file:\n--- first\n%s\n--- second\n%s", out, again)
	}
}

// TestWriteKeepsEarlierPatches: a patch of an earlier run stays listed
// when its workload no longer changes (it is what holds the workload at
// its current settings); resources stay.
func TestWriteKeepsEarlierPatches(t *testing.T) {
	dir := t.TempDir()
	mine := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n- extra.yaml\npatches:\n- path: earlier.yaml\n"
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
	want := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n- extra.yaml\npatches:\n- path: earlier.yaml\n" +
		"- path: batch-cronjob-nightly-report.yaml\n- path: payments-deployment-api.yaml\n- path: shop-statefulset-db.yaml\n- path: web-deployment-frontend.yaml\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWriteRefreshesItsHeader: rightsize's own comment names the latest
// profile and is not repeated, a line the user added below it stays; a
// kustomization of an older rightsize, which listed only resources and
// patches, is taken over as it is.
func TestWriteRefreshesItsHeader(t *testing.T) {
	dir := t.TempDir()
	old := "# Generated by rightsize (profile documents): one patch per workload whose\n" +
		"# resources change. Add the manifests they apply to under resources:\n" +
		"# (e.g. - ../base); rightsize keeps that list and rewrites the rest.\n" +
		"# Reviewed by the platform team.\n" +
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\npatches:\n- path: payments-deployment-api.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testPlan()
	p.Profile = "balanced"
	if _, _, err := Write(dir, p); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	if err != nil {
		t.Fatal(err)
	}
	want := kustomizationHeader("balanced") + "\n# Reviewed by the platform team.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\npatches:\n" +
		"- path: payments-deployment-api.yaml\n- path: batch-cronjob-nightly-report.yaml\n- path: shop-statefulset-db.yaml\n- path: web-deployment-frontend.yaml\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWriteRefusesAmbiguousEdits: when adding to patches: would change
// another field too, or drop a document, Write refuses and leaves the
// directory as it was.
func TestWriteRefusesAmbiguousEdits(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"patches an alias", "x: &p [{path: a.yaml}]\npatchesJson6902: *p\npatches: *p\n", "not a list written out"},
		{"patches shared with an anchor", "patches: &p [{path: a.yaml}]\npatchesJson6902: *p\n", "would change what the rest of the file means"},
		{"patches from a merge key", "base: &b {patches: [{path: a.yaml}]}\n<<: *b\n", "would change what the rest of the file means"},
		{"a second document", "resources: [a]\n---\nresources: [b]\n", "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			if _, _, err := Write(dir, testPlan()); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
			if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
				t.Error("directory changed")
			}
		})
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

	// Empty flow collections cost the YAML encoder the most per byte: at
	// the node bound, reading and rewriting stay within the fuzz bound.
	atBound := func(nodes int) []byte {
		// The document, the mapping, its key and list take four nodes.
		return []byte("x: [" + strings.Repeat("{},", nodes-5) + "{}]\n")
	}
	if _, err := parseKustomization("k.yaml", atBound(maxKustomizationNodes+1)); err == nil || !strings.Contains(err.Error(), "YAML nodes") {
		t.Errorf("%d nodes: err %v", maxKustomizationNodes+1, err)
	}
	data := atBound(maxKustomizationNodes)
	var (
		k   kustomization
		err error
	)
	alloclimit.Check(t, alloclimit.Bound(len(data)), func() { k, err = parseKustomization("k.yaml", data) })
	if err != nil {
		t.Fatal(err)
	}
	alloclimit.Check(t, alloclimit.Bound(len(data)), func() { _, err = k.withPatches([]string{"a.yaml"}, "balanced") })
	if err != nil {
		t.Fatal(err)
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
		{"alias to a list", "resources: &r [../base]\ncomponents: *r\n", []string{"../base"}, ""},
		{"alias items", "namePrefix: &b ../base\nresources: [*b, *b]\n", []string{"../base", "../base"}, ""},
		{"a field kustomize does not know", "resources: [a]\nnewField: 1\n", []string{"a"}, ""},
		{"empty document after", "resources: [a]\n---\n", []string{"a"}, ""},
		{"alias bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\nresources: [../base]\n", nil, "k.yaml: line 5: its YAML aliases expand to more than 65536 bytes"},
		{"alias of a long string", "namePrefix: &s " + strings.Repeat("x", 40000) + "\nnameSuffix: *s\nresources: [*s]\n", nil, "k.yaml: line 3: its YAML aliases expand"},
		{"alias inside its anchor", "resources: &r [*r]\n", nil, "k.yaml: line 1: an alias stands inside its own anchor"},
		{"two documents", "resources: [a]\n---\nresources: [b]\n", nil, "more than one YAML document"},
		{"a document after an empty one", "resources: [a]\n---\n---\nresources: [b]\n", nil, "more than one YAML document"},
		{"not a mapping", "- ../base\n", nil, "k.yaml:1: want a mapping"},
		{"not a kustomization", "apiVersion: apps/v1\nkind: Deployment\n", nil, "kind should be Kustomization or Component"},
		{"resources a string", "resources: ../base\n", nil, "k.yaml: invalid Kustomization"},
		{"resources a number", "resources:\n- ../base\n- 12\n", nil, "k.yaml: invalid Kustomization"},
		{"nested list", "resources:\n- [a]\n", nil, "k.yaml: invalid Kustomization"},
		{"bad YAML", "resources: [a\n", nil, "parse existing k.yaml"},
		{"terminal escapes in the error", "apiVersion: v1\nkind: \"\\e[2J\"\n", nil, `apiVersion for \x1b[2J should be`},
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
			if !slices.Equal(k.typed.Resources, tc.want) {
				t.Errorf("resources = %q, want %q", k.typed.Resources, tc.want)
			}
		})
	}
}
