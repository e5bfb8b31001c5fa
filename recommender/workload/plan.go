package workload

import "time"

// QoSClass is a pod's Kubernetes quality-of-service class (RULES.md R7).
type QoSClass string

// The QoS classes.
const (
	Guaranteed QoSClass = "Guaranteed"
	Burstable  QoSClass = "Burstable"
	BestEffort QoSClass = "BestEffort"
)

// Recommendation is what a policy proposes for one container.
type Recommendation struct {
	// HasCPU and HasMemory say whether the policy made a recommendation for
	// the resource; without one the current settings stay.
	HasCPU, HasMemory bool
	// Target holds the recommended requests and limits; a zero limit for a
	// recommended resource means "no limit" (R4 for CPU).
	Target Settings
	// LowerBound and UpperBound bracket the request: below the lower bound the
	// container is likely starved, above the upper bound it is likely wasteful.
	LowerBound, UpperBound Resources
	// Confidence in [0, 1] grows with the span and density of history.
	Confidence float64
	// Reasons explain each number and cite RULES.md rule IDs.
	Reasons []string
}

// ContainerPlan is one container's current settings and recommendation.
type ContainerPlan struct {
	Name string
	// Init is set for init containers; Sidecar for init containers with
	// restartPolicy Always (native sidecars).
	Init, Sidecar  bool
	Current        Settings
	Recommendation Recommendation
	// Samples is the number of usage samples seen.
	Samples int
}

// Recommended returns the settings the container would run with if the
// recommendation were applied: recommended resources replace current ones,
// others stay as they are.
func (c ContainerPlan) Recommended() Settings {
	s := c.Current
	r := c.Recommendation
	if r.HasCPU {
		s.Requests.CPU, s.Limits.CPU = r.Target.Requests.CPU, r.Target.Limits.CPU
	}
	if r.HasMemory {
		s.Requests.Memory, s.Limits.Memory = r.Target.Requests.Memory, r.Target.Limits.Memory
	}
	return s
}

// Changed reports whether applying the recommendation changes the settings.
func (c ContainerPlan) Changed() bool { return c.Recommended() != c.Current }

// WorkloadPlan is the plan for one workload.
type WorkloadPlan struct {
	Key      Key
	Replicas int
	Critical bool
	// QoSCurrent and QoSRecommended are the pod's QoS class before and after.
	QoSCurrent, QoSRecommended QoSClass
	Containers                 []ContainerPlan
	// Profile names the profile the workload was sized with: the run's,
	// or the one its rightsize.dev/profile annotation names.
	Profile string
	// Autoscaling is the workload's HPA today and the one recommended;
	// nil for workloads an HPA cannot scale.
	Autoscaling *Autoscaling
	// Notes are workload-level remarks (e.g. a QoS class change).
	Notes []string
}

// Plan is the result of one recommendation run.
type Plan struct {
	Profile string
	Source  string
	// Generated is the "now" of the run: the newest sample for files.
	Generated time.Time
	Workloads []WorkloadPlan
	// CPUPrices is the fleet's price of time short, in cores per unit
	// share of time short, of each profile that sets one (policy.FleetPrice)
	// and sized workloads in this plan.
	CPUPrices map[string]float64
}

// PodRequests is a pod's effective request as the scheduler computes it from
// the settings each container gets: app containers and sidecars run
// together, while each plain init container runs beside the sidecars
// declared before it, so the pod needs the larger of the two. Containers are
// taken in spec order. Sums saturate at math.MaxInt64 (AddSat).
func PodRequests(cs []ContainerPlan, settings func(ContainerPlan) Settings) Resources {
	var running, sidecars, initPeak Resources
	for _, c := range cs {
		r := settings(c).Requests
		switch {
		case c.Sidecar:
			sidecars = sidecars.addSat(r)
		case c.Init:
			initPeak.CPU = max(initPeak.CPU, AddSat(sidecars.CPU, r.CPU))
			initPeak.Memory = max(initPeak.Memory, AddSat(sidecars.Memory, r.Memory))
		default:
			running = running.addSat(r)
		}
	}
	pod := running.addSat(sidecars)
	return Resources{CPU: max(pod.CPU, initPeak.CPU), Memory: max(pod.Memory, initPeak.Memory)}
}

// addSat adds o to r, each amount with AddSat.
func (r Resources) addSat(o Resources) Resources {
	return Resources{CPU: AddSat(r.CPU, o.CPU), Memory: AddSat(r.Memory, o.Memory)}
}
