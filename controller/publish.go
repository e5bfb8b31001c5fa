package controller

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

// ReasonChanged is the reason of the Event on a workload whose
// recommendation moved by more than the threshold.
const ReasonChanged = "RecommendationChanged"

// publish writes the plan: the metrics snapshot, one Recommendation per
// workload (server-side apply, metadata and spec, then status), Events for
// changes beyond the threshold, and the removal of Recommendations whose
// workload is gone. It returns the number of Recommendations written and
// goes on past a workload that fails.
func (l *leader) publish(ctx context.Context, plan workload.Plan, specs map[workload.Key]workload.Spec, now time.Time) (int, error) {
	o := l.c.o
	l.c.plans.Publish(plan)
	var errs []error
	n := 0
	current := make(map[workload.Key]bool, len(plan.Workloads))
	for _, wp := range plan.Workloads {
		current[wp.Key] = true
		rec := v1alpha1.FromPlan(wp, plan)
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("recommendation for %s: %w", wp.Key, err))
			continue
		}
		fp := fingerprint(rec)
		if w, ok := l.written[wp.Key]; ok && w.fingerprint == fp && now.Sub(w.at) < refresh {
			continue // the same recommendation: no write
		}
		if err := l.write(ctx, obj, rec); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		l.written[wp.Key] = written{fingerprint: fp, at: now}
		// Events compare with the plan of the last Event (or the first
		// publication), so that a drift in small steps is told too.
		if base, ok := l.baseline[wp.Key]; !ok {
			l.baseline[wp.Key] = wp
		} else if msg := changed(base, wp, o.EventThreshold); msg != "" {
			l.c.recorder.Event(workloadRef(wp.Key, specs[wp.Key].UID), corev1.EventTypeNormal, ReasonChanged, msg)
			l.log.Info("recommendation changed", "workload", wp.Key.String(), "change", msg)
			l.baseline[wp.Key] = wp
		}
	}
	for k := range l.written {
		if !current[k] {
			delete(l.written, k)
			delete(l.baseline, k)
		}
	}
	if err := l.removeStale(ctx, current); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// refresh is how often an unchanged Recommendation is written anyway, so
// that its generated time says the controller still stands by it.
const refresh = time.Hour

// written is what was last written for a workload.
type written struct {
	fingerprint [sha256.Size]byte
	at          time.Time
}

// fingerprint identifies what a Recommendation says that matters: the
// settings today and recommended, the QoS class, the HPA today and
// recommended, the notes, the columns kubectl shows and the conditions'
// states. What drifts every cycle as samples come in — sample counts,
// the exact confidence, the bounds, the reasons' figures, the replicas,
// the HPA's replay figures, the times — is left out: it is written with
// the next material change or the hourly refresh, not every cycle, so
// that a fleet's Recommendations are not rewritten every few minutes.
func fingerprint(rec v1alpha1.Recommendation) [sha256.Size]byte {
	st := rec.Status
	type container struct {
		Name                 string
		Init, Sidecar        bool
		Current, Recommended *v1alpha1.SettingsDocument
	}
	type condition struct{ Type, Status, Reason string }
	m := struct {
		Labels                                                      map[string]string
		Spec                                                        v1alpha1.RecommendationSpec
		Source, Profile, Target, CPUChange, MemoryChange, QoS, Conf string
		Critical                                                    bool
		WorkloadProfile                                             string
		QoSDoc                                                      v1alpha1.QoSDocument
		Notes                                                       []string
		Containers                                                  []container
		HPACurrent, HPARecommended                                  *v1alpha1.HPASpecDocument
		PodCPU                                                      string
		Conditions                                                  []condition
	}{Labels: rec.Labels, Spec: rec.Spec, Source: st.Source, Profile: st.Profile, Target: st.Target, CPUChange: st.CPUChange,
		MemoryChange: st.MemoryChange, QoS: st.QoS, Conf: st.Confidence,
		Critical: st.Workload.Critical, WorkloadProfile: st.Workload.Profile, QoSDoc: st.Workload.QoS, Notes: st.Workload.Notes}
	for _, c := range st.Workload.Containers {
		m.Containers = append(m.Containers, container{c.Name, c.Init, c.Sidecar, c.Current, c.Recommended})
	}
	if h := st.Workload.HPA; h != nil {
		m.HPACurrent, m.HPARecommended, m.PodCPU = h.Current, h.Recommended, h.PodCPU
	}
	for _, c := range st.Conditions {
		m.Conditions = append(m.Conditions, condition{c.Type, string(c.Status), c.Reason})
	}
	b, _ := json.Marshal(m)
	return sha256.Sum256(b)
}

