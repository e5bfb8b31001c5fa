package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"rightsize.dev/rightsize/hack/prometheus/fleetmodel"
	"rightsize.dev/rightsize/recommender/workload"
)

// container is one container of a pod template and the shape of its usage.
type container = fleetmodel.Container

// pod is one pod's life and its owner as kube-state-metrics names it.
type pod struct {
	key        workload.Key
	name       string
	containers []container
	from, to   time.Time // samples in (from, to], on the step grid

	ownerKind, owner string // kube_pod_owner
	// writesOwner marks the one pod of a ReplicaSet or Job that writes its
	// kube_replicaset_owner or kube_job_owner series: the pods of one owner
	// all live alike, so its series has that pod's sample times, as
	// openmetrics.Write's union of its pods' times would.
	writesOwner bool
}

// stream is one pod container and what its samples need to carry on from
// one slice of the window to the next.
type stream struct {
	pod *pod
	c   *container
	// first says this is the pod's first container, which writes the
	// pod's own series (kube_pod_owner, kube_pod_created).
	first bool
	rng   *rand.Rand
	next  int64 // time of the next sample (Unix ms)

	restarted int64 // time of the last OOM kill, if killed
	killed    bool

	// The series' state: counter totals so far, and whether the
	// counters' point before the first sample is written.
	cpuTotal, periods, throttled float64
	restarts                     int
	started                      bool
}

// fleet is the pods of the window and a stream per pod container.
type fleet struct {
	start, end time.Time
	step       time.Duration
	pods       []*pod
	streams    []*stream
	running    int // pod containers running at any one time, CronJobs aside
}

// newFleet adds workloads until containers pod containers run at once.
// The fleet's shape comes from one random source; each pod container's
// samples from its own (seed, index), so that they can be drawn slice by
// slice in any grouping.
func newFleet(seed uint64, containers, days int, step time.Duration, end time.Time) *fleet {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	f := &fleet{start: end.Add(-time.Duration(days) * 24 * time.Hour), end: end, step: step}
	for w := 0; f.running < containers; w++ {
		f.addWorkload(r, w)
	}
	for _, p := range f.pods {
		for i := range p.containers {
			// The high bit keeps these streams apart from the fleet's own.
			rng := rand.New(rand.NewPCG(seed, 1<<63|uint64(len(f.streams))))
			f.streams = append(f.streams, &stream{pod: p, c: &p.containers[i], first: i == 0, rng: rng,
				next: p.from.Truncate(step).Add(step).UnixMilli()})
		}
	}
	return f
}

// addWorkload adds workload w and its pods.
func (f *fleet) addWorkload(r *rand.Rand, w int) {
	ns := fmt.Sprintf("%s-%d", fleetmodel.Namespaces[w%len(fleetmodel.Namespaces)], w/len(fleetmodel.Namespaces)%4)
	name := fmt.Sprintf("svc-%d", w)
	kind, replicas := workload.Deployment, 2+r.IntN(3)
	switch x := r.Float64(); {
	case x < 0.12:
		kind, replicas = workload.StatefulSet, 1+r.IntN(3)
	case x < 0.2:
		kind, replicas = workload.DaemonSet, 6
	case x < 0.24:
		kind, replicas = workload.CronJob, 0
	}
	key := workload.Key{Namespace: ns, Kind: kind, Name: name}
	tmpl := fleetmodel.Template(r, 1+fleetmodel.BoolInt(r.Float64() < 0.4))
	if kind == workload.CronJob {
		// Hourly runs of 10 minutes: short-lived pods, many names, a Job each.
		for h := f.start; h.Before(f.end); h = h.Add(time.Hour) {
			job := fmt.Sprintf("%s-%d", name, h.Unix()/60)
			f.pods = append(f.pods, &pod{key: key, name: job + "-" + fleetmodel.RandName(r, 5), containers: tmpl, from: h, to: h.Add(10 * time.Minute),
				ownerKind: string(workload.Job), owner: job, writesOwner: true})
		}
		return
	}
	rollout := f.end
	if kind == workload.Deployment && r.Float64() < 0.2 {
		rollout = f.start.Add(time.Duration(r.Int64N(int64(f.end.Sub(f.start)))))
	}
	hash := fleetmodel.RandName(r, 10)
	for i := range replicas {
		p := &pod{key: key, containers: tmpl, from: f.start, to: rollout, ownerKind: string(kind), owner: name}
		switch kind {
		case workload.StatefulSet:
			p.name, p.to = fmt.Sprintf("%s-%d", name, i), f.end
		case workload.DaemonSet:
			p.name, p.to = name+"-"+fleetmodel.RandName(r, 5), f.end
		default:
			rs := name + "-" + hash
			p.name, p.ownerKind, p.owner, p.writesOwner = rs+"-"+fleetmodel.RandName(r, 5), string(workload.ReplicaSet), rs, i == 0
		}
		f.pods = append(f.pods, p)
		f.running += len(tmpl)
	}
	if rollout.Before(f.end) {
		// The new template asks for more memory: a settings change.
		next := append([]container(nil), tmpl...)
		for i := range next {
			next[i].Settings.Requests.Memory += 64 * workload.MiB
		}
		rs := name + "-" + fleetmodel.RandName(r, 10)
		for i := range replicas {
			f.pods = append(f.pods, &pod{key: key, name: rs + "-" + fleetmodel.RandName(r, 5), containers: next, from: rollout.Truncate(f.step), to: f.end,
				ownerKind: string(workload.ReplicaSet), owner: rs, writesOwner: i == 0})
		}
	}
}

