package prometheus

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/recommender/workload"
)

// kube-state-metrics v2 exports each HorizontalPodAutoscaler as these
// series, labelled namespace and horizontalpodautoscaler. Version 1 named
// them kube_hpa_* and did not say which workload an HPA scales, which makes
// them of no use here: they are only looked for, to say why the HPAs are
// unknown.
// Their names are Names' HPA fields, which --prometheus-metric overrides.
const (
	hpaV1MaxReplicas = "kube_hpa_spec_max_replicas"
	hpaLabel         = "horizontalpodautoscaler"
)

// Bounds of what an HPA series may say. Kubernetes allows any int32, but
// no real HPA scales beyond them: a series that does is not from one.
const (
	maxHPAReplicas    = 100_000
	maxHPAUtilization = 1000 // percent of the requests
	// maxHPAValue bounds averageValue and value targets: a petabyte, a
	// quadrillion requests per second.
	maxHPAValue = 1e15
)

// The reasons HPA series are left out, counted and reported as warnings.
const (
	skipHPANames  = "HPA series with a namespace, name, scale target, metric name or target type Kubernetes does not allow"
	skipHPAValues = "HPA series with replicas outside 1..100000 or a target outside 1..1000 % (or not a positive number), an HPA whose replicas are among them left out"
	skipHPAShape  = "HPAs left out for series that do not fit together (no max replicas, min above max, two scale targets)"
)

// readHPAs reads the HPAs kube-state-metrics exports at the last step.
// known is false when the HPAs cannot be told: a query failed, the series
// lack the scale target (an older kube-state-metrics), or no
// kube-state-metrics series were found at all (ksmSeen false, no HPA
// series) — a note says which. Only the end of the context ends the
// collection: the usage history is read by now and worth keeping.
func (c *collector) readHPAs(ctx context.Context, ksmSeen bool) (hpas []workload.HPA, known bool, err error) {
	a := &hpaAnswers{}
	for _, q := range []struct {
		what, expr string
		answer     *model.Vector
	}{
		{"reading HPA scale targets", c.p.hpaInfo(), &a.info},
		{"reading HPA min replicas", c.p.hpaReplicas(c.p.n.HPAMinReplicas), &a.minReplicas},
		{"reading HPA max replicas", c.p.hpaReplicas(c.p.n.HPAMaxReplicas), &a.maxReplicas},
		{"reading HPA metric targets", c.p.hpaTargets(), &a.targets},
		{"reading HPA current replicas", c.p.hpaReplicas(c.p.n.HPACurrentReplicas), &a.current},
	} {
		v, err := c.q.query(ctx, q.what, q.expr, c.w.last())
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, err
			}
			c.note("%v; the HPAs are unknown", err)
			return nil, false, nil
		}
		*q.answer = v
	}
	hpas, r := a.hpas(model.LabelName(c.o.Names.KSMNamespaceLabel), c.o.Names.ClusterLabel)
	for _, reason := range sortedKeys(r.skipped) {
		c.skip(reason, r.skipped[reason])
	}
	if r.withoutInfo > 0 {
		c.note("%d HPAs have no %s series, which names the workload an HPA scales (an older kube-state-metrics, or the series denied): the HPAs are unknown", r.withoutInfo, c.p.n.HPAInfo)
		return nil, false, nil
	}
	if len(a.info) > 0 {
		return hpas, true, nil
	}
	v1, err := c.q.query(ctx, "looking for kube-state-metrics v1 HPA series", c.p.hpaV1(), c.w.last())
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, false, err
	case err != nil:
		c.note("%v; the HPAs are unknown", err)
		return nil, false, nil
	case len(v1) > 0:
		c.note("kube-state-metrics exports the HPAs as kube_hpa_* series (version 1), which do not name the workload an HPA scales: the HPAs are unknown")
		return nil, false, nil
	case !ksmSeen:
		c.note("no kube-state-metrics series found: the HPAs are unknown")
		return nil, false, nil
	}
	return nil, true, nil
}

// hpaAnswers are kube-state-metrics' answers about the HPAs at the last
// step, each series merged over scrape jobs (max by the labels read).
type hpaAnswers struct {
	info, minReplicas, maxReplicas, targets, current model.Vector
}

// hpaReading is what converting the answers left out: series by reason,
// and the HPAs with spec series but no info series.
type hpaReading struct {
	skipped     map[string]int
	withoutInfo int
}

// hpaBuild is an HPA being put together from its series.
type hpaBuild struct {
	hpa      workload.HPA
	metrics  map[string]*workload.MetricTarget
	hasMax   bool
	retarget bool // a second scale target
	bad      bool // replicas out of bounds
}

