package deploytest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
)

// access is one request the controller's ServiceAccount makes, or must not
// be able to make.
type access struct {
	verb, group, resource, subresource, namespace, name string
	allowed                                             bool
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.name != "" {
		r += " " + a.name
	}
	ns := a.namespace
	if ns == "" {
		ns = "all namespaces"
	}
	return fmt.Sprintf("%s %s in %s", a.verb, r, ns)
}

// The controller's needs, and what it must not be able to do.
var accesses = []access{
	// It reads, cluster-wide.
	{verb: "list", resource: "pods", allowed: true},
	{verb: "watch", resource: "pods", allowed: true},
	{verb: "get", resource: "pods", namespace: "shop", name: "web-1", allowed: true},
	{verb: "list", resource: "namespaces", allowed: true},
	{verb: "list", resource: "limitranges", allowed: true},
	{verb: "watch", resource: "limitranges", allowed: true},
	{verb: "list", resource: "resourcequotas", allowed: true},
	{verb: "watch", resource: "resourcequotas", allowed: true},
	{verb: "list", group: "apps", resource: "deployments", allowed: true},
	{verb: "watch", group: "apps", resource: "deployments", allowed: true},
	{verb: "watch", group: "apps", resource: "statefulsets", allowed: true},
	{verb: "watch", group: "apps", resource: "daemonsets", allowed: true},
	{verb: "watch", group: "apps", resource: "replicasets", allowed: true},
	{verb: "watch", group: "batch", resource: "jobs", allowed: true},
	{verb: "watch", group: "batch", resource: "cronjobs", allowed: true},
	{verb: "list", group: "autoscaling", resource: "horizontalpodautoscalers", allowed: true},
	{verb: "watch", group: "autoscaling", resource: "horizontalpodautoscalers", allowed: true},
	{verb: "list", group: "autoscaling.k8s.io", resource: "verticalpodautoscalers", allowed: true},
	{verb: "watch", group: "autoscaling.k8s.io", resource: "verticalpodautoscalers", allowed: true},
	{verb: "get", group: "metrics.k8s.io", resource: "pods", namespace: "shop", name: "web-1", allowed: true},
	{verb: "list", group: "metrics.k8s.io", resource: "pods", allowed: true},
	// It writes its Recommendations, in the workloads' namespaces.
	{verb: "create", group: "rightsize.dev", resource: "recommendations", namespace: "shop", allowed: true},
	{verb: "update", group: "rightsize.dev", resource: "recommendations", subresource: "status", namespace: "shop", name: "web", allowed: true},
	{verb: "patch", group: "rightsize.dev", resource: "recommendations", subresource: "status", namespace: "shop", name: "web", allowed: true},
	// Leader election, Events and the checkpoint in its own namespace.
	{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: namespace, allowed: true},
	{verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: namespace, name: "rightsize-controller", allowed: true},
	{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: namespace, name: "rightsize-controller", allowed: true},
	{verb: "create", resource: "events", namespace: namespace, allowed: true},
	{verb: "create", group: "events.k8s.io", resource: "events", namespace: namespace, allowed: true},
	{verb: "create", resource: "configmaps", namespace: namespace, allowed: true},
	{verb: "update", resource: "configmaps", namespace: namespace, name: "rightsize-checkpoint-a-0", allowed: true},
	// A shorter checkpoint deletes the parts it no longer needs.
	{verb: "delete", resource: "configmaps", namespace: namespace, name: "rightsize-checkpoint-a-1", allowed: true},

	// It changes no workload and no pod.
	{verb: "patch", group: "apps", resource: "deployments", namespace: "shop", name: "web"},
	{verb: "update", group: "apps", resource: "deployments", namespace: "shop", name: "web"},
	{verb: "patch", group: "apps", resource: "deployments"},
	{verb: "update", group: "apps", resource: "deployments", subresource: "scale", namespace: "shop", name: "web"},
	{verb: "patch", resource: "pods", namespace: "shop", name: "web-1"},
	{verb: "update", resource: "pods", namespace: "shop", name: "web-1"},
	{verb: "patch", resource: "pods", subresource: "resize", namespace: "shop", name: "web-1"},
	{verb: "delete", resource: "pods", namespace: "shop", name: "web-1"},
	{verb: "create", resource: "pods", subresource: "eviction", namespace: "shop", name: "web-1"},
	{verb: "update", group: "autoscaling", resource: "horizontalpodautoscalers", namespace: "shop", name: "web"},
	{verb: "update", group: "autoscaling.k8s.io", resource: "verticalpodautoscalers", namespace: "shop", name: "web"},
	// It reads no Secrets, not even in its own namespace.
	{verb: "get", resource: "secrets", namespace: "shop", name: "db"},
	{verb: "list", resource: "secrets"},
	{verb: "list", resource: "secrets", namespace: namespace},
	{verb: "get", resource: "secrets", namespace: namespace, name: "x"},
	// Its namespace's writes stay in its namespace.
	{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system"},
	{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "shop"},
	{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system", name: "kube-controller-manager"},
	{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: namespace, name: "another"},
	{verb: "create", resource: "configmaps", namespace: "shop"},
	{verb: "update", resource: "configmaps", namespace: "kube-system", name: "rightsize-checkpoint-a-0"},
	{verb: "delete", resource: "configmaps", namespace: "kube-system", name: "rightsize-checkpoint-a-0"},
	// Events go to the workload's namespace.
	{verb: "create", resource: "events", namespace: "shop", allowed: true},
	{verb: "delete", resource: "events", namespace: "shop"},
	// Nothing else.
	{verb: "delete", resource: "namespaces", name: "shop"},
	{verb: "create", resource: "namespaces"},
	{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
	{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "rightsize-controller"},
	{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "cluster-admin"},
	{verb: "impersonate", resource: "serviceaccounts", namespace: "kube-system", name: "default"},
	{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: namespace, name: serviceAccount},
	{verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
	{verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "recommendations.rightsize.dev"},
}

// TestIntegrationControllerRBAC creates the base's Namespace, ServiceAccount
// and RBAC objects in the local test cluster (the rest needs the Prometheus
// Operator's CRDs, or is not needed to authorize) and asks the apiserver,
// with SubjectAccessReviews for the ServiceAccount, whether it may make
// each request of accesses. The objects are left in place, as the test
// cluster is thrown away as a whole; a second run updates them.
func TestIntegrationControllerRBAC(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	// The overlay's binding, left by an interrupted run, would grant more.
	err := cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), applyBinding, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		require.NoError(t, err)
	}
	checkRBAC(t, cs, render(t), 6, accesses)
}

// applyBinding binds the role of overlays/apply.
const applyBinding = "rightsize-controller-apply"

// applyAccesses are what overlays/apply adds, and what it still does not.
var applyAccesses = []access{
	{verb: "patch", group: "apps", resource: "deployments", namespace: "shop", name: "web", allowed: true},
	{verb: "patch", group: "apps", resource: "statefulsets", namespace: "shop", name: "db", allowed: true},
	{verb: "patch", group: "apps", resource: "daemonsets", namespace: "shop", name: "agent", allowed: true},
	{verb: "get", group: "apps", resource: "deployments", namespace: "shop", name: "web", allowed: true},
	{verb: "update", group: "apps", resource: "deployments", namespace: "shop", name: "web"},
	{verb: "delete", group: "apps", resource: "deployments", namespace: "shop", name: "web"},
	{verb: "create", group: "apps", resource: "deployments", namespace: "shop"},
	{verb: "update", group: "apps", resource: "deployments", subresource: "scale", namespace: "shop", name: "web"},
	{verb: "patch", group: "apps", resource: "deployments", subresource: "scale", namespace: "shop", name: "web"},
	{verb: "patch", group: "apps", resource: "replicasets", namespace: "shop", name: "web-1"},
	{verb: "patch", group: "batch", resource: "cronjobs", namespace: "shop", name: "report"},
	{verb: "patch", resource: "pods", subresource: "resize", namespace: "shop", name: "web-1", allowed: true},
	{verb: "update", resource: "pods", subresource: "resize", namespace: "shop", name: "web-1"},
	{verb: "patch", resource: "pods", namespace: "shop", name: "web-1"},
	{verb: "patch", resource: "pods", subresource: "status", namespace: "shop", name: "web-1"},
	{verb: "delete", resource: "pods", namespace: "shop", name: "web-1"},
	{verb: "create", resource: "pods", subresource: "eviction", namespace: "shop", name: "web-1"},
	{verb: "patch", group: "autoscaling", resource: "horizontalpodautoscalers", namespace: "shop", name: "web", allowed: true},
	{verb: "update", group: "autoscaling", resource: "horizontalpodautoscalers", namespace: "shop", name: "web"},
	{verb: "delete", group: "autoscaling", resource: "horizontalpodautoscalers", namespace: "shop", name: "web"},
	{verb: "create", group: "autoscaling", resource: "horizontalpodautoscalers", namespace: "shop"},
	{verb: "patch", group: "autoscaling.k8s.io", resource: "verticalpodautoscalers", namespace: "shop", name: "web"},
	{verb: "list", group: "policy", resource: "poddisruptionbudgets", namespace: "shop", allowed: true},
	{verb: "patch", group: "policy", resource: "poddisruptionbudgets", namespace: "shop", name: "web"},
	{verb: "get", resource: "secrets", namespace: "shop", name: "db"},
}

// TestIntegrationApplyOverlayRBAC does the same for overlays/apply: the
// base's accesses less the workload writes it grants, and those. Its
// binding is removed at the end, so the base's test sees the base alone.
func TestIntegrationApplyOverlayRBAC(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	t.Cleanup(func() {
		err := cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), applyBinding, metav1.DeleteOptions{})
		if !apierrors.IsNotFound(err) {
			assert.NoError(t, err)
		}
	})
	var want []access
	granted := map[string]bool{}
	for _, a := range applyAccesses {
		granted[a.String()] = true
		want = append(want, a)
	}
	for _, a := range accesses {
		if !granted[a.String()] {
			if a.group == "apps" && a.verb == "patch" && a.subresource == "" {
				continue // what the overlay is for
			}
			want = append(want, a)
		}
	}
	checkRBAC(t, cs, renderDir(t, applyDir), 8, want)
}

