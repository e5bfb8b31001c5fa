package kube

import (
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"rightsize.dev/rightsize/recommender/workload"
)

// candidate is a workload before selection: its spec and the labels the
// selector is matched against.
type candidate struct {
	spec   workload.Spec
	labels map[string]string
	// fromPod is set where the spec had to come from a pod (the owner
	// could not be listed); its replicas are then the pods counted.
	fromPod bool
}

// resolve builds the inventory from the listed objects: one spec per top
// owner, each pod mapped to its top owner.
func resolve(l *listing, sel labels.Selector, ns string) *Inventory {
	r := &resolver{
		inv: &Inventory{
			Specs:     map[workload.Key]workload.Spec{},
			Pods:      map[PodRef]workload.Key{},
			Namespace: ns,
			owners:    map[string]map[string]ownerEntry{},
		},
		cands:  map[workload.Key]*candidate{},
		podsOf: map[workload.Key][]*podInfo{},
	}
	r.addWorkloads(l)
	rsOwner := r.addReplicaSets(l.replicasets)
	jobOwner := r.addJobs(l.jobs)
	r.addPods(l.pods, rsOwner, jobOwner, l.failed)
	r.selectCandidates(sel)
	r.addConstraints(l)
	return r.inv
}

// resolver holds what resolve builds up: the candidates before selection
// and the pods of each top owner.
type resolver struct {
	inv    *Inventory
	cands  map[workload.Key]*candidate
	podsOf map[workload.Key][]*podInfo
}

func (r *resolver) add(k workload.Key, meta metav1.ObjectMeta, tmpl corev1.PodTemplateSpec, replicas int) {
	r.cands[k] = &candidate{spec: specOf(k, meta, tmpl, replicas), labels: meta.Labels}
}

// owner records a name that pods' generated names lead to (levels
// segments away), for pods created after discovery.
func (r *resolver) owner(ns, name string, k workload.Key, levels int) {
	if r.inv.owners[ns] == nil {
		r.inv.owners[ns] = map[string]ownerEntry{}
	}
	r.inv.owners[ns][name] = ownerEntry{key: k, levels: levels}
}

// addWorkloads adds the kinds that are always top owners.
func (r *resolver) addWorkloads(l *listing) {
	for _, d := range l.deployments {
		k := workload.Key{Namespace: d.Namespace, Kind: workload.Deployment, Name: d.Name}
		r.add(k, d.ObjectMeta, d.Spec.Template, int(deref(d.Spec.Replicas, 1)))
		r.owner(d.Namespace, d.Name, k, 2)
	}
	for _, s := range l.statefulsets {
		k := workload.Key{Namespace: s.Namespace, Kind: workload.StatefulSet, Name: s.Name}
		r.add(k, s.ObjectMeta, s.Spec.Template, int(deref(s.Spec.Replicas, 1)))
		r.owner(s.Namespace, s.Name, k, 1)
	}
	for _, d := range l.daemonsets {
		k := workload.Key{Namespace: d.Namespace, Kind: workload.DaemonSet, Name: d.Name}
		r.add(k, d.ObjectMeta, d.Spec.Template, int(d.Status.DesiredNumberScheduled))
		r.owner(d.Namespace, d.Name, k, 1)
	}
	for _, c := range l.cronjobs {
		k := workload.Key{Namespace: c.Namespace, Kind: workload.CronJob, Name: c.Name}
		r.add(k, c.ObjectMeta, c.Spec.JobTemplate.Spec.Template, int(deref(c.Spec.JobTemplate.Spec.Parallelism, 1)))
		r.owner(c.Namespace, c.Name, k, 2)
	}
}