// hpas converts the answers into HPAs, by cluster (clusterLabel's value;
// none without it), namespace and name. An HPA is one info series (its
// scale target, in its cluster) with its max replicas; min replicas
// default to 1, as in Kubernetes. A metric target out of bounds is left
// out alone; replicas out of bounds leave the whole HPA out, whose range
// would be a guess.
func (a *hpaAnswers) hpas(nsLabel model.LabelName, clusterLabel string) ([]workload.HPA, hpaReading) {
	h := &hpaAssembly{nsLabel: nsLabel, clusterLabel: clusterLabel, r: hpaReading{skipped: map[string]int{}},
		byName: map[nsName]*hpaBuild{}, withInfo: map[nsName]bool{}, orphans: map[nsName]bool{}}
	h.addInfo(a.info)
	h.addReplicas(a.minReplicas, func(b *hpaBuild, n int) { b.hpa.MinReplicas = n })
	h.addReplicas(a.maxReplicas, func(b *hpaBuild, n int) { b.hpa.MaxReplicas, b.hasMax = n, true })
	h.addCurrent(a.current)
	h.addTargets(a.targets)
	return h.finish()
}

// hpaAssembly builds the HPAs from kube-state-metrics' series, one kind of
// series after the other.
type hpaAssembly struct {
	nsLabel      model.LabelName
	clusterLabel string
	r            hpaReading
	byName       map[nsName]*hpaBuild
	// withInfo holds the HPAs with an info series, valid or not: only the
	// others show an older kube-state-metrics (orphans).
	withInfo, orphans map[nsName]bool
}

// addInfo starts an HPA per valid info series; a second target for one
// name spoils it.
func (h *hpaAssembly) addInfo(info model.Vector) {
	for _, s := range info {
		k, why := h.nameOf(s.Metric)
		if why == "" {
			h.withInfo[k] = true
		}
		target, tok := hpaTargetOf(k, s.Metric)
		if why == "" && !tok {
			why = skipHPANames
		}
		if why != "" {
			h.r.skipped[why]++
			continue
		}
		if b := h.byName[k]; b != nil {
			b.retarget = true
			continue
		}
		h.byName[k] = &hpaBuild{
			hpa:     workload.HPA{Name: k.name, Target: target, MinReplicas: 1},
			metrics: map[string]*workload.MetricTarget{},
		}
	}
}

// find returns the HPA a spec series belongs to; nil for one without a
// valid name (counted) or without an info series (remembered).
func (h *hpaAssembly) find(s *model.Sample) *hpaBuild {
	k, why := h.nameOf(s.Metric)
	if why != "" {
		h.r.skipped[why]++
		return nil
	}
	b := h.byName[k]
	if b == nil && !h.withInfo[k] {
		h.orphans[k] = true
	}
	return b
}

// addReplicas sets a replica bound; a bad value spoils the HPA.
func (h *hpaAssembly) addReplicas(vec model.Vector, set func(b *hpaBuild, n int)) {
	for _, s := range vec {
		b := h.find(s)
		if b == nil {
			continue
		}
		n, ok := wholeWithin(float64(s.Value), 1, maxHPAReplicas)
		if !ok {
			h.r.skipped[skipHPAValues]++
			b.bad = true
			continue
		}
		set(b, n)
	}
}

// addCurrent sets the pods an HPA runs now: informative, so a bad value
// leaves out only itself.
func (h *hpaAssembly) addCurrent(vec model.Vector) {
	for _, s := range vec {
		b := h.find(s)
		if b == nil {
			continue
		}
		n, ok := wholeWithin(float64(s.Value), 0, maxHPAReplicas)
		if !ok {
			h.r.skipped[skipHPAValues]++
			continue
		}
		b.hpa.Replicas = n
	}
}

// addTargets sets the metrics' targets; a bad one leaves out only itself.
func (h *hpaAssembly) addTargets(vec model.Vector) {
	for _, s := range vec {
		b := h.find(s)
		if b == nil {
			continue
		}
		name := string(s.Metric["metric_name"])
		typ := s.Metric["metric_target_type"]
		if !hpaMetricName(name) || typ != "utilization" && typ != "average" && typ != "value" {
			h.r.skipped[skipHPANames]++
			continue
		}
		m := b.metrics[name]
		if m == nil {
			m = &workload.MetricTarget{Resource: name}
		}
		v := float64(s.Value)
		if typ == "utilization" {
			n, ok := wholeWithin(v, 1, maxHPAUtilization)
			if !ok {
				h.r.skipped[skipHPAValues]++
				continue
			}
			m.AverageUtilization = n
		} else {
			q, ok := quantityOf(name, v)
			if !ok {
				h.r.skipped[skipHPAValues]++
				continue
			}
			// Kubernetes allows one of the two; an average wins should
			// both be seen.
			if typ == "average" || m.AverageValue == "" {
				m.AverageValue = q
			}
		}
		b.metrics[name] = m
	}
}

