package kube_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	clientfeatures "k8s.io/client-go/features"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/recommender/workload"
)

func watchClients(t *testing.T, cfg *rest.Config) kube.WatchClients {
	t.Helper()
	typed := rest.CopyConfig(cfg)
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	kc, err := kubernetes.NewForConfig(typed)
	require.NoError(t, err)
	dc, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return kube.WatchClients{Kube: kc, Dynamic: dc}
}

// TestIntegrationWatcherMatchesDiscover starts a Watcher on an empty
// namespace, creates every workload kind in it, and requires the Watcher's
// inventory to become Discover's. Then a Deployment is deleted and must
// leave the Watcher's inventory.
func TestIntegrationWatcherMatchesDiscover(t *testing.T) {
	watcherMatchesDiscover(t)
}

// TestIntegrationWatcherStreamed is the same with the informers' initial
// lists streamed (client-go's WatchListClient, as the controller runs
// them): the caches' transform then runs on the streamed objects first.
func TestIntegrationWatcherStreamed(t *testing.T) {
	prev := clientfeatures.FeatureGates()
	clientfeatures.ReplaceFeatureGates(watchListOn{prev})
	t.Cleanup(func() { clientfeatures.ReplaceFeatureGates(prev) })
	watcherMatchesDiscover(t)
}

type watchListOn struct{ clientfeatures.Gates }

func (g watchListOn) Enabled(f clientfeatures.Feature) bool {
	return f == clientfeatures.WatchListClient || g.Gates.Enabled(f)
}

func watcherMatchesDiscover(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := kubetest.Namespace(t, cs, "watch")
	// Before Start: a VPA API that appears later is not picked up.
	kubetest.EnsureVPACRD(t, cfg)
	wc := watchClients(t, cfg)
	w, err := kube.NewWatcher(wc, kube.Options{Namespace: ns}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, w.Start(ctx))

	f := kubetest.CreateWorkloads(t, cfg, ns, true)
	f.WaitForPods(t, cfg)

	// The two read at different instants, and statuses (quota usage, HPA
	// replicas) may still move: poll until they agree, then compare once
	// more for the diff.
	var want, got *kube.Inventory
	var wantWarnings, warnings []kube.Warning
	deadline := time.Now().Add(60 * time.Second)
	for {
		want, wantWarnings, err = kube.Discover(context.Background(), kube.Clients{Kube: wc.Kube, Dynamic: wc.Dynamic}, kube.Options{Namespace: ns}, nil)
		require.NoError(t, err)
		got, warnings = w.Inventory()
		if reflect.DeepEqual(want, got) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	assert.Empty(t, wantWarnings)
	assert.Empty(t, warnings)
	assert.Equal(t, want.Specs, got.Specs)
	assert.Equal(t, want.Pods, got.Pods)
	assert.Equal(t, want.HPAs, got.HPAs)
	assert.Equal(t, want.VPAs, got.VPAs)
	assert.Equal(t, want.LimitRanges, got.LimitRanges)
	assert.Equal(t, want.Quotas, got.Quotas)
	require.Equal(t, want, got)
	require.Len(t, got.Specs, 9)
	require.Len(t, got.VPAs, 1)

	hungry := f.Key(workload.Deployment, "hungry")
	require.Contains(t, got.Specs, hungry)
	policy := metav1.DeletePropagationForeground
	require.NoError(t, cs.AppsV1().Deployments(ns).Delete(context.Background(), "hungry", metav1.DeleteOptions{PropagationPolicy: &policy}))
	kubetest.Eventually(t, 60*time.Second, "the deleted Deployment to leave the Watcher's inventory", func(context.Context) (bool, error) {
		inv, _ := w.Inventory()
		if _, ok := inv.Specs[hungry]; ok {
			return false, nil
		}
		for _, k := range inv.Pods {
			if k == hungry {
				return false, nil
			}
		}
		return true, nil
	})
	inv, _ := w.Inventory()
	assert.Len(t, inv.Specs, 8, "the other workloads stay")
	assert.Contains(t, inv.Specs, f.Key(workload.Deployment, "web"))
}
