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
	appsinformers "k8s.io/client-go/informers/apps/v1"
	autoscalinginformers "k8s.io/client-go/informers/autoscaling/v2"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/informers/internalinterfaces"
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
	// informer makes the kind's informer; only the kinds that pass the
	// probe get one.
	informer func() cache.SharedIndexInformer
	// transform is what the cache keeps of each object.
	transform cache.TransformFunc
	// fill sets the kind's slice of a listing from the cached objects.
	fill func(*listing, []any)
	inf  cache.SharedIndexInformer
}

// watchOf builds a watchedKind from the kind's typed List (for the probe),
// its informer, its transform and its slice in a listing, of the type the
// transform makes.
func watchOf[T metav1.Object, L runtime.Object](resource string, list func(context.Context, metav1.ListOptions) (L, error), informer func() cache.SharedIndexInformer, transform cache.TransformFunc, slice func(*listing) *[]T) watchedKind {
	return watchedKind{
		resource: resource,
		probe: func(ctx context.Context) error {
			_, err := list(ctx, metav1.ListOptions{Limit: 1})
			return err
		},
		informer:  informer,
		transform: transform,
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

// newInformer is the signature of client-go's NewFiltered*Informer.
type newInformer func(kubernetes.Interface, string, time.Duration, cache.Indexers, internalinterfaces.TweakListOptionsFunc) cache.SharedIndexInformer

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
	// whole each time anyway. No indexers either: the caches are only ever
	// listed whole, and the factory's namespace index would hold another
	// key per object.
	kc := c.Kube
	apps, batch, core, as := kc.AppsV1(), kc.BatchV1(), kc.CoreV1(), kc.AutoscalingV2()
	inf := func(f newInformer) func() cache.SharedIndexInformer {
		return func() cache.SharedIndexInformer { return f(kc, ns, 0, cache.Indexers{}, nil) }
	}
	w := &Watcher{ns: ns, sel: sel, log: log, kinds: []watchedKind{
		watchOf("pods", core.Pods(ns).List, inf(coreinformers.NewFilteredPodInformer), slimPod, func(l *listing) *[]*podInfo { return &l.pods }),
		watchOf("replicasets", apps.ReplicaSets(ns).List, inf(appsinformers.NewFilteredReplicaSetInformer), slim, func(l *listing) *[]*appsv1.ReplicaSet { return &l.replicasets }),
		watchOf("deployments", apps.Deployments(ns).List, inf(appsinformers.NewFilteredDeploymentInformer), slim, func(l *listing) *[]*appsv1.Deployment { return &l.deployments }),
		watchOf("statefulsets", apps.StatefulSets(ns).List, inf(appsinformers.NewFilteredStatefulSetInformer), slim, func(l *listing) *[]*appsv1.StatefulSet { return &l.statefulsets }),
		watchOf("daemonsets", apps.DaemonSets(ns).List, inf(appsinformers.NewFilteredDaemonSetInformer), slim, func(l *listing) *[]*appsv1.DaemonSet { return &l.daemonsets }),
		watchOf("jobs", batch.Jobs(ns).List, inf(batchinformers.NewFilteredJobInformer), slim, func(l *listing) *[]*batchv1.Job { return &l.jobs }),
		watchOf("cronjobs", batch.CronJobs(ns).List, inf(batchinformers.NewFilteredCronJobInformer), slim, func(l *listing) *[]*batchv1.CronJob { return &l.cronjobs }),
		watchOf("horizontalpodautoscalers", as.HorizontalPodAutoscalers(ns).List, inf(autoscalinginformers.NewFilteredHorizontalPodAutoscalerInformer), slim,
			func(l *listing) *[]*autoscalingv2.HorizontalPodAutoscaler { return &l.hpas }),
		watchOf("limitranges", core.LimitRanges(ns).List, inf(coreinformers.NewFilteredLimitRangeInformer), slim, func(l *listing) *[]*corev1.LimitRange { return &l.limitranges }),
		watchOf("resourcequotas", core.ResourceQuotas(ns).List, inf(coreinformers.NewFilteredResourceQuotaInformer), slim, func(l *listing) *[]*corev1.ResourceQuota { return &l.quotas }),
	}}
	if c.Dynamic != nil {
		vpas := watchOf("verticalpodautoscalers", c.Dynamic.Resource(VPAResource).Namespace(ns).List, func() cache.SharedIndexInformer {
			return dynamicinformer.NewFilteredDynamicInformer(c.Dynamic, VPAResource, ns, 0, cache.Indexers{}, nil).Informer()
		}, slim, func(l *listing) *[]*unstructured.Unstructured { return &l.vpas })
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
		if err := k.inf.SetTransform(k.transform); err != nil {
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
			p, ok := obj.(*podInfo)
			if !ok {
				continue
			}
			for _, o := range p.ooms {
				out = append(out, OOMKill{Namespace: p.Namespace, Pod: p.Name, Container: o.container, Restarts: o.restarts, At: o.at})
			}
		}
	}
	return out
}

const reasonOOMKilled = "OOMKilled"

// slimPod is the pods' transform: a cache of pods keeps each as a podInfo.
// It is given podInfos again where the informer transforms twice (a
// streamed initial list).
func slimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		return podInfoOf(p), nil
	}
	return obj, nil
}

