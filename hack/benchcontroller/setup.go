package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"
)

// Usage annotations read by hack/cluster/kwok-usage.yaml.
const (
	usageCPU    = "kwok.x-k8s.io/usage-cpu"
	usageMemory = "kwok.x-k8s.io/usage-memory"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func restConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

func logf(format string, args ...any) {
	fmt.Printf("[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// usageOf is the emulated usage of the i-th Deployment: CPU from 5m to 800m
// and memory from 16Mi to 1GiB, spread by two co-prime strides so that
// neighbouring Deployments differ in both.
func usageOf(i int) (cpu, mem string) {
	return fmt.Sprintf("%dm", 5+(i*37)%796), fmt.Sprintf("%dMi", 16+(i*53)%1009)
}

func setup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "the cluster's kubeconfig")
	pods := fs.Int("pods", 10000, "pods to run")
	replicas := fs.Int("replicas", 10, "pods per Deployment")
	ns := fs.String("namespace", "bench", "namespace of the Deployments")
	leaseNS := fs.String("lease-namespace", "rightsize-bench", "namespace of the controller's Lease and checkpoint (created)")
	crd := fs.String("crd", "deploy/controller/crd/rightsize.dev_recommendations.yaml", "the Recommendation CRD")
	timeout := fs.Duration("timeout", 20*time.Minute, "how long to wait for the pods and their metrics")
	_ = fs.Parse(args)
	if *kubeconfig == "" || *pods <= 0 || *replicas <= 0 {
		return errors.New("setup: -kubeconfig, a positive -pods and -replicas are required")
	}
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	if err := applyCRD(ctx, cfg, *crd); err != nil {
		return err
	}
	for _, n := range []string{*ns, *leaseNS} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", n, err)
		}
	}
	t0 := time.Now()
	deployments := (*pods + *replicas - 1) / *replicas
	left := *pods
	for i := range deployments {
		r := int32(min(*replicas, left))
		left -= int(r)
		name := fmt.Sprintf("svc-%04d", i)
		cpu, mem := usageOf(i)
		_, err := cs.AppsV1().Deployments(*ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{
				Replicas: &r,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name},
						Annotations: map[string]string{usageCPU: cpu, usageMemory: mem}},
					Spec: corev1.PodSpec{
						NodeSelector: map[string]string{"type": "kwok"}, TerminationGracePeriodSeconds: new(int64),
						Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app:1",
							Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
								corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}}},
					},
				},
			},
		}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("deployment %s: %w", name, err)
		}
	}
	logf("created %d Deployments (%d pods) in %s in %s", deployments, *pods, *ns, time.Since(t0).Round(time.Second))

	deadline := time.Now().Add(*timeout)
	for last := ""; ; time.Sleep(5 * time.Second) {
		l, err := cs.CoreV1().Pods(*ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		running := 0
		if err == nil {
			for _, p := range l.Items {
				if p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
		}
		msg := fmt.Sprintf("%d of %d pods running (err %v)", running, *pods, err)
		if msg != last {
			logf("%s", msg)
			last = msg
		}
		if running >= *pods {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("timed out: " + msg)
		}
	}
	logf("%d pods running after %s", *pods, time.Since(t0).Round(time.Second))

	mc := metricsclient.NewForConfigOrDie(cfg)
	for last := ""; ; time.Sleep(5 * time.Second) {
		l, err := mc.MetricsV1beta1().PodMetricses(*ns).List(ctx, metav1.ListOptions{})
		n := 0
		if err == nil {
			n = len(l.Items)
		}
		msg := fmt.Sprintf("pods.metrics.k8s.io lists %d of %d pods (err %v)", n, *pods, err)
		if msg != last {
			logf("%s", msg)
			last = msg
		}
		if n >= *pods {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("timed out: " + msg)
		}
	}
	logf("metrics-server serves PodMetrics for all %d pods, %s after the first create", *pods, time.Since(t0).Round(time.Second))
	return nil
}

// applyCRD applies a CustomResourceDefinition manifest server-side and waits
// until it is established.
func applyCRD(ctx context.Context, cfg *rest.Config, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	var meta struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return err
	}
	name := meta.Metadata.Name
	dc := dynamic.NewForConfigOrDie(cfg)
	force := true
	if _, err := dc.Resource(crdGVR).Patch(ctx, name, types.ApplyPatchType, j,
		metav1.PatchOptions{FieldManager: "rightsize-bench", Force: &force}); err != nil {
		return fmt.Errorf("applying the CRD %s: %w", name, err)
	}
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		u, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				logf("CRD %s established", name)
				return nil
			}
		}
	}
	return fmt.Errorf("the CRD %s is not established after 30 s", name)
}
