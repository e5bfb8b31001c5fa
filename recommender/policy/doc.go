// Package policy turns a history summary into a recommendation.
//
// Profiles are plain data: which statistic sets each request and limit, the
// margins, floors, ceilings, rounding and how much history is needed. Apply
// is a pure function of a profile, a summary and the container's current
// settings; PlanWorkload applies it to every container of a pod template and
// works out the pod's QoS class before and after (RULES.md R7), giving
// critical workloads the Guaranteed class (R8).
//
// The arithmetic is done by small estimators, in the manner of the Kubernetes
// VPA recommender's: Statistic (a quantile, the mean or the highest value of
// a source), Cap, AtLeast, Margin, ConfidenceMultiplier, MinResources,
// MinRatio, Fixed, RecordedRatio, ThrottleRaise, TrendRaise and Ceiling, each
// with one job. A profile's data say how they are composed for each request
// and limit; each reports the Step it took, and the reasons are written from
// those steps.
//
// Every number comes with a reason that cites the rules it follows or says
// where it departs from a numeric rule (R1, R2, R3).
package policy
