package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	autoscalingclient "k8s.io/client-go/kubernetes/typed/autoscaling/v2"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/pager"

	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

// KubeClient is the part of kubernetes.Interface discovery reads through.
type KubeClient interface {
	AppsV1() appsclient.AppsV1Interface
	BatchV1() batchclient.BatchV1Interface
	CoreV1() coreclient.CoreV1Interface
	AutoscalingV2() autoscalingclient.AutoscalingV2Interface
	Discovery() discovery.DiscoveryInterface
}

// DynamicClient is the part of dynamic.Interface that reads
// VerticalPodAutoscalers, whose types client-go does not have.
type DynamicClient interface {
	Resource(schema.GroupVersionResource) dynamic.NamespaceableResourceInterface
}

// Clients are the API clients discovery uses. Dynamic may be nil: then
// VerticalPodAutoscalers are not read.
type Clients struct {
	Kube    KubeClient
	Dynamic DynamicClient
}

// Options scope a discovery the way kubectl's flags do.
type Options struct {
	// Namespace is read unless AllNamespaces is set; empty means "default".
	Namespace     string
	AllNamespaces bool
	// Selector is a label selector on workloads (bare pods: on the pod).
	Selector string
	// PageSize is the list page size (default 500).
	PageSize int64
}

func (o Options) scope() string {
	switch {
	case o.AllNamespaces:
		return metav1.NamespaceAll
	case o.Namespace == "":
		return metav1.NamespaceDefault
	default:
		return o.Namespace
	}
}

// PodRef names a pod.
type PodRef struct {
	Namespace, Name string
}

// Inventory is what discovery found.
type Inventory struct {
	// Specs are the selected workloads, ignored ones included (marked).
	Specs map[workload.Key]workload.Spec
	// Pods maps each pod of a selected, not ignored workload to it.
	Pods        map[PodRef]workload.Key
	HPAs        []constraints.HPA
	VPAs        []constraints.VPA
	LimitRanges []constraints.LimitRange
	Quotas      []constraints.ResourceQuota
	// Namespace is the scope read: one namespace, or "" for all.
	Namespace string

	// owners maps namespace → the name of an object that creates pods
	// (ReplicaSet, Job, StatefulSet, DaemonSet, or a Deployment/CronJob one
	// level up) → its workload, for pods that appear after discovery.
	owners map[string]map[string]ownerEntry
}

type ownerEntry struct {
	key workload.Key
	// levels is how many generated name segments separate a pod name from
	// this name: 1 for ReplicaSet/Job/StatefulSet/DaemonSet, 2 for
	// Deployment (via its ReplicaSet) and CronJob (via its Job).
	levels int
}

// Workload returns the selected, not ignored workload a pod belongs to:
// from discovery, or for a pod created since, by its generated name
// (<owner>-<suffix>).
func (inv *Inventory) Workload(namespace, pod string) (workload.Key, bool) {
	if k, ok := inv.Pods[PodRef{namespace, pod}]; ok {
		return k, true
	}
	k, ok := inv.byName(namespace, pod)
	if s, known := inv.Specs[k]; !ok || !known || !s.Recommended() {
		return workload.Key{}, false
	}
	return k, true
}

func (inv *Inventory) byName(namespace, pod string) (workload.Key, bool) {
	owners := inv.owners[namespace]
	name := pod
	for level := 1; level <= 2; level++ {
		i := strings.LastIndexByte(name, '-')
		if i <= 0 {
			return workload.Key{}, false
		}
		name = name[:i]
		if e, ok := owners[name]; ok && e.levels == level {
			return e.key, true
		}
	}
	return workload.Key{}, false
}

// Constraints returns the inventory as the constraints package's input.
func (inv *Inventory) Constraints() constraints.Input {
	return constraints.Input{LimitRanges: inv.LimitRanges, Quotas: inv.Quotas, VPAs: inv.VPAs, HPAs: inv.HPAs, Specs: inv.Specs}
}

