package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
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
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// WatchClients are the clients a Watcher reads through. Dynamic may be
// nil: then VerticalPodAutoscalers are not watched.
type WatchClients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// Watcher keeps the kinds Discover lists in informer caches, so that a
// long-running controller gets a fresh Inventory without listing the
// cluster again. Its Inventory is resolved by the same rules as Discover's.
type Watcher struct {
	ns    string
	sel   labels.Selector
	log   *slog.Logger
	kinds []watchedKind

	mu      sync.Mutex
	started bool
	// watched and warnings are set once the caches have synced.
	watched  []watchedKind
	warnings []Warning
	failed   map[string]bool
}

// watchedKind is one kind a Watcher may keep in a cache.
type watchedKind struct {
	resource string
	// probe lists at most one object, to learn whether the kind may be
	// read before an informer that could never sync is started.
	probe func(context.Context) error
	// informer registers the kind's informer with its factory; only the
	// kinds that pass the probe are registered, and so started.
	informer func() cache.SharedIndexInformer
	// fill sets the kind's slice of a listing from the cached objects.
	fill func(*listing, []any)
	inf  cache.SharedIndexInformer
}

// watchOf builds a watchedKind from the kind's typed List (for the probe),
// its informer and its slice in a listing.
func watchOf[T metav1.Object, L runtime.Object](resource string, list func(context.Context, metav1.ListOptions) (L, error), informer func() cache.SharedIndexInformer, slice func(*listing) *[]T) watchedKind {
	return watchedKind{
		resource: resource,
		probe: func(ctx context.Context) error {
			_, err := list(ctx, metav1.ListOptions{Limit: 1})
			return err
		},
		informer: informer,
		fill: func(l *listing, objs []any) {
			out := make([]T, 0, len(objs))
			for _, o := range objs {
				if t, ok := o.(T); ok {
					out = append(out, t)
				}
			}
			// Caches are maps: sorting gives Discover's order, which the
			// constraints' order and the spec of a pod-derived workload
			// (its first pod's) depend on.
			slices.SortFunc(out, func(a, b T) int {
				return compareKeys(a.GetNamespace(), a.GetName(), b.GetNamespace(), b.GetName())
			})
			*slice(l) = out
		},
	}
}

// NewWatcher prepares the informers for the scope of o (Namespace,
// AllNamespaces and Selector as for Discover; PageSize is not used). The
// selector is applied when an Inventory is resolved, not by the informers,
// because pods are attributed to owners the selector may not match. An
// invalid selector is an error. Nothing is read before Start.
func NewWatcher(c WatchClients, o Options, log *slog.Logger) (*Watcher, error) {
	if c.Kube == nil {
		return nil, errors.New("watching the cluster needs a Kubernetes client")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sel, err := labels.Parse(o.Selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector %q: %w", o.Selector, err)
	}
	ns := o.scope()
	// No resync: the caches follow the watches, and Inventory reads them
	// whole each time anyway.
	f := informers.NewSharedInformerFactoryWithOptions(c.Kube, 0, informers.WithNamespace(ns))
	apps, batch, core, as := c.Kube.AppsV1(), c.Kube.BatchV1(), c.Kube.CoreV1(), c.Kube.AutoscalingV2()
	w := &Watcher{ns: ns, sel: sel, log: log, kinds: []watchedKind{
		watchOf("pods", core.Pods(ns).List, f.Core().V1().Pods().Informer, func(l *listing) *[]*corev1.Pod { return &l.pods }),
		watchOf("replicasets", apps.ReplicaSets(ns).List, f.Apps().V1().ReplicaSets().Informer, func(l *listing) *[]*appsv1.ReplicaSet { return &l.replicasets }),
		watchOf("deployments", apps.Deployments(ns).List, f.Apps().V1().Deployments().Informer, func(l *listing) *[]*appsv1.Deployment { return &l.deployments }),
		watchOf("statefulsets", apps.StatefulSets(ns).List, f.Apps().V1().StatefulSets().Informer, func(l *listing) *[]*appsv1.StatefulSet { return &l.statefulsets }),
		watchOf("daemonsets", apps.DaemonSets(ns).List, f.Apps().V1().DaemonSets().Informer, func(l *listing) *[]*appsv1.DaemonSet { return &l.daemonsets }),
		watchOf("jobs", batch.Jobs(ns).List, f.Batch().V1().Jobs().Informer, func(l *listing) *[]*batchv1.Job { return &l.jobs }),
		watchOf("cronjobs", batch.CronJobs(ns).List, f.Batch().V1().CronJobs().Informer, func(l *listing) *[]*batchv1.CronJob { return &l.cronjobs }),
		watchOf("horizontalpodautoscalers", as.HorizontalPodAutoscalers(ns).List, f.Autoscaling().V2().HorizontalPodAutoscalers().Informer, func(l *listing) *[]*autoscalingv2.HorizontalPodAutoscaler { return &l.hpas }),
		watchOf("limitranges", core.LimitRanges(ns).List, f.Core().V1().LimitRanges().Informer, func(l *listing) *[]*corev1.LimitRange { return &l.limitranges }),
		watchOf("resourcequotas", core.ResourceQuotas(ns).List, f.Core().V1().ResourceQuotas().Informer, func(l *listing) *[]*corev1.ResourceQuota { return &l.quotas }),
	}}
	if c.Dynamic != nil {
		df := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.Dynamic, 0, ns, nil)
		vpas := watchOf("verticalpodautoscalers", c.Dynamic.Resource(VPAResource).Namespace(ns).List, df.ForResource(VPAResource).Informer, func(l *listing) *[]*unstructured.Unstructured { return &l.vpas })
		list := vpas.probe
		vpas.probe = func(ctx context.Context) error {
			if err := vpaServed(c.Kube.Discovery()); err != nil {
				return err
			}
			return list(ctx)
		}
		w.kinds = append(w.kinds, vpas)
	}
	return w, nil
}

