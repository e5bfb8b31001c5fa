package v1alpha1

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender/workload"
)

// maxQuantityLen is the longest quantity string ToPlan parses: longer than
// any amount a pod spec holds, short of the megabytes of digits that would
// take seconds to parse.
const maxQuantityLen = 64

// maxExponent bounds the decimal exponent of a quantity ToPlan parses
// ("1e400"): beyond what any amount needs, short of the exponents whose
// scaling takes resource.ParseQuantity seconds ("1e-40000000").
const maxExponent = 1000

// The largest amounts the unit types hold, as quantities.
var (
	maxMillicores = resource.NewMilliQuantity(math.MaxInt64, resource.DecimalSI)
	maxBytes      = resource.NewQuantity(math.MaxInt64, resource.BinarySI)
)

// ToPlan converts a Recommendation back into the workload's plan, as far
// as status.workload carries it: the inverse of FromPlan for what the
// plan document holds, so that writing the result as a JSON or YAML plan
// gives the document the Recommendation holds.
//
// The document does not say which resources a container's recommendation
// was made for, only the settings it leads to: a resource counts as
// recommended when a bound names it or its recommended settings differ
// from the current ones (both, when the recommendation keeps everything
// as it is), which leads to the same settings. The HPAs are read back
// with hpaobject.FromObject; their status (the replicas they run now) is
// not in the document. Confidence comes back rounded to two decimals, the
// load and the replays as the document rounds them.
//
// Amounts are rounded up to a whole millicore or byte and held at
// math.MaxInt64, with a warning when they go beyond. A field that cannot
// be read (a quantity that does not parse, is negative, too long or
// written with an exponent beyond ±1000, a confidence outside [0, 1], a
// negative count) is left out with a warning naming the object and the
// field; a recommended amount left out stays at its current setting. The
// warnings quote what they cite, escaped and cut short. The error is
// for a Recommendation whose workload cannot be named: no status yet, an
// empty namespace or name, an unknown kind.
func ToPlan(r *Recommendation) (workload.WorkloadPlan, []string, error) {
	if r == nil {
		return workload.WorkloadPlan{}, nil, errors.New("no Recommendation")
	}
	rd := &reader{where: "Recommendation " + workload.PrintableName(r.Namespace) + "/" + workload.PrintableName(r.Name)}
	key, err := rd.key(r)
	if err != nil {
		return workload.WorkloadPlan{}, nil, fmt.Errorf("%s: %w", rd.where, err)
	}
	d := r.Status.Workload
	wp := workload.WorkloadPlan{
		Key:            key,
		Replicas:       rd.count("status.workload.replicas", d.Replicas),
		Critical:       d.Critical,
		QoSCurrent:     workload.QoSClass(d.QoS.Current),
		QoSRecommended: workload.QoSClass(d.QoS.Recommended),
		Profile:        d.Profile,
		Notes:          clone(d.Notes),
	}
	for i, c := range d.Containers {
		wp.Containers = append(wp.Containers, rd.container(fmt.Sprintf("status.workload.containers[%d]", i), c))
	}
	if d.HPA != nil {
		wp.Autoscaling = rd.autoscaling(key, d.HPA)
	}
	return wp, rd.warnings, nil
}

// PlanOf converts Recommendations into one plan: each with ToPlan, the
// workloads in key order, the plan's profile, source and time the newest
// status's (the newest generated time). What ToPlan warns of comes back
// as warnings, and so does a Recommendation it cannot convert, which is
// left out, and one of two for the same workload: the older is left out.
// When the Recommendations were made with different profiles or sources,
// a warning says so.
func PlanOf(recs []Recommendation) (workload.Plan, []string) {
	var warnings []string
	type entry struct {
		wp   workload.WorkloadPlan
		rec  *Recommendation
		when time.Time
	}
	byKey := map[workload.Key]entry{}
	var newest *Recommendation
	profiles, sources := map[string]int{}, map[string]int{}
	for i := range recs {
		r := &recs[i]
		wp, warns, err := ToPlan(r)
		if err != nil {
			warnings = append(warnings, err.Error()+": left out")
			continue
		}
		warnings = append(warnings, warns...)
		when := generated(r)
		if prev, dup := byKey[wp.Key]; dup {
			keep, drop := prev.rec, r
			if when.After(prev.when) {
				keep, drop = r, prev.rec
			}
			warnings = append(warnings, fmt.Sprintf("%s and %s are both for %s: the older, %s, is left out",
				objectName(prev.rec), objectName(r), wp.Key.Printable(), objectName(drop)))
			if keep == prev.rec {
				continue
			}
		}
		byKey[wp.Key] = entry{wp: wp, rec: r, when: when}
		profiles[r.Status.Profile]++
		sources[r.Status.Source]++
		if newest == nil || when.After(generated(newest)) {
			newest = r
		}
	}
	var plan workload.Plan
	for _, e := range byKey {
		plan.Workloads = append(plan.Workloads, e.wp)
	}
	slices.SortFunc(plan.Workloads, func(a, b workload.WorkloadPlan) int {
		switch {
		case a.Key.Less(b.Key):
			return -1
		case b.Key.Less(a.Key):
			return 1
		}
		return 0
	})
	if newest != nil {
		plan.Profile, plan.Source = newest.Status.Profile, newest.Status.Source
		if g := newest.Status.Generated; g != nil {
			plan.Generated = g.UTC()
		}
	}
	if len(profiles) > 1 {
		warnings = append(warnings, "the Recommendations were made with different profiles ("+counts(profiles)+"): the plan names the newest's, each workload its own")
	}
	if len(sources) > 1 {
		warnings = append(warnings, "the Recommendations were made from different sources ("+counts(sources)+"): the plan names the newest's")
	}
	return plan, warnings
}

