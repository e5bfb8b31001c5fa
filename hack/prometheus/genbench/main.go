package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rightsize.dev/rightsize/hack/prometheus/fleetmodel"
	"rightsize.dev/rightsize/metrics/prometheus/openmetrics"
	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

func main() {
	var o options
	flag.IntVar(&o.containers, "containers", 2000, "pod containers running at any one time")
	flag.IntVar(&o.days, "days", 14, "days of history")
	flag.DurationVar(&o.step, "step", time.Minute, "scrape interval")
	flag.StringVar(&o.endFlag, "end", "2026-11-15T00:00:00Z", "end of the history (RFC 3339)")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.StringVar(&o.out, "out", "_out/prom-bench/tsdb", "TSDB directory to create (must not exist)")
	flag.IntVar(&o.jobs, "jobs", 2, "promtool runs at once")
	flag.DurationVar(&o.block, "block", 18*time.Hour, "block length: 2h × a power of 3")
	flag.Parse()
	if err := o.run(); err != nil {
		fmt.Fprintln(os.Stderr, "genbench:", err)
		os.Exit(1)
	}
}

type options struct {
	containers, days int
	step             time.Duration
	endFlag          string
	end              time.Time
	seed             uint64
	out              string
	jobs             int
	block            time.Duration
}

func (o *options) run() error {
	var err error
	if o.end, err = time.Parse(time.RFC3339, o.endFlag); err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	if o.containers < 1 || o.days < 1 || o.step <= 0 || o.jobs < 1 {
		return fmt.Errorf("need -containers ≥ 1, -days ≥ 1, -step > 0, -jobs ≥ 1")
	}
	if _, err := os.Stat(o.out); err == nil {
		return fmt.Errorf("%s exists; remove it to build again", o.out)
	}
	_, promtool, err := promtest.Binaries()
	if err != nil {
		return err
	}
	start := time.Now()
	st, stats := o.fleet()
	fmt.Fprintf(os.Stderr, "genbench: %d pod containers (%d at a time), %d samples, generated in %s\n",
		stats.series, o.containers, st.Samples(), time.Since(start).Round(time.Second))

	tmp := o.out + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	from := o.end.Add(-time.Duration(o.days) * 24 * time.Hour).Add(-o.step) // counters need the step before
	var slices [][2]time.Time
	// Blocks are aligned to the Unix epoch, as promtool cuts them.
	b := int64(o.block / time.Second)
	for a := time.Unix(from.Unix()/b*b, 0).UTC(); a.Before(o.end.Add(time.Second)); a = a.Add(o.block) {
		slices = append(slices, [2]time.Time{a, a.Add(o.block)})
	}
	load := time.Now()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		bytes int64
		next  = make(chan int)
	)
	for range o.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				n, err := o.slice(st, promtool, tmp, i, slices[i])
				mu.Lock()
				bytes += n
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range slices {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genbench: %d blocks from %.1f GB of OpenMetrics loaded in %s (%d promtool runs at a time); total %s\n",
		len(slices), float64(bytes)/1e9, time.Since(load).Round(time.Second), o.jobs, time.Since(start).Round(time.Second))
	return nil
}

// slice renders one block's span and loads it.
func (o *options) slice(st *history.Store, promtool, dir string, i int, span [2]time.Time) (int64, error) {
	file := filepath.Join(dir, fmt.Sprintf("slice-%02d.om", i))
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	defer os.Remove(file)
	cw := &countingWriter{w: f}
	err = openmetrics.Write(cw, openmetrics.Options{Step: o.step, From: span[0], To: span[1]}, openmetrics.Source{Store: st})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("rendering %s: %w", file, err)
	}
	t := time.Now()
	if err := promtest.CreateBlocks(context.Background(), promtool, file, dir, o.block); err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "genbench: %s to %s: %.2f GB loaded in %s\n", span[0].Format(time.RFC3339), span[1].Format(time.RFC3339),
		float64(cw.n)/1e9, time.Since(t).Round(time.Second))
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// container is one container of a pod template and the shape of its usage.
type container = fleetmodel.Container

// pod is one pod's life.
type pod struct {
	key        workload.Key
	name       string
	containers []container
	from, to   time.Time // [from, to)
}

type fleetStats struct{ series int }

