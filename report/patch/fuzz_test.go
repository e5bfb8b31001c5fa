package patch

import (
	"bytes"
	"errors"
	"io"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/recommender/workload"
)

// FuzzReadKustomization parses arbitrary kustomization files: no panic, no
// allocation out of proportion to the input, and a rewrite that keeps what
// kustomize reads from the file and adds the patch once, however often it
// runs.
func FuzzReadKustomization(f *testing.F) {
	for _, s := range []string{
		"",
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\npatches:\n- path: shop-deployment-web.yaml\n",
		"resources: [../base, 'https://github.com/org/repo//deploy?ref=v1']\n",
		"x: &r [../base]\nresources: *r\n",
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nresources: [*c]\n",
		"resources:\n- 1\n",
		"- a\n- b\n",
		"resources: [a]\n---\nresources: [b]\n",
		"# mine\nnamePrefix: prod-  # why\nimages:\n  - name: nginx\n    newTag: \"1.25\"\npatches:\n- path: ./shop-deployment-web.yaml\n",
		"kind: Component\npatches: ~\n",
	} {
		f.Add([]byte(s))
	}
	const name = "shop-deployment-web.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			k         kustomization
			out       []byte
			err, werr error
		)
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() {
			k, err = parseKustomization("kustomization.yaml", data)
		})
		if err != nil {
			return
		}
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() {
			out, werr = k.withPatches([]string{name}, "balanced")
		})
		if werr != nil {
			// Only an edit that would change the rest of the file is refused.
			if !strings.Contains(werr.Error(), "by hand") {
				t.Fatalf("withPatches: %v", werr)
			}
			return
		}
		again, err := parseKustomization("again", out)
		if err != nil {
			t.Fatalf("rewritten kustomization does not parse: %v\n%s", err, out)
		}
		want := k.typed
		if want.Kind == "" {
			want.Kind = "Kustomization"
		}
		if want.APIVersion == "" {
			want.APIVersion = "kustomize.config.k8s.io/v1beta1"
			if want.Kind == "Component" {
				want.APIVersion = "kustomize.config.k8s.io/v1alpha1"
			}
		}
		listed := false
		for _, p := range want.Patches {
			listed = listed || path.Clean(p.Path) == name
		}
		//lint:ignore SA1019 files listed there are not listed again
		for _, p := range want.PatchesStrategicMerge {
			listed = listed || path.Clean(string(p)) == name
		}
		if !listed {
			want.Patches = append(slices.Clone(want.Patches), types.Patch{Path: name})
		}
		if !reflect.DeepEqual(again.typed, want) {
			t.Fatalf("rewrite changed the kustomization\n--- in\n%s\n--- out\n%s", data, out)
		}
		// A second run adds nothing. Its bytes may differ where the YAML
		// library places an odd comment differently on each pass.
		twice, err := again.withPatches([]string{name}, "balanced")
		if err != nil {
			t.Fatalf("second rewrite: %v", err)
		}
		if third, err := decodeTyped(twice); err != nil || !reflect.DeepEqual(third, want) {
			t.Fatalf("second rewrite changed the kustomization (%v)\n--- first\n%s\n--- second\n%s", err, out, twice)
		}
	})
}

// FuzzRender renders patches for fuzzed names and amounts: either the
// workload is rejected, or the patch is exactly one YAML document naming
// the workload and its container, whatever the names hold.
func FuzzRender(f *testing.F) {
	f.Add("shop", "Deployment", "web", "app", int64(250), int64(512<<20), int64(0), false)
	f.Add("batch", "CronJob", "nightly-report", "report", int64(1000), int64(0), int64(3<<30), false)
	f.Add("", "StatefulSet", "db.v2", "init-schema", int64(-1), int64(1<<62), int64(1), true)
	f.Add("default", "Pod", "debug", "shell", int64(50), int64(64<<20), int64(128<<20), false)
	f.Add("payments", "Deployment", injected, "app", int64(750), int64(768<<20), int64(0), false)
	f.Add("shop\n---\nkind: Secret", "Job", "x", "y", int64(1), int64(1), int64(1), true)
	f.Add("shop", "Deployment", "web", "app\n#", int64(9223372036854775807), int64(-9223372036854775808), int64(5), false)
	f.Fuzz(func(t *testing.T, ns, kind, name, container string, cpu, mem, limit int64, init bool) {
		wp := workload.WorkloadPlan{
			Key: workload.Key{Namespace: ns, Kind: workload.Kind(kind), Name: name},
			Containers: []workload.ContainerPlan{{
				Name: container, Init: init,
				Current: settings(res(100, 100*mi), res(0, 0)),
				Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true,
					Target: settings(res(workload.Millicores(cpu), workload.Bytes(mem)), res(0, workload.Bytes(limit)))},
			}},
		}
		var (
			file string
			data []byte
			ok   bool
			err  error
		)
		alloclimit.Check(t, alloclimit.Bound(len(ns)+len(kind)+len(name)+len(container)), func() {
			file, data, ok, err = Render(wp)
		})
		if err != nil || !ok {
			return
		}
		if file != FileName(wp.Key) {
			t.Errorf("file %q, want %q", file, FileName(wp.Key))
		}
		dec := yamlv3.NewDecoder(bytes.NewReader(data))
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string
			Metadata   struct{ Name, Namespace string }
			Spec       map[string]any
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("patch does not parse: %v\n%s", err, data)
		}
		if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
			t.Fatalf("patch holds more than one document (%v):\n%s", err, data)
		}
		if doc.Metadata.Name != name || doc.Metadata.Namespace != ns || doc.Kind != kind || doc.APIVersion != wp.Key.Kind.APIVersion() {
			t.Fatalf("patch names %s %s %s/%s, want %s %s %s/%s:\n%s",
				doc.APIVersion, doc.Kind, doc.Metadata.Namespace, doc.Metadata.Name, wp.Key.Kind.APIVersion(), kind, ns, name, data)
		}
		var pod any = map[string]any{"spec": doc.Spec}
		for _, key := range podSpecPath[wp.Key.Kind] {
			pod = pod.(map[string]any)[key]
		}
		list := "containers"
		if init {
			list = "initContainers"
		}
		entries, _ := pod.(map[string]any)[list].([]any)
		if len(entries) != 1 || entries[0].(map[string]any)["name"] != container {
			t.Fatalf("%s = %v, want container %q:\n%s", list, entries, container, data)
		}
	})
}