// write applies the Recommendation's metadata and spec, then its status
// (a subresource, written apart).
func (l *leader) write(ctx context.Context, obj map[string]any, rec v1alpha1.Recommendation) error {
	u := &unstructured.Unstructured{Object: obj}
	status := u.Object["status"]
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	ns := l.c.dynamic.Resource(v1alpha1.GroupVersionResource).Namespace(rec.Namespace)
	if _, err := ns.Apply(ctx, rec.Name, u, opts); err != nil {
		return fmt.Errorf("writing Recommendation %s/%s: %w", rec.Namespace, rec.Name, err)
	}
	st := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": rec.APIVersion, "kind": rec.Kind,
		"metadata": map[string]any{"name": rec.Name, "namespace": rec.Namespace},
		"status":   status,
	}}
	if _, err := ns.ApplyStatus(ctx, rec.Name, st, opts); err != nil {
		return fmt.Errorf("writing the status of Recommendation %s/%s: %w", rec.Namespace, rec.Name, err)
	}
	return nil
}

// removeStale deletes the Recommendations this controller wrote for
// workloads no longer in the plan (deleted, or out of scope).
func (l *leader) removeStale(ctx context.Context, current map[workload.Key]bool) error {
	ns := ""
	if !l.c.o.Cluster.AllNamespaces {
		ns = l.c.o.Cluster.Namespace
		if ns == "" {
			ns = metav1.NamespaceDefault
		}
	}
	sel := labels.SelectorFromSet(labels.Set{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy}).String()
	list, err := l.c.dynamic.Resource(v1alpha1.GroupVersionResource).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("listing Recommendations: %w", err)
	}
	want := make(map[[2]string]bool, len(current))
	for k := range current {
		want[[2]string{k.Namespace, v1alpha1.Name(k)}] = true
	}
	var errs []error
	for _, u := range list.Items {
		if want[[2]string{u.GetNamespace(), u.GetName()}] {
			continue
		}
		err := l.c.dynamic.Resource(v1alpha1.GroupVersionResource).Namespace(u.GetNamespace()).Delete(ctx, u.GetName(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting Recommendation %s/%s: %w", u.GetNamespace(), u.GetName(), err))
			continue
		}
		l.log.Info("removed the Recommendation of a workload no longer planned", "recommendation", u.GetNamespace()+"/"+u.GetName())
	}
	return errors.Join(errs...)
}

// changed describes the containers whose recommended CPU or memory request
// moved by more than threshold (relative) since prev; "" when none did.
func changed(prev, cur workload.WorkloadPlan, threshold float64) string {
	before := map[string]workload.ContainerPlan{}
	for _, c := range prev.Containers {
		before[c.Name] = c
	}
	var parts []string
	for _, c := range cur.Containers {
		p, ok := before[c.Name]
		if !ok {
			continue
		}
		was, now := p.Recommendation, c.Recommendation
		if was.HasCPU && now.HasCPU && moved(float64(was.Target.Requests.CPU), float64(now.Target.Requests.CPU), threshold) {
			parts = append(parts, fmt.Sprintf("%s cpu request %s → %s (%s)", c.Name, was.Target.Requests.CPU, now.Target.Requests.CPU,
				percent(float64(was.Target.Requests.CPU), float64(now.Target.Requests.CPU))))
		}
		if was.HasMemory && now.HasMemory && moved(float64(was.Target.Requests.Memory), float64(now.Target.Requests.Memory), threshold) {
			parts = append(parts, fmt.Sprintf("%s memory request %s → %s (%s)", c.Name, mebibytes(was.Target.Requests.Memory), mebibytes(now.Target.Requests.Memory),
				percent(float64(was.Target.Requests.Memory), float64(now.Target.Requests.Memory))))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "recommendation changed: " + strings.Join(parts, ", ")
}

// mebibytes shows an amount of memory in Mi, as people read it.
func mebibytes(b workload.Bytes) string { return fmt.Sprintf("%.0fMi", b.MiB()) }

// percent is the relative change from was to now; "new" from nothing.
func percent(was, now float64) string {
	if was == 0 {
		return "new"
	}
	return fmt.Sprintf("%+.0f%%", (now-was)/was*100)
}

func moved(was, now, threshold float64) bool {
	if was == now {
		return false
	}
	if was == 0 {
		return true
	}
	return math.Abs(now-was)/was > threshold
}

// workloadRef is the Event's object: the workload, by kind, name and UID
// (so that `kubectl describe` finds the Event and a workload deleted and
// made again under the same name does not inherit it).
func workloadRef(k workload.Key, uid string) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: k.Kind.APIVersion(), Kind: string(k.Kind), Namespace: k.Namespace, Name: k.Name, UID: types.UID(uid)}
}
