package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

// ApplyFieldManager names the controller in the managed fields of the
// workloads it writes: GitOps tools see who owns the resources it set.
const ApplyFieldManager = "rightsize"

// The reasons of the Events on a workload about applying.
const (
	EventApplied    = "RecommendationApplied"
	EventWouldApply = "RecommendationWouldApply"
	EventNotApplied = "RecommendationNotApplied"
	EventRolledBack = "RecommendationRolledBack"
	// EventResized: the kubelets run the values applied in place.
	EventResized = "RecommendationResized"
)

// Skip reasons the controller adds to apply's when it carries a decision
// out.
const (
	reasonConflict  = "conflict"
	reasonForbidden = "forbidden"
	reasonError     = "error"
	reasonGone      = "not-found"
	reasonPDB       = "disruption-budget"
	// In place: the kubelet has not yet resized every pod, says it
	// cannot now (PodResizePending) or failed to.
	reasonResizing      = "resizing"
	reasonResizePending = "resize-pending"
	reasonResizeError   = "resize-error"
)

// ApplyOptions say whether and how the controller writes recommendations
// into the workloads that opted in (apply.ModeOf).
type ApplyOptions struct {
	// Switch is --apply: off, dry-run (the default: say, write nothing)
	// or on.
	Switch apply.Switch
	Guards apply.Guards
	// Rate is how many applies the whole cluster takes within RatePer.
	Rate    int
	RatePer time.Duration
	// ForceConflicts takes the resources over from another field manager
	// (Argo CD, Flux, kubectl) instead of reporting the conflict.
	ForceConflicts bool
	// Watch is how long after an apply an OOM kill, a restart loop or a
	// readiness drop rolls it back.
	Watch time.Duration
}

// DefaultApplyOptions are the defaults of the apply flags.
var DefaultApplyOptions = ApplyOptions{Switch: apply.SwitchDryRun, Guards: apply.DefaultGuards, Rate: 10, RatePer: time.Hour, Watch: time.Hour}

// newApplyCounter registers rightsize_apply_total.
func newApplyCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rightsize_apply_total",
		Help: "Decisions about writing a recommendation into a workload, by result (applied, dry-run, skipped, failed, rolled-back, resized) and reason.",
	}, []string{"result", "reason"})
	return c, reg.Register(c)
}

// applier carries apply's decisions out for one term as leader.
type applier struct {
	l      *leader
	budget apply.Budget
	// told is the last decision told per workload, so that a decision
	// that stays the same is not an Event every cycle.
	told map[workload.Key]string
	// resizes says whether the server resizes pods in place; nil until
	// asked.
	resizes *bool
	// resized is, per workload, the in-place apply whose end was told
	// (RecommendationResized), so that it is told once.
	resized map[workload.Key]time.Time
	// conditions are the Applied conditions to write into the
	// Recommendations at the end of the cycle, the last per workload.
	conditions map[workload.Key]metav1.Condition
}

// ConditionApplied is the Recommendation's condition that says what last
// came of writing it into the workload: True once applied; False when
// rolled back, when a write failed, or in a dry run (what it would do).
const ConditionApplied = "Applied"

// event records an Event on the workload and, but for a guard rail's
// skip, the same as the Recommendation's Applied condition.
func (a *applier) event(k workload.Key, uid, eventType, reason, msg string) {
	a.l.c.recorder.Event(workloadRef(k, uid), eventType, reason, msg)
	if reason == EventNotApplied && eventType == corev1.EventTypeNormal {
		return // a guard rail's skip: the Event says it, the condition keeps the last outcome
	}
	status := metav1.ConditionFalse
	if reason == EventApplied || reason == EventResized {
		status = metav1.ConditionTrue
	}
	if a.conditions == nil {
		a.conditions = map[workload.Key]metav1.Condition{}
	}
	a.conditions[k] = metav1.Condition{Type: ConditionApplied, Status: status, Reason: strings.TrimPrefix(reason, "Recommendation"), Message: msg}
}

