package openmetrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Options shape the rendering.
type Options struct {
	// Step is the window each CPU sample averages over, as the usage CSV
	// defines it (required).
	Step time.Duration
	// From and To limit the written points to [From, To); zero means no
	// limit. Counters keep their totals from the first sample, so files
	// cut at the same instants load into one consistent history.
	From, To time.Time
	// PodLevel adds what cAdvisor also exports and a collector must leave
	// out: a pod-level series (container="") and the pause container
	// (container="POD") for CPU and memory, with values that would stand
	// out.
	PodLevel bool
}

// periodsPerSecond is the CFS period rate of the default 100 ms period.
const periodsPerSecond = 10

// Source is a store to render and the labels added to all its series (e.g.
// cluster, job). Several sources with different labels may hold the same
// pods.
type Source struct {
	Store  *history.Store
	Labels map[string]string
	// HPAs are rendered as kube-state-metrics exports HorizontalPodAutoscalers.
	HPAs []HPA
}

// HPA is a HorizontalPodAutoscaler, exported at the times of its target's
// samples (all the source's samples if the target has none), until Until
// if set: the HPA was deleted then.
type HPA struct {
	workload.HPA
	Until time.Time
}

// Write renders every series of the sources, family by family, and ends
// with # EOF.
func Write(w io.Writer, o Options, sources ...Source) error {
	if o.Step <= 0 {
		return fmt.Errorf("step must be positive")
	}
	r := &renderer{bw: bufio.NewWriterSize(w, 1<<20), o: o}
	hpas := false
	for _, src := range sources {
		p := &part{extra: labelText(src.Labels), hpas: src.HPAs}
		p.index(src.Store)
		r.parts = append(r.parts, p)
		hpas = hpas || len(src.HPAs) > 0
	}
	r.from, r.to = int64(math.MinInt64), int64(math.MaxInt64)
	if !o.From.IsZero() {
		r.from = o.From.UnixMilli()
	}
	if !o.To.IsZero() {
		r.to = o.To.UnixMilli()
	}
	families := []func(){
		r.cpu, r.memory, r.cfs, r.containerInfo, r.settings, r.restarts, r.lastTerminated,
		r.podOwner, r.podCreated, r.replicaSetOwner, r.jobOwner,
	}
	if hpas {
		// Only then, so that renderings without HPAs stay as they were.
		families = append(families, r.hpaInfo, r.hpaReplicas, r.hpaTargets)
	}
	for _, f := range families {
		f()
		if r.err != nil {
			return r.err
		}
	}
	r.bw.WriteString("# EOF\n")
	return r.bw.Flush()
}

type renderer struct {
	bw       *bufio.Writer
	o        Options
	parts    []*part
	from, to int64
	buf      []byte
	err      error
}

// part is one source, indexed.
type part struct {
	extra string
	all   []entry           // every pod container, in store order
	pods  []*pod            // every pod, in name order
	rs    map[string]*owned // ReplicaSets and Jobs by namespace/name
	jobs  map[string]*owned
	hpas  []HPA
	// times are the sample times of each workload, and of all (the zero
	// key), sorted.
	times map[workload.Key][]int64
}

type entry struct {
	key    workload.ContainerKey
	series *history.Series
}

// pod is a pod with the series of its first container, whose times stand
// for the pod's.
type pod struct {
	namespace, name string
	kind            workload.Kind
	owner, ownerKnd string
	first           *history.Series
}

// owned is a ReplicaSet or Job and the times any of its pods was seen.
type owned struct {
	namespace, name string
	ownerKind       string
	ownerName       string
	times           []int64
}