// Start probes each kind with a one-item list. A kind that is forbidden,
// not served, or (VPAs) not installed becomes a warning worded as
// Discover's and is not watched: its informer could never sync and would
// hold up the others. Any other probe error fails Start; a new Watcher
// may try again. Start then starts the informers of the readable kinds and waits
// until their caches have synced; it fails when ctx ends first. The
// informers run until ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("the watcher has already been started")
	}
	w.started = true
	w.mu.Unlock()
	start := time.Now()
	scope := scopeName(w.ns)

	errs := make([]error, len(w.kinds))
	var wg sync.WaitGroup
	for i, k := range w.kinds {
		wg.Go(func() { errs[i] = k.probe(ctx) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var (
		watched  []watchedKind
		warnings []Warning
		failed   = map[string]bool{}
	)
	for i, k := range w.kinds {
		switch err := errs[i]; {
		case err == nil:
			watched = append(watched, k)
		case apierrors.IsForbidden(err), apierrors.IsNotFound(err), errors.Is(err, errVPANotServed):
			warnings = append(warnings, warningOf(k.resource, scope, err))
			failed[k.resource] = true
		default:
			return fmt.Errorf("listing %s in %s: %w", k.resource, scope, err)
		}
	}
	sort.Slice(warnings, func(i, j int) bool { return warnings[i].Resource < warnings[j].Resource })

	synced := make([]cache.InformerSynced, 0, len(watched))
	for i := range watched {
		k := &watched[i]
		k.inf = k.informer()
		if err := k.inf.SetTransform(slim); err != nil {
			return fmt.Errorf("watching %s: %w", k.resource, err)
		}
		if err := k.inf.SetWatchErrorHandlerWithContext(w.watchError(k.resource, scope)); err != nil {
			return fmt.Errorf("watching %s: %w", k.resource, err)
		}
		go k.inf.RunWithContext(ctx)
		synced = append(synced, k.inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("waiting for the caches of %s to sync: %w", scope, context.Cause(ctx))
	}
	w.mu.Lock()
	w.watched, w.warnings, w.failed = watched, warnings, failed
	w.mu.Unlock()
	w.log.Debug("watching", "resources", len(watched), "unreadable", len(warnings), "scope", scope, "took", time.Since(start))
	return nil
}

// watchError logs a failed watch; the informer retries it with backoff.
// A watch that closes or expires is routine and logged only at debug.
func (w *Watcher) watchError(resource, scope string) cache.WatchErrorHandlerWithContext {
	return func(_ context.Context, _ *cache.Reflector, err error) {
		if errors.Is(err, io.EOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			w.log.Debug("watch ended", "resource", resource, "scope", scope, "err", err)
			return
		}
		w.log.Warn("watch failed", "resource", resource, "scope", scope, "err", err)
	}
}

// Inventory resolves the cached objects now, by Discover's rules, and
// returns the warnings of the kinds not watched. Before Start has
// returned it is empty. Its cost is resolve's plus a sort of each kind:
// no API calls.
func (w *Watcher) Inventory() (*Inventory, []Warning) {
	w.mu.Lock()
	watched, warnings, failed := w.watched, slices.Clone(w.warnings), w.failed
	w.mu.Unlock()
	if failed == nil {
		failed = map[string]bool{}
	}
	l := &listing{failed: failed}
	for _, k := range watched {
		k.fill(l, k.inf.GetStore().List())
	}
	inv := resolve(l, w.sel, w.ns)
	// resolve reads the cached objects without changing them, but a spec's
	// labels and annotations are the objects' own maps: copies keep a
	// caller who edits them from corrupting the cache.
	for k, s := range inv.Specs {
		s.Labels, s.Annotations = maps.Clone(s.Labels), maps.Clone(s.Annotations)
		inv.Specs[k] = s
	}
	return inv, warnings
}

// OOMKill is a container's last termination, when it was an OOM kill, as
// its pod's status tells it.
type OOMKill struct {
	Namespace, Pod, Container string
	// Restarts is the container's restart count: a new kill of the same
	// container raises it.
	Restarts int32
	At       time.Time
}

// OOMKills lists the containers of watched pods whose last termination
// was an OOM kill. The caller tells new kills from ones already seen by
// Restarts.
func (w *Watcher) OOMKills() []OOMKill {
	w.mu.Lock()
	watched := w.watched
	w.mu.Unlock()
	var out []OOMKill
	for _, k := range watched {
		if k.resource != "pods" {
			continue
		}
		for _, obj := range k.inf.GetStore().List() {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				continue
			}
			for _, cs := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
				for _, c := range cs {
					if t := c.LastTerminationState.Terminated; t != nil && t.Reason == reasonOOMKilled {
						out = append(out, OOMKill{Namespace: p.Namespace, Pod: p.Name, Container: c.Name, Restarts: c.RestartCount, At: t.FinishedAt.Time})
					}
				}
			}
		}
	}
	return out
}

const reasonOOMKilled = "OOMKilled"

// slim is the caches' transform. Every object loses its managedFields,
// often larger than the rest of it and never read here. Pods, by far the
// most numerous objects, also lose what resolve and specOf never read: the
// status (also the part that changes most often) but for the containers'
// last OOM kills (OOMKills), volumes, scheduling
// constraints, and the containers' probes, ports, mounts, lifecycle hooks
// and security contexts. Kept: metadata, the priority class and each
// container's name, image, command, args, env, resources and restart
// policy. The informer hands slim objects no one else holds, so they are
// changed in place.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		o.ManagedFields = nil
		o.Status = corev1.PodStatus{InitContainerStatuses: oomOnly(o.Status.InitContainerStatuses), ContainerStatuses: oomOnly(o.Status.ContainerStatuses)}
		s := &o.Spec
		s.Volumes, s.Affinity, s.Tolerations, s.TopologySpreadConstraints, s.EphemeralContainers = nil, nil, nil, nil, nil
		for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
			for i := range cs {
				c := &cs[i]
				c.Ports, c.VolumeMounts, c.VolumeDevices = nil, nil, nil
				c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle, c.SecurityContext = nil, nil, nil, nil, nil
			}
		}
	case metav1.Object:
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// oomOnly keeps, of the containers' statuses, those whose last termination
// was an OOM kill, with only what OOMKills reads.
func oomOnly(cs []corev1.ContainerStatus) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, c := range cs {
		if t := c.LastTerminationState.Terminated; t != nil && t.Reason == reasonOOMKilled {
			out = append(out, corev1.ContainerStatus{Name: c.Name, RestartCount: c.RestartCount,
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: t.Reason, FinishedAt: t.FinishedAt}}})
		}
	}
	return out
}

// compareKeys orders objects by their namespace/name key byte by byte,
// as the apiserver lists them, without building the keys.
func compareKeys(ans, an, bns, bn string) int {
	if ans == bns {
		return strings.Compare(an, bn)
	}
	n := min(len(ans), len(bns))
	if c := strings.Compare(ans[:n], bns[:n]); c != 0 {
		return c
	}
	// One namespace is a prefix of the other: the shorter goes on with '/'.
	if len(ans) < len(bns) {
		return cmp.Compare('/', bns[n])
	}
	return cmp.Compare(ans[n], '/')
}
