package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/pager"
)

// listing is what the parallel list calls return.
type listing struct {
	deployments  []*appsv1.Deployment
	statefulsets []*appsv1.StatefulSet
	daemonsets   []*appsv1.DaemonSet
	replicasets  []*appsv1.ReplicaSet
	jobs         []*batchv1.Job
	cronjobs     []*batchv1.CronJob
	pods         []*podInfo
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	limitranges  []*corev1.LimitRange
	quotas       []*corev1.ResourceQuota
	vpas         []*unstructured.Unstructured

	mu       sync.Mutex
	warnings []Warning
	// failed holds the kinds that could not be listed.
	failed map[string]bool
}

// Effects of a kind that cannot be listed, for the warning.
var effects = map[string]string{
	"pods":                     "bare pods are missing from the plan and usage is attributed to workloads by pod name",
	"replicasets":              "pods of Deployments are attributed by name",
	"jobs":                     "pods of CronJobs are attributed by name",
	"deployments":              "Deployments are missing from the plan",
	"statefulsets":             "StatefulSets are missing from the plan",
	"daemonsets":               "DaemonSets are missing from the plan",
	"cronjobs":                 "CronJobs are missing from the plan",
	"horizontalpodautoscalers": "HPA notes (R10) are missing",
	"limitranges":              "LimitRange clamping (R13) is not applied",
	"resourcequotas":           "ResourceQuota checks (R14) are not done",
	"verticalpodautoscalers":   "VPA bounds (R15) are not applied",
}

// lister lists one kind, every page, into the listing.
type lister struct {
	resource string
	list     func(context.Context, metav1.ListOptions) error
}

// listerOf lists a kind with a typed client's List and appends its items
// to *into. Each kind has a slice of its own, written by its lister alone,
// so the listers need no lock.
func listerOf[L, T runtime.Object](resource string, list func(context.Context, metav1.ListOptions) (L, error), into *[]T) lister {
	return listerVia(resource, list, func(x T) T { return x }, into)
}

// listerVia is listerOf that keeps each item as convert makes it.
func listerVia[L, T runtime.Object, U any](resource string, list func(context.Context, metav1.ListOptions) (L, error), convert func(T) U, into *[]U) lister {
	return lister{resource: resource, list: func(ctx context.Context, opts metav1.ListOptions) error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return list(ctx, o)
		}, func(x T) { *into = append(*into, convert(x)) })
	}}
}

// listers returns the listers of every kind discovery reads in namespace
// ns (all for ""). VerticalPodAutoscalers are read only with a dynamic
// client, and only where their API is served.
func listers(c Clients, ns string, l *listing) []lister {
	apps, batch, core, as := c.Kube.AppsV1(), c.Kube.BatchV1(), c.Kube.CoreV1(), c.Kube.AutoscalingV2()
	ls := []lister{
		// Pods are kept as podInfo as each page comes: a full list of them is
		// the largest thing discovery reads.
		listerVia("pods", core.Pods(ns).List, podInfoOf, &l.pods),
		listerOf("replicasets", apps.ReplicaSets(ns).List, &l.replicasets),
		listerOf("deployments", apps.Deployments(ns).List, &l.deployments),
		listerOf("statefulsets", apps.StatefulSets(ns).List, &l.statefulsets),
		listerOf("daemonsets", apps.DaemonSets(ns).List, &l.daemonsets),
		listerOf("jobs", batch.Jobs(ns).List, &l.jobs),
		listerOf("cronjobs", batch.CronJobs(ns).List, &l.cronjobs),
		listerOf("horizontalpodautoscalers", as.HorizontalPodAutoscalers(ns).List, &l.hpas),
		listerOf("limitranges", core.LimitRanges(ns).List, &l.limitranges),
		listerOf("resourcequotas", core.ResourceQuotas(ns).List, &l.quotas),
	}
	if c.Dynamic != nil {
		vpas := listerOf("verticalpodautoscalers", c.Dynamic.Resource(VPAResource).Namespace(ns).List, &l.vpas)
		ls = append(ls, lister{resource: vpas.resource, list: func(ctx context.Context, opts metav1.ListOptions) error {
			if err := vpaServed(c.Kube.Discovery()); err != nil {
				return err
			}
			return vpas.list(ctx, opts)
		}})
	}
	return ls
}

// listAll runs the listers in parallel and waits for them all; a kind
// that cannot be listed becomes a warning rather than an error.
func (l *listing) listAll(ctx context.Context, ls []lister, opts metav1.ListOptions, scope string, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, k := range ls {
		wg.Go(func() {
			t0 := time.Now()
			if err := k.list(ctx, opts); err != nil {
				l.fail(k.resource, scope, err)
				return
			}
			log.Debug("listed", "resource", k.resource, "scope", scope, "took", time.Since(t0))
		})
	}
	wg.Wait()
}

var errVPANotServed = errors.New("the VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not installed")

// vpaServed checks discovery first so that a cluster without the CRD gets
// a clear line rather than a 404.
func vpaServed(d discovery.DiscoveryInterface) error {
	rl, err := d.ServerResourcesForGroupVersion(VPAResource.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return errVPANotServed
	}
	if err != nil {
		return err
	}
	for _, r := range rl.APIResources {
		if r.Name == VPAResource.Resource {
			return nil
		}
	}
	return errVPANotServed
}

func (l *listing) fail(resource, scope string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[resource] = true
	l.warnings = append(l.warnings, warningOf(resource, scope, err))
}

// warningOf words why a kind could not be listed, and what that costs;
// Discover and the Watcher say it alike.
func warningOf(resource, scope string, err error) Warning {
	problem := err.Error()
	switch {
	case apierrors.IsForbidden(err):
		problem = "forbidden (RBAC)"
	case errors.Is(err, errVPANotServed):
		problem = "the VerticalPodAutoscaler CRD is not installed"
	case apierrors.IsNotFound(err):
		problem = "the API is not served"
	}
	return Warning{Resource: resource, Scope: scope, Problem: problem, Effect: effects[resource]}
}

// each lists every page of one kind and calls fn for each item. The
// pager asks for the next page while the caller handles the current one,
// and falls back to one full list when a continue token expires.
func each[T runtime.Object](ctx context.Context, opts metav1.ListOptions, page func(context.Context, metav1.ListOptions) (runtime.Object, error), fn func(T)) error {
	p := pager.New(pager.SimplePageFunc(func(o metav1.ListOptions) (runtime.Object, error) { return page(ctx, o) }))
	p.PageSize = opts.Limit
	return p.EachListItem(ctx, opts, func(obj runtime.Object) error {
		t, ok := obj.(T)
		if !ok {
			return fmt.Errorf("unexpected list item %T", obj)
		}
		fn(t)
		return nil
	})
}
