package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// EnvKubeconfig names the variable that points tests at a cluster. It is
// not KUBECONFIG on purpose: a developer's own cluster must never be the
// one tests create and delete namespaces in.
const EnvKubeconfig = "RIGHTSIZE_TEST_KUBECONFIG"

// Kubeconfig returns the test cluster's kubeconfig path. It skips the test
// under -short and fails it when no cluster is configured or reachable.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the local test cluster (skipped with -short)")
	}
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		path = defaultKubeconfig()
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no test cluster: %v\nstart one with `hack/cluster/build.sh && hack/cluster/up.sh` (see docs/kubernetes.md), or set %s; use -short to skip integration tests", err, EnvKubeconfig)
	}
	cfg := config(t, path)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
		t.Fatalf("test cluster at %s (%s) is not answering: %v\nstart it with `hack/cluster/up.sh`; use -short to skip integration tests", cfg.Host, path, err)
	}
	return path
}

// defaultKubeconfig is where hack/cluster/up.sh writes the admin kubeconfig.
func defaultKubeconfig() string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	return filepath.Join(root, "hack", ".cache", "run", "admin.kubeconfig")
}

func config(t testing.TB, path string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("test cluster kubeconfig %s: %v", path, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg
}

// Config returns the admin client configuration of the test cluster.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	return config(t, Kubeconfig(t))
}

// Namespace creates a namespace named prefix-<random> and deletes it when
// the test ends.
func Namespace(t testing.TB, cs kubernetes.Interface, prefix string) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: map[string]string{"rightsize.dev/test": "true"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		policy := metav1.DeletePropagationBackground
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	})
	return ns.Name
}

// Eventually polls cond every 500 ms until it holds, failing the test with
// desc and the last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, desc string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, desc, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// EnsureVPACRD installs the VerticalPodAutoscaler CRD (schema-less: only
// the group, version and names matter to discovery) if it is missing, and
// waits until the API serves it. It is never removed: the test cluster is
// thrown away as a whole.
func EnsureVPACRD(t testing.TB, cfg *rest.Config) {
	t.Helper()
	dc := dynamic.NewForConfigOrDie(cfg)
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		// k8s.io groups need the approval annotation; this is the one the
		// VPA project's own CRD carries.
		"metadata": map[string]any{"name": "verticalpodautoscalers.autoscaling.k8s.io",
			"annotations": map[string]any{"api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/63797"}},
		"spec": map[string]any{
			"group": "autoscaling.k8s.io",
			"scope": "Namespaced",
			"names": map[string]any{"plural": "verticalpodautoscalers", "singular": "verticalpodautoscaler", "kind": "VerticalPodAutoscaler", "listKind": "VerticalPodAutoscalerList", "shortNames": []any{"vpa"}},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	if _, err := dc.Resource(crdGVR).Create(context.Background(), crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the VPA CRD: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	Eventually(t, 30*time.Second, "the VPA API to be served", func(context.Context) (bool, error) {
		rl, err := cs.Discovery().ServerResourcesForGroupVersion("autoscaling.k8s.io/v1")
		if err != nil {
			return false, err
		}
		for _, r := range rl.APIResources {
			if r.Name == "verticalpodautoscalers" {
				return true, nil
			}
		}
		return false, fmt.Errorf("not in %v", rl.APIResources)
	})
}

// ServiceAccountKubeconfig creates a service account (if needed) and writes
// a kubeconfig that authenticates with a fresh token of it, for RBAC tests.
func ServiceAccountKubeconfig(t testing.TB, admin *rest.Config, ns, account string) string {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(admin)
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: account}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating service account: %v", err)
	}
	exp := int64(3600)
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, account, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating token: %v", err)
	}
	ca := admin.CAFile
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: %s
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: %s, namespace: %s}
current-context: test
`, admin.Host, ca, account, tok.Status.Token, account, ns)
	if err := os.WriteFile(path, []byte(strings.TrimSpace(kc)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var vpaGVR = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}
