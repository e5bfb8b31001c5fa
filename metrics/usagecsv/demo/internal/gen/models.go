package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// web is the storefront: three replicas following the day's traffic, much
// smaller than their requests, replaced by a rollout on day 9.
type web struct {
	r    *rand.Rand
	c    container
	hash string // the ReplicaSet's pod-template hash
	pods [3]pod
}

// webRollout is the step of the rollout: 2026-11-09 14:00 UTC.
const webRollout = 8*stepsPerDay + 14*12

func newWeb(r *rand.Rand) *web {
	w := &web{r: r, c: newContainer(workload.Deployment, "web", "app", 1000, 2000, workload.GiB, workload.GiB)}
	w.hash = randName(r, 10)
	for k := range w.pods {
		w.pods[k] = pod{name: w.podName(), born: -stepsPerDay}
	}
	return w
}

func (w *web) podName() string { return "web-" + w.hash + "-" + randName(w.r, 5) }

func (w *web) step(i int, t time.Time, emit emitFunc) {
	// A new ReplicaSet replaces the pods one per step.
	if k := i - webRollout; k >= 0 && k < len(w.pods) {
		if k == 0 {
			w.hash = randName(w.r, 10)
		}
		w.pods[k] = pod{name: w.podName(), born: i}
	}
	d := diurnal(t)
	for _, p := range w.pods {
		cpu := (0.05 + 0.42*d) * noise(w.r, 0.12)
		mem := (285*mib+35*mib*d)*warm(i-p.born, 45) + 3*mib*w.r.NormFloat64()
		w.c.emit(emit, t, p.name, usage{cpu: cpu, mem: mem})
	}
}

// api serves the shop's API: a modest base with short bursts several times
// larger, which its CPU limit throttles.
type api struct {
	r     *rand.Rand
	c     container
	pods  [2]string
	burst int     // steps of the current burst left
	mult  float64 // the current burst's size
}

func newAPI(r *rand.Rand) *api {
	a := &api{r: r, c: newContainer(workload.Deployment, "api", "api", 250, 500, 512*workload.MiB, 768*workload.MiB)}
	hash := randName(r, 10)
	for k := range a.pods {
		a.pods[k] = "api-" + hash + "-" + randName(r, 5)
	}
	return a
}

func (a *api) step(i int, t time.Time, emit emitFunc) {
	if a.burst == 0 && a.r.Float64() < 0.012 {
		a.burst, a.mult = 1+a.r.IntN(3), 4+3*a.r.Float64()
	}
	d := diurnal(t)
	limit := a.c.settings.Limits.CPU.Cores()
	for _, p := range a.pods {
		demand := (0.12 + 0.16*d) * noise(a.r, 0.15)
		if a.burst > 0 {
			demand *= a.mult * (0.85 + 0.3*a.r.Float64())
		}
		cpu, thr := throttling(a.r, demand, float64(limit))
		mem := 395*mib + 20*mib*d + 4*mib*a.r.NormFloat64()
		a.c.emit(emit, t, p, usage{cpu: cpu, mem: mem, throttled: thr})
	}
	if a.burst > 0 {
		a.burst--
	}
}

// worker runs batch jobs: idle between them, CPU and memory spikes during
// them. One replica runs always, a second on weekdays in business hours. A
// few jobs need more memory than the limit, and the kernel kills the
// container; it restarts in place with a small working set.
type worker struct {
	r    *rand.Rand
	c    container
	hash string
	pods []*workerPod
}

type workerPod struct {
	pod
	job, jobLen int     // steps of the current job left, and its length
	jobMem      float64 // memory the current job needs at its end
	retained    float64 // memory of the last job not yet given back
}

func newWorker(r *rand.Rand) *worker {
	w := &worker{r: r, c: newContainer(workload.Deployment, "worker", "worker", 500, 2000, 512*workload.MiB, workload.GiB)}
	w.hash = randName(r, 10)
	w.pods = []*workerPod{{pod: pod{name: w.podName(), born: -stepsPerDay}}}
	return w
}

func (w *worker) podName() string { return "worker-" + w.hash + "-" + randName(w.r, 5) }

func (w *worker) step(i int, t time.Time, emit emitFunc) {
	wd := t.Weekday()
	busy := wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 20
	switch {
	case busy && len(w.pods) == 1:
		w.pods = append(w.pods, &workerPod{pod: pod{name: w.podName(), born: i}})
	case !busy && len(w.pods) == 2:
		w.pods = w.pods[:1]
	}
	limit := float64(w.c.settings.Limits.Memory)
	for _, p := range w.pods {
		if p.job == 0 && w.r.Float64() < 0.04 {
			p.jobLen = 2 + w.r.IntN(5)
			p.job = p.jobLen
			p.jobMem = (150 + 450*w.r.Float64()) * mib
			if w.r.Float64() < 0.025 {
				p.jobMem = (950 + 300*w.r.Float64()) * mib // a job too big for the limit
			}
		}
		u := usage{cpu: 0.03 * noise(w.r, 0.25)}
		base := 210*mib*warm(i-p.born, 30) + 2*mib*w.r.NormFloat64()
		if p.job > 0 {
			jobMem := p.jobMem * float64(p.jobLen-p.job+1) / float64(p.jobLen)
			demand := 0.9 + 0.7*w.r.Float64()
			u.cpu, u.throttled = throttling(w.r, demand, float64(w.c.settings.Limits.CPU.Cores()))
			u.mem = base + jobMem
			p.job--
			if u.mem > limit {
				// The working set peaked at the limit when the kernel killed
				// the container; it restarts empty and the job is lost.
				u.mem, u.oom = limit*(0.985+0.014*w.r.Float64()), true
				p.job, p.retained, p.born = 0, 0, i
			} else if p.job == 0 {
				p.retained = 0.6 * jobMem
			}
		} else {
			p.retained *= 0.75 // memory goes back to the system gradually
			u.mem = base + p.retained
		}
		w.c.emit(emit, t, p.name, u)
	}
}

