// Package v1alpha1 is the Recommendation custom resource: the plan as an
// output format for a cluster, one object per workload, as the rightsize
// controller publishes it (group rightsize.dev, version v1alpha1,
// namespaced, short name rsrec).
//
// A Recommendation's spec names the workload (targetRef); its status holds
// the workload's part of the plan document `rightsize plan -o json` prints
// (status.workload, the same fields as one entry of the document's
// workloads), the plan's source, profile and time, and flat summary fields
// for kubectl's columns: the change of the pod's CPU and memory requests,
// the QoS class before and after, the lowest confidence. FromPlan converts
// a workload of a plan; ToPlan and PlanOf read them back (plan --source
// controller).
//
// The CRD manifest in deploy/controller/crd is generated from these types
// with the deep-copy functions (make generate); a test keeps the two in
// step. The document's fractions (confidence, the HPA load and replays)
// are JSON numbers as in the plan, so the CRD is generated with
// allowDangerousTypes.
//
// +kubebuilder:object:generate=true
// +groupName=rightsize.dev
package v1alpha1
