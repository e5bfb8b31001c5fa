package pricing

import (
	"math"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// CoreHours is CPU over time: one core for one hour is 1.
type CoreHours float64

// GiBHours is memory over time: one GiB for one hour is 1.
type GiBHours float64

// ResourceHours is one resource's requests, usage and idle requests over
// time.
type ResourceHours[U CoreHours | GiBHours] struct {
	Requested, Used, Idle U
}

func (r *ResourceHours[U]) add(o ResourceHours[U]) {
	r.Requested += o.Requested
	r.Used += o.Used
	r.Idle += o.Idle
}

// Usage is what containers requested and used over a stretch of time.
type Usage struct {
	// PodHours is the time the containers ran, summed over pods.
	PodHours float64
	CPU      ResourceHours[CoreHours]
	Memory   ResourceHours[GiBHours]
}

// Add counts one sample of weight dt: the requests in force, CPU usage in
// cores and the memory working set in bytes; NaN usage means no value.
func (u *Usage) Add(dt time.Duration, req workload.Resources, cpu, memory float64) {
	h := dt.Hours()
	if h <= 0 {
		return
	}
	u.PodHours += h
	rc := float64(req.CPU.Cores())
	u.CPU.Requested += CoreHours(rc * h)
	if !math.IsNaN(cpu) {
		u.CPU.Used += CoreHours(cpu * h)
		u.CPU.Idle += CoreHours(max(rc-cpu, 0) * h)
	}
	rm := req.Memory.GiB()
	u.Memory.Requested += GiBHours(rm * h)
	if !math.IsNaN(memory) {
		m := memory / float64(workload.GiB)
		u.Memory.Used += GiBHours(m * h)
		u.Memory.Idle += GiBHours(max(rm-m, 0) * h)
	}
}

// Merge adds o to u.
func (u *Usage) Merge(o Usage) {
	u.PodHours += o.PodHours
	u.CPU.add(o.CPU)
	u.Memory.add(o.Memory)
}

// Breakdown is Usage in money.
type Breakdown struct {
	Requested, Used, Idle Money
}

// Add adds o to b.
func (b *Breakdown) Add(o Breakdown) {
	b.Requested += o.Requested
	b.Used += o.Used
	b.Idle += o.Idle
}

// Of prices u.
func (p Price) Of(u Usage) Breakdown {
	return Breakdown{
		Requested: Money(float64(u.CPU.Requested)*p.CPU + float64(u.Memory.Requested)*p.Memory),
		Used:      Money(float64(u.CPU.Used)*p.CPU + float64(u.Memory.Used)*p.Memory),
		Idle:      Money(float64(u.CPU.Idle)*p.CPU + float64(u.Memory.Idle)*p.Memory),
	}
}