// generated is the Recommendation's generated time; zero without one.
func generated(r *Recommendation) time.Time {
	if g := r.Status.Generated; g != nil {
		return g.Time
	}
	return time.Time{}
}

func objectName(r *Recommendation) string {
	return workload.PrintableName(r.Namespace) + "/" + workload.PrintableName(r.Name)
}

// counts renders "balanced: 3, krr: 1", names in order.
func counts(m map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", quote(name), m[name]))
	}
	return strings.Join(parts, ", ")
}

// reader converts one Recommendation and collects its warnings.
type reader struct {
	// where names the object in every warning.
	where    string
	warnings []string
}

// warn adds "<object>: <field> <what>".
func (rd *reader) warn(field, format string, args ...any) {
	rd.warnings = append(rd.warnings, rd.where+": "+field+" "+fmt.Sprintf(format, args...))
}

func quote(s string) string { return untrusted.Quote(s, untrusted.MaxQuoted) }

// key returns the workload the status is for. The status names it; a
// status that disagrees with the object's namespace or target is read as
// it is, with a warning.
func (rd *reader) key(r *Recommendation) (workload.Key, error) {
	d := r.Status.Workload
	if d.Namespace == "" && d.Kind == "" && d.Name == "" {
		return workload.Key{}, errors.New("no status.workload: the controller has not written the status yet")
	}
	kind, ok := workload.ParseKind(d.Kind)
	switch {
	case d.Namespace == "":
		return workload.Key{}, errors.New("status.workload.namespace is empty")
	case d.Name == "":
		return workload.Key{}, errors.New("status.workload.name is empty")
	case !ok:
		return workload.Key{}, fmt.Errorf("status.workload.kind %s is not a workload kind rightsize knows", quote(d.Kind))
	}
	if r.Namespace != "" && r.Namespace != d.Namespace {
		rd.warn("status.workload.namespace", "%s is not the object's namespace %s: the status is read as it is", quote(d.Namespace), quote(r.Namespace))
	}
	if t := r.Spec.TargetRef; (t.Kind != "" || t.Name != "") && (t.Kind != d.Kind || t.Name != d.Name) {
		rd.warn("status.workload", "names %s/%s, spec.targetRef %s/%s: the status is read as it is",
			quote(d.Kind), quote(d.Name), quote(t.Kind), quote(t.Name))
	}
	return workload.Key{Namespace: d.Namespace, Kind: kind, Name: d.Name}, nil
}

// container converts one container. It has a recommendation when the
// document gives recommended settings or bounds.
func (rd *reader) container(field string, c ContainerDocument) workload.ContainerPlan {
	cp := workload.ContainerPlan{
		Name:    c.Name,
		Init:    c.Init,
		Sidecar: c.Sidecar,
		Samples: rd.count(field+".samples", c.Samples),
		Recommendation: workload.Recommendation{
			Confidence: rd.fraction(field+".confidence", c.Confidence),
			Reasons:    clone(c.Reasons),
		},
	}
	cp.Current = rd.settings(field+".current", c.Current, workload.Settings{})
	if c.Recommended == nil && c.LowerBound == nil && c.UpperBound == nil {
		return cp
	}
	cur := cp.Current
	rec := rd.settings(field+".recommended", c.Recommended, cur)
	r := &cp.Recommendation
	r.LowerBound = rd.resources(field+".lowerBound", c.LowerBound, workload.Resources{})
	r.UpperBound = rd.resources(field+".upperBound", c.UpperBound, workload.Resources{})
	r.HasCPU = r.LowerBound.CPU.IsSet() || r.UpperBound.CPU.IsSet() ||
		rec.Requests.CPU != cur.Requests.CPU || rec.Limits.CPU != cur.Limits.CPU
	r.HasMemory = r.LowerBound.Memory.IsSet() || r.UpperBound.Memory.IsSet() ||
		rec.Requests.Memory != cur.Requests.Memory || rec.Limits.Memory != cur.Limits.Memory
	if !r.HasCPU && !r.HasMemory {
		// A recommendation to keep the settings as they are.
		r.HasCPU, r.HasMemory = true, true
	}
	if r.HasCPU {
		r.Target.Requests.CPU, r.Target.Limits.CPU = rec.Requests.CPU, rec.Limits.CPU
	}
	if r.HasMemory {
		r.Target.Requests.Memory, r.Target.Limits.Memory = rec.Requests.Memory, rec.Limits.Memory
	}
	return cp
}

