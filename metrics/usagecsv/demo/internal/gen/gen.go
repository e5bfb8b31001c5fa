package gen

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/workload"
)

// The demo's clock: Days of samples every Step from Start.
const (
	Days      = 14
	Step      = 5 * time.Minute
	Namespace = "shop"
)

// Start is the instant of the first sample, a Sunday.
var Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// stepsPerDay is the number of samples per container per day.
const stepsPerDay = int(24 * time.Hour / Step)

const (
	mib = float64(workload.MiB)
	gib = float64(workload.GiB)
)

// Write writes the demo file to w, gzipped.
func Write(w io.Writer) error {
	// The zero gzip header (no name, no modification time) keeps the bytes
	// the same on every run.
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := writeRows(usagecsv.NewWriter(zw)); err != nil {
		return err
	}
	return zw.Close()
}

// model is one workload: each step it emits a row per running container.
type model interface {
	step(i int, t time.Time, emit emitFunc)
}

type emitFunc func(usagecsv.Row)

func writeRows(w *usagecsv.Writer) error {
	// Each model draws from its own source, so changing one leaves the
	// others' data as it was.
	models := []model{
		newWeb(source(1)),
		newAPI(source(2)),
		newWorker(source(3)),
		newOrdersDB(source(4)),
		newCatalog(source(5)),
		newFrontend(source(6)),
		newReport(source(7)),
	}
	var err error
	emit := func(r usagecsv.Row) {
		if err == nil {
			err = w.Write(r)
		}
	}
	// Rows go out in time order, all containers interleaved, as an export
	// from a metrics store would list them.
	for i := range Days * stepsPerDay {
		t := Start.Add(time.Duration(i) * Step)
		for _, m := range models {
			m.step(i, t, emit)
		}
		if err != nil {
			return fmt.Errorf("writing demo rows: %w", err)
		}
	}
	return w.Flush()
}

func source(n uint64) *rand.Rand { return rand.New(rand.NewPCG(20261101, n)) }

// container is what every row of one container shares.
type container struct {
	key      workload.ContainerKey
	settings workload.Settings
}

func newContainer(kind workload.Kind, name, ctr string, cpuReq, cpuLim workload.Millicores, memReq, memLim workload.Bytes) container {
	return container{
		key: workload.ContainerKey{
			Workload:  workload.Key{Namespace: Namespace, Kind: kind, Name: name},
			Container: ctr,
		},
		settings: workload.Settings{
			Requests: workload.Resources{CPU: cpuReq, Memory: memReq},
			Limits:   workload.Resources{CPU: cpuLim, Memory: memLim},
		},
	}
}

// usage is one observation before rounding.
type usage struct {
	cpu       float64 // cores
	mem       float64 // bytes
	throttled float64 // share of CFS periods
	oom       bool
}

// emit rounds an observation the way a metrics store reports it (CPU to a
// tenth of a millicore, memory to whole pages) and emits its row. Containers
// with a CPU limit report a throttled share; others have no CFS quota.
func (c container) emit(emit emitFunc, t time.Time, pod string, u usage) {
	s := workload.Sample{
		Time:      t,
		Pod:       pod,
		CPU:       workload.Cores(math.Max(math.Round(u.cpu*1e4)/1e4, 0.001)),
		HasCPU:    true,
		Memory:    workload.Bytes(math.Round(u.mem/4096)) * 4096,
		HasMemory: true,
		OOMKilled: u.oom,
		Settings:  c.settings,
	}
	if c.settings.Limits.CPU.IsSet() {
		s.Throttled, s.HasThrottled = math.Round(math.Min(math.Max(u.throttled, 0), 1)*1e3)/1e3, true
	}
	emit(usagecsv.Row{Key: c.key, Sample: s})
}

// throttling returns the share of CFS periods throttled at a CPU demand
// under a limit (both in cores), and the usage the limit lets through.
func throttling(r *rand.Rand, demand, limit float64) (cpu, throttled float64) {
	switch {
	case demand > 0.97*limit:
		return limit * (0.95 + 0.04*r.Float64()), 0.45 + 0.5*(1-limit/demand) + 0.05*r.Float64()
	case demand > 0.6*limit:
		// Short bursts inside a window hit the quota before the average does.
		return demand, 0.04 * r.Float64() * (demand/limit - 0.6) / 0.4
	}
	return demand, 0
}

// diurnal is the shop's traffic in 0..1: lowest at midnight UTC, highest at
// noon, weekends at a little over half of weekdays.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	d := 0.5 - 0.5*math.Cos(2*math.Pi*h/24)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		d *= 0.55
	}
	return d
}

// noise is multiplicative noise with median 1.
func noise(r *rand.Rand, sigma float64) float64 { return math.Exp(sigma * r.NormFloat64()) }

// warm is the share of its steady working set a process holds age steps
// after it started: it starts at 60% and fills in over a few hours.
func warm(age int, tau float64) float64 {
	return 1 - 0.4*math.Exp(-float64(age)*Step.Minutes()/tau)
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

// pod is a running pod: its name and the step it started at.
type pod struct {
	name string
	born int
}
