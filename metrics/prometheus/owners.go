package prometheus

import (
	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/recommender/workload"
)

// nsName is a namespaced object name, in its cluster where a cluster
// label is set: same-named objects of two clusters are two objects.
type nsName struct{ namespace, name, cluster string }

// podName names the pod of a pod container.
func (s podSeries) podName() nsName {
	return nsName{namespace: s.namespace, name: s.pod, cluster: s.cluster}
}

// owner is an object's controlling owner as kube-state-metrics reports it.
type owner struct{ kind, name string }

// noOwner reports kube-state-metrics' marker for an object without one.
func (o owner) none() bool { return o.kind == "" || o.kind == "<none>" }

// owners maps pods, ReplicaSets and Jobs to their owners.
type owners struct {
	pods, replicaSets, jobs map[nsName]owner
}

func newOwners() *owners {
	return &owners{pods: map[nsName]owner{}, replicaSets: map[nsName]owner{}, jobs: map[nsName]owner{}}
}

// objectLabels are the labels that name an owned object: its namespace,
// its name (objLabel: pod, replicaset or job_name) and its cluster.
type objectLabels struct {
	namespace, object model.LabelName
	cluster           string
}

// addOwners records owners from a result. It returns how many series it
// left out, by reason: names Kubernetes does not allow, or a cluster that
// is none.
func addOwners(m map[nsName]owner, vec model.Vector, l objectLabels) (skipped map[string]int) {
	skipped = map[string]int{}
	for _, s := range vec {
		k := nsName{string(s.Metric[l.namespace]), string(s.Metric[l.object]), clusterOf(model.LabelSet(s.Metric), l.cluster)}
		o := owner{string(s.Metric["owner_kind"]), string(s.Metric["owner_name"])}
		if !kubeName(k.namespace) || !kubeName(k.name) || !o.none() && !kubeName(o.name) {
			skipped[skipNames]++
			continue
		}
		if !clusterName(k.cluster) {
			skipped[skipClusters]++
			continue
		}
		// A controlling owner wins over "<none>" should both be seen.
		if cur, ok := m[k]; ok && !cur.none() && o.none() {
			continue
		}
		m[k] = o
	}
	return skipped
}

// resolution is how a pod's workload was found; anything but resolved is
// counted and reported.
type resolution string

const (
	resolved          resolution = ""
	noPodOwner        resolution = "pods without a kube_pod_owner series, planned as bare pods"
	unknownOwnerKind  resolution = "pods with an owner kind rightsize does not know, planned as bare pods"
	replicaSetUnowned resolution = "pods of ReplicaSets owned by a kind other than Deployment, planned as ReplicaSets"
)

// workloadOf resolves a pod to its top-level workload, in the pod's
// cluster: ReplicaSet → Deployment, Job → CronJob, StatefulSet and
// DaemonSet directly, no owner → the pod itself.
func (o *owners) workloadOf(p nsName) (workload.Key, resolution) {
	namespace, pod := p.namespace, p.name
	key := func(k workload.Kind, name string) workload.Key {
		return workload.Key{Namespace: namespace, Kind: k, Name: name, Cluster: p.cluster}
	}
	// The owners of a pod's owner are in the pod's cluster.
	in := func(name string) nsName { return nsName{namespace: namespace, name: name, cluster: p.cluster} }
	po, ok := o.pods[p]
	if !ok {
		return key(workload.Pod, pod), noPodOwner
	}
	if po.none() || po.kind == "Node" {
		// Bare and static (mirror) pods are their own workload.
		return key(workload.Pod, pod), resolved
	}
	switch po.kind {
	case string(workload.ReplicaSet):
		ro := o.replicaSets[in(po.name)]
		switch {
		case ro.kind == string(workload.Deployment):
			return key(workload.Deployment, ro.name), resolved
		case ro.none():
			return key(workload.ReplicaSet, po.name), resolved
		default:
			return key(workload.ReplicaSet, po.name), replicaSetUnowned
		}
	case string(workload.Job):
		jo := o.jobs[in(po.name)]
		if jo.kind == string(workload.CronJob) {
			return key(workload.CronJob, jo.name), resolved
		}
		return key(workload.Job, po.name), resolved
	}
	if k, ok := workload.ParseKind(po.kind); ok {
		return key(k, po.name), resolved
	}
	return key(workload.Pod, pod), unknownOwnerKind
}
