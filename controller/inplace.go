package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/workload"
)

// reasonInPlace counts pods resized to complete an in-place apply (pods
// started since from the unchanged template, or left by a leader that
// stopped half-way).
const reasonInPlace = "in-place"

// resizable says whether the server resizes running pods: it serves the
// pods/resize subresource (Kubernetes 1.33 and later, or earlier with the
// InPlacePodVerticalScaling gate). Asked once a term.
func (a *applier) resizable(ctx context.Context) bool {
	if a.resizes == nil {
		rl, err := a.l.c.kube.Discovery().ServerResourcesForGroupVersion("v1")
		if err != nil {
			a.l.log.Warn("asking the server whether it resizes pods in place", "err", err)
			return false // asked again next time
		}
		ok := slices.ContainsFunc(rl.APIResources, func(r metav1.APIResource) bool { return r.Name == "pods/resize" })
		a.resizes = &ok
		a.l.log.Info("in-place resize", "served", ok)
	}
	return *a.resizes
}

// pods are the workload's running pods, as the server has them now,
// listed once for lw.
func (a *applier) pods(ctx context.Context, k workload.Key, lw *liveWorkload, inv *kube.Inventory) ([]corev1.Pod, error) {
	if lw.listed {
		return lw.running, nil
	}
	var sel *metav1.LabelSelector
	switch o := lw.obj.(type) {
	case *appsv1.Deployment:
		sel = o.Spec.Selector
	case *appsv1.StatefulSet:
		sel = o.Spec.Selector
	case *appsv1.DaemonSet:
		sel = o.Spec.Selector
	}
	if sel == nil {
		return nil, fmt.Errorf("%s has no selector", k)
	}
	l, err := a.l.c.kube.CoreV1().Pods(k.Namespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(sel)})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", k, err)
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if wk, ok := inv.Workload(p.Namespace, p.Name); ok && wk == k && p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	lw.running, lw.listed = out, true
	return out, nil
}

