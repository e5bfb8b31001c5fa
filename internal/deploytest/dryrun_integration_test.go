package deploytest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
)

// operatorKinds are the Prometheus Operator's: the test cluster does not
// serve them.
var operatorKinds = map[string]bool{"ServiceMonitor": true, "PrometheusRule": true}

// TestIntegrationControllerDryRun applies every rendered object but the
// Prometheus Operator's to the local test cluster as a server-side dry run,
// so the apiserver validates each (the Deployment's pod template, the
// Service, the PodDisruptionBudget, the dashboard's ConfigMap, the CRD)
// without keeping any. Only the Namespace is created for real, as the
// namespaced objects need it.
func TestIntegrationControllerDryRun(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	dc := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	ctx := context.Background()

	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	checked := map[string]bool{}
	for _, o := range render(t).objects {
		if operatorKinds[o.GetKind()] {
			continue
		}
		t.Run(o.GetKind()+"/"+o.GetName(), func(t *testing.T) {
			gvk := o.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			require.NoError(t, err)
			data, err := json.Marshal(o.Object)
			require.NoError(t, err)
			force := true
			_, err = dc.Resource(m.Resource).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.ApplyPatchType, data,
				metav1.PatchOptions{FieldManager: "rightsize-deploytest", Force: &force, DryRun: []string{metav1.DryRunAll}})
			require.NoError(t, err, "the apiserver accepts %s %s", o.GetKind(), o.GetName())
			checked[o.GetKind()] = true
		})
	}
	for _, k := range []string{"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "ServiceAccount", "ClusterRole", "Role"} {
		require.True(t, checked[k], "a %s was checked", k)
	}
}
