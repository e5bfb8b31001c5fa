package constraints

import (
	"rightsize.dev/rightsize/recommender/workload"
)

// LimitType is what a LimitRange item applies to.
type LimitType string

// The LimitRange item types that bound container resources.
const (
	LimitContainer LimitType = "Container"
	LimitPod       LimitType = "Pod"
)

// Ratios holds a maxLimitRequestRatio per resource; 0 means unset.
type Ratios struct {
	CPU, Memory float64
}

// LimitItem is one item of a LimitRange. Zero values mean unset.
type LimitItem struct {
	Type                    LimitType
	Min, Max                workload.Resources
	Default, DefaultRequest workload.Resources
	MaxLimitRequestRatio    Ratios
}

// LimitRange is a namespace's LimitRange object.
type LimitRange struct {
	Namespace, Name string
	Items           []LimitItem
}

// QuotaResource names a ResourceQuota resource rightsize checks.
type QuotaResource string

// The quota resources of compute requests and limits ("cpu" and "memory"
// in a quota mean the requests).
const (
	RequestsCPU    QuotaResource = "requests.cpu"
	RequestsMemory QuotaResource = "requests.memory"
	LimitsCPU      QuotaResource = "limits.cpu"
	LimitsMemory   QuotaResource = "limits.memory"
)

// QuotaResources lists them in display order.
var QuotaResources = []QuotaResource{RequestsCPU, RequestsMemory, LimitsCPU, LimitsMemory}

// Format prints an amount of the resource: millicores for CPU, bytes for
// memory.
func (r QuotaResource) Format(v int64) string {
	if r == RequestsCPU || r == LimitsCPU {
		return workload.Millicores(v).String()
	}
	return workload.Bytes(v).String()
}

// ResourceQuota is a namespace's ResourceQuota object. Amounts are in
// millicores for CPU and bytes for memory; a resource missing from Hard is
// not capped.
type ResourceQuota struct {
	Namespace, Name string
	Hard, Used      map[QuotaResource]int64
	// Scoped quotas (scopes or a scope selector) count only some pods; they
	// are not checked.
	Scoped bool
}

// VPAContainerPolicy is one container policy of a VerticalPodAutoscaler.
type VPAContainerPolicy struct {
	// Container is a container name or "*" for every container.
	Container string
	// Off is set for mode "Off": the VPA leaves the container alone.
	Off                    bool
	MinAllowed, MaxAllowed workload.Resources
}

// VPA is a VerticalPodAutoscaler (autoscaling.k8s.io/v1).
type VPA struct {
	Namespace, Name string
	Target          workload.Key
	// UpdateMode is spec.updatePolicy.updateMode ("Auto" when unset).
	UpdateMode string
	Policies   []VPAContainerPolicy
}

// Input is what the cluster states besides the workloads' specs.
type Input struct {
	LimitRanges []LimitRange
	Quotas      []ResourceQuota
	VPAs        []VPA
	HPAs        []workload.HPA
	// Specs give the containers' JVM settings and kinds (init, sidecar).
	Specs map[workload.Key]workload.Spec
	// MemoryPeaks is the highest working set observed per workload
	// container; R16 needs it.
	MemoryPeaks map[workload.ContainerKey]workload.Bytes
	// JVMMinNonHeap is the least non-heap memory (metaspace, threads, code
	// cache, direct buffers) kept above a JVM's heap; 0 means 64 MiB.
	JVMMinNonHeap workload.Bytes
}