func (r *part) index(st *history.Store) {
	byPod := map[string]*pod{}
	r.rs, r.jobs = map[string]*owned{}, map[string]*owned{}
	r.times = map[workload.Key][]int64{}
	for _, k := range st.Containers() {
		for _, s := range st.Series(k) {
			r.all = append(r.all, entry{k, s})
			if len(r.hpas) > 0 {
				r.times[k.Workload] = append(r.times[k.Workload], s.Time...)
				r.times[workload.Key{}] = append(r.times[workload.Key{}], s.Time...)
			}
			id := k.Workload.Namespace + "/" + s.Pod
			if byPod[id] != nil {
				continue
			}
			p := &pod{namespace: k.Workload.Namespace, name: s.Pod, kind: k.Workload.Kind, first: s}
			byPod[id] = p
			r.pods = append(r.pods, p)
			switch k.Workload.Kind {
			case workload.Deployment:
				p.ownerKnd, p.owner = string(workload.ReplicaSet), parentName(s.Pod, k.Workload.Name)
				r.own(r.rs, p, string(workload.Deployment), k.Workload.Name)
			case workload.ReplicaSet:
				p.ownerKnd, p.owner = string(workload.ReplicaSet), k.Workload.Name
				r.own(r.rs, p, "<none>", "<none>")
			case workload.CronJob:
				p.ownerKnd, p.owner = string(workload.Job), parentName(s.Pod, k.Workload.Name)
				r.own(r.jobs, p, string(workload.CronJob), k.Workload.Name)
			case workload.Job:
				p.ownerKnd, p.owner = string(workload.Job), k.Workload.Name
				r.own(r.jobs, p, "<none>", "<none>")
			case workload.Pod:
				p.ownerKnd, p.owner = "<none>", "<none>"
			default:
				p.ownerKnd, p.owner = string(k.Workload.Kind), k.Workload.Name
			}
		}
	}
	slices.SortFunc(r.pods, func(a, b *pod) int {
		return strings.Compare(a.namespace+"/"+a.name, b.namespace+"/"+b.name)
	})
	for _, m := range []map[string]*owned{r.rs, r.jobs} {
		for _, o := range m {
			slices.Sort(o.times)
			o.times = slices.Compact(o.times)
		}
	}
	for k, ts := range r.times {
		slices.Sort(ts)
		r.times[k] = slices.Compact(ts)
	}
}

// parentName is a pod's ReplicaSet or Job: the pod's name without its last
// dash-separated part, or the workload's name if there is none.
func parentName(pod, workloadName string) string {
	if i := strings.LastIndexByte(pod, '-'); i > 0 {
		return pod[:i]
	}
	return workloadName
}

func (r *part) own(m map[string]*owned, p *pod, kind, name string) {
	id := p.namespace + "/" + p.owner
	o := m[id]
	if o == nil {
		o = &owned{namespace: p.namespace, name: p.owner, ownerKind: kind, ownerName: name}
		m[id] = o
	}
	o.times = append(o.times, p.first.Time...)
}

func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("," + k + `="` + escape(m[k]) + `"`)
	}
	return b.String()
}

func escape(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// series returns the start of a line: name{labels} with the namespace,
// pod and container labels, further label pairs and the extra labels.
func (p *part) series(name, namespace, pod, container string, kv ...string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(`{namespace="` + escape(namespace) + `"`)
	if pod != "" {
		b.WriteString(`,pod="` + escape(pod) + `"`)
	}
	if container != "\x00" {
		b.WriteString(`,container="` + escape(container) + `"`)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("," + kv[i] + `="` + escape(kv[i+1]) + `"`)
	}
	b.WriteString(p.extra)
	b.WriteString("} ")
	return b.String()
}

// noContainer leaves the container label out.
const noContainer = "\x00"

func (r *renderer) family(name, typ string) {
	r.bw.WriteString("# TYPE " + name + " " + typ + "\n")
}

// point writes one line if t is inside the limits.
func (r *renderer) point(prefix string, v float64, t int64) {
	if t < r.from || t >= r.to || r.err != nil {
		return
	}
	b := append(r.buf[:0], prefix...)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, ' ')
	if t%1000 == 0 {
		b = strconv.AppendInt(b, t/1000, 10)
	} else {
		b = strconv.AppendFloat(b, float64(t)/1000, 'f', 3, 64)
	}
	b = append(b, '\n')
	r.buf = b
	if _, err := r.bw.Write(b); err != nil {
		r.err = err
	}
}