// finish keeps the whole HPAs, sorted, and counts the others.
func (h *hpaAssembly) finish() ([]workload.HPA, hpaReading) {
	var out []workload.HPA
	for _, b := range h.byName {
		switch {
		case b.bad:
		case !b.hasMax, b.retarget, b.hpa.MinReplicas > b.hpa.MaxReplicas:
			h.r.skipped[skipHPAShape]++
		default:
			for _, m := range b.metrics {
				b.hpa.Metrics = append(b.hpa.Metrics, *m)
			}
			slices.SortFunc(b.hpa.Metrics, func(x, y workload.MetricTarget) int { return strings.Compare(x.Resource, y.Resource) })
			out = append(out, b.hpa)
		}
	}
	h.r.withoutInfo = len(h.orphans)
	slices.SortFunc(out, func(x, y workload.HPA) int {
		return cmp.Or(strings.Compare(x.Target.Cluster, y.Target.Cluster), strings.Compare(x.Target.Namespace, y.Target.Namespace), strings.Compare(x.Name, y.Name))
	})
	return out, h.r
}

// nameOf names the HPA of a series, in its cluster; why says what makes
// the series unusable: names Kubernetes does not allow, or a cluster that
// is none.
func (h *hpaAssembly) nameOf(m model.Metric) (k nsName, why string) {
	k = nsName{string(m[h.nsLabel]), string(m[hpaLabel]), clusterOf(model.LabelSet(m), h.clusterLabel)}
	switch {
	case !kubeName(k.namespace) || !kubeName(k.name):
		return k, skipHPANames
	case !clusterName(k.cluster):
		return k, skipClusters
	}
	return k, ""
}

// hpaTargetOf reads the workload an info series of the HPA hpa scales, in
// the HPA's namespace and cluster. A kind rightsize does not know (an
// Argo Rollout, say) is kept as it is, as the cluster source does, if it
// is a kind's name at all.
func hpaTargetOf(hpa nsName, m model.Metric) (workload.Key, bool) {
	kind, name := string(m["scaletargetref_kind"]), string(m["scaletargetref_name"])
	k, ok := workload.ParseKind(kind)
	if !ok {
		if !kindName(kind) {
			return workload.Key{}, false
		}
		k = workload.Kind(kind)
	}
	return workload.Key{Namespace: hpa.namespace, Kind: k, Name: name, Cluster: hpa.cluster}, kubeName(name)
}

// kindName reports whether s can be a Kubernetes kind: an upper-case
// letter, then letters and digits, at most 63 of them.
func kindName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// hpaMetricName reports whether s can name an HPA's metric: a resource
// (cpu, memory) or a custom or external metric, whose names are
// Prometheus-like or dotted and slashed (pubsub.googleapis.com|...). At
// most 253 bytes of ASCII letters, digits and _ . : / | -, so that no such
// name carries anything else into a report.
func hpaMetricName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.:/|-", c) >= 0) {
			return false
		}
	}
	return true
}

// wholeWithin returns v as an int if it is a whole number within
// [lo, hi]; NaN and infinities are not.
func wholeWithin(v float64, lo, hi int) (int, bool) {
	if !(v >= float64(lo) && v <= float64(hi)) || v != math.Trunc(v) {
		return 0, false
	}
	return int(v), true
}

// quantityOf renders an averageValue or value target as Kubernetes writes
// quantities (512Mi, 1k, 500m): in binary units for memory, which
// kube-state-metrics exports in bytes. ok is false for values that are no
// positive number up to maxHPAValue, or round to zero.
func quantityOf(metric string, v float64) (string, bool) {
	if !(v > 0 && v <= maxHPAValue) {
		return "", false
	}
	format := resource.DecimalSI
	if metric == "memory" {
		format = resource.BinarySI
	}
	if v == math.Trunc(v) {
		return resource.NewQuantity(int64(v), format).String(), true
	}
	milli := int64(math.Round(v * 1000))
	if milli == 0 {
		return "", false
	}
	return resource.NewMilliQuantity(milli, format).String(), true
}
