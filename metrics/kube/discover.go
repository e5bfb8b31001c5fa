package kube

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	appsclient "k8s.io/client-go/kubernetes/typed/apps/v1"
	autoscalingclient "k8s.io/client-go/kubernetes/typed/autoscaling/v2"
	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"

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
	HPAs        []workload.HPA
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
	scope := scopeName(ns)
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		return nil, nil, fmt.Errorf("reaching the cluster: %w", err)
	}

	l := &listing{failed: map[string]bool{}}
	l.listAll(ctx, listers(c, ns, l), metav1.ListOptions{Limit: o.PageSize}, scope, log)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	inv := resolve(l, sel, ns)
	sort.Slice(l.warnings, func(i, j int) bool { return l.warnings[i].Resource < l.warnings[j].Resource })
	log.Debug("discovered", "workloads", len(inv.Specs), "pods", len(l.pods), "scope", scope, "took", time.Since(start))
	return inv, l.warnings, nil
}

// scopeName names the namespace read, or all, in warnings and logs.
func scopeName(ns string) string {
	if ns == metav1.NamespaceAll {
		return "all namespaces"
	}
	return "namespace " + ns
}