// addReplicaSets adds the ReplicaSets no controller owns as workloads; the
// others lead to their owner. It returns the top owner of each.
func (r *resolver) addReplicaSets(rss []*appsv1.ReplicaSet) map[PodRef]workload.Key {
	top := map[PodRef]workload.Key{}
	for _, rs := range rss {
		k := workload.Key{Namespace: rs.Namespace, Kind: workload.ReplicaSet, Name: rs.Name}
		if ref := metav1.GetControllerOf(rs); ref != nil {
			k = ownerKey(rs.Namespace, ref)
		} else {
			r.add(k, rs.ObjectMeta, rs.Spec.Template, int(deref(rs.Spec.Replicas, 1)))
		}
		top[PodRef{rs.Namespace, rs.Name}] = k
		r.owner(rs.Namespace, rs.Name, k, 1)
	}
	return top
}

// addJobs adds the Jobs no controller owns as workloads; the others lead
// to their owner. It returns the top owner of each.
func (r *resolver) addJobs(jobs []*batchv1.Job) map[PodRef]workload.Key {
	top := map[PodRef]workload.Key{}
	for _, j := range jobs {
		k := workload.Key{Namespace: j.Namespace, Kind: workload.Job, Name: j.Name}
		if ref := metav1.GetControllerOf(j); ref != nil {
			k = ownerKey(j.Namespace, ref)
		} else {
			r.add(k, j.ObjectMeta, j.Spec.Template, int(deref(j.Spec.Parallelism, 1)))
		}
		top[PodRef{j.Namespace, j.Name}] = k
		r.owner(j.Namespace, j.Name, k, 1)
	}
	return top
}

// addPods maps each pod to its top owner. Bare pods, and pods of
// controllers rightsize does not list (custom resources), become
// candidates themselves: their spec comes from the pod.
func (r *resolver) addPods(pods []*podInfo, rsOwner, jobOwner map[PodRef]workload.Key, failed map[string]bool) {
	for _, p := range pods {
		k, ok := podOwner(p, rsOwner, jobOwner, failed)
		if !ok {
			continue
		}
		r.podsOf[k] = append(r.podsOf[k], p)
		if _, known := r.cands[k]; known {
			continue
		}
		if k.Kind == workload.Pod {
			r.add(k, p.ObjectMeta, corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.podSpec()}, 1)
			continue
		}
		r.add(k, metav1.ObjectMeta{}, corev1.PodTemplateSpec{Spec: p.podSpec()}, 0)
		r.cands[k].fromPod = true
	}
}

// selectCandidates keeps the candidates the selector matches as specs and
// maps the pods of those recommended (not ignored) to them.
func (r *resolver) selectCandidates(sel labels.Selector) {
	for k, c := range r.cands {
		if !sel.Matches(labels.Set(c.labels)) {
			continue
		}
		if c.fromPod {
			c.spec.Replicas = len(r.podsOf[k])
		}
		r.inv.Specs[k] = c.spec
		if !c.spec.Recommended() {
			continue
		}
		for _, p := range r.podsOf[k] {
			r.inv.Pods[PodRef{p.Namespace, p.Name}] = k
		}
	}
}

// addConstraints converts the HPAs, VPAs, LimitRanges and ResourceQuotas.
func (r *resolver) addConstraints(l *listing) {
	for _, h := range l.hpas {
		r.inv.HPAs = append(r.inv.HPAs, hpaOf(h))
	}
	for _, v := range l.vpas {
		r.inv.VPAs = append(r.inv.VPAs, vpaOf(v))
	}
	for _, lr := range l.limitranges {
		r.inv.LimitRanges = append(r.inv.LimitRanges, limitRangeOf(lr))
	}
	for _, q := range l.quotas {
		r.inv.Quotas = append(r.inv.Quotas, quotaOf(q))
	}
}

