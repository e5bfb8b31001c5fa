package workload

import "time"

// HPA is a HorizontalPodAutoscaler (autoscaling/v2) as far as rightsize
// reads, recommends and replays one: the workload it scales, its bounds,
// its metric targets and its scaling behavior.
type HPA struct {
	// Name is the object's name; empty for one rightsize recommends where
	// none exists.
	Name   string
	Target Key
	// MinReplicas defaults to 1 in Kubernetes when the spec leaves it out.
	MinReplicas, MaxReplicas int
	Metrics                  []MetricTarget
	// Behavior is the spec's behavior; nil rules take Kubernetes' defaults
	// (DefaultScaleUp, DefaultScaleDown).
	Behavior Behavior
	// Replicas is the status' currentReplicas, the pods the HPA runs now,
	// where the source says; 0 when unknown.
	Replicas int
	// Unread names what the object held that an HPA here cannot (a
	// metric's source type or selector, a rule's tolerance), one note
	// each: the reasons say it, so that nobody takes the recommendation
	// for one that saw them.
	Unread []string
}

// MetricTarget is one metric an HPA scales on.
type MetricTarget struct {
	// Resource is "cpu" or "memory" for resource metrics, else the
	// metric's name.
	Resource string
	// AverageUtilization is the target in percent of the pods' requests;
	// 0 when the target is a value (AverageValue, e.g. "1k" requests per
	// second).
	AverageUtilization int
	AverageValue       string
}

// Behavior is an HPA's scale-up and scale-down rules.
type Behavior struct {
	ScaleUp, ScaleDown *ScalingRules
}

// ScalingRules bound how fast an HPA scales in one direction.
type ScalingRules struct {
	// StabilizationWindow: scaling down uses the highest recommendation of
	// the window, scaling up the lowest.
	StabilizationWindow time.Duration
	Policies            []ScalingPolicy
	// Select picks among the policies' limits; empty means Max.
	Select SelectPolicy
}

// ScalingPolicy allows a change of Value pods or Value percent per Period.
type ScalingPolicy struct {
	Type   PolicyType
	Value  int
	Period time.Duration
}

// PolicyType is the unit of a ScalingPolicy.
type PolicyType string

// The policy types of autoscaling/v2.
const (
	PodsPolicy    PolicyType = "Pods"
	PercentPolicy PolicyType = "Percent"
)

// SelectPolicy chooses among scaling policies.
type SelectPolicy string

// The select policies of autoscaling/v2.
const (
	SelectMax      SelectPolicy = "Max"
	SelectMin      SelectPolicy = "Min"
	SelectDisabled SelectPolicy = "Disabled"
)

// Kubernetes' default behavior, used where an HPA's spec leaves it out:
// scale up by 100 % or 4 pods per 15 s, whichever is more, at once; scale
// down by up to 100 % per 15 s after a 300 s stabilization window.
var (
	DefaultScaleUp = ScalingRules{Policies: []ScalingPolicy{
		{Type: PercentPolicy, Value: 100, Period: 15 * time.Second},
		{Type: PodsPolicy, Value: 4, Period: 15 * time.Second},
	}, Select: SelectMax}
	DefaultScaleDown = ScalingRules{StabilizationWindow: 300 * time.Second, Policies: []ScalingPolicy{
		{Type: PercentPolicy, Value: 100, Period: 15 * time.Second},
	}, Select: SelectMax}
)

// Up returns the scale-up rules in force: the spec's or the default.
func (b Behavior) Up() ScalingRules {
	if b.ScaleUp != nil {
		return *b.ScaleUp
	}
	return DefaultScaleUp
}

// Down returns the scale-down rules in force: the spec's or the default.
func (b Behavior) Down() ScalingRules {
	if b.ScaleDown != nil {
		return *b.ScaleDown
	}
	return DefaultScaleDown
}

// Utilization returns the HPA's averageUtilization target on resource
// ("cpu", "memory") in percent; 0 when it does not scale on it that way.
func (h HPA) Utilization(resource string) int {
	if m := h.Metric(resource); m != nil {
		return m.AverageUtilization
	}
	return 0
}

// Metric returns the HPA's target on resource, nil when it has none.
func (h HPA) Metric(resource string) *MetricTarget {
	for i := range h.Metrics {
		if h.Metrics[i].Resource == resource {
			return &h.Metrics[i]
		}
	}
	return nil
}

// Autoscaling is what a plan says about a workload's horizontal scaling:
// its HPA today, the one recommended, and why.
type Autoscaling struct {
	// Current is the workload's HPA; nil when it has none.
	Current *HPA
	// Recommended is the HPA rightsize recommends; nil when the workload
	// is better left at a fixed replica count.
	Recommended *HPA
	// Reasons explain the recommendation (or the lack of one) with the
	// measured numbers and cite RULES.md R9–R11.
	Reasons []string
	// Load describes the workload's aggregate CPU load, summed over its
	// pods: what the recommendation was computed from.
	Load AggregateLoad
	// PodCPU is the pod's CPU request (app containers and sidecars) the
	// recommendation sizes the HPA with; zero when the requests stay as
	// the per-container policy made them.
	PodCPU Millicores
	// Replays are the HPA replays over the history: the current HPA, the
	// R10/R11 defaults and the recommended one (or a fixed replica count
	// for a workload without an HPA), in that order, those that apply.
	Replays []Replay
}

// Replay is the outcome of replaying one scaling setup over a workload's
// aggregate load (docs/backtest.md).
type Replay struct {
	// Setup names what was replayed: "current", "defaults",
	// "recommended" or "fixed".
	Setup string
	// PodCPU is the pod CPU request replayed.
	PodCPU Millicores
	ReplayFigures
}

// ReplayFigures are a replay's figures.
type ReplayFigures struct {
	// Duration is the time replayed.
	Duration time.Duration
	// ReplicaHours are the pods run (ready or starting) times hours: the
	// cost. CoreHours are the CPU cores they request times hours.
	ReplicaHours, CoreHours float64
	// Saturated is the share of time the load exceeds the ready pods'
	// CPU requests; AboveTarget the share of time the ready pods'
	// utilization exceeds the target by more than the tolerance.
	Saturated, AboveTarget float64
	// Events counts the changes of the replica count; PeakReplicas is the
	// highest count.
	Events, PeakReplicas int
}

// Replay returns the replay of the named setup, nil without one.
func (a *Autoscaling) Replay(setup string) *Replay {
	if a == nil {
		return nil
	}
	for i := range a.Replays {
		if a.Replays[i].Setup == setup {
			return &a.Replays[i]
		}
	}
	return nil
}

// AggregateLoad is a workload's CPU usage summed over its pods.
type AggregateLoad struct {
	// Trough, Median and Peak are the 5th, 50th and 99th percentiles.
	Trough, Median, Peak Cores
	// Rise is the 99th percentile of the load's growth within one HPA
	// reaction time, as a factor (1.25 = 25 % more load).
	Rise float64
	// Steepest is the highest such growth.
	Steepest float64
	// Reaction is the time the HPA needs to add a ready pod.
	Reaction time.Duration
	// Samples is the number of aggregated instants.
	Samples int
}
