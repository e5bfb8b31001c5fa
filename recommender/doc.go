// Package recommender runs the pipeline from usage history to a plan:
// group samples by workload, summarize each container's history, apply the
// profile, and work out QoS classes. RunOnce reads top to bottom like the
// data flow and times each step.
package recommender
