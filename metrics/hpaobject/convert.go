package hpaobject

import (
	"fmt"
	"math"
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// The object's apiVersion and kind.
const (
	APIVersion = "autoscaling/v2"
	Kind       = "HorizontalPodAutoscaler"
)

// FromObject converts an autoscaling/v2 HPA. A missing minReplicas is 1
// and a scaling rule's missing fields take Kubernetes' defaults for the
// direction, as the API server fills them in; a missing selectPolicy stays
// empty, which means Max. notes name, one each, the parts workload.HPA
// cannot hold; the HPA's Unread carries them too, so that they reach the
// reasons wherever it goes. FromObject does not check the object: Read
// does.
func FromObject(h *autoscalingv2.HorizontalPodAutoscaler) (workload.HPA, []string) {
	if h == nil {
		return workload.HPA{}, []string{"no HorizontalPodAutoscaler"}
	}
	ref := h.Spec.ScaleTargetRef
	kind, ok := workload.ParseKind(ref.Kind)
	if !ok {
		kind = workload.Kind(ref.Kind)
	}
	out := workload.HPA{
		Name:        h.Name,
		Target:      workload.Key{Namespace: h.Namespace, Kind: kind, Name: ref.Name},
		MinReplicas: 1,
		MaxReplicas: int(h.Spec.MaxReplicas),
	}
	if h.Spec.MinReplicas != nil {
		out.MinReplicas = int(*h.Spec.MinReplicas)
	}
	if n := h.Status.CurrentReplicas; n > 0 {
		out.Replicas = int(n)
	}
	var notes []string
	for i, m := range h.Spec.Metrics {
		t, note := metricOf(m)
		if note != "" {
			notes = append(notes, fmt.Sprintf("spec.metrics[%d]: %s", i, note))
		}
		if t != nil {
			out.Metrics = append(out.Metrics, *t)
		}
	}
	if b := h.Spec.Behavior; b != nil {
		out.Behavior.ScaleUp = rulesOf(b.ScaleUp, workload.DefaultScaleUp, "spec.behavior.scaleUp", &notes)
		out.Behavior.ScaleDown = rulesOf(b.ScaleDown, workload.DefaultScaleDown, "spec.behavior.scaleDown", &notes)
	}
	out.Unread = notes
	return out, notes
}

// metricOf converts one metric; nil when it has no target workload.HPA can
// hold. The note says what was lost, or is empty.
func metricOf(m autoscalingv2.MetricSpec) (*workload.MetricTarget, string) {
	quote := func(s string) string { return untrusted.Quote(s, untrusted.MaxQuoted) }
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		var name corev1.ResourceName
		var target autoscalingv2.MetricTarget
		var note string
		switch {
		case m.Resource != nil && m.Type == autoscalingv2.ResourceMetricSourceType:
			name, target = m.Resource.Name, m.Resource.Target
		case m.ContainerResource != nil && m.Type == autoscalingv2.ContainerResourceMetricSourceType:
			name, target = m.ContainerResource.Name, m.ContainerResource.Target
			// Sizing reasons per pod; the target stays, its container
			// does not.
			note = fmt.Sprintf("the %s target of container %s is read as one on the pod", name, quote(m.ContainerResource.Container))
		default:
			return nil, fmt.Sprintf("type %s without its source", m.Type)
		}
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
			return nil, fmt.Sprintf("the target on resource %s is not kept: rightsize sizes cpu and memory", quote(string(name)))
		}
		t, tnote := targetOf(string(name), target)
		return t, join(note, tnote)
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			return nil, "type Pods without its source"
		}
		t, note := targetOf(m.Pods.Metric.Name, m.Pods.Target)
		if m.Pods.Metric.Selector != nil {
			note = join(note, fmt.Sprintf("the selector of Pods metric %s is not kept", quote(m.Pods.Metric.Name)))
		}
		return t, note
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			return nil, "type Object without its source"
		}
		o := m.Object
		t, note := targetOf(o.Metric.Name, o.Target)
		return t, join(fmt.Sprintf("Object metric %s of %s %s is read as a target on its name: the object and selector are not kept",
			quote(o.Metric.Name), quote(o.DescribedObject.Kind), quote(o.DescribedObject.Name)), note)
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			return nil, "type External without its source"
		}
		t, note := targetOf(m.External.Metric.Name, m.External.Target)
		return t, join(fmt.Sprintf("External metric %s is read as a target on its name: its source type and selector are not kept",
			quote(m.External.Metric.Name)), note)
	default:
		return nil, fmt.Sprintf("metric type %s is not kept", quote(string(m.Type)))
	}
}