// counter writes a counter that grows by inc(i) over the step ending at
// sample i, for the samples where ok(i), with a point at the step's start
// where the previous point is not there.
func (r *renderer) counter(prefix string, s *history.Series, ok func(i int) bool, inc func(i int) float64) {
	step := r.o.Step.Milliseconds()
	total := 0.0
	last := int64(math.MinInt64)
	for i, t := range s.Time {
		if !ok(i) {
			continue
		}
		if last != t-step {
			r.point(prefix, total, t-step)
		}
		total += inc(i)
		r.point(prefix, total, t)
		last = t
	}
}

func (r *renderer) cpu() {
	r.family("container_cpu_usage_seconds", "counter")
	sec := r.o.Step.Seconds()
	for _, pt := range r.parts {
		for _, e := range pt.all {
			s := e.series
			r.counter(pt.series("container_cpu_usage_seconds_total", e.key.Workload.Namespace, s.Pod, e.key.Container),
				s, func(i int) bool { return !math.IsNaN(s.CPU[i]) }, func(i int) float64 { return s.CPU[i] * sec })
		}
		if !r.o.PodLevel {
			continue
		}
		for _, p := range pt.pods {
			s := p.first
			for _, c := range []struct {
				name string
				f    float64
			}{{"", 10}, {"POD", 0.5}} {
				r.counter(pt.series("container_cpu_usage_seconds_total", p.namespace, p.name, c.name),
					s, func(i int) bool { return !math.IsNaN(s.CPU[i]) }, func(i int) float64 { return (s.CPU[i]*c.f + 0.001) * sec })
			}
		}
	}
}

func (r *renderer) memory() {
	r.family("container_memory_working_set_bytes", "gauge")
	for _, pt := range r.parts {
		for _, e := range pt.all {
			s := e.series
			prefix := pt.series("container_memory_working_set_bytes", e.key.Workload.Namespace, s.Pod, e.key.Container)
			for i, t := range s.Time {
				if v := s.Memory[i]; !math.IsNaN(v) {
					r.point(prefix, v, t)
				}
			}
		}
		if !r.o.PodLevel {
			continue
		}
		for _, p := range pt.pods {
			s := p.first
			for _, c := range []struct {
				name string
				f    float64
			}{{"", 10}, {"POD", 0.01}} {
				prefix := pt.series("container_memory_working_set_bytes", p.namespace, p.name, c.name)
				for i, t := range s.Time {
					if v := s.Memory[i]; !math.IsNaN(v) {
						r.point(prefix, math.Round(v*c.f)+float64(workload.MiB), t)
					}
				}
			}
		}
	}
}

func (r *renderer) cfs() {
	periods := r.o.Step.Seconds() * periodsPerSecond
	for _, fam := range []struct {
		name string
		inc  func(s *history.Series, i int) float64
	}{
		{"container_cpu_cfs_periods", func(*history.Series, int) float64 { return periods }},
		{"container_cpu_cfs_throttled_periods", func(s *history.Series, i int) float64 { return float64(s.Throttled[i]) * periods }},
	} {
		r.family(fam.name, "counter")
		for _, pt := range r.parts {
			for _, e := range pt.all {
				s := e.series
				r.counter(pt.series(fam.name+"_total", e.key.Workload.Namespace, s.Pod, e.key.Container),
					s, func(i int) bool { return s.Throttled[i] == s.Throttled[i] }, func(i int) float64 { return fam.inc(s, i) })
			}
		}
	}
}

func (r *renderer) containerInfo() {
	r.family("kube_pod_container_info", "gauge")
	for _, pt := range r.parts {
		for _, e := range pt.all {
			s := e.series
			prefix := pt.series("kube_pod_container_info", e.key.Workload.Namespace, s.Pod, e.key.Container,
				"image", "registry.example/"+e.key.Workload.Name+"/"+e.key.Container+":1", "container_id", "containerd://"+s.Pod+"-"+e.key.Container)
			for _, t := range s.Time {
				r.point(prefix, 1, t)
			}
		}
	}
}

