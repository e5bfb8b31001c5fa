package workload

// Spec is what a workload's pod template asks for today, as a cluster (or
// kube-state-metrics) reports it. Usage files carry no specs: settings then
// come from the samples' recorded columns.
type Spec struct {
	Key Key
	// UID is the workload object's, where read from a cluster: Events
	// name their object by it.
	UID      string
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
	// ProfileKey names the profile a workload is sized with, instead of
	// the run's --profile.
	ProfileKey = "rightsize.dev/profile"
)

// Recommended reports whether runs recommend for the workload. It is the one
// selection rule that discovery, metrics-server sampling and the
// recommender follow: the annotation rightsize.dev/ignore="true" opts a
// workload out (label selectors choose what is read in the first place).
func (s Spec) Recommended() bool { return !s.Ignore }

// ContainerSettings returns the current settings of a container of a
// workload runs recommend for; false for containers of unknown or ignored
// workloads.
func ContainerSettings(specs map[Key]Spec, ck ContainerKey) (Settings, bool) {
	s, ok := specs[ck.Workload]
	if !ok || !s.Recommended() {
		return Settings{}, false
	}
	for _, c := range s.Containers {
		if c.Name == ck.Container {
			return c.Settings, true
		}
	}
	return Settings{}, false
}