// settings reads requests and limits; an amount that cannot be read is
// taken from or (the current settings, for a recommendation).
func (rd *reader) settings(field string, s *SettingsDocument, or workload.Settings) workload.Settings {
	if s == nil {
		return workload.Settings{}
	}
	return workload.Settings{
		Requests: rd.resources(field+".requests", s.Requests, or.Requests),
		Limits:   rd.resources(field+".limits", s.Limits, or.Limits),
	}
}

func (rd *reader) resources(field string, r *ResourcesDocument, or workload.Resources) workload.Resources {
	if r == nil {
		return workload.Resources{}
	}
	return workload.Resources{
		CPU:    rd.millicores(field+".cpu", r.CPU, or.CPU),
		Memory: rd.bytes(field+".memory", r.Memory, or.Memory),
	}
}

// millicores reads a CPU quantity, rounded up to a whole millicore and
// held at math.MaxInt64 millicores; "" is unset, and an amount that
// cannot be read is or.
func (rd *reader) millicores(field, s string, or workload.Millicores) workload.Millicores {
	if s == "" {
		return 0
	}
	q, ok := rd.quantity(field, s, or.IsSet(), func() string { return or.String() })
	if !ok {
		return or
	}
	if q.Cmp(*maxMillicores) >= 0 {
		if q.Cmp(*maxMillicores) > 0 {
			rd.warn(field, "%s is more millicores than an int64 holds: read as %s", quote(s), workload.Millicores(math.MaxInt64))
		}
		return math.MaxInt64
	}
	return workload.Millicores(q.MilliValue())
}

// bytes reads a memory quantity as millicores reads a CPU one, rounded up
// to a whole byte.
func (rd *reader) bytes(field, s string, or workload.Bytes) workload.Bytes {
	if s == "" {
		return 0
	}
	q, ok := rd.quantity(field, s, or.IsSet(), func() string { return or.String() })
	if !ok {
		return or
	}
	if q.Cmp(*maxBytes) >= 0 {
		if q.Cmp(*maxBytes) > 0 {
			rd.warn(field, "%s is more bytes than an int64 holds: read as %s", quote(s), workload.Bytes(math.MaxInt64))
		}
		return math.MaxInt64
	}
	return workload.Bytes(q.Value())
}

// quantity parses s; false, with a warning, for a string that is too
// long, not a quantity or negative. hasOr says whether the caller falls
// back to a setting, shown by or.
func (rd *reader) quantity(field, s string, hasOr bool, or func() string) (resource.Quantity, bool) {
	var problem string
	var q resource.Quantity
	if len(s) > maxQuantityLen {
		problem = fmt.Sprintf("%s is %d bytes long, more than the %d a quantity takes", untrusted.Quote(s, 16), len(s), maxQuantityLen)
	} else if !exponentWithin(s, maxExponent) {
		problem = fmt.Sprintf("%s has an exponent beyond ±%d", quote(s), maxExponent)
	} else if parsed, err := resource.ParseQuantity(s); err != nil {
		problem = quote(s) + " is not a quantity"
	} else if parsed.Sign() < 0 {
		problem = quote(s) + " is negative"
	} else {
		q = parsed
	}
	if problem == "" {
		return q, true
	}
	if hasOr {
		rd.warn(field, "%s: read as the current setting, %s", problem, or())
	} else {
		rd.warn(field, "%s: left out", problem)
	}
	return resource.Quantity{}, false
}

// exponentWithin reports whether the decimal exponent s is written with
// ("1e3", "5E-2"), if any, is within ±limit. An "E" without digits is the
// exa suffix, "Ei" exbi; a malformed exponent is for the parser to refuse.
func exponentWithin(s string, limit int) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return true
	}
	n, err := strconv.Atoi(s[i+1:])
	if errors.Is(err, strconv.ErrRange) {
		return false
	}
	return err != nil || -limit <= n && n <= limit
}

