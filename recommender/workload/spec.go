package workload

// Spec is what a workload's pod template asks for today, as a cluster (or
// kube-state-metrics) reports it. Usage files carry no specs: settings then
// come from the samples' recorded columns.
type Spec struct {
	Key      Key
	Replicas int
	// Critical marks a workload for the Guaranteed class (R8): label or
	// annotation rightsize.dev/tier=critical, or a configured list.
	Critical bool
	// Ignore skips the workload (annotation rightsize.dev/ignore="true").
	Ignore            bool
	PriorityClassName string
	Labels            map[string]string
	Annotations       map[string]string
	Containers        []ContainerSpec
}

// ContainerSpec is one container of a pod template.
type ContainerSpec struct {
	Name string
	// Init is set for init containers; Sidecar for init containers with
	// restartPolicy Always, which run for the pod's lifetime.
	Init, Sidecar bool
	Settings      Settings
	// JVM is set when the container runs a JVM whose heap follows its
	// memory limit or a fixed -Xmx (R16).
	JVM *JVM
}

// JVM is the heap sizing found in a container's command, args or
// environment (JAVA_TOOL_OPTIONS, JAVA_OPTS).
type JVM struct {
	// MaxHeap is -Xmx; 0 when not set.
	MaxHeap Bytes
	// MaxRAMPercentage is -XX:MaxRAMPercentage; 0 when not set (the JVM's
	// default is 25).
	MaxRAMPercentage float64
}

// Label and annotation keys rightsize reads on workloads.
const (
	TierKey       = "rightsize.dev/tier"
	TierCritical  = "critical"
	IgnoreKey     = "rightsize.dev/ignore"
	IgnoreEnabled = "true"
)