// fleet adds workloads until o.containers pod containers run at once and
// samples them into a store.
func (o *options) fleet() (*history.Store, fleetStats) {
	r := rand.New(rand.NewPCG(o.seed, 0x5eed))
	start := o.end.Add(-time.Duration(o.days) * 24 * time.Hour)
	var pods []pod
	running := 0
	for w := 0; running < o.containers; w++ {
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
			// Hourly runs of 10 minutes: short-lived pods, many names.
			for h := start; h.Before(o.end); h = h.Add(time.Hour) {
				pods = append(pods, pod{key: key, name: fmt.Sprintf("%s-%d-%s", name, h.Unix()/60, fleetmodel.RandName(r, 5)), containers: tmpl, from: h, to: h.Add(10 * time.Minute)})
			}
			continue
		}
		rollout := o.end
		if kind == workload.Deployment && r.Float64() < 0.2 {
			rollout = start.Add(time.Duration(r.Int64N(int64(o.end.Sub(start)))))
		}
		hash := fleetmodel.RandName(r, 10)
		for p := range replicas {
			pp := pod{key: key, containers: tmpl, from: start, to: rollout}
			switch kind {
			case workload.StatefulSet:
				pp.name, pp.to = fmt.Sprintf("%s-%d", name, p), o.end
			case workload.DaemonSet:
				pp.name, pp.to = name+"-"+fleetmodel.RandName(r, 5), o.end
			default:
				pp.name = name + "-" + hash + "-" + fleetmodel.RandName(r, 5)
			}
			pods = append(pods, pp)
			running += len(tmpl)
		}
		if rollout.Before(o.end) {
			// The new template asks for more memory: a settings change.
			next := append([]container(nil), tmpl...)
			for i := range next {
				next[i].Settings.Requests.Memory += 64 * workload.MiB
			}
			hash := fleetmodel.RandName(r, 10)
			for range replicas {
				pods = append(pods, pod{key: key, name: name + "-" + hash + "-" + fleetmodel.RandName(r, 5), containers: next, from: rollout.Truncate(o.step), to: o.end})
			}
		}
	}
	st := history.NewStore()
	stats := fleetStats{}
	for _, p := range pods {
		for _, c := range p.containers {
			stats.series++
			sampleContainer(st, r, p, c, o.step, start)
		}
	}
	st.Finalize()
	return st, stats
}

// sampleContainer adds a container's samples over its pod's life.
func sampleContainer(st *history.Store, r *rand.Rand, p pod, c container, step time.Duration, start time.Time) {
	key := workload.ContainerKey{Workload: p.key, Container: c.Name}
	from := p.from.Truncate(step).Add(step)
	restarted := time.Time{}
	for t := from; t.Before(p.to) || t.Equal(p.to); t = t.Add(step) {
		h := float64(t.Hour()) + float64(t.Minute())/60
		day := 0.5 - 0.5*math.Cos(2*math.Pi*h/24)
		cpu := (c.CPU + c.Daily*day) * math.Exp(c.Sigma*r.NormFloat64())
		if r.Float64() < c.Spike {
			cpu *= 3 + 3*r.Float64()
		}
		smp := workload.Sample{Time: t, Pod: p.name, HasCPU: true, HasMemory: true, Settings: c.Settings}
		if limit := float64(c.Settings.Limits.CPU.Cores()); limit > 0 {
			smp.HasThrottled = true
			if cpu > limit {
				cpu, smp.Throttled = limit, math.Round((1-limit/cpu)*1e3)/1e3
			}
		}
		days := t.Sub(start).Hours() / 24
		mem := c.Mem * (1 + c.Growth*days) * (1 + 0.05*day + 0.01*r.NormFloat64())
		if !restarted.IsZero() && t.Sub(restarted) < time.Hour {
			mem *= 0.6 + 0.4*t.Sub(restarted).Hours() // memory builds up again after a restart
		}
		if lim := float64(c.Settings.Limits.Memory); lim > 0 && mem > lim {
			smp.OOMKilled, restarted, mem = true, t, lim*0.5
		}
		smp.CPU = workload.Cores(math.Max(math.Round(cpu*1e4)/1e4, 0.0001))
		smp.Memory = workload.Bytes(math.Round(mem/4096)) * 4096
		st.Add(key, smp)
	}
}