// count reads a count that may not be negative.
func (rd *reader) count(field string, n int) int {
	if n < 0 {
		rd.warn(field, "%d is negative: read as 0", n)
		return 0
	}
	return n
}

// fraction reads a share in [0, 1].
func (rd *reader) fraction(field string, v float64) float64 {
	if math.IsNaN(v) || v < 0 || v > 1 {
		rd.warn(field, "%v is outside [0, 1]: read as 0", v)
		return 0
	}
	return v
}

// nonNegative reads a finite number that may not be negative.
func (rd *reader) nonNegative(field string, v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		rd.warn(field, "%v is not a number of 0 or more: read as 0", v)
		return 0
	}
	return v
}

// duration converts a number of units, held at the longest duration.
func (rd *reader) duration(field string, v float64, unit time.Duration) time.Duration {
	v = rd.nonNegative(field, v)
	if v*float64(unit) >= math.MaxInt64 {
		rd.warn(field, "%v is longer than a duration holds: read as %v", v, time.Duration(math.MaxInt64))
		return math.MaxInt64
	}
	return time.Duration(math.Round(v * float64(unit)))
}

// autoscaling converts the HPA section.
func (rd *reader) autoscaling(key workload.Key, h *HPADocument) *workload.Autoscaling {
	a := &workload.Autoscaling{
		Current:     rd.hpa(key, "status.workload.hpa.current", h.Current),
		Recommended: rd.hpa(key, "status.workload.hpa.recommended", h.Recommended),
		Reasons:     clone(h.Reasons),
		PodCPU:      rd.millicores("status.workload.hpa.podCPU", h.PodCPU, 0),
		Load: workload.AggregateLoad{
			Trough:   workload.Cores(rd.nonNegative("status.workload.hpa.load.trough", h.Load.Trough)),
			Median:   workload.Cores(rd.nonNegative("status.workload.hpa.load.median", h.Load.Median)),
			Peak:     workload.Cores(rd.nonNegative("status.workload.hpa.load.peak", h.Load.Peak)),
			Rise:     rd.nonNegative("status.workload.hpa.load.rise", h.Load.Rise),
			Reaction: rd.duration("status.workload.hpa.load.reactionSeconds", float64(h.Load.ReactionSeconds), time.Second),
			Samples:  rd.count("status.workload.hpa.load.samples", h.Load.Samples),
		},
	}
	for i, r := range h.Replays {
		field := fmt.Sprintf("status.workload.hpa.replays[%d]", i)
		a.Replays = append(a.Replays, workload.Replay{
			Setup:  r.Setup,
			PodCPU: rd.millicores(field+".podCPU", r.PodCPU, 0),
			ReplayFigures: workload.ReplayFigures{
				Duration:     rd.duration(field+".hours", r.Hours, time.Hour),
				ReplicaHours: rd.nonNegative(field+".replicaHours", r.ReplicaHours),
				CoreHours:    rd.nonNegative(field+".coreHours", r.CoreHours),
				Saturated:    rd.fraction(field+".saturated", r.Saturated),
				AboveTarget:  rd.fraction(field+".aboveTarget", r.AboveTarget),
				Events:       rd.count(field+".events", r.Events),
				PeakReplicas: rd.count(field+".peakReplicas", r.PeakReplicas),
			},
		})
	}
	return a
}

// hpa rebuilds an HPA from its spec, for the workload: what
// hpaobject.FromObject cannot hold comes back as warnings.
func (rd *reader) hpa(key workload.Key, field string, s *HPASpecDocument) *workload.HPA {
	if s == nil {
		return nil
	}
	obj := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: hpaobject.APIVersion, Kind: hpaobject.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: key.Namespace},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: key.Kind.APIVersion(), Kind: string(key.Kind), Name: key.Name},
			MinReplicas:    s.MinReplicas,
			MaxReplicas:    s.MaxReplicas,
			Metrics:        s.Metrics,
			Behavior:       s.Behavior,
		},
	}
	h, notes := hpaobject.FromObject(obj)
	for _, n := range notes {
		// The notes name the object's fields: spec.metrics[0], …
		if rest, ok := strings.CutPrefix(n, "spec."); ok {
			rd.warnings = append(rd.warnings, rd.where+": "+field+"."+untrusted.Escape(rest))
		} else {
			rd.warnings = append(rd.warnings, rd.where+": "+field+": "+untrusted.Escape(n))
		}
	}
	return &h
}
