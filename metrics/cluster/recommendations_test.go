package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

func recommendationObject(t *testing.T, wp workload.WorkloadPlan, plan workload.Plan) *unstructured.Unstructured {
	t.Helper()
	r := v1alpha1.FromPlan(wp, plan)
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&r)
	require.NoError(t, err)
	return &unstructured.Unstructured{Object: m}
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{v1alpha1.GroupVersionResource: v1alpha1.ListKind}, objs...)
}

var testCluster = Config{REST: &rest.Config{Host: "https://k.example:6443"}, Namespace: "shop"}

// TestRecommendations: the Recommendations in the namespace become one
// plan, in key order, its source the controller's in the cluster; one
// that cannot be read is left out with a warning.
func TestRecommendations(t *testing.T) {
	gen := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	plan := workload.Plan{Profile: "balanced", Source: "metrics-server at https://10.0.0.1", Generated: gen}
	web := workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Replicas: 3, Profile: "balanced",
		Containers: []workload.ContainerPlan{{Name: "app", Current: workload.Settings{Requests: workload.Resources{CPU: 500, Memory: workload.GiB}},
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Confidence: 0.9,
				Target: workload.Settings{Requests: workload.Resources{CPU: 250, Memory: 512 * workload.MiB}}}}}}
	api := workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api"}, Replicas: 1, Profile: "balanced"}
	other := workload.WorkloadPlan{Key: workload.Key{Namespace: "other", Kind: workload.Job, Name: "j"}, Profile: "balanced"}
	broken := recommendationObject(t, api, plan)
	broken.SetName("broken")
	require.NoError(t, unstructured.SetNestedField(broken.Object, "many", "status", "workload", "replicas"))

	dc := fakeDynamic(recommendationObject(t, web, plan), recommendationObject(t, api, plan), recommendationObject(t, other, plan), broken)
	got, warnings, err := testCluster.recommendations(context.Background(), dc)
	require.NoError(t, err)
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "Recommendation shop/broken cannot be read: ")
	assert.Contains(t, warnings[0], ": left out")
	assert.Equal(t, "controller Recommendations in https://k.example:6443", got.Source)
	assert.Equal(t, "balanced", got.Profile)
	assert.Equal(t, gen, got.Generated)
	require.Len(t, got.Workloads, 2)
	assert.Equal(t, api.Key, got.Workloads[0].Key)
	assert.Equal(t, web.Key, got.Workloads[1].Key)
	assert.Equal(t, workload.Millicores(250), got.Workloads[1].Containers[0].Recommended().Requests.CPU)

	all := testCluster
	all.AllNamespaces = true
	got, _, err = all.recommendations(context.Background(), dc)
	require.NoError(t, err)
	assert.Len(t, got.Workloads, 3)
}

// TestRecommendationsSelector: -l selects by the Recommendations' labels.
func TestRecommendationsSelector(t *testing.T) {
	plan := workload.Plan{Profile: "balanced"}
	dc := fakeDynamic(
		recommendationObject(t, workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}}, plan),
		recommendationObject(t, workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}}, plan))
	c := testCluster
	c.Selector = v1alpha1.LabelKind + "=StatefulSet"
	got, _, err := c.recommendations(context.Background(), dc)
	require.NoError(t, err)
	require.Len(t, got.Workloads, 1)
	assert.Equal(t, "db", got.Workloads[0].Key.Name)

	c.Selector = "app in (("
	_, _, err = c.recommendations(context.Background(), dc)
	assert.ErrorContains(t, err, `invalid selector "app in (("`)
}

