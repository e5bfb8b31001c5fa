package patch

import (
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/recommender/workload"
)

// TestStrategicMergePatch applies each patch the way kubectl patch --type
// strategic does and checks that the object ends up with the recommended
// resources and nothing else changed.
func TestStrategicMergePatch(t *testing.T) {
	for _, k := range patchedKeys {
		t.Run(k.String(), func(t *testing.T) {
			_, data, ok, err := Render(workloadPlan(k))
			if err != nil || !ok {
				t.Fatalf("Render = ok %v, err %v", ok, err)
			}
			patchJSON, err := yaml.YAMLToJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			orig := object(k, current)
			origJSON, err := json.Marshal(orig)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := strategicpatch.StrategicMergePatch(origJSON, patchJSON, orig)
			if err != nil {
				t.Fatalf("strategic merge: %v\npatch: %s", err, patchJSON)
			}
			got := reflect.New(reflect.TypeOf(orig).Elem()).Interface()
			if err := json.Unmarshal(merged, got); err != nil {
				t.Fatal(err)
			}
			want := object(k, workload.ContainerPlan.Recommended)
			if !equality.Semantic.DeepEqual(got, want) {
				gy, _ := yaml.Marshal(got)
				wy, _ := yaml.Marshal(want)
				t.Errorf("patched object differs\n--- got\n%s\n--- want\n%s", gy, wy)
			}
		})
	}
}

// TestRemovedLimitIsGone checks the removed CPU limits explicitly: the typed
// comparison above would also pass if a limit were left at zero.
func TestRemovedLimitIsGone(t *testing.T) {
	for _, tc := range []struct {
		key       workload.Key
		container string
	}{{frontendKey, "nginx"}, {dbKey, "postgres"}} {
		_, data, _, err := Render(workloadPlan(tc.key))
		if err != nil {
			t.Fatal(err)
		}
		patchJSON, err := yaml.YAMLToJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		orig := object(tc.key, current)
		origJSON, err := json.Marshal(orig)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := strategicpatch.StrategicMergePatch(origJSON, patchJSON, orig)
		if err != nil {
			t.Fatal(err)
		}
		var generic struct {
			Spec struct {
				Template struct {
					Spec corev1.PodSpec `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(merged, &generic); err != nil {
			t.Fatal(err)
		}
		for _, c := range generic.Spec.Template.Spec.Containers {
			if c.Name != tc.container {
				continue
			}
			if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
				t.Errorf("%s/%s still has a CPU limit: %v", tc.key, c.Name, c.Resources.Limits)
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Errorf("%s/%s lost its memory limit", tc.key, c.Name)
			}
		}
	}
}
