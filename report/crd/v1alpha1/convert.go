package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

// Labels every Recommendation carries: who manages it and the workload it
// is for (the kind, and the name as a label value can hold it: see
// LabelValue).
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "rightsize"
	LabelKind      = "rightsize.dev/kind"
	LabelName      = "rightsize.dev/name"
)

// ConditionRecommended is True when at least one container of the workload
// has a recommendation.
const ConditionRecommended = "Recommended"

// Reasons of ConditionRecommended.
const (
	ReasonRecommended      = "Recommended"
	ReasonNoRecommendation = "NoRecommendation"
)

// hashLen is the number of hex digits of the hash a shortened or cleaned
// name ends with.
const hashLen = 10

// FromPlan converts a workload of plan into its Recommendation, in the
// workload's namespace and named after it (Name). Its status holds the
// workload's entry of the plan document (report.NewPlanDocument), the
// plan's source, profile and time, and the summary kubectl's columns show;
// a number that is not finite (which report.WritePlan would refuse) becomes
// 0, which JSON can hold.
func FromPlan(wp workload.WorkloadPlan, plan workload.Plan) Recommendation {
	doc := report.NewPlanDocument(workload.Plan{Profile: plan.Profile, Source: plan.Source, Generated: plan.Generated,
		Workloads: []workload.WorkloadPlan{wp}}).Workloads[0]
	r := Recommendation{
		TypeMeta: metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      Name(wp.Key),
			Namespace: wp.Key.Namespace,
			Labels: map[string]string{
				LabelManagedBy: ManagedBy,
				LabelKind:      LabelValue(string(wp.Key.Kind)),
				LabelName:      LabelValue(wp.Key.Name),
			},
		},
		Spec: RecommendationSpec{TargetRef: TargetRef{
			APIVersion: wp.Key.Kind.APIVersion(),
			Kind:       string(wp.Key.Kind),
			Name:       wp.Key.Name,
		}},
		Status: RecommendationStatus{
			Source:       plan.Source,
			Profile:      plan.Profile,
			Target:       workload.PrintableName(string(wp.Key.Kind)) + "/" + workload.PrintableName(wp.Key.Name),
			CPUChange:    change(wp, func(r workload.Recommendation) bool { return r.HasCPU }, func(r workload.Resources) int64 { return int64(r.CPU) }, func(v int64) string { return workload.Millicores(v).String() }),
			MemoryChange: change(wp, func(r workload.Recommendation) bool { return r.HasMemory }, func(r workload.Resources) int64 { return int64(r.Memory) }, func(v int64) string { return workload.Bytes(v).String() }),
			QoS:          qos(wp),
			Confidence:   confidence(wp),
			Workload:     workloadDocument(doc),
		},
	}
	if !plan.Generated.IsZero() {
		t := metav1.NewTime(plan.Generated.UTC())
		r.Status.Generated = &t
		r.Status.Conditions = []metav1.Condition{recommended(wp, t)}
	}
	return r
}

