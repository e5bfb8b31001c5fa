// Package workload holds the nouns every stage of rightsize shares: workload and
// container keys, resource amounts with their units in the type, usage samples,
// container settings, recommendations and the plan that collects them.
//
// It imports nothing from Kubernetes client libraries: amounts become
// resource.Quantity only at the edges (report writers, patch files).
package workload
