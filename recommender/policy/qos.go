package policy

import (
	"fmt"
	"strings"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// PodQoS computes a pod's QoS class from all of its containers, init and
// sidecar containers included (R7, R8), with Kubernetes' semantics: a
// container that sets a limit but no request gets the limit as its request.
func PodQoS(containers []workload.Settings) workload.QoSClass {
	any, guaranteed := false, len(containers) > 0
	for _, c := range containers {
		req := c.Requests
		if !req.CPU.IsSet() {
			req.CPU = c.Limits.CPU
		}
		if !req.Memory.IsSet() {
			req.Memory = c.Limits.Memory
		}
		if req.CPU.IsSet() || req.Memory.IsSet() || c.Limits.CPU.IsSet() || c.Limits.Memory.IsSet() {
			any = true
		}
		if !c.Limits.CPU.IsSet() || !c.Limits.Memory.IsSet() || req != c.Limits {
			guaranteed = false
		}
	}
	switch {
	case !any:
		return workload.BestEffort
	case guaranteed:
		return workload.Guaranteed
	default:
		return workload.Burstable
	}
}

// ContainerInput is one container of a pod template with its history.
type ContainerInput struct {
	Name          string
	Init, Sidecar bool
	Current       workload.Settings
	// Summary is nil when the container has no usage samples.
	Summary *history.Summary
}

// WorkloadInput is one workload with its containers.
type WorkloadInput struct {
	Key        workload.Key
	Replicas   int
	Critical   bool
	Containers []ContainerInput
	// CPUPrice is the fleet's price of time short (FleetRisk.Price), where
	// CPUPriced.
	CPUPrice  float64
	CPUPriced bool
}

// PlanWorkload applies the profile to every container of the workload and
// works out the pod's QoS class before and after.
func PlanWorkload(p Profile, w WorkloadInput) workload.WorkloadPlan {
	wp := workload.WorkloadPlan{Key: w.Key, Replicas: w.Replicas, Critical: w.Critical}
	var before, after []workload.Settings
	var missing []string
	for _, c := range w.Containers {
		cp := workload.ContainerPlan{Name: c.Name, Init: c.Init, Sidecar: c.Sidecar, Current: c.Current}
		if c.Summary != nil {
			cp.Samples = max(c.Summary.CPUSamples, c.Summary.MemorySamples)
		}
		cp.Recommendation = Apply(p, c.Summary, Input{Current: c.Current, ContainersInPod: len(w.Containers), Critical: w.Critical, CPUPrice: w.CPUPrice, CPUPriced: w.CPUPriced})
		if !cp.Current.Requests.CPU.IsSet() && !cp.Current.Requests.Memory.IsSet() &&
			!cp.Current.Limits.CPU.IsSet() && !cp.Current.Limits.Memory.IsSet() {
			wp.Notes = append(wp.Notes, fmt.Sprintf("container %s sets no requests or limits today (R5)", c.Name))
		}
		if t, ok := memoryGrowth(p, c.Summary); ok {
			wp.Notes = append(wp.Notes, fmt.Sprintf("container %s: memory peaks grew %s a day over %d days — a leak or a filling cache? (the limit does not chase it)", c.Name, perDay(t), t.Intervals))
		}
		if !cp.Recommendation.HasCPU || !cp.Recommendation.HasMemory {
			missing = append(missing, c.Name)
		}
		before = append(before, cp.Current)
		after = append(after, cp.Recommended())
		wp.Containers = append(wp.Containers, cp)
	}
	wp.QoSCurrent, wp.QoSRecommended = PodQoS(before), PodQoS(after)
	if wp.QoSCurrent != wp.QoSRecommended {
		why := "R7"
		if w.Critical && wp.QoSRecommended == workload.Guaranteed {
			why = "R8: critical"
		}
		wp.Notes = append(wp.Notes, fmt.Sprintf("QoS class changes: %s → %s (%s)", wp.QoSCurrent, wp.QoSRecommended, why))
	}
	wantGuaranteed := p.Guaranteed || (p.HonourCritical && w.Critical)
	if wantGuaranteed && wp.QoSRecommended != workload.Guaranteed && len(missing) > 0 {
		wp.Notes = append(wp.Notes, fmt.Sprintf("cannot reach Guaranteed (R8): no full recommendation for %s", strings.Join(missing, ", ")))
	}
	return wp
}