// inPlace is the in-place-only path: running pods are resized through
// pods/resize, the template stays (no rollout) but where it updates pods
// on delete (recordInPlace), and the workload carries the record. The record is written first: a pod that is not at the
// record's values (started since from the template, or left by a leader
// that stopped half-way) is resized to them at once, cooldown or not —
// that completes the apply, it is not a new one. Until the kubelets run
// the new values no new step is taken (resizing).
//
// w is the workload as the template path sees it; here it steps from the
// pods' values, in place, and a paused rollout does not matter. A CPU
// request an HPA scales on moves with its HPA (R10), the HPA first.
func (a *applier) inPlace(ctx context.Context, w apply.Workload, wp workload.WorkloadPlan, uid string, lw *liveWorkload, rec *apply.Record, inv *kube.Inventory, now time.Time) {
	o := a.l.c.o.Apply
	k := wp.Key
	if !a.resizable(ctx) {
		a.tell(k, uid, "skipped", apply.ReasonNoInPlace, corev1.EventTypeNormal, EventNotApplied,
			"in-place-only, and the server does not resize pods in place (no pods/resize): left as it is")
		return
	}
	pods, err := a.pods(ctx, k, lw, inv)
	if err != nil || len(pods) == 0 {
		if err == nil {
			err = fmt.Errorf("no running pod")
		}
		a.failed(k, uid, reasonError, err.Error())
		return
	}
	if rec != nil && rec.RolledBack.IsZero() {
		if n := a.resizeTo(ctx, k, uid, pods, rec.Containers, o.Switch); n > 0 {
			if o.Switch == apply.SwitchDryRun {
				a.tell(k, uid, "dry-run", reasonInPlace, corev1.EventTypeNormal, EventWouldApply,
					fmt.Sprintf("dry run, would resize %d pods to the last apply's values", n))
				return
			}
			a.told[k] = ""
			a.count("applied", reasonInPlace)
			a.event(k, uid, corev1.EventTypeNormal, EventApplied, fmt.Sprintf("resized %d pods to the last apply's values", n))
			a.l.log.Info("resized pods to the last apply's values", "workload", k.String(), "pods", n)
			return
		}
	}
	if a.resizing(k, uid, pods, rec) {
		return
	}
	// Decide from what the pods run: the template has not moved.
	w.Plan, w.Mode, w.InPlace, w.Paused = withLive(wp, pods[0].Spec), apply.ModeInPlaceOnly, true, false
	j := jointOf(wp)
	w.HPAJoint = w.HPAOnCPU && j.ok
	d := apply.Decide(w, o.Guards, now)
	var held []string
	d.Changes, held = restartFree(d.Changes, pods[0].Spec)
	d.Held = append(d.Held, held...)
	if d.Apply && len(d.Changes) == 0 {
		d.Apply, d.Reason, d.Message = false, apply.ReasonNothingToDo, "nothing resizes in place: "+strings.Join(held, ", ")
	}
	hpa := j.with(&d, w)
	if !d.Apply {
		a.tell(k, uid, "skipped", d.Reason, corev1.EventTypeNormal, EventNotApplied, d.Message)
		return
	}
	if o.Switch == apply.SwitchDryRun {
		a.tell(k, uid, "dry-run", d.Reason, corev1.EventTypeNormal, EventWouldApply,
			fmt.Sprintf("dry run, would resize %d pods in place: %s", len(pods), d.Message))
		return
	}
	if a.rateLimited(k, uid, now) {
		return
	}
	r := apply.RecordOf(d.Changes, now)
	r.HPA = hpa
	var note string
	if err := a.writeJoint(ctx, k, hpa, func() (err error) { note, err = a.recordInPlace(ctx, k, lw, d.Changes, r); return err }); err != nil {
		a.writeFailed(k, uid, err)
		return
	}
	d.Message += note
	a.budget.Take(now)
	n := a.resizeTo(ctx, k, uid, pods, r.Containers, o.Switch)
	if n == 0 {
		return // each refusal told; the record's values are tried again next cycle
	}
	a.told[k] = ""
	a.count("applied", apply.ReasonApply)
	msg := fmt.Sprintf("resized %d of %d pods in place: %s", n, len(pods), d.Message)
	a.event(k, uid, corev1.EventTypeNormal, EventApplied, msg)
	a.l.log.Info("applied in place", "workload", k.String(), "pods", n, "change", d.Message, "held", d.Held)
}

// recordInPlace writes the record of an in-place apply and, where that
// rolls nothing out (a StatefulSet or DaemonSet that updates on delete),
// the template's changes with it, so that pods started later start at the
// new values. When another field manager owns the template's resources
// (and --force-conflicts is not given) the record is written alone and the
// note says so: the controller resizes pods started later itself, as it
// does for a Deployment, whose template cannot change without a rollout.
func (a *applier) recordInPlace(ctx context.Context, k workload.Key, lw *liveWorkload, changes []apply.Change, rec apply.Record) (note string, err error) {
	if !lw.onDelete {
		return "", a.write(ctx, k, lw, nil, rec)
	}
	err = a.write(ctx, k, lw, changes, rec)
	if err == nil {
		return "; the template too (it updates pods on delete: no rollout)", nil
	}
	if !apierrors.IsConflict(err) {
		return "", err
	}
	if err := a.write(ctx, k, lw, nil, rec); err != nil {
		return "", err
	}
	return "; the template's resources are another field manager's: left, pods started later are resized to these values", nil
}