// writeConditions writes the cycle's Applied conditions into the
// Recommendations, as a field manager of their own: the plan's writes
// (which own the Recommended condition) leave them be.
func (a *applier) writeConditions(ctx context.Context, now time.Time) {
	for k, c := range a.conditions {
		c.LastTransitionTime = metav1.NewTime(now)
		if len(c.Message) > maxConditionMessage {
			c.Message = c.Message[:maxConditionMessage]
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": v1alpha1.Kind,
			"metadata": map[string]any{"name": v1alpha1.Name(k), "namespace": k.Namespace},
			"status": map[string]any{"conditions": []any{map[string]any{
				"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
				"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339)}}},
		}}
		_, err := a.l.c.dynamic.Resource(v1alpha1.GroupVersionResource).Namespace(k.Namespace).ApplyStatus(ctx, v1alpha1.Name(k), u,
			metav1.ApplyOptions{FieldManager: ApplyFieldManager, Force: true})
		if err != nil && !apierrors.IsNotFound(err) {
			a.l.log.Warn("writing the Applied condition", "workload", k.String(), "err", err)
		}
	}
	clear(a.conditions)
}

// maxConditionMessage is the CRD's bound of a condition's message.
const maxConditionMessage = 32768

// appliable are the kinds whose pod template the controller writes.
var appliable = []workload.Kind{workload.Deployment, workload.StatefulSet, workload.DaemonSet}

// run decides for every workload of the plan and, as the switch says,
// tells or writes. A workload that did not opt in is never read nor
// written: only counted.
func (a *applier) run(ctx context.Context, plan workload.Plan, inv *kube.Inventory, now time.Time) {
	o := a.l.c.o.Apply
	if o.Switch == apply.SwitchOff || o.Switch == "" {
		return
	}
	nsLabels := map[string]map[string]string{}
	defer a.writeConditions(ctx, now)
	defer a.forget(plan)
	for _, wp := range plan.Workloads {
		if ctx.Err() != nil {
			return
		}
		spec, ok := inv.Specs[wp.Key]
		if !ok || spec.Ignore || !slices.Contains(appliable, wp.Key.Kind) {
			continue // rightsize.dev/ignore wins over an opt-in
		}
		labels, known := nsLabels[wp.Key.Namespace]
		if !known {
			labels = a.namespaceLabels(ctx, wp.Key.Namespace)
			nsLabels[wp.Key.Namespace] = labels
		}
		mode, from, err := apply.ModeOf(spec.Annotations, labels)
		switch {
		case err != nil:
			a.tell(wp.Key, spec.UID, "skipped", apply.ReasonBadOptIn, corev1.EventTypeWarning, EventNotApplied, err.Error()+" (the "+from+"): left as it is")
			continue
		case mode == apply.ModeOff:
			a.count("skipped", apply.ReasonNotOptedIn)
			delete(a.told, wp.Key)
			continue
		}
		a.one(ctx, wp, spec, inv, now, mode)
	}
}

// forget drops what was told of workloads no longer planned (deleted, or
// out of scope), so that the map does not grow with churn.
func (a *applier) forget(plan workload.Plan) {
	planned := make(map[workload.Key]bool, len(plan.Workloads))
	for _, wp := range plan.Workloads {
		planned[wp.Key] = true
	}
	for k := range a.told {
		if !planned[k] {
			delete(a.told, k)
		}
	}
	for k := range a.resized {
		if !planned[k] {
			delete(a.resized, k)
		}
	}
}

// one decides for an opted-in workload from its live object and carries
// the decision out.
func (a *applier) one(ctx context.Context, wp workload.WorkloadPlan, spec workload.Spec, inv *kube.Inventory, now time.Time, mode apply.Mode) {
	o := a.l.c.o.Apply
	k := wp.Key
	lw, err := a.live(ctx, k)
	if err != nil {
		reason := reasonError
		if apierrors.IsNotFound(err) {
			reason = reasonGone
		}
		a.failed(k, spec.UID, reason, fmt.Sprintf("reading %s: %v", k, err))
		return
	}
	w := apply.Workload{Plan: withLive(wp, lw.template), Mode: apply.ModeAuto,
		Rolling: lw.rolling, Paused: lw.paused, Ready: lw.ready, Desired: lw.desired,
		HPAOnCPU: hpaOnCPU(inv.HPAs, k), Headroom: headroom(inv.Quotas, k.Namespace), Range: containerRange(inv.LimitRanges, k.Namespace)}
	w.VPAMode, w.VPA = vpaOf(inv.VPAs, wp)
	var last *apply.Record
	if v, ok := lw.annotations[apply.RecordKey]; ok {
		rec, err := apply.ParseRecord(v)
		if err != nil {
			// Someone edited it: the last apply is unknown, so wait
			// rather than guess.
			a.tell(k, spec.UID, "skipped", apply.ReasonCooldown, corev1.EventTypeWarning, EventNotApplied,
				fmt.Sprintf("the annotation of the last apply does not read (%v): not applying until it is removed or rewritten", err))
			return
		}
		last = &rec
		w.LastApplied, w.LastRolledBack = rec.At, rec.RolledBack
		if h := apply.Harmed(rec, a.kills(k, inv), a.loops(ctx, k, lw, inv, rec, now), lw.rolling, lw.ready, lw.desired, now, o.Watch); h != nil {
			a.rollback(ctx, k, spec.UID, lw, rec, *h, now, mode, inv)
			return
		}
	}
	if mode == apply.ModeInPlaceOnly {
		a.inPlace(ctx, w, wp, spec.UID, lw, last, inv, now)
		return
	}
	j := jointOf(wp)
	w.HPAJoint = w.HPAOnCPU && j.ok
	d := apply.Decide(w, o.Guards, now)
	hpa := j.with(&d, w)
	if !d.Apply {
		a.tell(k, spec.UID, "skipped", d.Reason, corev1.EventTypeNormal, EventNotApplied, d.Message)
		return
	}
	if o.Switch == apply.SwitchDryRun {
		a.tell(k, spec.UID, "dry-run", d.Reason, corev1.EventTypeNormal, EventWouldApply, "dry run, would apply: "+d.Message)
		return
	}
	if a.rateLimited(k, spec.UID, now) {
		return
	}
	if why := a.disruptionBudget(ctx, k, lw); why != "" {
		a.tell(k, spec.UID, "skipped", reasonPDB, corev1.EventTypeNormal, EventNotApplied, why)
		return
	}
	rec := apply.RecordOf(d.Changes, now)
	rec.HPA = hpa
	if err := a.writeJoint(ctx, k, hpa, func() error { return a.write(ctx, k, lw, d.Changes, rec) }); err != nil {
		a.writeFailed(k, spec.UID, err)
		return
	}
	a.budget.Take(now)
	a.told[k] = "" // a later skip is news
	a.count("applied", apply.ReasonApply)
	a.event(k, spec.UID, corev1.EventTypeNormal, EventApplied, "applied: "+d.Message)
	a.l.log.Info("applied", "workload", k.String(), "change", d.Message, "held", d.Held)
}

// rateLimited says, and tells, that the cluster's rate of applies is
// spent.
func (a *applier) rateLimited(k workload.Key, uid string, now time.Time) bool {
	if a.budget.Allow(now) {
		return false
	}
	o := a.l.c.o.Apply
	a.tell(k, uid, "skipped", apply.ReasonRateLimited, corev1.EventTypeNormal, EventNotApplied,
		fmt.Sprintf("the cluster's rate of %d applies per %s is spent; next at %s", o.Rate, o.RatePer, a.budget.Next(now).UTC().Format(time.RFC3339)))
	return true
}

// disruptionBudget says why a rollout should wait for the workload's
// PodDisruptionBudgets: one that selects its pods allows no disruption
// now. A rolling update does not ask the budget (only evictions do), so
// the controller does. "" when none holds it, or when the budgets cannot
// be read (said in the log: the rollout's own maxUnavailable still
// applies).
func (a *applier) disruptionBudget(ctx context.Context, k workload.Key, lw *liveWorkload) string {
	pdbs, err := a.l.c.kube.PolicyV1().PodDisruptionBudgets(k.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		a.l.log.Warn("reading the PodDisruptionBudgets", "namespace", k.Namespace, "err", err)
		return ""
	}
	for _, p := range pdbs.Items {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lw.podLabels)) {
			continue
		}
		if p.Status.ObservedGeneration >= p.Generation && p.Status.DisruptionsAllowed < 1 {
			return fmt.Sprintf("PodDisruptionBudget %s allows no disruption now (%d of %d pods healthy, %d desired): a rollout would take pods it protects",
				p.Name, p.Status.CurrentHealthy, p.Status.ExpectedPods, p.Status.DesiredHealthy)
		}
	}
	return ""
}

