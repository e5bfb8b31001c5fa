package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

// recommendationsPage is how many Recommendations one list request asks
// for.
const recommendationsPage = 500

// ErrNoRecommendationsAPI is returned by Recommendations when the cluster
// does not serve the Recommendation resource.
var ErrNoRecommendationsAPI = errors.New("is the rightsize controller installed? (kubectl apply -k deploy/controller)")

// Recommendations reads the Recommendations the rightsize controller
// published in scope — the namespace, or every namespace with
// AllNamespaces; the selector selects by the Recommendations' own labels
// (app.kubernetes.io/managed-by, rightsize.dev/kind, rightsize.dev/name),
// not the workloads' — and returns them as one plan (v1alpha1.PlanOf)
// whose source is "controller Recommendations in <host>". A
// Recommendation that cannot be read is left out with a warning; a
// cluster without the API and a scope without a Recommendation are
// errors that say so.
func (c Config) Recommendations(ctx context.Context) (workload.Plan, []string, error) {
	if c.REST == nil {
		return workload.Plan{}, nil, errors.New("no cluster configuration")
	}
	dc, err := dynamic.NewForConfig(c.REST)
	if err != nil {
		return workload.Plan{}, nil, fmt.Errorf("cluster clients: %w", err)
	}
	return c.recommendations(ctx, dc)
}

func (c Config) recommendations(ctx context.Context, dc dynamic.Interface) (workload.Plan, []string, error) {
	if _, err := labels.Parse(c.Selector); err != nil {
		return workload.Plan{}, nil, fmt.Errorf("invalid selector %q: %w", c.Selector, err)
	}
	host, ns, scope := c.REST.Host, c.Namespace, c.scope()
	if c.AllNamespaces {
		ns = metav1.NamespaceAll
	}
	res := dc.Resource(v1alpha1.GroupVersionResource).Namespace(ns)
	p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return res.List(ctx, o) })
	p.PageSize = recommendationsPage
	var recs []v1alpha1.Recommendation
	var warnings []string
	err := p.EachListItem(ctx, metav1.ListOptions{LabelSelector: c.Selector}, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("unexpected list item %T", obj)
		}
		var r v1alpha1.Recommendation
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
			warnings = append(warnings, fmt.Sprintf("Recommendation %s/%s cannot be read: %s: left out",
				workload.PrintableName(u.GetNamespace()), workload.PrintableName(u.GetName()), untrusted.Clip(err.Error(), untrusted.MaxQuoted)))
			return nil
		}
		recs = append(recs, r)
		return nil
	})
	switch {
	case apierrors.IsNotFound(err):
		return workload.Plan{}, nil, fmt.Errorf("no Recommendations API in the cluster at %s: %w", host, ErrNoRecommendationsAPI)
	case apierrors.IsForbidden(err):
		return workload.Plan{}, nil, fmt.Errorf("cluster %s: cannot list %s in %s: forbidden (RBAC)", host, v1alpha1.GroupVersionResource.GroupResource(), scope)
	case err != nil:
		return workload.Plan{}, nil, fmt.Errorf("cluster %s: listing Recommendations in %s: %w", host, scope, err)
	}
	if len(recs) == 0 && len(warnings) == 0 {
		return workload.Plan{}, nil, fmt.Errorf("no Recommendations in %s at %s: the controller publishes one per workload it has planned", scope, host)
	}
	plan, more := v1alpha1.PlanOf(recs)
	warnings = append(warnings, more...)
	if len(plan.Workloads) == 0 {
		return workload.Plan{}, warnings, fmt.Errorf("none of the Recommendations in %s at %s could be read", scope, host)
	}
	plan.Source = "controller Recommendations in " + host
	return plan, warnings, nil
}

// scope says which Recommendations c reads: its namespace or all, and its
// selector.
func (c Config) scope() string {
	scope := "namespace " + c.Namespace
	if c.AllNamespaces {
		scope = "all namespaces"
	}
	if c.Selector != "" {
		scope += " matching " + c.Selector
	}
	return scope
}

// RecommendationsSummary is the one line said about a plan that
// Recommendations read, as Data.Summary is for a usage source: how many
// workloads, from where and, when known, as of when the newest was
// planned.
func (c Config) RecommendationsSummary(p workload.Plan) string {
	summary := fmt.Sprintf("%s: %d workloads in %s", p.Source, len(p.Workloads), c.scope())
	if !p.Generated.IsZero() {
		summary += ", the newest planned as of " + p.Generated.UTC().Format(time.RFC3339)
	}
	return summary
}