// Name returns the name of the workload's Recommendation:
// "<kind>-<name>", the kind in lower case, when that is a valid object
// name (a DNS-1123 subdomain of at most 253 characters); otherwise the same
// made valid — lower case, every other character a "-", cut to fit —
// ending in a hash of the kind and name, so that two workloads never share
// a Recommendation.
func Name(k workload.Key) string {
	n := strings.ToLower(string(k.Kind)) + "-" + k.Name
	if len(validation.IsDNS1123Subdomain(n)) == 0 {
		return n
	}
	return clean(strings.ToLower(n), validation.DNS1123SubdomainMaxLength, hash(string(k.Kind)+"/"+k.Name),
		func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' })
}

// LabelValue returns s when it is a valid label value, and otherwise s
// made valid — every character a label value cannot hold a "-", cut to
// fit in 63 characters — ending in a hash of s.
func LabelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	return clean(s, validation.LabelValueMaxLength, hash(s),
		func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' })
}

// clean replaces each run of characters alnum refuses with one "-", cuts
// the result to leave room for "-" and the hash within limit, and appends
// them; the result starts and ends with a character alnum accepts.
func clean(s string, limit int, hash string, alnum func(rune) bool) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if alnum(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	// Every byte left is ASCII: cutting by bytes cuts no character.
	out = strings.TrimRight(out[:min(len(out), limit-len(hash)-1)], "-")
	if out == "" {
		return hash
	}
	return out + "-" + hash
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// change renders the change of the pod's requests of one resource, as
// workload.PodRequests computes them: "-35%", "none → 250m" when the pod
// requests none today, "—" when no container has a recommendation for it
// or neither side requests any.
func change(wp workload.WorkloadPlan, has func(workload.Recommendation) bool, amount func(workload.Resources) int64, show func(int64) string) string {
	found := false
	for _, c := range wp.Containers {
		found = found || has(c.Recommendation)
	}
	if !found {
		return "—"
	}
	cur := amount(workload.PodRequests(wp.Containers, func(c workload.ContainerPlan) workload.Settings { return c.Current }))
	rec := amount(workload.PodRequests(wp.Containers, workload.ContainerPlan.Recommended))
	switch {
	case cur <= 0 && rec <= 0:
		return "—"
	case cur <= 0:
		return "none → " + show(rec)
	}
	p := math.Round((float64(rec) - float64(cur)) / float64(cur) * 100)
	if p == 0 {
		return "~0%"
	}
	return fmt.Sprintf("%+.0f%%", p)
}

// qos renders the pod's QoS class, "Burstable → Guaranteed" when the plan
// changes it, "—" when it is not known.
func qos(wp workload.WorkloadPlan) string {
	cur := workload.PrintableName(string(wp.QoSCurrent))
	if cur == "" {
		cur = "—"
	}
	if wp.QoSRecommended != "" && wp.QoSRecommended != wp.QoSCurrent {
		return cur + " → " + workload.PrintableName(string(wp.QoSRecommended))
	}
	return cur
}

// confidence renders the lowest confidence of the containers with a
// recommendation in percent, flagged "low" below report.LowConfidence.
func confidence(wp workload.WorkloadPlan) string {
	lowest, found := 1.0, false
	for _, c := range wp.Containers {
		if r := c.Recommendation; r.HasCPU || r.HasMemory {
			lowest, found = min(lowest, finite(r.Confidence)), true
		}
	}
	if !found {
		return "—"
	}
	s := fmt.Sprintf("%.0f%%", math.Round(max(lowest, 0)*100))
	if lowest < report.LowConfidence {
		return "low " + s
	}
	return s
}

// recommended is the Recommended condition as of at.
func recommended(wp workload.WorkloadPlan, at metav1.Time) metav1.Condition {
	n := 0
	for _, c := range wp.Containers {
		if r := c.Recommendation; r.HasCPU || r.HasMemory {
			n++
		}
	}
	c := metav1.Condition{
		Type:               ConditionRecommended,
		Status:             metav1.ConditionTrue,
		Reason:             ReasonRecommended,
		Message:            fmt.Sprintf("%d of %d containers have a recommendation", n, len(wp.Containers)),
		LastTransitionTime: at,
	}
	if n == 0 {
		c.Status, c.Reason = metav1.ConditionFalse, ReasonNoRecommendation
	}
	return c
}

// finite returns v, or 0 for NaN and the infinities.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// workloadDocument copies the plan document's workload into the API's
// types, field for field.
func workloadDocument(d report.WorkloadDocument) WorkloadDocument {
	w := WorkloadDocument{
		Namespace: d.Namespace,
		Kind:      d.Kind,
		Name:      d.Name,
		Replicas:  d.Replicas,
		Critical:  d.Critical,
		Profile:   d.Profile,
		QoS:       QoSDocument{Current: d.QoS.Current, Recommended: d.QoS.Recommended, Changed: d.QoS.Changed},
		Notes:     clone(d.Notes),
		HPA:       hpaDocument(d.HPA),
	}
	w.Containers = make([]ContainerDocument, 0, len(d.Containers))
	for _, c := range d.Containers {
		w.Containers = append(w.Containers, ContainerDocument{
			Name:        c.Name,
			Init:        c.Init,
			Sidecar:     c.Sidecar,
			Current:     settingsDocument(c.Current),
			Recommended: settingsDocument(c.Recommended),
			LowerBound:  resourcesDocument(c.LowerBound),
			UpperBound:  resourcesDocument(c.UpperBound),
			Confidence:  finite(c.Confidence),
			Samples:     c.Samples,
			Reasons:     clone(c.Reasons),
		})
	}
	return w
}

func settingsDocument(s *report.SettingsDocument) *SettingsDocument {
	if s == nil {
		return nil
	}
	return &SettingsDocument{Requests: resourcesDocument(s.Requests), Limits: resourcesDocument(s.Limits)}
}

func resourcesDocument(r *report.ResourcesDocument) *ResourcesDocument {
	if r == nil {
		return nil
	}
	return &ResourcesDocument{CPU: r.CPU, Memory: r.Memory}
}

func hpaDocument(h *report.HPADocument) *HPADocument {
	if h == nil {
		return nil
	}
	d := &HPADocument{
		Current:     hpaSpecDocument(h.Current),
		Recommended: hpaSpecDocument(h.Recommended),
		Reasons:     clone(h.Reasons),
		PodCPU:      h.PodCPU,
		Load: LoadDocument{
			Trough:          finite(h.Load.Trough),
			Median:          finite(h.Load.Median),
			Peak:            finite(h.Load.Peak),
			Rise:            finite(h.Load.Rise),
			ReactionSeconds: h.Load.ReactionSeconds,
			Samples:         h.Load.Samples,
		},
	}
	for _, r := range h.Replays {
		d.Replays = append(d.Replays, ReplayDocument{
			Setup:        r.Setup,
			PodCPU:       r.PodCPU,
			Hours:        finite(r.Hours),
			ReplicaHours: finite(r.ReplicaHours),
			CoreHours:    finite(r.CoreHours),
			Saturated:    finite(r.Saturated),
			AboveTarget:  finite(r.AboveTarget),
			Events:       r.Events,
			PeakReplicas: r.PeakReplicas,
		})
	}
	return d
}

func hpaSpecDocument(s *report.HPASpecDocument) *HPASpecDocument {
	if s == nil {
		return nil
	}
	d := &HPASpecDocument{Name: s.Name, MaxReplicas: s.MaxReplicas, Behavior: s.Behavior.DeepCopy()}
	if s.MinReplicas != nil {
		v := *s.MinReplicas
		d.MinReplicas = &v
	}
	for _, m := range s.Metrics {
		d.Metrics = append(d.Metrics, *m.DeepCopy())
	}
	return d
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