// kills are the OOM kills the pods' statuses show for the workload's
// containers.
func (a *applier) kills(k workload.Key, inv *kube.Inventory) []apply.Kill {
	var out []apply.Kill
	for _, o := range a.l.watcher.OOMKills() {
		if wk, ok := inv.Workload(o.Namespace, o.Pod); ok && wk == k {
			out = append(out, apply.Kill{Pod: o.Pod, Container: o.Container, At: o.At})
		}
	}
	return out
}

// loops are the workload's containers in CrashLoopBackOff now, read live
// only while an apply is watched.
func (a *applier) loops(ctx context.Context, k workload.Key, lw *liveWorkload, inv *kube.Inventory, rec apply.Record, now time.Time) []apply.Kill {
	if !rec.RolledBack.IsZero() || now.Sub(rec.At) > a.l.c.o.Apply.Watch {
		return nil
	}
	pods, err := a.pods(ctx, k, lw, inv)
	if err != nil {
		a.l.log.Warn("reading the pods of an applied workload", "workload", k.String(), "err", err)
		return nil
	}
	var out []apply.Kill
	for _, p := range pods {
		for _, st := range p.Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				out = append(out, apply.Kill{Pod: p.Name, Container: st.Name, At: now})
			}
		}
	}
	return out
}

// rollback writes back what the record says the containers had before the
// apply (memory only after an OOM kill), and records the rollback: the
// next apply waits for the rollback cooldown. It takes no share of the
// rate: undoing harm does not wait.
//
// In-place-only workloads are rolled back in place: the pods are resized
// back and the template, which the apply did not change, stays.
func (a *applier) rollback(ctx context.Context, k workload.Key, uid string, lw *liveWorkload, rec apply.Record, h apply.Harm, now time.Time, mode apply.Mode, inv *kube.Inventory) {
	spec := lw.template
	var pods []corev1.Pod
	if mode == apply.ModeInPlaceOnly {
		var err error
		if pods, err = a.pods(ctx, k, lw, inv); err != nil || len(pods) == 0 {
			a.failed(k, uid, reasonError, fmt.Sprintf("rolling back %s (%s): no running pod to resize (%v)", k, h.Why, err))
			return
		}
		spec = pods[0].Spec
	}
	live := func(name string) (workload.Settings, bool) {
		c, _ := rec.Container(name)
		return podContainer(spec, name, c.Sidecar)
	}
	undo := apply.Undo(rec, live, h)
	msg := h.Why + ": " + describe(undo)
	if a.l.c.o.Apply.Switch == apply.SwitchDryRun {
		a.tell(k, uid, "dry-run", h.Reason, corev1.EventTypeWarning, EventRolledBack, "dry run, would roll back: "+msg)
		return
	}
	rec.RolledBack, rec.Why = now.UTC().Truncate(time.Second), h.Why
	var err error
	if rec.HPA != nil && !h.MemoryOnly {
		err = a.writeHPA(ctx, k.Namespace, rec.HPA.Name, rec.HPA.From)
		msg += "; HPA " + rec.HPA.Name + " back to " + rec.HPA.From.String()
	}
	switch {
	case err != nil:
	case mode == apply.ModeInPlaceOnly:
		if _, err = a.recordInPlace(ctx, k, lw, undo, rec); err == nil {
			a.resizeTo(ctx, k, uid, pods, apply.RecordOf(undo, now).Containers, apply.SwitchOn)
		}
	default:
		err = a.write(ctx, k, lw, undo, rec)
	}
	if err != nil {
		a.failed(k, uid, reasonError, fmt.Sprintf("rolling back %s (%s): %v", k, h.Why, err))
		return
	}
	a.told[k] = ""
	a.count("rolled-back", h.Reason)
	a.event(k, uid, corev1.EventTypeWarning, EventRolledBack, "rolled back: "+msg)
	a.l.log.Warn("rolled back", "workload", k.String(), "why", h.Why, "change", describe(undo))
}