// restartFree keeps the changes a running container takes without a
// restart: a resource whose resizePolicy is RestartContainer stays (a
// sidecar's too: restartable init containers resize in place as the
// others do).
func restartFree(cs []apply.Change, spec corev1.PodSpec) (keep []apply.Change, held []string) {
	for _, ch := range cs {
		list := spec.Containers
		if ch.Sidecar {
			list = spec.InitContainers
		}
		i := slices.IndexFunc(list, func(c corev1.Container) bool { return c.Name == ch.Container })
		if i < 0 {
			continue
		}
		for _, p := range list[i].ResizePolicy {
			if p.RestartPolicy != corev1.RestartContainer {
				continue
			}
			switch p.ResourceName {
			case corev1.ResourceCPU:
				ch.To.Requests.CPU, ch.To.Limits.CPU = ch.From.Requests.CPU, ch.From.Limits.CPU
			case corev1.ResourceMemory:
				ch.To.Requests.Memory, ch.To.Limits.Memory = ch.From.Requests.Memory, ch.From.Limits.Memory
			}
			held = append(held, fmt.Sprintf("%s: %s resize restarts the container (resizePolicy), left", ch.Container, p.ResourceName))
		}
		if ch.To != ch.From {
			keep = append(keep, ch)
		}
	}
	return keep, held
}

// resizeTo patches each pod whose containers differ from the recorded
// values through pods/resize; it returns how many it resized. Pods the
// server refuses are told (a resize it cannot take is refused at once,
// e.g. a memory limit below what the container uses, or a QoS class
// change).
func (a *applier) resizeTo(ctx context.Context, k workload.Key, uid string, pods []corev1.Pod, want []apply.RecordedContainer, sw apply.Switch) int {
	n := 0
	for _, p := range pods {
		patch := resizePatch(p.Spec, want)
		if patch == nil {
			continue
		}
		if sw == apply.SwitchDryRun {
			n++
			continue
		}
		_, err := a.l.c.kube.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch,
			metav1.PatchOptions{FieldManager: ApplyFieldManager}, "resize")
		if err != nil {
			if apierrors.IsForbidden(err) {
				a.failed(k, uid, reasonForbidden, fmt.Sprintf("not allowed to resize pod %s: is the apply role bound (deploy/controller/overlays/apply)? %v", p.Name, err))
				return n
			}
			a.failed(k, uid, reasonError, fmt.Sprintf("resizing pod %s: %v", p.Name, err))
			continue
		}
		n++
	}
	return n
}

// resizePatch is the strategic-merge patch that takes the pod's containers
// to the recorded values; nil when they are there.
func resizePatch(spec corev1.PodSpec, want []apply.RecordedContainer) []byte {
	type resources struct {
		Requests corev1.ResourceList `json:"requests,omitempty"`
		Limits   corev1.ResourceList `json:"limits,omitempty"`
	}
	type container struct {
		Name      string    `json:"name"`
		Resources resources `json:"resources"`
	}
	var cs, init []container
	for _, w := range want {
		cur, ok := podContainer(spec, w.Name, w.Sidecar)
		if !ok || cur == w.To {
			continue
		}
		c := container{Name: w.Name}
		if l := setAmounts(nil, cur.Requests, w.To.Requests); l != nil {
			c.Resources.Requests = *l
		}
		if l := setAmounts(nil, cur.Limits, w.To.Limits); l != nil {
			c.Resources.Limits = *l
		}
		if len(c.Resources.Requests)+len(c.Resources.Limits) == 0 {
			continue
		}
		if w.Sidecar {
			init = append(init, c)
		} else {
			cs = append(cs, c)
		}
	}
	if len(cs)+len(init) == 0 {
		return nil
	}
	podSpec := map[string]any{}
	if len(cs) > 0 {
		podSpec["containers"] = cs
	}
	if len(init) > 0 {
		podSpec["initContainers"] = init
	}
	b, _ := json.Marshal(map[string]any{"spec": podSpec})
	return b
}

// resizeProgress is where the kubelet is with a pod's last resize.
type resizeProgress int

const (
	// resizeUnknown: the pod's status does not say (no container reports
	// its resources).
	resizeUnknown resizeProgress = iota
	resizeDone
	resizeInProgress
	// resizePending: PodResizePending, Infeasible (never on this node)
	// or Deferred (not now).
	resizePending
	// resizeFailed: PodResizeInProgress with reason Error.
	resizeFailed
)

