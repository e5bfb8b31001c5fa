package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

type bootstrapOptions struct {
	kubeconfig  string
	caFile      string
	metricsPort int
	nodes       int
	nodeCPU     string
	nodeMemory  string
	nodePods    string
	timeout     time.Duration
}

// runBootstrap creates what a bare control plane lacks for the tests: fake
// nodes that kwok manages, and the metrics.k8s.io APIService pointing at
// metrics-server on loopback. It then waits until pods can be scheduled and
// the metrics API answers.
func runBootstrap(ctx context.Context, args []string, out io.Writer) error {
	var o bootstrapOptions
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "admin kubeconfig")
	fs.StringVar(&o.caFile, "ca", "", "CA that signed metrics-server's serving certificate")
	fs.IntVar(&o.metricsPort, "metrics-port", 0, "metrics-server's port on 127.0.0.1")
	fs.IntVar(&o.nodes, "nodes", 2, "number of fake nodes")
	fs.StringVar(&o.nodeCPU, "node-cpu", "256", "allocatable CPU per node")
	fs.StringVar(&o.nodeMemory, "node-memory", "1Ti", "allocatable memory per node")
	fs.StringVar(&o.nodePods, "node-pods", "3000", "allocatable pods per node")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "time limit for the cluster to become usable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.kubeconfig == "" || o.caFile == "" || o.metricsPort == 0 {
		return errors.New("bootstrap: -kubeconfig, -ca and -metrics-port are required")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	ca, err := os.ReadFile(o.caFile)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	step := func(desc string, f func(context.Context) error) error {
		t0 := time.Now()
		if err := f(ctx); err != nil {
			return fmt.Errorf("bootstrap: %s: %w", desc, err)
		}
		fmt.Fprintf(out, "bootstrap: %s (%s)\n", desc, time.Since(t0).Round(100*time.Millisecond))
		return nil
	}
	for _, s := range []struct {
		desc string
		f    func(context.Context) error
	}{
		{"namespace kube-system exists", func(ctx context.Context) error {
			return poll(ctx, func() (bool, error) {
				_, err := kc.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
				return err == nil, nil
			})
		}},
		{"metrics-server registered", func(ctx context.Context) error { return registerMetricsServer(ctx, kc, dc, ca, o.metricsPort) }},
		{fmt.Sprintf("%d fake nodes created", o.nodes), func(ctx context.Context) error { return createNodes(ctx, kc, o) }},
		{"nodes Ready", func(ctx context.Context) error { return waitNodesReady(ctx, kc, o.nodes) }},
		{"default service account exists", func(ctx context.Context) error {
			return poll(ctx, func() (bool, error) {
				_, err := kc.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
				return err == nil, nil
			})
		}},
		{"metrics API answers", func(ctx context.Context) error {
			return poll(ctx, func() (bool, error) {
				err := kc.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/pods").Do(ctx).Error()
				return err == nil, nil
			})
		}},
	} {
		if err := step(s.desc, s.f); err != nil {
			return err
		}
	}
	return nil
}

// poll calls f every 250 ms until it is done, fails, or ctx ends.
func poll(ctx context.Context, f func() (bool, error)) error {
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// registerMetricsServer points the aggregation layer at metrics-server. An
// ExternalName service may name a loopback address (Endpoints may not), and
// without aggregator routing the apiserver dials <externalName>:<port>.
func registerMetricsServer(ctx context.Context, kc kubernetes.Interface, dc dynamic.Interface, ca []byte, port int) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-server", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "metrics-server"}},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
	}
	if _, err := kc.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("creating service: %w", err)
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": "v1beta1.metrics.k8s.io", "labels": map[string]any{"k8s-app": "metrics-server"}},
		"spec": map[string]any{
			"group":                "metrics.k8s.io",
			"version":              "v1beta1",
			"service":              map[string]any{"name": "metrics-server", "namespace": "kube-system", "port": int64(port)},
			"caBundle":             base64.StdEncoding.EncodeToString(ca),
			"groupPriorityMinimum": int64(100),
			"versionPriority":      int64(100),
		},
	}}
	if _, err := dc.Resource(apiServiceGVR).Create(ctx, apiService, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("creating apiservice: %w", err)
	}
	// The role metrics-server's manifests ship, so that users with view
	// rights can read metrics as on a real cluster.
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "system:aggregated-metrics-reader", Labels: map[string]string{
			"rbac.authorization.k8s.io/aggregate-to-view":  "true",
			"rbac.authorization.k8s.io/aggregate-to-edit":  "true",
			"rbac.authorization.k8s.io/aggregate-to-admin": "true",
		}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if _, err := kc.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return fmt.Errorf("creating clusterrole: %w", err)
	}
	return poll(ctx, func() (bool, error) {
		u, err := dc.Resource(apiServiceGVR).Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Available" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// createNodes creates nodes that kwok manages (it selects them by the
// kwok.x-k8s.io/node annotation) and whose kubelet endpoint metrics-server
// scrapes at the path kwok serves per node.
func createNodes(ctx context.Context, kc kubernetes.Interface, o bootstrapOptions) error {
	alloc := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: o.nodeCPU, corev1.ResourceMemory: o.nodeMemory, corev1.ResourcePods: o.nodePods} {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("node %s %q: %w", name, v, err)
		}
		alloc[name] = q
	}
	for i := range o.nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Annotations: map[string]string{
					"kwok.x-k8s.io/node":                   "fake",
					"node.alpha.kubernetes.io/ttl":         "0",
					"metrics.k8s.io/resource-metrics-path": "/metrics/nodes/" + name + "/metrics/resource",
				},
				Labels: map[string]string{
					"type":                          "kwok",
					"kubernetes.io/hostname":        name,
					"kubernetes.io/os":              "linux",
					"kubernetes.io/arch":            "amd64",
					"node-role.kubernetes.io/agent": "",
				},
			},
			Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc},
		}
		if _, err := kc.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); ignoreExists(err) != nil {
			return err
		}
	}
	return nil
}

func waitNodesReady(ctx context.Context, kc kubernetes.Interface, want int) error {
	return poll(ctx, func() (bool, error) {
		nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= want, nil
	})
}
