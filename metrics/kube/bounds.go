package kube

import (
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/workload"
)

func limitRangeOf(lr *corev1.LimitRange) constraints.LimitRange {
	out := constraints.LimitRange{Namespace: lr.Namespace, Name: lr.Name}
	for _, it := range lr.Spec.Limits {
		var t constraints.LimitType
		switch it.Type {
		case corev1.LimitTypeContainer:
			t = constraints.LimitContainer
		case corev1.LimitTypePod:
			t = constraints.LimitPod
		default:
			continue // PersistentVolumeClaim items bound storage, not us
		}
		out.Items = append(out.Items, constraints.LimitItem{
			Type:           t,
			Min:            resourcesOf(it.Min),
			Max:            resourcesOf(it.Max),
			Default:        resourcesOf(it.Default),
			DefaultRequest: resourcesOf(it.DefaultRequest),
			MaxLimitRequestRatio: constraints.Ratios{
				CPU:    ratioOf(it.MaxLimitRequestRatio, corev1.ResourceCPU),
				Memory: ratioOf(it.MaxLimitRequestRatio, corev1.ResourceMemory),
			},
		})
	}
	return out
}

func ratioOf(rl corev1.ResourceList, name corev1.ResourceName) float64 {
	if q, ok := rl[name]; ok {
		return q.AsApproximateFloat64()
	}
	return 0
}

// quotaNames maps a quota's resource names to the ones checked; "cpu" and
// "memory" in a quota mean the requests.
var quotaNames = map[corev1.ResourceName]constraints.QuotaResource{
	corev1.ResourceCPU:            constraints.RequestsCPU,
	corev1.ResourceRequestsCPU:    constraints.RequestsCPU,
	corev1.ResourceMemory:         constraints.RequestsMemory,
	corev1.ResourceRequestsMemory: constraints.RequestsMemory,
	corev1.ResourceLimitsCPU:      constraints.LimitsCPU,
	corev1.ResourceLimitsMemory:   constraints.LimitsMemory,
}

func quotaOf(q *corev1.ResourceQuota) constraints.ResourceQuota {
	amounts := func(rl corev1.ResourceList) map[constraints.QuotaResource]int64 {
		m := map[constraints.QuotaResource]int64{}
		for n, v := range rl {
			r, ok := quotaNames[n]
			if !ok {
				continue
			}
			if r == constraints.RequestsCPU || r == constraints.LimitsCPU {
				m[r] = v.MilliValue()
			} else {
				m[r] = v.Value()
			}
		}
		return m
	}
	return constraints.ResourceQuota{
		Namespace: q.Namespace, Name: q.Name,
		Hard: amounts(q.Spec.Hard), Used: amounts(q.Status.Used),
		Scoped: len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil,
	}
}

// hpaOf reads an HPA whole: bounds, every metric's target and the
// behavior. What workload.HPA cannot hold (a metric's source type or
// selector) is left out and noted in its Unread; the metric's name and
// target stay.
func hpaOf(h *autoscalingv2.HorizontalPodAutoscaler) workload.HPA {
	out, _ := hpaobject.FromObject(h)
	return out
}

func targetKey(ns, kind, name string) workload.Key {
	k, ok := workload.ParseKind(kind)
	if !ok {
		k = workload.Kind(kind)
	}
	return workload.Key{Namespace: ns, Kind: k, Name: name}
}

// vpaOf reads the fields of a VerticalPodAutoscaler that bound a
// recommendation; malformed fields are skipped, not fatal.
func vpaOf(u *unstructured.Unstructured) constraints.VPA {
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "targetRef", "kind")
	name, _, _ := unstructured.NestedString(u.Object, "spec", "targetRef", "name")
	mode, _, _ := unstructured.NestedString(u.Object, "spec", "updatePolicy", "updateMode")
	if mode == "" {
		mode = "Auto"
	}
	out := constraints.VPA{Namespace: u.GetNamespace(), Name: u.GetName(), Target: targetKey(u.GetNamespace(), kind, name), UpdateMode: mode}
	pols, _, _ := unstructured.NestedSlice(u.Object, "spec", "resourcePolicy", "containerPolicies")
	for _, p := range pols {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		c, _ := m["containerName"].(string)
		pm, _ := m["mode"].(string)
		out.Policies = append(out.Policies, constraints.VPAContainerPolicy{
			Container:  c,
			Off:        strings.EqualFold(pm, "Off"),
			MinAllowed: unstructuredResources(m["minAllowed"]),
			MaxAllowed: unstructuredResources(m["maxAllowed"]),
		})
	}
	return out
}

func unstructuredResources(v any) workload.Resources {
	m, _ := v.(map[string]any)
	rl := corev1.ResourceList{}
	for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		var s string
		switch x := m[string(n)].(type) {
		case string:
			s = x
		case int64:
			s = resource.NewQuantity(x, resource.DecimalSI).String()
		case float64:
			s = resource.NewMilliQuantity(int64(x*1000), resource.DecimalSI).String()
		default:
			continue
		}
		if q, err := resource.ParseQuantity(s); err == nil {
			rl[n] = q
		}
	}
	return resourcesOf(rl)
}