// podOwner resolves a pod to its top owner. Where the ReplicaSets or Jobs
// could not be listed, the owner is derived from the generated name: a
// Deployment's ReplicaSet is <deployment>-<pod-template-hash>, a CronJob's
// Job is <cronjob>-<scheduled minute>.
func podOwner(p *podInfo, rsOwner, jobOwner map[PodRef]workload.Key, failed map[string]bool) (workload.Key, bool) {
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind == "Node" {
		// Mirror pods of static pods are owned by their Node.
		return workload.Key{Namespace: p.Namespace, Kind: workload.Pod, Name: p.Name}, true
	}
	switch ref.Kind {
	case "ReplicaSet":
		if k, ok := rsOwner[PodRef{p.Namespace, ref.Name}]; ok {
			return k, true
		}
		if failed["replicasets"] {
			if h := p.templateHash; h != "" && strings.HasSuffix(ref.Name, "-"+h) {
				return workload.Key{Namespace: p.Namespace, Kind: workload.Deployment, Name: strings.TrimSuffix(ref.Name, "-"+h)}, true
			}
		}
		return workload.Key{Namespace: p.Namespace, Kind: workload.ReplicaSet, Name: ref.Name}, true
	case "Job":
		if k, ok := jobOwner[PodRef{p.Namespace, ref.Name}]; ok {
			return k, true
		}
		if failed["jobs"] {
			if i := strings.LastIndexByte(ref.Name, '-'); i > 0 && isDigits(ref.Name[i+1:]) {
				return workload.Key{Namespace: p.Namespace, Kind: workload.CronJob, Name: ref.Name[:i]}, true
			}
		}
		return workload.Key{Namespace: p.Namespace, Kind: workload.Job, Name: ref.Name}, true
	}
	return ownerKey(p.Namespace, ref), true
}

func ownerKey(ns string, ref *metav1.OwnerReference) workload.Key {
	kind, ok := workload.ParseKind(ref.Kind)
	if !ok {
		kind = workload.Kind(ref.Kind)
	}
	return workload.Key{Namespace: ns, Kind: kind, Name: ref.Name}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// specOf turns a pod template into a workload spec: init containers (and
// native sidecars) first, as the pod runs them, then the app containers.
func specOf(k workload.Key, meta metav1.ObjectMeta, tmpl corev1.PodTemplateSpec, replicas int) workload.Spec {
	s := workload.Spec{
		Key:               k,
		UID:               string(meta.UID),
		Replicas:          replicas,
		PriorityClassName: tmpl.Spec.PriorityClassName,
		Labels:            meta.Labels,
		Annotations:       meta.Annotations,
	}
	for _, m := range []map[string]string{meta.Labels, meta.Annotations, tmpl.Labels, tmpl.Annotations} {
		if m[workload.TierKey] == workload.TierCritical {
			s.Critical = true
		}
		if m[workload.IgnoreKey] == workload.IgnoreEnabled {
			s.Ignore = true
		}
	}
	for _, c := range tmpl.Spec.InitContainers {
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		s.Containers = append(s.Containers, containerSpec(c, true, sidecar))
	}
	for _, c := range tmpl.Spec.Containers {
		s.Containers = append(s.Containers, containerSpec(c, false, false))
	}
	return s
}

func containerSpec(c corev1.Container, init, sidecar bool) workload.ContainerSpec {
	return workload.ContainerSpec{
		Name: c.Name, Init: init, Sidecar: sidecar,
		Settings: Settings(c.Resources),
		JVM:      detectJVM(c),
	}
}

// Settings are a container's resources as rightsize counts them.
func Settings(r corev1.ResourceRequirements) workload.Settings {
	return workload.Settings{Requests: resourcesOf(r.Requests), Limits: resourcesOf(r.Limits)}
}

func resourcesOf(rl corev1.ResourceList) workload.Resources {
	var r workload.Resources
	if q, ok := rl[corev1.ResourceCPU]; ok {
		r.CPU = workload.Millicores(q.MilliValue())
	}
	if q, ok := rl[corev1.ResourceMemory]; ok {
		r.Memory = workload.Bytes(q.Value())
	}
	return r
}

// sortedKeys returns workload keys in order.
func sortedKeys(m map[workload.Key]workload.Spec) []workload.Key {
	keys := make([]workload.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}
