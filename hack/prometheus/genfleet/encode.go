package main

import (
	"bufio"
	"math"
	"strconv"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// periodsPerSecond is the CFS period rate of the default 100 ms period,
// as openmetrics.Write counts it.
const periodsPerSecond = 10

// encoder writes pod containers' samples as the series openmetrics.Write
// renders for them (its family comments say what each holds), one JSON
// line per series and slice in the format of VictoriaMetrics'
// /api/v1/import: {"metric":{…},"values":[…],"timestamps":[…]}.
type encoder struct {
	w       *bufio.Writer
	step    int64 // ms
	stepSec float64
	periods float64 // CFS periods a step

	metric, ts, vals []byte // scratch
	samples          int64
}

func newEncoder(w *bufio.Writer, f *fleet) *encoder {
	return &encoder{w: w, step: f.step.Milliseconds(), stepSec: f.step.Seconds(), periods: f.step.Seconds() * periodsPerSecond}
}

// noContainer leaves the container label out.
const noContainer = "\x00"

// stream writes a stream's series for the samples of one slice and keeps
// the counters' totals for the next.
func (e *encoder) stream(s *stream, smp *samples) {
	n := len(smp.t)
	if n == 0 {
		return
	}
	p, c := s.pod, s.c
	ns, pod := p.key.Namespace, p.name
	// Every series of the slice has the same times: written once.
	e.ts = appendInts(e.ts[:0], smp.t)
	e.counters(s, smp)
	e.gauge(e.series("container_memory_working_set_bytes", ns, pod, c.Name), smp.mem)
	e.constant(e.series("kube_pod_container_info", ns, pod, c.Name,
		"image", "registry.example/"+p.key.Name+"/"+c.Name+":1", "container_id", "containerd://"+pod+"-"+c.Name), 1, n)
	e.settings("kube_pod_container_resource_requests", s, c.Settings.Requests, n)
	e.settings("kube_pod_container_resource_limits", s, c.Settings.Limits, n)
	e.restarts(s, smp)
	if s.first {
		e.podSeries(s, n)
	}
}

// counters writes the cumulative counters, with a point one step before
// the pod container's first sample, so that a rate over one step gives
// the sample's value.
func (e *encoder) counters(s *stream, smp *samples) {
	ns, pod, name := s.pod.key.Namespace, s.pod.name, s.c.Name
	first := !s.started
	s.started = true
	e.vals = e.vals[:0]
	for _, v := range smp.cpu {
		s.cpuTotal += v * e.stepSec
		e.vals = appendValue(e.vals, s.cpuTotal)
	}
	e.counter(e.series("container_cpu_usage_seconds_total", ns, pod, name), first, smp)
	if !smp.hasThr {
		return
	}
	e.vals = e.vals[:0]
	for range smp.t {
		s.periods += e.periods
		e.vals = appendValue(e.vals, s.periods)
	}
	e.counter(e.series("container_cpu_cfs_periods_total", ns, pod, name), first, smp)
	e.vals = e.vals[:0]
	for _, v := range smp.thr {
		// Kept as float32, as the store keeps the throttled share.
		s.throttled += float64(float32(v)) * e.periods
		e.vals = appendValue(e.vals, s.throttled)
	}
	e.counter(e.series("container_cpu_cfs_throttled_periods_total", ns, pod, name), first, smp)
}

// counter writes e.vals at the slice's times, after a zero a step before
// the first sample if first.
func (e *encoder) counter(metric []byte, first bool, smp *samples) {
	if !first {
		e.line(metric, e.vals, e.ts, len(smp.t))
		return
	}
	vals := append([]byte("0,"), e.vals...)
	ts := strconv.AppendInt(nil, smp.t[0]-e.step, 10)
	ts = append(append(ts, ','), e.ts...)
	e.line(metric, vals, ts, len(smp.t)+1)
}

func (e *encoder) gauge(metric []byte, v []float64) {
	e.vals = e.vals[:0]
	for i, x := range v {
		if i > 0 {
			e.vals = append(e.vals, ',')
		}
		e.vals = appendNumber(e.vals, x)
	}
	e.line(metric, e.vals, e.ts, len(v))
}

// constant writes v at each of the slice's n times.
func (e *encoder) constant(metric []byte, v float64, n int) {
	one := appendNumber(nil, v)
	e.vals = e.vals[:0]
	for i := range n {
		if i > 0 {
			e.vals = append(e.vals, ',')
		}
		e.vals = append(e.vals, one...)
	}
	e.line(metric, e.vals, e.ts, n)
}

func (e *encoder) settings(name string, s *stream, r workload.Resources, n int) {
	ns, pod, c := s.pod.key.Namespace, s.pod.name, s.c.Name
	if r.CPU.IsSet() {
		e.constant(e.series(name, ns, pod, c, "node", "node-1", "resource", "cpu", "unit", "core"), float64(r.CPU.Cores()), n)
	}
	if r.Memory.IsSet() {
		e.constant(e.series(name, ns, pod, c, "node", "node-1", "resource", "memory", "unit", "byte"), float64(r.Memory), n)
	}
}

// restarts writes the restart count (one per OOM kill) and, from the
// first OOM kill on, the last terminated reason.
func (e *encoder) restarts(s *stream, smp *samples) {
	ns, pod, name := s.pod.key.Namespace, s.pod.name, s.c.Name
	e.vals = e.vals[:0]
	killed, from := smp.killedBefore, -1
	for i, oom := range smp.oom {
		if oom {
			s.restarts++
		}
		e.vals = appendValue(e.vals, float64(s.restarts))
		killed = killed || oom
		if killed && from < 0 {
			from = i
		}
	}
	e.line(e.series("kube_pod_container_status_restarts_total", ns, pod, name), e.vals, e.ts, len(smp.t))
	if from < 0 {
		return
	}
	times := appendInts(nil, smp.t[from:])
	ts := e.ts
	e.ts = times
	e.constant(e.series("kube_pod_container_status_last_terminated_reason", ns, pod, name, "reason", "OOMKilled"), 1, len(smp.t)-from)
	e.ts = ts
}

// podSeries writes the series kube-state-metrics has per pod, and per
// ReplicaSet or Job for the pod that stands for its owner.
func (e *encoder) podSeries(s *stream, n int) {
	p := s.pod
	ns := p.key.Namespace
	e.constant(e.series("kube_pod_owner", ns, p.name, noContainer,
		"owner_kind", p.ownerKind, "owner_name", p.owner, "owner_is_controller", "true", "uid", "uid-"+p.name), 1, n)
	// A step before the first sample, in whole seconds as Kubernetes keeps it.
	created := p.from.Truncate(time.Duration(e.step) * time.Millisecond).Unix()
	e.constant(e.series("kube_pod_created", ns, p.name, noContainer, "uid", "uid-"+p.name), float64(created), n)
	if !p.writesOwner {
		return
	}
	switch p.ownerKind {
	case string(workload.ReplicaSet):
		e.constant(e.series("kube_replicaset_owner", ns, "", noContainer,
			"replicaset", p.owner, "owner_kind", string(workload.Deployment), "owner_name", p.key.Name, "owner_is_controller", "true"), 1, n)
	case string(workload.Job):
		e.constant(e.series("kube_job_owner", ns, "", noContainer,
			"job_name", p.owner, "owner_kind", string(workload.CronJob), "owner_name", p.key.Name, "owner_is_controller", "true"), 1, n)
	}
}

// series returns the metric object of a series: its name, the namespace,
// pod (unless empty) and container (unless noContainer) labels and
// further label pairs, as openmetrics.Write labels it.
func (e *encoder) series(name, namespace, pod, container string, kv ...string) []byte {
	b := append(e.metric[:0], `{"metric":{"__name__":`...)
	b = appendString(b, name)
	b = appendLabel(b, "namespace", namespace)
	if pod != "" {
		b = appendLabel(b, "pod", pod)
	}
	if container != noContainer {
		b = appendLabel(b, "container", container)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b = appendLabel(b, kv[i], kv[i+1])
	}
	b = append(b, '}')
	e.metric = b
	return b
}

// line writes one series' values (comma-separated) at its times.
func (e *encoder) line(metric, vals, ts []byte, n int) {
	e.w.Write(metric)
	e.w.WriteString(`,"values":[`)
	e.w.Write(vals)
	e.w.WriteString(`],"timestamps":[`)
	e.w.Write(ts)
	e.w.WriteString("]}\n")
	e.samples += int64(n)
}

func appendLabel(b []byte, k, v string) []byte {
	b = append(b, ',')
	b = appendString(b, k)
	b = append(b, ':')
	return appendString(b, v)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendValue appends v to a comma-separated list.
func appendValue(b []byte, v float64) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	return appendNumber(b, v)
}

// appendNumber writes v as a JSON number that reads back as v exactly:
// whole numbers as integers (quicker to write and to parse), the rest in
// the shortest form.
func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func appendInts(b []byte, v []int64) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return b
}