func TestRecommendationsErrors(t *testing.T) {
	gr := v1alpha1.GroupVersionResource.GroupResource()
	for _, tc := range []struct {
		name string
		err  error
		objs []runtime.Object
		c    func(Config) Config
		want string
	}{
		{name: "no API", err: apierrors.NewNotFound(gr, ""),
			want: "no Recommendations API in the cluster at https://k.example:6443: is the rightsize controller installed? (kubectl apply -k deploy/controller)"},
		{name: "forbidden", err: apierrors.NewForbidden(gr, "", fmt.Errorf("no")),
			want: "cluster https://k.example:6443: cannot list recommendations.rightsize.dev in namespace shop: forbidden (RBAC)"},
		{name: "other", err: apierrors.NewServiceUnavailable("busy"),
			want: "cluster https://k.example:6443: listing Recommendations in namespace shop: busy"},
		{name: "none", want: "no Recommendations in namespace shop at https://k.example:6443: the controller publishes one per workload it has planned"},
		{name: "none in every namespace, selected", c: func(c Config) Config { c.AllNamespaces, c.Selector = true, "a=b"; return c },
			want: "no Recommendations in all namespaces matching a=b at https://k.example:6443"},
		{name: "none readable", objs: []runtime.Object{&unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "rightsize.dev/v1alpha1", "kind": "Recommendation", "metadata": map[string]any{"name": "fresh", "namespace": "shop"}}}},
			want: "none of the Recommendations in namespace shop at https://k.example:6443 could be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc := fakeDynamic(tc.objs...)
			if tc.err != nil {
				dc.PrependReactor("list", "recommendations", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.err })
			}
			c := testCluster
			if tc.c != nil {
				c = tc.c(c)
			}
			_, _, err := c.recommendations(context.Background(), dc)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, _, err := Config{}.Recommendations(context.Background())
	assert.EqualError(t, err, "no cluster configuration")
}

// TestRecommendationsPages: every page of a long list is read, through
// the API's paths.
func TestRecommendationsPages(t *testing.T) {
	plan := workload.Plan{Profile: "balanced"}
	var items []map[string]any
	for i := range 2*recommendationsPage + 3 {
		u := recommendationObject(t, workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Pod, Name: fmt.Sprintf("p%04d", i)}}, plan)
		items = append(items, u.Object)
	}
	var limits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/rightsize.dev/v1alpha1/namespaces/shop/recommendations" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		limits = append(limits, q.Get("limit"))
		start, _ := strconv.Atoi(q.Get("continue"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		end := min(start+limit, len(items))
		meta := map[string]any{}
		if end < len(items) {
			meta["continue"] = strconv.Itoa(end)
		}
		w.Header().Set("Content-Type", "application/json")
		require.NoError(t, json.NewEncoder(w).Encode(map[string]any{"apiVersion": "rightsize.dev/v1alpha1", "kind": "RecommendationList", "metadata": meta, "items": items[start:end]}))
	}))
	defer srv.Close()
	c := Config{REST: &rest.Config{Host: srv.URL}, Namespace: "shop"}
	got, warnings, err := c.Recommendations(context.Background())
	require.NoError(t, err)
	assert.Empty(t, warnings)
	assert.Len(t, got.Workloads, len(items))
	assert.Equal(t, "controller Recommendations in "+srv.URL, got.Source)
	assert.Equal(t, []string{"500", "500", "500"}, limits)

	// A cluster without the CRD answers 404.
	c.Namespace = "elsewhere"
	_, _, err = c.Recommendations(context.Background())
	assert.ErrorIs(t, err, ErrNoRecommendationsAPI)
}

func TestRecommendationsSummary(t *testing.T) {
	gen := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	plan := workload.Plan{Source: "controller Recommendations in https://k.example:6443", Workloads: make([]workload.WorkloadPlan, 2)}
	for _, tc := range []struct {
		name      string
		all       bool
		selector  string
		generated time.Time
		want      string
	}{
		{"namespace", false, "", time.Time{}, "controller Recommendations in https://k.example:6443: 2 workloads in namespace shop"},
		{"all namespaces, selected", true, "rightsize.dev/kind=Deployment", time.Time{},
			"controller Recommendations in https://k.example:6443: 2 workloads in all namespaces matching rightsize.dev/kind=Deployment"},
		{"planned when, in UTC", false, "", gen,
			"controller Recommendations in https://k.example:6443: 2 workloads in namespace shop, the newest planned as of 2026-03-02T09:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCluster
			c.AllNamespaces, c.Selector = tc.all, tc.selector
			p := plan
			p.Generated = tc.generated
			assert.Equal(t, tc.want, c.RecommendationsSummary(p))
		})
	}
}
