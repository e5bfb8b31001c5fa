package kube_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

func clients(t *testing.T, cfg *rest.Config) kube.Clients {
	t.Helper()
	typed := rest.CopyConfig(cfg)
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	kc, err := kubernetes.NewForConfig(typed)
	require.NoError(t, err)
	dc, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return kube.Clients{Kube: kc, Dynamic: dc}
}

// TestIntegrationDiscover creates every workload kind in a namespace of the
// local test cluster and checks that discovery finds each with its owner,
// settings, replicas and markers, and the HPA, VPA, LimitRange and
// ResourceQuota beside them.
func TestIntegrationDiscover(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := kubetest.Namespace(t, cs, "discover")
	f := kubetest.CreateWorkloads(t, cfg, ns, true)
	f.WaitForPods(t, cfg)

	inv, warnings, err := kube.Discover(context.Background(), clients(t, cfg), kube.Options{Namespace: ns}, nil)
	require.NoError(t, err)
	assert.Empty(t, warnings)

	var keys []string
	for k := range inv.Specs {
		keys = append(keys, string(k.Kind)+"/"+k.Name)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"CronJob/report", "DaemonSet/agent", "Deployment/billing", "Deployment/hungry", "Deployment/web",
		"Job/backfill", "Pod/debug", "ReplicaSet/legacy", "StatefulSet/db"}, keys)

	// Every pod resolves to its top owner.
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	owners := map[string]int{}
	for _, p := range pods.Items {
		k, ok := inv.Pods[kube.PodRef{Namespace: ns, Name: p.Name}]
		require.True(t, ok, "pod %s not attributed", p.Name)
		owners[string(k.Kind)+"/"+k.Name]++
	}
	nodes := f.RunningPods - 9 // one agent pod per node
	assert.Equal(t, map[string]int{"CronJob/report": 1, "DaemonSet/agent": nodes, "Deployment/billing": 2, "Deployment/hungry": 1,
		"Deployment/web": 3, "Job/backfill": 1, "Pod/debug": 1, "ReplicaSet/legacy": 1, "StatefulSet/db": 1}, owners)

	web := inv.Specs[f.Key(workload.Deployment, "web")]
	assert.Equal(t, 3, web.Replicas)
	assert.Equal(t, []workload.ContainerSpec{
		{Name: "migrate", Init: true, Settings: workload.Settings{Requests: workload.Resources{CPU: 50, Memory: 64 * workload.MiB}}},
		{Name: "proxy", Init: true, Sidecar: true, Settings: workload.Settings{Requests: workload.Resources{CPU: 10, Memory: 32 * workload.MiB}, Limits: workload.Resources{Memory: 64 * workload.MiB}}},
		{Name: "app", Settings: workload.Settings{Requests: workload.Resources{CPU: 100, Memory: 256 * workload.MiB}, Limits: workload.Resources{Memory: 512 * workload.MiB}}},
	}, web.Containers, "the template's settings, not the LimitRange defaults admission put on the pods")
	assert.True(t, inv.Specs[f.Key(workload.StatefulSet, "db")].Critical)
	assert.Equal(t, &workload.JVM{MaxRAMPercentage: 75}, inv.Specs[f.Key(workload.Deployment, "billing")].Containers[0].JVM)
	assert.Equal(t, nodes, inv.Specs[f.Key(workload.DaemonSet, "agent")].Replicas)
	assert.Equal(t, 1, inv.Specs[f.Key(workload.CronJob, "report")].Replicas)

	require.Len(t, inv.HPAs, 1)
	assert.Equal(t, workload.HPA{Name: "web", Target: f.Key(workload.Deployment, "web"), MinReplicas: 3, MaxReplicas: 3, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}}, inv.HPAs[0])
	require.Len(t, inv.VPAs, 1)
	assert.Equal(t, f.Key(workload.StatefulSet, "db"), inv.VPAs[0].Target)
	assert.Equal(t, workload.Resources{Memory: 600 * workload.MiB}, inv.VPAs[0].Policies[0].MinAllowed)
	require.Len(t, inv.LimitRanges, 1)
	assert.Equal(t, workload.Resources{CPU: 1000, Memory: workload.GiB}, inv.LimitRanges[0].Items[0].Max)
	require.Len(t, inv.Quotas, 1)
	assert.Equal(t, int64(2000), inv.Quotas[0].Hard[constraints.RequestsCPU])
	assert.Positive(t, inv.Quotas[0].Used[constraints.RequestsCPU])

	// A selector narrows the workloads, not the resolution.
	inv, _, err = kube.Discover(context.Background(), clients(t, cfg), kube.Options{Namespace: ns, Selector: "app=web"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []workload.Key{f.Key(workload.Deployment, "web")}, mapKeys(inv.Specs))
	assert.Len(t, inv.Pods, 3)
}

func mapKeys(m map[workload.Key]workload.Spec) []workload.Key {
	var out []workload.Key
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// TestIntegrationDiscoveryScale measures discovery of 5,000 pods in 500
// Deployments against the local apiserver (docs/benchmarks.md). It
// takes a few minutes to create the pods, so it runs only with
// RIGHTSIZE_BENCH_DISCOVERY=1.
func TestIntegrationDiscoveryScale(t *testing.T) {
	if os.Getenv("RIGHTSIZE_BENCH_DISCOVERY") == "" {
		t.Skip("set RIGHTSIZE_BENCH_DISCOVERY=1 to create 5,000 pods and time discovery")
	}
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := kubetest.Namespace(t, cs, "scale")
	const workloads, replicas = 500, 10
	ctx := context.Background()
	t0 := time.Now()
	for i := range workloads {
		name := fmt.Sprintf("svc-%03d", i)
		r := int32(replicas)
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{
				Replicas: &r,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec: corev1.PodSpec{
						NodeSelector: map[string]string{"type": "kwok"}, TerminationGracePeriodSeconds: new(int64),
						Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1", Env: []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xmx256m"}},
							Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}}}},
					},
				},
			},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	kubetest.Eventually(t, 10*time.Minute, "5,000 pods", func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == workloads*replicas, fmt.Errorf("%d running", running)
	})
	t.Logf("created %d pods in %d Deployments in %s", workloads*replicas, workloads, time.Since(t0).Round(time.Second))

	jsonClients := clients(t, cfg)
	jsonClients.Kube = kubernetes.NewForConfigOrDie(cfg)
	for _, run := range []struct {
		what  string
		c     kube.Clients
		scope kube.Options
	}{
		{"namespace, protobuf", clients(t, cfg), kube.Options{Namespace: ns}},
		{"all namespaces, protobuf", clients(t, cfg), kube.Options{AllNamespaces: true}},
		{"all namespaces, JSON", jsonClients, kube.Options{AllNamespaces: true}},
	} {
		var times []time.Duration
		for range 5 {
			start := time.Now()
			inv, warnings, err := kube.Discover(ctx, run.c, run.scope, nil)
			times = append(times, time.Since(start))
			require.NoError(t, err)
			require.Empty(t, warnings)
			n := 0
			for k := range inv.Pods {
				if k.Namespace == ns {
					n++
				}
			}
			require.Equal(t, workloads*replicas, n)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		t.Logf("discovery (%s) of %d pods in %d workloads: min %s, median %s, max %s", run.what, workloads*replicas, workloads,
			times[0].Round(time.Millisecond), times[2].Round(time.Millisecond), times[4].Round(time.Millisecond))
		assert.Less(t, times[2], 5*time.Second, "discovery of 5,000 pods must take at most 5 s")
	}
}
