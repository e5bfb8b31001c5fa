// Package apply holds the rules that decide whether the controller writes
// a recommendation into a workload, and what it writes: the opt-in (a
// workload's annotation, else its namespace's label), the controller-wide
// switch, and the guard rails — confidence, the largest step, the
// smallest change worth a write, the cooldown, a healthy workload with no
// rollout under way, the maintenance window, quota headroom, an HPA on CPU
// only together with its own recommendation, and a cluster-wide rate of
// applies. It is pure: no cluster, no clock of its own, so every rule is
// tested by a table. The controller carries the decisions out.
package apply