func (r *renderer) settings() {
	for _, fam := range []struct {
		name string
		get  func(workload.Settings) workload.Resources
	}{
		{"kube_pod_container_resource_requests", func(s workload.Settings) workload.Resources { return s.Requests }},
		{"kube_pod_container_resource_limits", func(s workload.Settings) workload.Resources { return s.Limits }},
	} {
		r.family(fam.name, "gauge")
		for _, pt := range r.parts {
			for _, e := range pt.all {
				s := e.series
				cpu := pt.series(fam.name, e.key.Workload.Namespace, s.Pod, e.key.Container, "node", "node-1", "resource", "cpu", "unit", "core")
				mem := pt.series(fam.name, e.key.Workload.Namespace, s.Pod, e.key.Container, "node", "node-1", "resource", "memory", "unit", "byte")
				for i, t := range s.Time {
					if v := fam.get(s.SettingsAt(i)).CPU; v.IsSet() {
						r.point(cpu, float64(v.Cores()), t)
					}
				}
				for i, t := range s.Time {
					if v := fam.get(s.SettingsAt(i)).Memory; v.IsSet() {
						r.point(mem, float64(v), t)
					}
				}
			}
		}
	}
}

func (r *renderer) restarts() {
	r.family("kube_pod_container_status_restarts", "counter")
	for _, pt := range r.parts {
		for _, e := range pt.all {
			s := e.series
			prefix := pt.series("kube_pod_container_status_restarts_total", e.key.Workload.Namespace, s.Pod, e.key.Container)
			n := 0
			for i, t := range s.Time {
				if s.OOM[i] {
					n++
				}
				r.point(prefix, float64(n), t)
			}
		}
	}
}

func (r *renderer) lastTerminated() {
	r.family("kube_pod_container_status_last_terminated_reason", "gauge")
	for _, pt := range r.parts {
		for _, e := range pt.all {
			s := e.series
			prefix := pt.series("kube_pod_container_status_last_terminated_reason", e.key.Workload.Namespace, s.Pod, e.key.Container, "reason", "OOMKilled")
			killed := false
			for i, t := range s.Time {
				killed = killed || s.OOM[i]
				if killed {
					r.point(prefix, 1, t)
				}
			}
		}
	}
}

func (r *renderer) podOwner() {
	r.family("kube_pod_owner", "gauge")
	for _, pt := range r.parts {
		for _, p := range pt.pods {
			controller := "true"
			if p.ownerKnd == "<none>" {
				controller = "<none>"
			}
			prefix := pt.series("kube_pod_owner", p.namespace, p.name, noContainer,
				"owner_kind", p.ownerKnd, "owner_name", p.owner, "owner_is_controller", controller, "uid", "uid-"+p.name)
			for _, t := range p.first.Time {
				r.point(prefix, 1, t)
			}
		}
	}
}

func (r *renderer) podCreated() {
	r.family("kube_pod_created", "gauge")
	step := r.o.Step.Milliseconds()
	for _, pt := range r.parts {
		for _, p := range pt.pods {
			if len(p.first.Time) == 0 {
				continue
			}
			prefix := pt.series("kube_pod_created", p.namespace, p.name, noContainer, "uid", "uid-"+p.name)
			created := float64((p.first.Time[0] - step) / 1000) // whole seconds, as Kubernetes keeps it
			for _, t := range p.first.Time {
				r.point(prefix, created, t)
			}
		}
	}
}

func (r *renderer) ownerFamily(name, label string, owned func(*part) map[string]*owned) {
	r.family(name, "gauge")
	for _, pt := range r.parts {
		m := owned(pt)
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			o := m[id]
			controller := "true"
			if o.ownerKind == "<none>" {
				controller = "<none>"
			}
			prefix := pt.series(name, o.namespace, "", noContainer, label, o.name, "owner_kind", o.ownerKind, "owner_name", o.ownerName, "owner_is_controller", controller)
			for _, t := range o.times {
				r.point(prefix, 1, t)
			}
		}
	}
}

