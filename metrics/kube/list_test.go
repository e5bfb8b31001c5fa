package kube

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// TestListersCoverEveryKind keeps the listers and the warnings' effects in
// step: every kind listed says what its absence costs, and the VPA lister
// is there only with a dynamic client.
func TestListersCoverEveryKind(t *testing.T) {
	resources := func(c Clients) []string {
		var out []string
		for _, l := range listers(c, ns, &listing{}) {
			out = append(out, l.resource)
		}
		return out
	}
	kube := Clients{Kube: fake.NewClientset()}
	withVPA := Clients{Kube: kube.Kube, Dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())}
	assert.NotContains(t, resources(kube), "verticalpodautoscalers")
	all := resources(withVPA)
	assert.Len(t, all, len(effects))
	for _, r := range all {
		assert.Contains(t, effects, r)
	}
}

func TestScopeName(t *testing.T) {
	assert.Equal(t, "all namespaces", scopeName(""))
	assert.Equal(t, "namespace shop", scopeName("shop"))
}