// ContainerKeys returns every container of the selected, not ignored
// workloads.
func (inv *Inventory) ContainerKeys() []workload.ContainerKey {
	var out []workload.ContainerKey
	for k, s := range inv.Specs {
		if !s.Recommended() {
			continue
		}
		for _, c := range s.Containers {
			out = append(out, workload.ContainerKey{Workload: k, Container: c.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// Warning is one thing discovery could not read, and what that costs.
type Warning struct {
	// Resource is the kind's plural ("replicasets"), Scope the namespace or
	// "all namespaces".
	Resource, Scope string
	Problem         string
	Effect          string
}

func (w Warning) String() string {
	s := fmt.Sprintf("cannot list %s in %s: %s", w.Resource, w.Scope, w.Problem)
	if w.Effect != "" {
		s += "; " + w.Effect
	}
	return s
}

// VPAResource is the VerticalPodAutoscaler API.
var VPAResource = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

// listing is what the parallel list calls return.
type listing struct {
	deployments  []*appsv1.Deployment
	statefulsets []*appsv1.StatefulSet
	daemonsets   []*appsv1.DaemonSet
	replicasets  []*appsv1.ReplicaSet
	jobs         []*batchv1.Job
	cronjobs     []*batchv1.CronJob
	pods         []*corev1.Pod
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

// Discover lists every kind in the scope and resolves pods to workloads.
// It fails only when the cluster cannot be reached or the options are
// invalid; kinds it cannot read become warnings.
func Discover(ctx context.Context, c Clients, o Options, log *slog.Logger) (*Inventory, []Warning, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid selector %q: %w", o.Selector, err)
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	start := time.Now()
	ns := o.scope()
	scope := "namespace " + ns
	if ns == metav1.NamespaceAll {
		scope = "all namespaces"
	}
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		return nil, nil, fmt.Errorf("reaching the cluster: %w", err)
	}

	l := &listing{failed: map[string]bool{}}
	opts := metav1.ListOptions{Limit: o.PageSize}
	var wg sync.WaitGroup
	run := func(resource string, f func() error) {
		wg.Go(func() {
			t0 := time.Now()
			if err := f(); err != nil {
				l.fail(resource, scope, err)
				return
			}
			log.Debug("listed", "resource", resource, "scope", scope, "took", time.Since(t0))
		})
	}
	apps, batch, core, as := c.Kube.AppsV1(), c.Kube.BatchV1(), c.Kube.CoreV1(), c.Kube.AutoscalingV2()
	run("pods", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return core.Pods(ns).List(ctx, o)
		},
			func(p *corev1.Pod) { l.pods = append(l.pods, p) })
	})
	run("replicasets", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return apps.ReplicaSets(ns).List(ctx, o)
		}, func(x *appsv1.ReplicaSet) { l.replicasets = append(l.replicasets, x) })
	})
	run("deployments", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return apps.Deployments(ns).List(ctx, o)
		}, func(x *appsv1.Deployment) { l.deployments = append(l.deployments, x) })
	})
	run("statefulsets", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return apps.StatefulSets(ns).List(ctx, o)
		}, func(x *appsv1.StatefulSet) { l.statefulsets = append(l.statefulsets, x) })
	})
	run("daemonsets", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return apps.DaemonSets(ns).List(ctx, o)
		}, func(x *appsv1.DaemonSet) { l.daemonsets = append(l.daemonsets, x) })
	})
	run("jobs", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return batch.Jobs(ns).List(ctx, o)
		},
			func(x *batchv1.Job) { l.jobs = append(l.jobs, x) })
	})
	run("cronjobs", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return batch.CronJobs(ns).List(ctx, o)
		}, func(x *batchv1.CronJob) { l.cronjobs = append(l.cronjobs, x) })
	})
	run("horizontalpodautoscalers", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return as.HorizontalPodAutoscalers(ns).List(ctx, o)
		}, func(x *autoscalingv2.HorizontalPodAutoscaler) { l.hpas = append(l.hpas, x) })
	})
	run("limitranges", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return core.LimitRanges(ns).List(ctx, o)
		}, func(x *corev1.LimitRange) { l.limitranges = append(l.limitranges, x) })
	})
	run("resourcequotas", func() error {
		return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return core.ResourceQuotas(ns).List(ctx, o)
		}, func(x *corev1.ResourceQuota) { l.quotas = append(l.quotas, x) })
	})
	if c.Dynamic != nil {
		run("verticalpodautoscalers", func() error {
			if err := vpaServed(c.Kube.Discovery()); err != nil {
				return err
			}
			return each(ctx, opts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.Dynamic.Resource(VPAResource).Namespace(ns).List(ctx, o)
			}, func(x *unstructured.Unstructured) { l.vpas = append(l.vpas, x) })
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	inv := resolve(l, sel, ns)
	sort.Slice(l.warnings, func(i, j int) bool { return l.warnings[i].Resource < l.warnings[j].Resource })
	log.Debug("discovered", "workloads", len(inv.Specs), "pods", len(l.pods), "scope", scope, "took", time.Since(start))
	return inv, l.warnings, nil
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
	problem := err.Error()
	switch {
	case apierrors.IsForbidden(err):
		problem = "forbidden (RBAC)"
	case errors.Is(err, errVPANotServed):
		problem = "not installed"
	case apierrors.IsNotFound(err):
		problem = "the API is not served"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[resource] = true
	w := Warning{Resource: resource, Scope: scope, Problem: problem, Effect: effects[resource]}
	if errors.Is(err, errVPANotServed) {
		w = Warning{Resource: resource, Scope: scope, Problem: "the VerticalPodAutoscaler CRD is not installed", Effect: effects[resource]}
	}
	l.warnings = append(l.warnings, w)
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