// targetOf reads a metric target: the field its type names, else whichever
// is set.
func targetOf(name string, t autoscalingv2.MetricTarget) (*workload.MetricTarget, string) {
	util := func() (*workload.MetricTarget, string) {
		return &workload.MetricTarget{Resource: name, AverageUtilization: int(*t.AverageUtilization)}, ""
	}
	average := func() (*workload.MetricTarget, string) {
		return &workload.MetricTarget{Resource: name, AverageValue: t.AverageValue.String()}, ""
	}
	// A Value target is the metric's total, which an average target of the
	// same number does not equal; the number is kept, the note says so.
	value := func() (*workload.MetricTarget, string) {
		return &workload.MetricTarget{Resource: name, AverageValue: t.Value.String()},
			fmt.Sprintf("the Value target %s (a total) is read as an average value", t.Value.String())
	}
	switch {
	case t.Type == autoscalingv2.UtilizationMetricType && t.AverageUtilization != nil:
		return util()
	case t.Type == autoscalingv2.AverageValueMetricType && t.AverageValue != nil:
		return average()
	case t.Type == autoscalingv2.ValueMetricType && t.Value != nil:
		return value()
	case t.AverageUtilization != nil:
		return util()
	case t.AverageValue != nil:
		return average()
	case t.Value != nil:
		return value()
	}
	return nil, fmt.Sprintf("the target on %s has no value", untrusted.Quote(name, untrusted.MaxQuoted))
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// rulesOf converts one direction's rules; nil stays nil (the default).
func rulesOf(r *autoscalingv2.HPAScalingRules, def workload.ScalingRules, path string, notes *[]string) *workload.ScalingRules {
	if r == nil {
		return nil
	}
	out := workload.ScalingRules{StabilizationWindow: def.StabilizationWindow}
	if r.StabilizationWindowSeconds != nil {
		out.StabilizationWindow = time.Duration(*r.StabilizationWindowSeconds) * time.Second
	}
	if r.SelectPolicy != nil {
		out.Select = workload.SelectPolicy(*r.SelectPolicy)
	}
	for _, p := range r.Policies {
		out.Policies = append(out.Policies, workload.ScalingPolicy{
			Type: workload.PolicyType(p.Type), Value: int(p.Value), Period: time.Duration(p.PeriodSeconds) * time.Second,
		})
	}
	if len(out.Policies) == 0 {
		out.Policies = slices.Clone(def.Policies)
	}
	if r.Tolerance != nil {
		*notes = append(*notes, fmt.Sprintf("%s.tolerance %s is not kept: rightsize assumes the cluster's", path, r.Tolerance.String()))
	}
	return &out
}

// ToObject returns the autoscaling/v2 object for h: named h.Name, else
// after its workload, in the workload's namespace. cpu and memory targets
// become Resource metrics (Utilization, else AverageValue), any other a
// Pods metric with an AverageValue target; a target that has no such form
// (an unparsable value, a utilization on a Pods metric) is left out, which
// Validate reports. Behavior is written only for the rules h sets.
func ToObject(h workload.HPA) *autoscalingv2.HorizontalPodAutoscaler {
	name := h.Name
	if name == "" {
		name = h.Target.Name
	}
	minReplicas := clamp(h.MinReplicas)
	obj := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.Target.Namespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: h.Target.Kind.APIVersion(), Kind: string(h.Target.Kind), Name: h.Target.Name,
			},
			MinReplicas: &minReplicas,
			MaxReplicas: clamp(h.MaxReplicas),
		},
	}
	for _, m := range h.Metrics {
		if s, ok := metricSpec(m); ok {
			obj.Spec.Metrics = append(obj.Spec.Metrics, s)
		}
	}
	if up, down := h.Behavior.ScaleUp, h.Behavior.ScaleDown; up != nil || down != nil {
		obj.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rulesSpec(up), ScaleDown: rulesSpec(down)}
	}
	return obj
}

// metricSpec is the metric for one target, false when it has no form in
// autoscaling/v2.
func metricSpec(m workload.MetricTarget) (autoscalingv2.MetricSpec, bool) {
	var target autoscalingv2.MetricTarget
	switch {
	case m.AverageUtilization != 0 && isResource(m.Resource):
		u := clamp(m.AverageUtilization)
		target = autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}
	case m.AverageValue != "":
		q, err := resource.ParseQuantity(m.AverageValue)
		if err != nil {
			return autoscalingv2.MetricSpec{}, false
		}
		target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}
	default:
		return autoscalingv2.MetricSpec{}, false
	}
	if isResource(m.Resource) {
		return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceName(m.Resource), Target: target,
		}}, true
	}
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: m.Resource}, Target: target,
	}}, true
}

func isResource(name string) bool {
	return name == string(corev1.ResourceCPU) || name == string(corev1.ResourceMemory)
}

func rulesSpec(r *workload.ScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return nil
	}
	window := clamp(int(r.StabilizationWindow / time.Second))
	out := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window}
	if r.Select != "" {
		s := autoscalingv2.ScalingPolicySelect(r.Select)
		out.SelectPolicy = &s
	}
	for _, p := range r.Policies {
		out.Policies = append(out.Policies, autoscalingv2.HPAScalingPolicy{
			Type: autoscalingv2.HPAScalingPolicyType(p.Type), Value: clamp(p.Value), PeriodSeconds: clamp(int(p.Period / time.Second)),
		})
	}
	return out
}

// clamp converts to int32, saturating: a number out of range stays out
// of the range Validate allows rather than wrapping into it.
func clamp(n int) int32 {
	return int32(max(math.MinInt32, min(n, math.MaxInt32)))
}