// checkRBAC creates the Namespace, ServiceAccount and RBAC objects of r
// (n in all) and checks each access with a SubjectAccessReview.
func checkRBAC(t *testing.T, cs kubernetes.Interface, r rendered, n int, accesses []access) {
	ctx := context.Background()

	applied := 0
	for _, o := range r.objects {
		var err error
		switch o.GetKind() {
		case "Namespace":
			var ns corev1.Namespace
			require.NoError(t, convert(o, &ns))
			_, err = cs.CoreV1().Namespaces().Create(ctx, &ns, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				err = nil // its spec is empty
			}
		case "ServiceAccount":
			var sa corev1.ServiceAccount
			require.NoError(t, convert(o, &sa))
			_, err = cs.CoreV1().ServiceAccounts(sa.Namespace).Create(ctx, &sa, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				err = nil
			}
		case "ClusterRole":
			var cr rbacv1.ClusterRole
			require.NoError(t, convert(o, &cr))
			err = createOrUpdate(ctx, cs.RbacV1().ClusterRoles(), &cr)
		case "ClusterRoleBinding":
			var b rbacv1.ClusterRoleBinding
			require.NoError(t, convert(o, &b))
			err = createOrUpdate(ctx, cs.RbacV1().ClusterRoleBindings(), &b)
		case "Role":
			var role rbacv1.Role
			require.NoError(t, convert(o, &role))
			err = createOrUpdate(ctx, cs.RbacV1().Roles(role.Namespace), &role)
		case "RoleBinding":
			var b rbacv1.RoleBinding
			require.NoError(t, convert(o, &b))
			err = createOrUpdate(ctx, cs.RbacV1().RoleBindings(b.Namespace), &b)
		default:
			continue
		}
		require.NoError(t, err, "%s %s", o.GetKind(), o.GetName())
		applied++
	}
	require.Equal(t, n, applied, "the Namespace, ServiceAccount and RBAC objects")

	user := "system:serviceaccount:" + namespace + ":" + serviceAccount
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	review := func(ctx context.Context, a access) (bool, string, error) {
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
					Namespace: a.namespace, Name: a.name,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, "", err
		}
		return sar.Status.Allowed, sar.Status.Reason, nil
	}

	// The authorizer sees new roles through its informers: wait until the
	// last of them is in force before asking the rest.
	kubetest.Eventually(t, 30*time.Second, "the controller's roles to be in force", func(ctx context.Context) (bool, error) {
		for _, a := range accesses {
			if !a.allowed {
				continue
			}
			if ok, _, err := review(ctx, a); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
	for _, a := range accesses {
		t.Run(strings.ReplaceAll(a.String(), "/", "_"), func(t *testing.T) {
			allowed, reason, err := review(ctx, a)
			require.NoError(t, err)
			if a.allowed {
				require.True(t, allowed, "%s may %s (%s)", user, a, reason)
			} else {
				require.False(t, allowed, "%s must not %s (%s)", user, a, reason)
			}
		})
	}
}

// client is the part of a typed client createOrUpdate needs.
type client[T any] interface {
	Create(ctx context.Context, o *T, opts metav1.CreateOptions) (*T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*T, error)
	Update(ctx context.Context, o *T, opts metav1.UpdateOptions) (*T, error)
}

// createOrUpdate creates o, or replaces what is there with it.
func createOrUpdate[T any, O interface {
	*T
	metav1.Object
}](ctx context.Context, c client[T], o O) error {
	_, err := c.Create(ctx, o, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old, err := c.Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	o.SetResourceVersion(O(old).GetResourceVersion())
	_, err = c.Update(ctx, o, metav1.UpdateOptions{})
	return err
}