// describe says the changes as the Events do.
func describe(cs []apply.Change) string {
	if len(cs) == 0 {
		return "the settings are as before already"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// writeFailed tells a write to a workload that failed, by its cause.
func (a *applier) writeFailed(k workload.Key, uid string, err error) {
	switch {
	case apierrors.IsConflict(err):
		a.failed(k, uid, reasonConflict, fmt.Sprintf("another field manager owns the resources (give --force-conflicts to take them over): %v", err))
	case apierrors.IsForbidden(err):
		a.failed(k, uid, reasonForbidden, fmt.Sprintf("not allowed to write %s: is the apply role bound (deploy/controller/overlays/apply)? %v", k, err))
	default:
		a.failed(k, uid, reasonError, fmt.Sprintf("writing %s: %v", k, err))
	}
}

// tell counts a decision, and logs it and makes it an Event when it is not
// the one told last for the workload.
func (a *applier) tell(k workload.Key, uid, result, reason, eventType, eventReason, msg string) {
	a.count(result, reason)
	said := result + "/" + reason + "/" + msg
	if a.told[k] == said {
		return
	}
	a.told[k] = said
	a.event(k, uid, eventType, eventReason, msg)
	a.l.log.Info("apply "+result, "workload", k.String(), "reason", reason, "message", msg)
}

// failed tells a write or read that failed, as a warning.
func (a *applier) failed(k workload.Key, uid, reason, msg string) {
	a.count("failed", reason)
	said := "failed/" + reason
	if a.told[k] == said { // once per workload until it changes: no storm
		return
	}
	a.told[k] = said
	a.event(k, uid, corev1.EventTypeWarning, EventNotApplied, msg)
	a.l.log.Warn("apply failed", "workload", k.String(), "reason", reason, "err", msg)
}

func (a *applier) count(result, reason string) {
	a.l.c.applies.WithLabelValues(result, reason).Inc()
}

// namespaceLabels are a namespace's labels; none when it cannot be read
// (then only workload annotations opt in, and the log says why).
func (a *applier) namespaceLabels(ctx context.Context, ns string) map[string]string {
	n, err := a.l.c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		a.l.log.Warn("reading a namespace's opt-in label", "namespace", ns, "err", err)
		return nil
	}
	return n.Labels
}

// liveWorkload is what a decision needs of the workload as the server has
// it now, not as the informers last saw it.
type liveWorkload struct {
	obj         any // *appsv1.Deployment, StatefulSet or DaemonSet
	annotations map[string]string
	template    corev1.PodSpec
	podLabels   map[string]string
	rolling     bool
	// paused: a Deployment whose rollouts are paused takes no template
	// change until its owners resume it.
	paused         bool
	ready, desired int32
	// onDelete: a StatefulSet or DaemonSet that updates its pods only
	// when they are deleted. Its template can be written without a
	// rollout; pods of the old template are not a rollout under way.
	onDelete bool
	// running are its running pods once listed (pods): one list a
	// decision, however many steps look at them.
	running []corev1.Pod
	listed  bool
}

func (a *applier) live(ctx context.Context, k workload.Key) (*liveWorkload, error) {
	apps := a.l.c.kube.AppsV1()
	get := metav1.GetOptions{}
	switch k.Kind {
	case workload.Deployment:
		d, err := apps.Deployments(k.Namespace).Get(ctx, k.Name, get)
		if err != nil {
			return nil, err
		}
		desired, st := replicas(d.Spec.Replicas), d.Status
		return &liveWorkload{obj: d, annotations: d.Annotations, template: d.Spec.Template.Spec, podLabels: d.Spec.Template.Labels, paused: d.Spec.Paused,
			rolling: st.ObservedGeneration < d.Generation || st.UpdatedReplicas < desired || st.Replicas > st.UpdatedReplicas,
			ready:   st.ReadyReplicas, desired: desired}, nil
	case workload.StatefulSet:
		s, err := apps.StatefulSets(k.Namespace).Get(ctx, k.Name, get)
		if err != nil {
			return nil, err
		}
		desired, st := replicas(s.Spec.Replicas), s.Status
		onDelete := s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType
		return &liveWorkload{obj: s, annotations: s.Annotations, template: s.Spec.Template.Spec, podLabels: s.Spec.Template.Labels, onDelete: onDelete,
			rolling: st.ObservedGeneration < s.Generation || (!onDelete && (st.UpdatedReplicas < desired || st.CurrentRevision != st.UpdateRevision)),
			ready:   st.ReadyReplicas, desired: desired}, nil
	case workload.DaemonSet:
		ds, err := apps.DaemonSets(k.Namespace).Get(ctx, k.Name, get)
		if err != nil {
			return nil, err
		}
		st := ds.Status
		onDelete := ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType
		return &liveWorkload{obj: ds, annotations: ds.Annotations, template: ds.Spec.Template.Spec, podLabels: ds.Spec.Template.Labels, onDelete: onDelete,
			rolling: st.ObservedGeneration < ds.Generation || (!onDelete && st.UpdatedNumberScheduled < st.DesiredNumberScheduled),
			ready:   st.NumberReady, desired: st.DesiredNumberScheduled}, nil
	}
	return nil, fmt.Errorf("%s: the controller writes Deployments, StatefulSets and DaemonSets only", k)
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// write applies the changes and the record in one server-side apply: the
// fields this manager owns already (so that none is dropped) with the
// changed ones over them. Without changes it writes the record alone: no
// template change, no rollout.
func (a *applier) write(ctx context.Context, k workload.Key, lw *liveWorkload, changes []apply.Change, rec apply.Record) error {
	apps := a.l.c.kube.AppsV1()
	opts := metav1.ApplyOptions{FieldManager: ApplyFieldManager, Force: a.l.c.o.Apply.ForceConflicts}
	ann := map[string]string{apply.RecordKey: rec.Encode()}
	switch obj := lw.obj.(type) {
	case *appsv1.Deployment:
		ac, err := appsv1ac.ExtractDeployment(obj, ApplyFieldManager)
		if err != nil {
			return fmt.Errorf("the fields %s owns: %w", ApplyFieldManager, err)
		}
		if len(changes) > 0 {
			if ac.Spec == nil {
				ac.Spec = appsv1ac.DeploymentSpec()
			}
			ac.Spec.Template = withChanges(ac.Spec.Template, changes)
		}
		_, err = apps.Deployments(k.Namespace).Apply(ctx, ac.WithAnnotations(ann), opts)
		return err
	case *appsv1.StatefulSet:
		ac, err := appsv1ac.ExtractStatefulSet(obj, ApplyFieldManager)
		if err != nil {
			return fmt.Errorf("the fields %s owns: %w", ApplyFieldManager, err)
		}
		if len(changes) > 0 {
			if ac.Spec == nil {
				ac.Spec = appsv1ac.StatefulSetSpec()
			}
			ac.Spec.Template = withChanges(ac.Spec.Template, changes)
		}
		_, err = apps.StatefulSets(k.Namespace).Apply(ctx, ac.WithAnnotations(ann), opts)
		return err
	case *appsv1.DaemonSet:
		ac, err := appsv1ac.ExtractDaemonSet(obj, ApplyFieldManager)
		if err != nil {
			return fmt.Errorf("the fields %s owns: %w", ApplyFieldManager, err)
		}
		if len(changes) > 0 {
			if ac.Spec == nil {
				ac.Spec = appsv1ac.DaemonSetSpec()
			}
			ac.Spec.Template = withChanges(ac.Spec.Template, changes)
		}
		_, err = apps.DaemonSets(k.Namespace).Apply(ctx, ac.WithAnnotations(ann), opts)
		return err
	}
	return errors.New("not a kind the controller writes")
}

// withChanges sets the changed resources of each container on the
// template this manager owns: only values that change, or that it owns
// already, so that it claims no field it leaves as it was.
func withChanges(t *corev1ac.PodTemplateSpecApplyConfiguration, changes []apply.Change) *corev1ac.PodTemplateSpecApplyConfiguration {
	if t == nil {
		t = corev1ac.PodTemplateSpec()
	}
	if t.Spec == nil {
		t.Spec = corev1ac.PodSpec()
	}
	for _, ch := range changes {
		list := &t.Spec.Containers
		if ch.Sidecar {
			list = &t.Spec.InitContainers
		}
		i := slices.IndexFunc(*list, func(c corev1ac.ContainerApplyConfiguration) bool { return c.Name != nil && *c.Name == ch.Container })
		if i < 0 {
			*list = append(*list, *corev1ac.Container().WithName(ch.Container))
			i = len(*list) - 1
		}
		c := &(*list)[i]
		if c.Resources == nil {
			c.Resources = corev1ac.ResourceRequirements()
		}
		c.Resources.Requests = setAmounts(c.Resources.Requests, ch.From.Requests, ch.To.Requests)
		c.Resources.Limits = setAmounts(c.Resources.Limits, ch.From.Limits, ch.To.Limits)
	}
	return t
}

func setAmounts(owned *corev1.ResourceList, from, to workload.Resources) *corev1.ResourceList {
	l := corev1.ResourceList{}
	if owned != nil {
		l = owned.DeepCopy()
	}
	set := func(name corev1.ResourceName, was, now int64, q func(int64) *resource.Quantity) {
		_, mine := l[name]
		switch {
		case now <= 0:
			delete(l, name) // nothing to say: the owners' value stands
		case now != was || mine:
			l[name] = *q(now)
		}
	}
	set(corev1.ResourceCPU, int64(from.CPU), int64(to.CPU), func(v int64) *resource.Quantity { return resource.NewMilliQuantity(v, resource.DecimalSI) })
	set(corev1.ResourceMemory, int64(from.Memory), int64(to.Memory), func(v int64) *resource.Quantity { return resource.NewQuantity(v, resource.BinarySI) })
	if len(l) == 0 {
		return nil
	}
	return &l
}

// withLive is the plan with each container's settings as the live
// template has them: the decision steps from what runs, not from what the
// informers last saw.
func withLive(wp workload.WorkloadPlan, spec corev1.PodSpec) workload.WorkloadPlan {
	out := wp
	out.Containers = slices.Clone(wp.Containers)
	for i, c := range out.Containers {
		if cur, ok := podContainer(spec, c.Name, c.Init); ok {
			out.Containers[i].Current = cur
		}
	}
	return out
}

// podContainer is the settings of the container of that name among the
// pod spec's init containers (init) or its containers.
func podContainer(spec corev1.PodSpec, name string, init bool) (workload.Settings, bool) {
	list := spec.Containers
	if init {
		list = spec.InitContainers
	}
	i := slices.IndexFunc(list, func(c corev1.Container) bool { return c.Name == name })
	if i < 0 {
		return workload.Settings{}, false
	}
	return kube.Settings(list[i].Resources), true
}

// hpaOnCPU says whether an HPA scales the workload on CPU utilization.
func hpaOnCPU(hpas []workload.HPA, k workload.Key) bool {
	for _, h := range hpas {
		if h.Target == k && h.Metric("cpu") != nil {
			return true
		}
	}
	return false
}

// headroom is what the namespace's unscoped ResourceQuotas leave of
// requests (R14): the least over the quotas; nil without one.
func headroom(quotas []constraints.ResourceQuota, ns string) *workload.Resources {
	var h *workload.Resources
	for _, q := range quotas {
		if q.Namespace != ns || q.Scoped {
			continue
		}
		if h == nil {
			h = &workload.Resources{CPU: maxQuota, Memory: maxQuota}
		}
		if hard, ok := q.Hard[constraints.RequestsCPU]; ok {
			h.CPU = min(h.CPU, workload.Millicores(hard-q.Used[constraints.RequestsCPU]))
		}
		if hard, ok := q.Hard[constraints.RequestsMemory]; ok {
			h.Memory = min(h.Memory, workload.Bytes(hard-q.Used[constraints.RequestsMemory]))
		}
	}
	return h
}

// containerRange is what the namespace's LimitRanges allow a container
// (R13): the highest minimum and the lowest maximum over their Container
// items.
func containerRange(lrs []constraints.LimitRange, ns string) apply.Range {
	var r apply.Range
	tighten := func(lo, hi *int64, min, max int64) {
		if min > *lo {
			*lo = min
		}
		if max > 0 && (*hi == 0 || max < *hi) {
			*hi = max
		}
	}
	for _, lr := range lrs {
		if lr.Namespace != ns {
			continue
		}
		for _, it := range lr.Items {
			if it.Type != constraints.LimitContainer {
				continue
			}
			tighten((*int64)(&r.Min.CPU), (*int64)(&r.Max.CPU), int64(it.Min.CPU), int64(it.Max.CPU))
			tighten((*int64)(&r.Min.Memory), (*int64)(&r.Max.Memory), int64(it.Min.Memory), int64(it.Max.Memory))
		}
	}
	return r
}

// vpaOf is the update mode of the workload's VerticalPodAutoscaler ("" if
// none) and its allowed range per container: the container's own policy,
// else the "*" one (R15).
func vpaOf(vpas []constraints.VPA, wp workload.WorkloadPlan) (string, map[string]apply.Range) {
	for _, v := range vpas {
		if v.Target != wp.Key {
			continue
		}
		ranges := map[string]apply.Range{}
		for _, c := range wp.Containers {
			i := slices.IndexFunc(v.Policies, func(p constraints.VPAContainerPolicy) bool { return p.Container == c.Name })
			if i < 0 {
				i = slices.IndexFunc(v.Policies, func(p constraints.VPAContainerPolicy) bool { return p.Container == "*" })
			}
			if i >= 0 && !v.Policies[i].Off {
				ranges[c.Name] = apply.Range{Min: v.Policies[i].MinAllowed, Max: v.Policies[i].MaxAllowed}
			}
		}
		return v.UpdateMode, ranges
	}
	return "", nil
}

// maxQuota stands for a resource no quota caps.
const maxQuota = 1 << 62
