package kube

import (
	"maps"
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podInfo is what an inventory reads of a pod. The Watcher's cache keeps
// pods in this form, about an eighth of a decoded Pod (a corev1.Pod struct
// alone is over 1 KiB before any of its maps, slices and strings), and
// Discover converts the pods it lists to it page by page.
type podInfo struct {
	// ObjectMeta holds the name, the namespace, the resource version and
	// the controller's reference; for a pod without a controller (or a
	// mirror pod, owned by its Node), whose spec comes from the pod, also
	// its labels and annotations. It makes a podInfo a metav1.Object, which
	// the informer's keys are made of.
	metav1.ObjectMeta
	// templateHash is the pod-template-hash label: a pod finds its
	// Deployment by it when the ReplicaSets cannot be listed.
	templateHash string
	// spec is the part of the pod's spec specOf reads (slimSpec),
	// protobuf-encoded and interned: the pods of one ReplicaSet share one
	// copy, and it is decoded only for the pods a workload's spec comes
	// from (bare pods and those of controllers not listed).
	spec unique.Handle[string]
	// ooms are the containers whose last termination was an OOM kill.
	ooms []oomStatus
}

// oomStatus is a container's last OOM kill, as its pod's status tells it.
type oomStatus struct {
	container string
	restarts  int32
	at        time.Time
}

// controllerKinds are the owner kinds whose strings a podInfo shares
// rather than keeping the decoded copy.
var controllerKinds = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Node"} {
		m[k] = k
	}
	return m
}()

var isController = true

// podInfoOf keeps of p what an inventory reads: see podInfo.
func podInfoOf(p *corev1.Pod) *podInfo {
	out := &podInfo{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion},
		templateHash: p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]}
	ref := metav1.GetControllerOf(p)
	if ref != nil {
		kind := ref.Kind
		if k, ok := controllerKinds[kind]; ok {
			kind = k
		}
		out.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: ref.Name, Controller: &isController}}
	}
	if ref == nil || ref.Kind == "Node" {
		out.Labels, out.Annotations = p.Labels, withoutLastApplied(p.Annotations)
	}
	out.spec = internSpec(slimSpec(&p.Spec))
	for _, cs := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, c := range cs {
			if t := c.LastTerminationState.Terminated; t != nil && t.Reason == reasonOOMKilled {
				out.ooms = append(out.ooms, oomStatus{container: c.Name, restarts: c.RestartCount, at: t.FinishedAt.Time})
			}
		}
	}
	return out
}

// podSpec decodes the pod's spec as slimSpec kept it.
func (p *podInfo) podSpec() corev1.PodSpec {
	var s corev1.PodSpec
	// The bytes are slimSpec's own encoding: they decode.
	_ = s.Unmarshal([]byte(p.spec.Value()))
	return s
}

// internSpec encodes a spec and interns the encoding.
func internSpec(s corev1.PodSpec) unique.Handle[string] {
	b, err := s.Marshal()
	if err != nil { // only for values no decoded pod holds
		b = nil
	}
	return unique.Make(string(b))
}

// slimSpec keeps of a pod spec what specOf and detectJVM read: the
// priority class and, of each container, its name, image, command, args,
// the environment variables that carry JVM options (their literal values),
// resources and restart policy.
func slimSpec(s *corev1.PodSpec) corev1.PodSpec {
	return corev1.PodSpec{PriorityClassName: s.PriorityClassName,
		InitContainers: slimContainers(s.InitContainers), Containers: slimContainers(s.Containers)}
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		var env []corev1.EnvVar
		for _, e := range c.Env {
			if jvmOptionsVar(e.Name) && e.Value != "" {
				env = append(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
			}
		}
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args, Env: env,
			Resources:     corev1.ResourceRequirements{Requests: c.Resources.Requests, Limits: c.Resources.Limits},
			RestartPolicy: c.RestartPolicy}
	}
	return out
}

// withoutLastApplied returns the annotations but kubectl's copy of the
// applied manifest, often the largest part of an object and never read
// here; m itself is left alone.
func withoutLastApplied(m map[string]string) map[string]string {
	if _, ok := m[corev1.LastAppliedConfigAnnotation]; !ok {
		return m
	}
	m = maps.Clone(m)
	delete(m, corev1.LastAppliedConfigAnnotation)
	return m
}
