package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Recommendation is the plan for one workload: requests and limits for its
// containers, its QoS class and its HPA, as rightsize recommends them.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=rsrec,categories=rightsize
// +kubebuilder:printcolumn:name="Workload",type=string,JSONPath=`.status.target`,description="The workload's kind and name"
// +kubebuilder:printcolumn:name="CPU",type=string,JSONPath=`.status.cpuChange`,description="Change of the pod's CPU requests"
// +kubebuilder:printcolumn:name="Memory",type=string,JSONPath=`.status.memoryChange`,description="Change of the pod's memory requests"
// +kubebuilder:printcolumn:name="QoS",type=string,JSONPath=`.status.qos`,description="The pod's QoS class, before → after when it changes"
// +kubebuilder:printcolumn:name="Confidence",type=string,JSONPath=`.status.confidence`,description="The lowest confidence of the workload's containers"
// +kubebuilder:printcolumn:name="Profile",type=string,JSONPath=`.status.profile`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Recommendation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec RecommendationSpec `json:"spec"`
	// +optional
	Status RecommendationStatus `json:"status,omitempty"`
}

// RecommendationSpec names the workload the recommendation is for.
type RecommendationSpec struct {
	TargetRef TargetRef `json:"targetRef"`
}

// TargetRef names a workload in the recommendation's namespace.
type TargetRef struct {
	// APIVersion is the workload's group/version, e.g. apps/v1.
	APIVersion string `json:"apiVersion"`
	// Kind is the workload's kind, e.g. Deployment.
	Kind string `json:"kind"`
	// Name is the workload's name.
	Name string `json:"name"`
}

// RecommendationStatus is the workload's plan and its summary.
type RecommendationStatus struct {
	// Generated is the time the plan was made for: the newest sample of
	// its history.
	// +optional
	Generated *metav1.Time `json:"generated,omitempty"`
	// Source names the usage source the plan read.
	// +optional
	Source string `json:"source,omitempty"`
	// Profile is the profile the plan ran with; the workload's own, when
	// its annotation names another, is status.workload.profile.
	// +optional
	Profile string `json:"profile,omitempty"`

	// Target is the workload as the Workload column shows it: Kind/Name.
	// +optional
	Target string `json:"target,omitempty"`
	// CPUChange is the relative change of the pod's CPU requests: "-35%",
	// "+12%", "~0%", "none → 250m" for a pod that requests nothing today,
	// "—" without a recommendation.
	// +optional
	CPUChange string `json:"cpuChange,omitempty"`
	// MemoryChange is CPUChange for memory.
	// +optional
	MemoryChange string `json:"memoryChange,omitempty"`
	// QoS is the pod's QoS class: "Burstable", or "Burstable → Guaranteed"
	// when the plan changes it.
	// +optional
	QoS string `json:"qos,omitempty"`
	// Confidence is the lowest confidence of the containers with a
	// recommendation, in percent: "99%", "low 5%" below 50 %, "—" without
	// a recommendation.
	// +optional
	Confidence string `json:"confidence,omitempty"`

	// Workload is the workload's plan, as the plan document holds it.
	// +optional
	Workload WorkloadDocument `json:"workload,omitempty"`

	// Conditions: Recommended is True when a container has a
	// recommendation.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// RecommendationList is a list of Recommendations.
//
// +kubebuilder:object:root=true
type RecommendationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Recommendation `json:"items"`
}

// The types below are the plan document's (report.WorkloadDocument and
// what it holds) field for field, with the same JSON names: a test checks
// that they stay so. Their meanings are documented there.

// WorkloadDocument is one workload of the plan.
type WorkloadDocument struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Replicas  int    `json:"replicas"`
	// +optional
	Critical bool `json:"critical,omitempty"`
	// Profile is the profile the workload was sized with.
	// +optional
	Profile string      `json:"profile,omitempty"`
	QoS     QoSDocument `json:"qos"`
	// +optional
	Notes      []string            `json:"notes,omitempty"`
	Containers []ContainerDocument `json:"containers"`
	// HPA is absent for a workload an HPA cannot scale.
	// +optional
	HPA *HPADocument `json:"hpa,omitempty"`
}

// QoSDocument is the pod's QoS class before and after.
type QoSDocument struct {
	// +optional
	Current string `json:"current,omitempty"`
	// +optional
	Recommended string `json:"recommended,omitempty"`
	Changed     bool   `json:"changed"`
}

// ContainerDocument is one container's settings and recommendation;
// Recommended and the bounds are absent without a recommendation, and
// Reasons say why.
type ContainerDocument struct {
	Name string `json:"name"`
	// +optional
	Init bool `json:"init,omitempty"`
	// +optional
	Sidecar bool `json:"sidecar,omitempty"`
	// +optional
	Current *SettingsDocument `json:"current,omitempty"`
	// +optional
	Recommended *SettingsDocument `json:"recommended,omitempty"`
	// +optional
	LowerBound *ResourcesDocument `json:"lowerBound,omitempty"`
	// +optional
	UpperBound *ResourcesDocument `json:"upperBound,omitempty"`
	// Confidence in [0, 1], rounded to two decimals.
	Confidence float64 `json:"confidence"`
	Samples    int     `json:"samples"`
	// +optional
	Reasons []string `json:"reasons,omitempty"`
}

// SettingsDocument is a container's requests and limits.
type SettingsDocument struct {
	// +optional
	Requests *ResourcesDocument `json:"requests,omitempty"`
	// +optional
	Limits *ResourcesDocument `json:"limits,omitempty"`
}

// ResourcesDocument holds quantity strings; an unset amount is absent.
type ResourcesDocument struct {
	// +optional
	CPU string `json:"cpu,omitempty"`
	// +optional
	Memory string `json:"memory,omitempty"`
}

// HPADocument is the workload's HPA today and the one recommended, why,
// the load both were judged on and the replays of the history.
type HPADocument struct {
	// +optional
	Current *HPASpecDocument `json:"current,omitempty"`
	// +optional
	Recommended *HPASpecDocument `json:"recommended,omitempty"`
	// +optional
	Reasons []string `json:"reasons,omitempty"`
	// +optional
	PodCPU string       `json:"podCPU,omitempty"`
	Load   LoadDocument `json:"load"`
	// +optional
	Replays []ReplayDocument `json:"replays,omitempty"`
}

// HPASpecDocument is an HPA's spec under autoscaling/v2's field names,
// without the scale target.
type HPASpecDocument struct {
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	MaxReplicas int32  `json:"maxReplicas"`
	// +optional
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// LoadDocument is the workload's CPU load summed over its pods, in cores.
type LoadDocument struct {
	Trough          float64 `json:"trough"`
	Median          float64 `json:"median"`
	Peak            float64 `json:"peak"`
	Rise            float64 `json:"rise"`
	ReactionSeconds int64   `json:"reactionSeconds"`
	Samples         int     `json:"samples"`
}

// ReplayDocument is one replay of the history: "current", "defaults",
// "recommended" or "fixed".
type ReplayDocument struct {
	Setup string `json:"setup"`
	// +optional
	PodCPU       string  `json:"podCPU,omitempty"`
	Hours        float64 `json:"hours"`
	ReplicaHours float64 `json:"replicaHours"`
	CoreHours    float64 `json:"coreHours"`
	Saturated    float64 `json:"saturated"`
	AboveTarget  float64 `json:"aboveTarget"`
	Events       int     `json:"events"`
	PeakReplicas int     `json:"peakReplicas"`
}