// ordersDB is the shop's PostgreSQL: moderate CPU with a nightly backup,
// and a page cache that grows slowly over the whole two weeks.
type ordersDB struct {
	r *rand.Rand
	c container
}

func newOrdersDB(r *rand.Rand) *ordersDB {
	return &ordersDB{r: r, c: newContainer(workload.StatefulSet, "orders-db", "postgres", 2000, 4000, 8*workload.GiB, 8*workload.GiB)}
}

func (o *ordersDB) step(i int, t time.Time, emit emitFunc) {
	d := diurnal(t)
	days := float64(i) / float64(stepsPerDay)
	cpu := (0.22 + 0.5*d) * noise(o.r, 0.1)
	if t.Hour() == 2 && t.Minute() < 40 {
		cpu += 0.9 * (0.9 + 0.2*o.r.Float64()) // pg_dump
	}
	mem := 3.3*gib + 2.4*gib*(1-math.Exp(-days/8)) + 40*mib*d + 8*mib*o.r.NormFloat64()
	o.c.emit(emit, t, "orders-db-0", usage{cpu: cpu, mem: mem})
}

// catalog is a JVM service whose heap is sized by -XX:MaxRAMPercentage=75:
// its working set sits near 75% of the memory limit, climbing as the heap
// fills and dropping at each collection.
type catalog struct {
	r    *rand.Rand
	c    container
	pods [2]*jvmPod
}

type jvmPod struct {
	name          string
	phase, period float64 // progress to the next collection, and steps between them
}

func newCatalog(r *rand.Rand) *catalog {
	c := &catalog{r: r, c: newContainer(workload.Deployment, "catalog", "jvm", 1000, 2000, 2*workload.GiB, 2*workload.GiB)}
	hash := randName(r, 10)
	for k := range c.pods {
		c.pods[k] = &jvmPod{name: "catalog-" + hash + "-" + randName(r, 5), phase: r.Float64(), period: 9 + 13*r.Float64()}
	}
	return c
}

func (c *catalog) step(i int, t time.Time, emit emitFunc) {
	d := diurnal(t)
	for _, p := range c.pods {
		cpu := (0.07 + 0.2*d) * noise(c.r, 0.12)
		p.phase += (0.6 + 0.8*d) / p.period // the heap fills faster under load
		if p.phase >= 1 {
			p.phase, p.period = 0, 9+13*c.r.Float64()
			cpu += 0.2 // the collection itself
		}
		mem := 1.36*gib + 0.24*gib*p.phase + 6*mib*c.r.NormFloat64()
		c.c.emit(emit, t, p.name, usage{cpu: cpu, mem: mem})
	}
}

// frontend serves static assets with nginx, next to a log-shipper sidecar
// nobody set requests or limits for, which makes the pods Burstable.
type frontend struct {
	r          *rand.Rand
	nginx, log container
	pods       [2]string
}

func newFrontend(r *rand.Rand) *frontend {
	f := &frontend{
		r:     r,
		nginx: newContainer(workload.Deployment, "frontend", "nginx", 100, 0, 128*workload.MiB, 256*workload.MiB),
		log:   newContainer(workload.Deployment, "frontend", "log-shipper", 0, 0, 0, 0),
	}
	hash := randName(r, 10)
	for k := range f.pods {
		f.pods[k] = "frontend-" + hash + "-" + randName(r, 5)
	}
	return f
}

func (f *frontend) step(i int, t time.Time, emit emitFunc) {
	d := diurnal(t)
	for _, p := range f.pods {
		f.nginx.emit(emit, t, p, usage{
			cpu: (0.018 + 0.085*d) * noise(f.r, 0.15),
			mem: 54*mib + 10*mib*d + 1*mib*f.r.NormFloat64(),
		})
		f.log.emit(emit, t, p, usage{
			cpu: (0.018 + 0.035*d) * noise(f.r, 0.15),
			mem: 78*mib + 18*mib*d + 2*mib*f.r.NormFloat64(),
		})
	}
}

// report is a CronJob that builds the nightly sales report at 01:00 UTC:
// a new pod each night that runs for about 20 minutes.
type report struct {
	r   *rand.Rand
	c   container
	pod string
}

func newReport(r *rand.Rand) *report {
	return &report{r: r, c: newContainer(workload.CronJob, "report-nightly", "report", 500, 0, 768*workload.MiB, workload.GiB)}
}

func (rp *report) step(i int, t time.Time, emit emitFunc) {
	if t.Hour() != 1 || t.Minute() == 0 || t.Minute() > 20 {
		return
	}
	k := t.Minute()/5 - 1 // 0..3: the samples ending at 01:05 .. 01:20
	if k == 0 {
		// A CronJob names its Job after the scheduled time in minutes.
		scheduled := t.Truncate(time.Hour).Unix() / 60
		rp.pod = fmt.Sprintf("report-nightly-%d-%s", scheduled, randName(rp.r, 5))
	}
	cpu := (1.0 + 0.3*rp.r.Float64())
	if k == 3 {
		cpu *= 0.6 // writing out the report
	}
	mem := (180 + 150*float64(k)) * mib * noise(rp.r, 0.05)
	rp.c.emit(emit, t, rp.pod, usage{cpu: cpu, mem: mem})
}
