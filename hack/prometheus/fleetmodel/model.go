// Package fleetmodel is the fleet the Prometheus scale benchmarks
// generate (genbench, genfleet): its namespaces, the pod templates someone
// gave its workloads and the shapes of their usage, and the name suffixes
// Kubernetes would give their pods, drawn from a random source the
// generator owns, so that each draws its own sequence.
package fleetmodel

import (
	"math"
	"math/rand/v2"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// Container is one container of a pod template and the shape of its usage.
type Container struct {
	Name              string
	Settings          workload.Settings
	CPU, Daily, Sigma float64 // base cores, daily swing, noise
	Spike             float64 // chance of a spike per sample
	Mem, Growth       float64 // base bytes, growth per day as a share
}

// Namespaces are the namespaces' names, before their number.
var Namespaces = []string{"checkout", "search", "payments", "identity", "analytics", "platform", "media", "inventory",
	"catalog", "pricing", "ads", "mail", "billing", "support", "reports", "ml"}

// BoolInt is 1 for true, 0 for false.
func BoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Template draws a pod's containers and the settings someone gave them.
func Template(r *rand.Rand, n int) []Container {
	names := []string{"main", "envoy", "log-shipper"}
	out := make([]Container, n)
	for i := range out {
		c := Container{Name: names[min(i, 2)], Sigma: 0.05 + 0.2*r.Float64(), Spike: 0.001 * r.Float64(), Growth: 0.02 * r.Float64()}
		c.CPU = math.Exp(-3.5 + 2.5*r.Float64())
		c.Mem = math.Exp(4+2.5*r.Float64()) * float64(workload.MiB)
		if i > 0 {
			c.CPU, c.Mem = c.CPU/4, c.Mem/3
		}
		c.Daily = c.CPU * 2 * r.Float64()
		if r.Float64() >= 0.1 {
			typical := c.CPU + c.Daily/2
			req := workload.Millicores(math.Ceil(typical*(0.6+3*r.Float64())*20)) * 50
			mem := workload.Bytes(math.Ceil(c.Mem*(0.8+2*r.Float64())/float64(64*workload.MiB))) * 64 * workload.MiB
			c.Settings.Requests = workload.Resources{CPU: req, Memory: mem}
			c.Settings.Limits.Memory = mem * workload.Bytes(1+r.IntN(2))
			if r.Float64() < 0.5 {
				c.Settings.Limits.CPU = 2 * req
			}
			if r.Float64() < 0.02 {
				// A tight memory limit: this one gets OOM-killed.
				c.Settings.Limits.Memory = workload.Bytes(c.Mem * 1.1)
			}
		}
		out[i] = c
	}
	return out
}

// RandName returns n characters of the alphabet Kubernetes uses for
// generated name suffixes.
func RandName(r *rand.Rand, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}
