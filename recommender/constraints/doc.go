// Package constraints bounds a plan by what the cluster states about its
// namespaces and workloads, after the profile has spoken:
//
//   - R16: a JVM's memory limit leaves its heap (-Xmx, or MaxRAMPercentage of
//     the limit) the room it was seen to use, with non-heap memory on top;
//   - R15: a VerticalPodAutoscaler's minAllowed/maxAllowed bound the requests;
//   - R13: LimitRange min, max, defaults and maxLimitRequestRatio clamp
//     requests and limits, since admission would reject anything outside;
//   - R14: a ResourceQuota that the recommended totals would exceed is
//     reported on the workloads that grow;
//   - R10: a HorizontalPodAutoscaler that scales on utilization is noted,
//     because a new request moves its scaling point.
//
// The order matters: LimitRange comes last among the clamps because it is
// enforced at admission. Every change adds a reason citing its rule. The
// package is pure: its input types are plain data that a collector (such as
// metrics/kube) fills in.
package constraints
