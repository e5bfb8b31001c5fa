package patch

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestKustomizeBuild runs kustomize in-process on a base holding the test
// workloads and their HPAs and an overlay made of Write's files, as
// `kustomize build` would, and checks that the built objects carry the
// recommended resources, the patched HPA and the new one as recommended,
// and the HPA that stays as it was.
func TestKustomizeBuild(t *testing.T) {
	fs := filesys.MakeFsInMemory()
	write := func(path string, data []byte) {
		t.Helper()
		if err := fs.WriteFile(path, data); err != nil {
			t.Fatal(err)
		}
	}

	base := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, k := range patchedKeys {
		data, err := yaml.Marshal(object(k, current))
		if err != nil {
			t.Fatal(err)
		}
		write("/repo/base/"+FileName(k), data)
		base += "- " + FileName(k) + "\n"
	}
	dbHPA := *autoscalingOf(dbKey).Current
	for _, h := range []workload.HPA{*apiHPA(), dbHPA} {
		data, err := yaml.Marshal(hpaObject(h))
		if err != nil {
			t.Fatal(err)
		}
		name := hpaFileName(h.Target.Namespace, h.Name)
		write("/repo/base/"+name, data)
		base += "- " + name + "\n"
	}
	write("/repo/base/kustomization.yaml", []byte(base))

	// The user's kustomization names the base; Write keeps it.
	dir := t.TempDir()
	user := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n"
	if err := os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	written, _, err := Write(dir, hpaPlan())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range written {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		write("/repo/rightsize/"+name, data)
	}

	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/repo/rightsize")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	if want := len(patchedKeys) + 3; m.Size() != want {
		t.Errorf("built %d objects, want %d", m.Size(), want)
	}
	// The new HPA is the recommendation as it is: no labels of the base's.
	frontend := hpaobject.ToObject(*autoscalingOf(frontendKey).Recommended)
	for _, want := range []*autoscalingv2.HorizontalPodAutoscaler{wantAPIHPA(), hpaObject(dbHPA), frontend} {
		r, err := m.GetById(resid.NewResIdWithNamespace(resid.Gvk{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}, want.Name, want.Namespace))
		if err != nil {
			t.Errorf("HPA %s/%s: %v", want.Namespace, want.Name, err)
			continue
		}
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var got autoscalingv2.HorizontalPodAutoscaler
		if err := yaml.UnmarshalStrict(data, &got); err != nil {
			t.Fatalf("HPA %s/%s: %v", want.Namespace, want.Name, err)
		}
		if !equality.Semantic.DeepEqual(&got, want) {
			wy, _ := yaml.Marshal(want)
			t.Errorf("HPA %s/%s: built object differs\n--- got\n%s\n--- want\n%s", want.Namespace, want.Name, data, wy)
		}
	}
	for _, k := range patchedKeys {
		want := object(k, workload.ContainerPlan.Recommended)
		var found bool
		for _, r := range m.Resources() {
			if r.GetKind() != string(k.Kind) || r.GetName() != k.Name || r.GetNamespace() != k.Namespace {
				continue
			}
			found = true
			data, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
			if err := yaml.UnmarshalStrict(data, got); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if !equality.Semantic.DeepEqual(got, want) {
				wy, _ := yaml.Marshal(want)
				t.Errorf("%s: built object differs\n--- got\n%s\n--- want\n%s", k, data, wy)
			}
		}
		if !found {
			t.Errorf("%s missing from the build", k)
		}
	}
}