func (r *renderer) replicaSetOwner() {
	r.ownerFamily("kube_replicaset_owner", "replicaset", func(p *part) map[string]*owned { return p.rs })
}

func (r *renderer) jobOwner() {
	r.ownerFamily("kube_job_owner", "job_name", func(p *part) map[string]*owned { return p.jobs })
}

// hpaTimes returns the times an HPA is exported at.
func (p *part) hpaTimes(h HPA) []int64 {
	ts, ok := p.times[h.Target]
	if !ok {
		ts = p.times[workload.Key{}]
	}
	if h.Until.IsZero() {
		return ts
	}
	n, _ := slices.BinarySearch(ts, h.Until.UnixMilli())
	return ts[:n]
}

// hpaSeries starts a line of an HPA series, labelled as kube-state-metrics
// labels them.
func (p *part) hpaSeries(name string, h HPA, kv ...string) string {
	return p.series(name, h.Target.Namespace, "", noContainer, append([]string{"horizontalpodautoscaler", h.Name}, kv...)...)
}

func (r *renderer) hpaInfo() {
	r.family("kube_horizontalpodautoscaler_info", "gauge")
	for _, pt := range r.parts {
		for _, h := range pt.hpas {
			var kv []string
			// Like kube-state-metrics, without an API version where none is
			// known (kinds of other API groups).
			if _, ok := workload.ParseKind(string(h.Target.Kind)); ok {
				kv = append(kv, "scaletargetref_api_version", h.Target.Kind.APIVersion())
			}
			kv = append(kv, "scaletargetref_kind", string(h.Target.Kind), "scaletargetref_name", h.Target.Name)
			prefix := pt.hpaSeries("kube_horizontalpodautoscaler_info", h, kv...)
			for _, t := range pt.hpaTimes(h) {
				r.point(prefix, 1, t)
			}
		}
	}
}

func (r *renderer) hpaReplicas() {
	for _, fam := range []struct {
		name string
		get  func(HPA) int
	}{
		{"kube_horizontalpodautoscaler_spec_min_replicas", func(h HPA) int { return h.MinReplicas }},
		{"kube_horizontalpodautoscaler_spec_max_replicas", func(h HPA) int { return h.MaxReplicas }},
		{"kube_horizontalpodautoscaler_status_current_replicas", func(h HPA) int { return h.Replicas }},
	} {
		r.family(fam.name, "gauge")
		for _, pt := range r.parts {
			for _, h := range pt.hpas {
				if fam.name == "kube_horizontalpodautoscaler_status_current_replicas" && h.Replicas == 0 {
					continue // unknown: not exported
				}
				prefix := pt.hpaSeries(fam.name, h)
				for _, t := range pt.hpaTimes(h) {
					r.point(prefix, float64(fam.get(h)), t)
				}
			}
		}
	}
}

// hpaTargets writes a series per metric target: utilization in percent,
// average values in the metric's base unit (cores, bytes).
func (r *renderer) hpaTargets() {
	const name = "kube_horizontalpodautoscaler_spec_target_metric"
	r.family(name, "gauge")
	for _, pt := range r.parts {
		for _, h := range pt.hpas {
			for _, m := range h.Metrics {
				type target struct {
					typ string
					v   float64
				}
				var targets []target
				if m.AverageUtilization > 0 {
					targets = append(targets, target{"utilization", float64(m.AverageUtilization)})
				}
				if m.AverageValue != "" {
					q, err := resource.ParseQuantity(m.AverageValue)
					if err != nil {
						r.err = fmt.Errorf("HPA %s/%s: metric %s: %w", h.Target.Namespace, h.Name, m.Resource, err)
						return
					}
					targets = append(targets, target{"average", q.AsApproximateFloat64()})
				}
				for _, tg := range targets {
					prefix := pt.hpaSeries(name, h, "metric_name", m.Resource, "metric_target_type", tg.typ)
					for _, t := range pt.hpaTimes(h) {
						r.point(prefix, tg.v, t)
					}
				}
			}
		}
	}
}
