package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/workload"
)

func main() {
	var o options
	flag.IntVar(&o.containers, "containers", 1000, "number of containers (pod × container) to sample")
	flag.IntVar(&o.days, "days", 7, "days of history")
	flag.DurationVar(&o.step, "step", 5*time.Minute, "time between samples")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.StringVar(&o.out, "out", "-", "file to write, - for standard output")
	flag.BoolVar(&o.gzip, "gzip", true, "gzip the output")
	flag.Parse()
	if err := o.run(); err != nil {
		fmt.Fprintln(os.Stderr, "genusage:", err)
		os.Exit(1)
	}
}

type options struct {
	containers, days int
	step             time.Duration
	seed             uint64
	out              string
	gzip             bool
}

// start is fixed so that the same flags always give the same file.
var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func (o options) run() (err error) {
	if o.containers < 1 || o.days < 1 || o.step <= 0 {
		return fmt.Errorf("need -containers ≥ 1, -days ≥ 1 and -step > 0")
	}
	out := io.Writer(os.Stdout)
	if o.out != "-" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		out = f
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := io.Writer(bw)
	var zw *gzip.Writer
	if o.gzip {
		// The fastest level: this file is for load tests, not for keeping.
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = zw
	}
	rows, err := o.write(w)
	if err != nil {
		return fmt.Errorf("writing rows: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("writing rows: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genusage: wrote %d rows, %d containers over %d days\n", rows, o.containers, o.days)
	return nil
}

// write writes the rows and returns how many.
func (o options) write(w io.Writer) (rows int, err error) {
	r := rand.New(rand.NewPCG(o.seed, 0x5eed))
	all := fleet(r, o.containers)
	cw := usagecsv.NewWriter(w)
	steps := int(time.Duration(o.days) * 24 * time.Hour / o.step)
	for i := range steps {
		t := start.Add(time.Duration(i) * o.step)
		for _, s := range all {
			if err := cw.Write(s.sample(r, t)); err != nil {
				return rows, err
			}
			rows++
		}
	}
	return rows, cw.Flush()
}

// series is one container of one pod and the shape of its usage.
type series struct {
	key      workload.ContainerKey
	pod      string
	settings workload.Settings

	cpu, daily, sigma float64 // base cores, daily swing in cores, noise
	spike             float64 // chance of a spike per sample
	mem, growth       float64 // base bytes, growth per day as a share
}

var (
	namespaces = []string{"checkout", "search", "payments", "identity", "analytics", "platform", "media", "inventory"}
	services   = []string{"api", "web", "worker", "gateway", "indexer", "cache", "scheduler", "exporter", "ingest", "auth"}
	sidecars   = []string{"envoy", "log-shipper", "metrics-agent"}
)

// fleet makes workloads of 1–3 replicas with 1–2 containers until there are
// n containers in all.
func fleet(r *rand.Rand, n int) []*series {
	var all []*series
	for w := 0; len(all) < n; w++ {
		ns := namespaces[r.IntN(len(namespaces))]
		name := fmt.Sprintf("%s-%d", services[r.IntN(len(services))], w)
		kind := workload.Deployment
		switch x := r.Float64(); {
		case x < 0.15:
			kind = workload.StatefulSet
		case x < 0.25:
			kind = workload.DaemonSet
		}
		containers := []string{"main"}
		if r.Float64() < 0.4 {
			containers = append(containers, sidecars[r.IntN(len(sidecars))])
		}
		shapes := make([]series, len(containers))
		for c, ctr := range containers {
			shapes[c] = shape(r, workload.ContainerKey{
				Workload:  workload.Key{Namespace: ns, Kind: kind, Name: name},
				Container: ctr,
			}, c > 0)
		}
		hash := randName(r, 10)
		for p := range 1 + r.IntN(3) {
			pod := name + "-" + hash + "-" + randName(r, 5)
			switch kind {
			case workload.StatefulSet:
				pod = fmt.Sprintf("%s-%d", name, p)
			case workload.DaemonSet:
				pod = name + "-" + randName(r, 5)
			}
			for _, s := range shapes {
				if len(all) == n {
					return all
				}
				s.pod = pod
				all = append(all, &s)
			}
		}
	}
	return all
}

// shape draws a container's usage and the settings someone gave it: from a
// quarter of its typical use to several times it, sometimes none at all.
func shape(r *rand.Rand, key workload.ContainerKey, sidecar bool) series {
	s := series{key: key, sigma: 0.05 + 0.2*r.Float64(), spike: 0.002 * r.Float64(), growth: 0.02 * r.Float64()}
	s.cpu = math.Exp(-3.5 + 2.5*r.Float64()) // about 0.03 to 0.4 cores
	s.mem = math.Exp(4+2.5*r.Float64()) * float64(workload.MiB)
	if sidecar {
		s.cpu, s.mem = s.cpu/4, s.mem/3
	}
	s.daily = s.cpu * 2 * r.Float64()
	if r.Float64() < 0.1 {
		return s // nobody set anything
	}
	typicalCPU := s.cpu + s.daily/2
	req := workload.Millicores(math.Ceil(typicalCPU*(0.6+3*r.Float64())*20)) * 50 // 50m steps
	mem := workload.Bytes(math.Ceil(s.mem*(0.8+2*r.Float64())/float64(64*workload.MiB))) * 64 * workload.MiB
	s.settings.Requests = workload.Resources{CPU: req, Memory: mem}
	s.settings.Limits.Memory = mem * workload.Bytes(1+r.IntN(2))
	if r.Float64() < 0.5 {
		s.settings.Limits.CPU = 2 * req
	}
	return s
}

func (s *series) sample(r *rand.Rand, t time.Time) usagecsv.Row {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := 0.5 - 0.5*math.Cos(2*math.Pi*h/24)
	cpu := (s.cpu + s.daily*day) * math.Exp(s.sigma*r.NormFloat64())
	if r.Float64() < s.spike {
		cpu *= 3 + 3*r.Float64()
	}
	smp := workload.Sample{
		Time:      t,
		Pod:       s.pod,
		HasCPU:    true,
		HasMemory: true,
		Settings:  s.settings,
	}
	if limit := float64(s.settings.Limits.CPU.Cores()); limit > 0 {
		smp.HasThrottled = true
		if cpu > limit {
			cpu, smp.Throttled = limit, math.Round((1-limit/cpu)*1e3)/1e3
		}
	}
	days := t.Sub(start).Hours() / 24
	mem := s.mem * (1 + s.growth*days) * (1 + 0.05*day + 0.01*r.NormFloat64())
	smp.CPU = workload.Cores(math.Max(math.Round(cpu*1e4)/1e4, 0.0001))
	smp.Memory = workload.Bytes(math.Round(mem/4096)) * 4096
	return usagecsv.Row{Key: s.key, Sample: smp}
}

// randName returns n characters of the alphabet Kubernetes uses for
// generated name suffixes.
func randName(r *rand.Rand, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
