package kubetest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// ApplyCRD applies a CustomResourceDefinition manifest (server-side, so a
// run after a change of the types updates it) and waits until it is
// established. It is never removed: the test cluster is thrown away as a
// whole.
func ApplyCRD(t testing.TB, cfg *rest.Config, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	j, err := yaml.YAMLToJSON(b)
	require.NoError(t, err)
	var meta struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	require.NoError(t, yaml.Unmarshal(b, &meta))
	name := meta.Metadata.Name
	dc := dynamic.NewForConfigOrDie(cfg)
	force := true
	_, err = dc.Resource(crdGVR).Patch(context.Background(), name, types.ApplyPatchType, j,
		metav1.PatchOptions{FieldManager: "rightsize-test", Force: &force})
	require.NoError(t, err, "applying the CRD %s", name)
	Eventually(t, 30*time.Second, "the CRD "+name+" to be established", func(ctx context.Context) (bool, error) {
		u, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, fmt.Errorf("conditions %v", conds)
	})
}
