package controller

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/recommender/workload"
)

// jointHPA is the HPA to write with a CPU request it scales on (R10): the
// plan's recommended HPA for the workload's HPA, where the request was
// sized with it (PodCPU) and both scale on CPU utilization alone — the
// only metric list the controller replaces without guessing another
// metric's source. ok is false, with why, otherwise.
func jointHPA(wp workload.WorkloadPlan) (h apply.RecordedHPA, ok bool, why string) {
	a := wp.Autoscaling
	switch {
	case a == nil || a.Current == nil || a.Recommended == nil:
		return h, false, "no HPA recommended with it"
	case a.PodCPU <= 0:
		return h, false, "the request was not sized with the HPA (too little history)"
	case len(a.Current.Metrics) != 1 || a.Current.Utilization("cpu") <= 0 || len(a.Recommended.Metrics) != 1 || a.Recommended.Utilization("cpu") <= 0:
		return h, false, "the HPA scales on more than CPU utilization"
	case a.Current.Name == "":
		return h, false, "the HPA has no name"
	}
	settings := func(x *workload.HPA) apply.HPASettings {
		return apply.HPASettings{MinReplicas: int32(max(x.MinReplicas, 1)), MaxReplicas: int32(x.MaxReplicas), CPUUtilization: int32(x.Utilization("cpu"))}
	}
	return apply.RecordedHPA{Name: a.Current.Name, From: settings(a.Current), To: settings(a.Recommended)}, true, ""
}

// joint is jointHPA's answer for one decision.
type joint struct {
	hpa apply.RecordedHPA
	ok  bool
	why string
}

func jointOf(wp workload.WorkloadPlan) joint {
	h, ok, why := jointHPA(wp)
	return joint{h, ok, why}
}

// with is the HPA to write with the decision's changes (R10), nil when
// none is: the workload's HPA scales on CPU, its recommendation was made
// with the request, and the step moves a CPU request. The decision's
// message says it, or why a CPU request waits.
func (j joint) with(d *apply.Decision, w apply.Workload) *apply.RecordedHPA {
	if w.HPAOnCPU && !j.ok {
		d.Message += " (HPA " + j.why + ")"
	}
	h := j.hpa
	if !w.HPAJoint || !j.ok || !cpuChanged(d.Changes) || h.From == h.To {
		return nil
	}
	d.Message += "; HPA " + h.Name + " " + h.From.String() + " → " + h.To.String() + " (R10: chosen with the request)"
	return &h
}

// writeJoint writes the HPA, when there is one, and then the rest: the
// HPA first, since a request cut under the old target would make it scale
// out until the new target is there. When the rest fails the HPA is
// written back: not half.
func (a *applier) writeJoint(ctx context.Context, k workload.Key, hpa *apply.RecordedHPA, rest func() error) error {
	if hpa != nil {
		if err := a.writeHPA(ctx, k.Namespace, hpa.Name, hpa.To); err != nil {
			return err
		}
	}
	err := rest()
	if err != nil && hpa != nil {
		if herr := a.writeHPA(ctx, k.Namespace, hpa.Name, hpa.From); herr != nil {
			a.l.log.Error("the HPA written with a request that failed could not be written back", "workload", k.String(), "hpa", hpa.Name, "err", herr)
		}
	}
	return err
}

// writeHPA writes an HPA's replica bounds and CPU target by server-side
// apply, field manager rightsize.
func (a *applier) writeHPA(ctx context.Context, ns string, name string, s apply.HPASettings) error {
	ac := autoscalingv2ac.HorizontalPodAutoscaler(name, ns).WithSpec(autoscalingv2ac.HorizontalPodAutoscalerSpec().
		WithMinReplicas(s.MinReplicas).WithMaxReplicas(s.MaxReplicas).
		WithMetrics(autoscalingv2ac.MetricSpec().WithType(autoscalingv2.ResourceMetricSourceType).
			WithResource(autoscalingv2ac.ResourceMetricSource().WithName(corev1.ResourceCPU).
				WithTarget(autoscalingv2ac.MetricTarget().WithType(autoscalingv2.UtilizationMetricType).WithAverageUtilization(s.CPUUtilization)))))
	_, err := a.l.c.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Apply(ctx, ac,
		metav1.ApplyOptions{FieldManager: ApplyFieldManager, Force: a.l.c.o.Apply.ForceConflicts})
	if err != nil {
		return fmt.Errorf("HPA %s/%s: %w", ns, name, err)
	}
	return nil
}

// cpuChanged says whether a change moves a CPU request.
func cpuChanged(cs []apply.Change) bool {
	for _, c := range cs {
		if c.To.Requests.CPU != c.From.Requests.CPU {
			return true
		}
	}
	return false
}
