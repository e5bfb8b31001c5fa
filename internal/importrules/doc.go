// Package importrules holds a test that keeps the import rules of
// docs/design.md true: imports point one way, the core (recommender/...)
// knows no Kubernetes or Prometheus client, no source, output or command,
// and units become resource.Quantity only at the edges.
package importrules
