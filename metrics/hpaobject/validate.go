package hpaobject

import (
	"errors"
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// The bounds Read and Validate check, the API server's where it has one.
const (
	// MaxReplicas bounds spec.maxReplicas: the API server takes any int32,
	// but a bound keeps a typo (or a crafted file) from being sized for.
	MaxReplicas = 100000
	// MaxUtilization bounds an averageUtilization in percent of requests.
	MaxUtilization = 1000
	// MaxStabilizationWindow and MaxPeriod are the API server's bounds, in
	// seconds.
	MaxStabilizationWindow = 3600
	MaxPeriod              = 1800
	// maxMetricName bounds a metric's name; the API server has no bound,
	// real names are a few dozen bytes.
	maxMetricName = 512
)

// Validate says why ToObject(h) would not be an object the API server
// takes, or an HPA Read would skip: the names, the bounds, each metric
// target (every one must have a form in autoscaling/v2) and the behavior.
func Validate(h workload.HPA) error {
	var problems []string
	for i, m := range h.Metrics {
		if _, ok := metricSpec(m); !ok {
			problems = append(problems, fmt.Sprintf("metric %d (%s): no utilization (cpu, memory) or average value that parses as a quantity",
				i, untrusted.Quote(m.Resource, untrusted.MaxQuoted)))
		}
	}
	problems = append(problems, check(ToObject(h))...)
	if len(problems) > 0 {
		return errors.New(summary(problems))
	}
	return nil
}

// maxProblems is how many problems of one object a message lists.
const maxProblems = 5

// summary joins problems, the first maxProblems of them.
func summary(problems []string) string {
	if len(problems) > maxProblems {
		return strings.Join(problems[:maxProblems], "; ") + fmt.Sprintf("; and %d more", len(problems)-maxProblems)
	}
	return strings.Join(problems, "; ")
}

// check returns what the API server would refuse in the object, and what
// rightsize refuses besides (a target it cannot size, bounds past sense),
// one problem each, with the field's path. Outside text is quoted.
func check(h *autoscalingv2.HorizontalPodAutoscaler) []string {
	var p problems
	p.name("metadata.namespace", h.Namespace, validation.IsDNS1123Label)
	p.name("metadata.name", h.Name, validation.IsDNS1123Subdomain)

	ref := h.Spec.ScaleTargetRef
	if kind, ok := workload.ParseKind(ref.Kind); ref.Kind == "" {
		p.add("spec.scaleTargetRef.kind is missing")
	} else if !ok || !hpa.Scalable(kind) {
		p.add("spec.scaleTargetRef.kind %s: an HPA scales a Deployment, StatefulSet or ReplicaSet", quote(ref.Kind))
	}
	if ref.APIVersion != "" {
		// The kinds are apps' kinds; another group's is someone's CRD.
		if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != "apps" {
			p.add("spec.scaleTargetRef.apiVersion %s: want apps/v1", quote(ref.APIVersion))
		}
	}
	p.name("spec.scaleTargetRef.name", ref.Name, validation.IsDNS1123Subdomain)

	minReplicas := int32(1)
	if h.Spec.MinReplicas != nil {
		minReplicas = *h.Spec.MinReplicas
		if minReplicas < 1 {
			p.add("spec.minReplicas %d is below 1", minReplicas)
		}
	}
	switch maxReplicas := h.Spec.MaxReplicas; {
	case maxReplicas < minReplicas:
		p.add("spec.maxReplicas %d is below spec.minReplicas %d", maxReplicas, minReplicas)
	case maxReplicas > MaxReplicas:
		p.add("spec.maxReplicas %d is above %d", maxReplicas, MaxReplicas)
	}

	for i, m := range h.Spec.Metrics {
		p.metric(fmt.Sprintf("spec.metrics[%d]", i), m)
	}
	if b := h.Spec.Behavior; b != nil {
		p.rules("spec.behavior.scaleUp", b.ScaleUp)
		p.rules("spec.behavior.scaleDown", b.ScaleDown)
	}
	return p
}

type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func quote(s string) string { return untrusted.Quote(s, untrusted.MaxQuoted) }

// name checks a required name; the validator's first complaint says why.
func (p *problems) name(field, v string, valid func(string) []string) {
	if v == "" {
		p.add("%s is missing", field)
	} else if errs := valid(v); len(errs) > 0 {
		p.add("%s %s is not valid: %s", field, quote(v), short(errs[0]))
	}
}

// short cuts the examples and regular expression off a validator's message.
func short(msg string) string {
	msg, _, _ = strings.Cut(msg, " (e.g.")
	return msg
}

func (p *problems) metric(field string, m autoscalingv2.MetricSpec) {
	// Exactly the source field of the type is set.
	sources := []struct {
		t   autoscalingv2.MetricSourceType
		set bool
	}{
		{autoscalingv2.ResourceMetricSourceType, m.Resource != nil},
		{autoscalingv2.ContainerResourceMetricSourceType, m.ContainerResource != nil},
		{autoscalingv2.PodsMetricSourceType, m.Pods != nil},
		{autoscalingv2.ObjectMetricSourceType, m.Object != nil},
		{autoscalingv2.ExternalMetricSourceType, m.External != nil},
	}
	known, set := false, false
	for _, s := range sources {
		if s.t == m.Type {
			known, set = true, s.set
		} else if s.set {
			p.add("%s: type %s with a %s source", field, quote(string(m.Type)), lowerFirst(string(s.t)))
			return
		}
	}
	switch {
	case m.Type == "":
		p.add("%s.type is missing", field)
		return
	case !known:
		p.add("%s.type %s: want Resource, ContainerResource, Pods, Object or External", field, quote(string(m.Type)))
		return
	case !set:
		p.add("%s.%s is missing (type %s)", field, lowerFirst(string(m.Type)), m.Type)
		return
	}
	switch src := field + "." + lowerFirst(string(m.Type)); m.Type {
	case autoscalingv2.ResourceMetricSourceType:
		p.resource(src, string(m.Resource.Name))
		p.target(src+".target", m.Resource.Target, autoscalingv2.UtilizationMetricType, autoscalingv2.AverageValueMetricType)
	case autoscalingv2.ContainerResourceMetricSourceType:
		p.resource(src, string(m.ContainerResource.Name))
		p.name(src+".container", m.ContainerResource.Container, validation.IsDNS1123Label)
		p.target(src+".target", m.ContainerResource.Target, autoscalingv2.UtilizationMetricType, autoscalingv2.AverageValueMetricType)
	case autoscalingv2.PodsMetricSourceType:
		p.metricName(src+".metric.name", m.Pods.Metric.Name)
		p.target(src+".target", m.Pods.Target, autoscalingv2.AverageValueMetricType)
	case autoscalingv2.ObjectMetricSourceType:
		p.metricName(src+".metric.name", m.Object.Metric.Name)
		if m.Object.DescribedObject.Kind == "" || m.Object.DescribedObject.Name == "" {
			p.add("%s.describedObject needs a kind and a name", src)
		}
		p.target(src+".target", m.Object.Target, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType)
	case autoscalingv2.ExternalMetricSourceType:
		p.metricName(src+".metric.name", m.External.Metric.Name)
		p.target(src+".target", m.External.Target, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType)
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// resource checks a resource metric's name: rightsize sizes cpu and
// memory, the targets it reads.
func (p *problems) resource(field, name string) {
	if !isResource(name) {
		p.add("%s.name %s: want cpu or memory", field, quote(name))
	}
}

// metricName checks a custom metric's name as the API server does (a path
// segment) and, since it reaches reports and patches, that it prints.
func (p *problems) metricName(field, name string) {
	switch {
	case name == "":
		p.add("%s is missing", field)
	case len(name) > maxMetricName:
		p.add("%s %s is longer than %d bytes", field, quote(name), maxMetricName)
	case !untrusted.Printable(name):
		p.add("%s %s holds characters that do not print", field, quote(name))
	default:
		if errs := path.IsValidPathSegmentName(name); len(errs) > 0 {
			p.add("%s %s is not valid: %s", field, quote(name), errs[0])
		}
	}
}

// target checks a metric target: one of the types allowed, its field set
// and within bounds.
func (p *problems) target(field string, t autoscalingv2.MetricTarget, allowed ...autoscalingv2.MetricTargetType) {
	ok := false
	for _, a := range allowed {
		ok = ok || t.Type == a
	}
	if !ok {
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		if t.Type == "" {
			p.add("%s.type is missing (want %s)", field, strings.Join(names, " or "))
		} else {
			p.add("%s.type %s: want %s", field, quote(string(t.Type)), strings.Join(names, " or "))
		}
		return
	}
	positive := func(name string, q *resource.Quantity) {
		switch {
		case q == nil:
			p.add("%s.%s is missing (type %s)", field, name, t.Type)
		case q.Sign() <= 0:
			p.add("%s.%s %s is not positive", field, name, q.String())
		}
	}
	switch t.Type {
	case autoscalingv2.UtilizationMetricType:
		switch u := t.AverageUtilization; {
		case u == nil:
			p.add("%s.averageUtilization is missing (type Utilization)", field)
		case *u < 1 || *u > MaxUtilization:
			p.add("%s.averageUtilization %d is outside 1..%d", field, *u, MaxUtilization)
		}
	case autoscalingv2.AverageValueMetricType:
		positive("averageValue", t.AverageValue)
	case autoscalingv2.ValueMetricType:
		positive("value", t.Value)
	}
}

func (p *problems) rules(field string, r *autoscalingv2.HPAScalingRules) {
	if r == nil {
		return
	}
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > MaxStabilizationWindow) {
		p.add("%s.stabilizationWindowSeconds %d is outside 0..%d", field, *w, MaxStabilizationWindow)
	}
	if s := r.SelectPolicy; s != nil {
		switch *s {
		case autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect:
		default:
			p.add("%s.selectPolicy %s: want Max, Min or Disabled", field, quote(string(*s)))
		}
	}
	for i, pol := range r.Policies {
		f := fmt.Sprintf("%s.policies[%d]", field, i)
		switch pol.Type {
		case autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy:
		default:
			p.add("%s.type %s: want Pods or Percent", f, quote(string(pol.Type)))
		}
		if pol.Value <= 0 {
			p.add("%s.value %d is not positive", f, pol.Value)
		}
		if pol.PeriodSeconds < 1 || pol.PeriodSeconds > MaxPeriod {
			p.add("%s.periodSeconds %d is outside 1..%d", f, pol.PeriodSeconds, MaxPeriod)
		}
	}
	if t := r.Tolerance; t != nil && t.Sign() < 0 {
		p.add("%s.tolerance %s is negative", field, t.String())
	}
}
