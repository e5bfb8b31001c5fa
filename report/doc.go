// Package report writes a workload.Plan for people and for programs.
//
// Five formats share one reading of the plan:
//
//   - table: aligned text for a terminal, one row per container, with totals;
//   - markdown: the same table for a pull request or issue, with each
//     container's reasons in a collapsible list;
//   - csv: one row per container, plain numbers for spreadsheets;
//   - json and yaml: a versioned document (apiVersion rightsize.dev/v1alpha1,
//     kind Plan) shaped like a Kubernetes object, so jq and yq work on it.
//
// In the json and yaml document every amount is a Kubernetes quantity string,
// exactly as a pod spec holds it ("250m", "2", "512Mi"); an amount that is not
// set is absent rather than "0". The document's field names and meanings are
// the stable interface: new fields may be added, existing ones do not change
// within an apiVersion. YAML is the JSON document converted, so keys are the
// same but sorted, as kubectl prints them.
//
// Totals count each workload's pod once per replica and take a pod's request
// as Kubernetes does: the larger of what its app containers and sidecars ask
// for together and what any plain init container asks for on top of the
// sidecars started before it.
package report
