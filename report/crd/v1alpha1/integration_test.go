package v1alpha1

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/recommender/workload"
)

func toUnstructured(t *testing.T, r *Recommendation) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
	require.NoError(t, err)
	return &unstructured.Unstructured{Object: m}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured) Recommendation {
	t.Helper()
	var r Recommendation
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r))
	return r
}

// TestIntegrationRecommendation: the CRD installs in a real apiserver,
// which accepts a Recommendation converted from the demo plan, its status
// through the status subresource, and prints the columns kubectl shows.
func TestIntegrationRecommendation(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	kubetest.ApplyCRD(t, cfg, crdFile)
	ns := kubetest.Namespace(t, cs, "rsrec")
	ctx := context.Background()
	recs := dynamic.NewForConfigOrDie(cfg).Resource(GroupVersionResource).Namespace(ns)

	plan := demoPlan(t)
	hostile := workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "Wéb_\u202e" + strings.Repeat("x", 300)}}
	wps := append([]workload.WorkloadPlan{hostile}, plan.Workloads...)
	want := map[string]Recommendation{}
	for _, wp := range wps {
		r := FromPlan(wp, plan)
		r.Namespace = ns
		want[r.Name] = r

		created, err := recs.Create(ctx, toUnstructured(t, &r), metav1.CreateOptions{})
		require.NoError(t, err, "creating %s", r.Name)
		// The status subresource: what create sent of it is dropped, and
		// an update of the status sets it.
		_, found, _ := unstructured.NestedMap(created.Object, "status")
		assert.False(t, found, "%s: status set on create", r.Name)
		withStatus := r.DeepCopy()
		withStatus.ResourceVersion = created.GetResourceVersion()
		_, err = recs.UpdateStatus(ctx, toUnstructured(t, withStatus), metav1.UpdateOptions{})
		require.NoError(t, err, "updating the status of %s", r.Name)

		got, err := recs.Get(ctx, r.Name, metav1.GetOptions{})
		require.NoError(t, err)
		back := fromUnstructured(t, got)
		assert.Equal(t, r.Labels, back.Labels)
		assert.Equal(t, r.Spec, back.Spec)
		wantJSON, err := json.Marshal(r.Status)
		require.NoError(t, err)
		gotJSON, err := json.Marshal(back.Status)
		require.NoError(t, err)
		assert.JSONEq(t, string(wantJSON), string(gotJSON), "%s: status read back", r.Name)
	}

	// The table kubectl get asks for.
	var table metav1.Table
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/apis", Group, Version, "namespaces", ns, Resource).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &table))
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"Name", "Workload", "CPU", "Memory", "QoS", "Confidence", "Profile", "Age"}, names)
	require.Len(t, table.Rows, len(wps))
	rows := map[string][]string{}
	for _, row := range table.Rows {
		var cells []string
		for _, c := range row.Cells {
			cells = append(cells, fmt.Sprint(c))
		}
		rows[cells[0]] = cells[1 : len(cells)-1]
	}
	assert.Equal(t, []string{"Deployment/worker", "-74%", "+63%", "Burstable", "99%", "balanced"}, rows["deployment-worker"])
	assert.Equal(t, []string{"StatefulSet/orders-db", "+1%", "-1%", "Burstable → Guaranteed", "99%", "balanced"}, rows["statefulset-orders-db"])
	for name, r := range want {
		s := r.Status
		assert.Equal(t, []string{s.Target, s.CPUChange, s.MemoryChange, s.QoS, s.Confidence, s.Profile}, rows[name], name)
	}
}