// samples holds one stream's samples of a slice, in columns; a worker
// reuses it from stream to stream.
type samples struct {
	t             []int64 // Unix ms
	cpu, mem, thr []float64
	oom           []bool
	hasThr        bool // throttling is recorded (a CPU limit is set)
	killedBefore  bool // an OOM kill happened before the slice
}

// draw fills smp with the stream's samples up to until (Unix ms,
// inclusive) and the end of its pod, and moves the stream on. Each sample
// takes its random numbers in time order from the stream's own source, so
// the samples are the same however the window is sliced.
func (s *stream) draw(f *fleet, until int64, smp *samples) {
	smp.t, smp.cpu, smp.mem, smp.thr, smp.oom = smp.t[:0], smp.cpu[:0], smp.mem[:0], smp.thr[:0], smp.oom[:0]
	limit := float64(s.c.Settings.Limits.CPU.Cores())
	smp.hasThr, smp.killedBefore = limit > 0, s.killed
	until = min(until, s.pod.to.UnixMilli())
	step := f.step.Milliseconds()
	for ; s.next <= until; s.next += step {
		s.sample(f, limit, smp)
	}
}

// sample draws the usage at s.next, as genbench does.
func (s *stream) sample(f *fleet, limit float64, smp *samples) {
	c, r, t := s.c, s.rng, s.next
	sec := t / 1000
	h := float64(sec%86400/3600) + float64(sec%3600/60)/60
	day := 0.5 - 0.5*math.Cos(2*math.Pi*h/24)
	cpu := (c.CPU + c.Daily*day) * math.Exp(c.Sigma*r.NormFloat64())
	if r.Float64() < c.Spike {
		cpu *= 3 + 3*r.Float64()
	}
	thr := 0.0
	if limit > 0 && cpu > limit {
		cpu, thr = limit, math.Round((1-limit/cpu)*1e3)/1e3
	}
	days := float64(t-f.start.UnixMilli()) / float64(24*time.Hour/time.Millisecond)
	mem := c.Mem * (1 + c.Growth*days) * (1 + 0.05*day + 0.01*r.NormFloat64())
	if s.killed && t-s.restarted < time.Hour.Milliseconds() {
		mem *= 0.6 + 0.4*float64(t-s.restarted)/float64(time.Hour.Milliseconds()) // memory builds up again after a restart
	}
	oom := false
	if lim := float64(c.Settings.Limits.Memory); lim > 0 && mem > lim {
		oom, s.killed, s.restarted, mem = true, true, t, lim*0.5
	}
	smp.t = append(smp.t, t)
	smp.cpu = append(smp.cpu, float64(workload.Cores(math.Max(math.Round(cpu*1e4)/1e4, 0.0001))))
	smp.mem = append(smp.mem, float64(workload.Bytes(math.Round(mem/4096))*4096))
	smp.thr = append(smp.thr, thr)
	smp.oom = append(smp.oom, oom)
}