// slim is the other kinds' transform. Every object loses its managedFields,
// often larger than the rest of it, and kubectl's last-applied annotation,
// never read here. Workloads keep only what resolve reads: their name,
// namespace, resource version and controller's reference; their labels and
// annotations, replicas (a DaemonSet's desired count from its status) and
// their pod template slimmed as a pod's spec is (slimSpec), with its labels
// and annotations. ReplicaSets and Jobs with a controller keep no more than
// the reference: resolve follows it to their owner and reads nothing else.
// The others (HPAs, VPAs, LimitRanges, ResourceQuotas) are few and kept
// whole. The informer hands over objects no one else holds: slim may change
// them in place, and gets slimmed objects back where the informer
// transforms twice.
func slim(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &appsv1.Deployment{ObjectMeta: slimMeta(&o.ObjectMeta, true),
			Spec: appsv1.DeploymentSpec{Replicas: o.Spec.Replicas, Template: slimTemplate(&o.Spec.Template)}}, nil
	case *appsv1.StatefulSet:
		return &appsv1.StatefulSet{ObjectMeta: slimMeta(&o.ObjectMeta, true),
			Spec: appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas, Template: slimTemplate(&o.Spec.Template)}}, nil
	case *appsv1.DaemonSet:
		return &appsv1.DaemonSet{ObjectMeta: slimMeta(&o.ObjectMeta, true), Spec: appsv1.DaemonSetSpec{Template: slimTemplate(&o.Spec.Template)},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: o.Status.DesiredNumberScheduled}}, nil
	case *batchv1.CronJob:
		j := &o.Spec.JobTemplate.Spec
		return &batchv1.CronJob{ObjectMeta: slimMeta(&o.ObjectMeta, true), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Parallelism: j.Parallelism, Template: slimTemplate(&j.Template)}}}}, nil
	case *appsv1.ReplicaSet:
		if metav1.GetControllerOf(o) != nil {
			return &appsv1.ReplicaSet{ObjectMeta: slimMeta(&o.ObjectMeta, false)}, nil
		}
		return &appsv1.ReplicaSet{ObjectMeta: slimMeta(&o.ObjectMeta, true),
			Spec: appsv1.ReplicaSetSpec{Replicas: o.Spec.Replicas, Template: slimTemplate(&o.Spec.Template)}}, nil
	case *batchv1.Job:
		if metav1.GetControllerOf(o) != nil {
			return &batchv1.Job{ObjectMeta: slimMeta(&o.ObjectMeta, false)}, nil
		}
		return &batchv1.Job{ObjectMeta: slimMeta(&o.ObjectMeta, true),
			Spec: batchv1.JobSpec{Parallelism: o.Spec.Parallelism, Template: slimTemplate(&o.Spec.Template)}}, nil
	case metav1.Object:
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				o.SetAnnotations(withoutLastApplied(a))
			}
		}
	}
	return obj, nil
}

// slimMeta keeps an object's name, namespace, UID (Events name their
// object by it), resource version and controller's reference, and with
// labels its labels and annotations.
func slimMeta(m *metav1.ObjectMeta, labels bool) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
	if ref := metav1.GetControllerOf(m); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	if labels {
		out.Labels, out.Annotations = m.Labels, withoutLastApplied(m.Annotations)
	}
	return out
}

// slimTemplate keeps of a pod template what specOf reads.
func slimTemplate(t *corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: t.Labels, Annotations: withoutLastApplied(t.Annotations)}, Spec: slimSpec(&t.Spec)}
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