// podResize says where the kubelet is with the pod's resize, and why when
// it waits or failed: its conditions first, then whether each running
// container's resources in the status (what the kubelet actuated) are
// those of the spec.
func podResize(p corev1.Pod) (resizeProgress, string) {
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case corev1.PodResizePending:
			return resizePending, fmt.Sprintf("pod %s: resize %s: %s", p.Name, strings.ToLower(c.Reason), c.Message)
		case corev1.PodResizeInProgress:
			if c.Reason == corev1.PodReasonError {
				return resizeFailed, fmt.Sprintf("pod %s: the kubelet failed to resize: %s", p.Name, c.Message)
			}
			return resizeInProgress, ""
		}
	}
	known := false
	for _, l := range [...]struct {
		spec []corev1.Container
		st   []corev1.ContainerStatus
	}{{p.Spec.Containers, p.Status.ContainerStatuses}, {p.Spec.InitContainers, p.Status.InitContainerStatuses}} {
		for _, c := range l.spec {
			i := slices.IndexFunc(l.st, func(s corev1.ContainerStatus) bool { return s.Name == c.Name })
			if i < 0 || l.st[i].Resources == nil || l.st[i].State.Running == nil {
				continue // not running (an init container done), or not said
			}
			known = true
			if !actuated(kube.Settings(c.Resources), kube.Settings(*l.st[i].Resources)) {
				return resizeInProgress, ""
			}
		}
	}
	if !known {
		return resizeUnknown, ""
	}
	return resizeDone, ""
}

// actuated says whether what a container runs is what its spec asks, up to
// the rounding a runtime may do (within 1 %, or 2m of CPU): far below the
// smallest change the controller makes, so an apply not yet actuated is
// never taken for one that is.
func actuated(want, got workload.Settings) bool {
	near := func(a, b, abs int64) bool {
		d := a - b
		if d < 0 {
			d = -d
		}
		return d <= abs || d*100 <= max(a, b)
	}
	return near(int64(want.Requests.CPU), int64(got.Requests.CPU), 2) && near(int64(want.Limits.CPU), int64(got.Limits.CPU), 2) &&
		near(int64(want.Requests.Memory), int64(got.Requests.Memory), 0) && near(int64(want.Limits.Memory), int64(got.Limits.Memory), 0)
}

// resizing tells where the kubelets are with the workload's last resize
// and says whether one is still under way — a failed, pending or
// unfinished resize holds the next step as a rollout does. Once every pod
// that says runs the record's values, that is told once a term (an Event
// RecommendationResized, and the Applied condition).
func (a *applier) resizing(k workload.Key, uid string, pods []corev1.Pod, rec *apply.Record) bool {
	done, busy := 0, 0
	for _, p := range pods {
		switch st, why := podResize(p); st {
		case resizeFailed:
			a.failed(k, uid, reasonResizeError, why)
			return true
		case resizePending:
			a.tell(k, uid, "skipped", reasonResizePending, corev1.EventTypeWarning, EventNotApplied, why+": no new step until it is done")
			return true
		case resizeInProgress:
			busy++
		case resizeDone:
			done++
		}
	}
	if busy > 0 {
		a.tell(k, uid, "skipped", reasonResizing, corev1.EventTypeNormal, EventNotApplied,
			fmt.Sprintf("%d of %d pods not yet running their resized values: no new step until they do", busy, len(pods)))
		return true
	}
	if rec != nil && rec.RolledBack.IsZero() && done > 0 && !a.resized[k].Equal(rec.At) {
		if a.resized == nil {
			a.resized = map[workload.Key]time.Time{}
		}
		a.resized[k] = rec.At
		a.count("resized", reasonInPlace)
		msg := fmt.Sprintf("resized in place: the kubelet runs the applied values in %d of %d pods", done, len(pods))
		a.event(k, uid, corev1.EventTypeNormal, EventResized, msg)
		a.l.log.Info("resized in place", "workload", k.String(), "pods", done)
	}
	return false
}
