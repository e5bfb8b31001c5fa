// Package deploytest holds the tests of the controller's kustomize base in
// deploy/controller, which has no Go of its own: the base builds and its
// pods run restricted with requests and limits (R5); its alerts pass
// promtool's checks and unit tests, and the PrometheusRule carries exactly
// the groups of the plain rules file; the dashboard's queries parse; and,
// against the local test cluster, the apiserver accepts its objects (a
// server-side dry run) and its ServiceAccount may do what the controller
// needs and nothing more.
package deploytest
