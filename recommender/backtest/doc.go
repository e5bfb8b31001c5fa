// Package backtest replays usage history through a policy exactly as a
// controller would have applied it, and scores the result with the figures
// of docs/backtest.md: slack, insufficient and throttled time for CPU; slack,
// insufficient time and OOM episodes for memory.
//
// Decisions happen at t_k = t_first + W + k·R. At t_k a policy sees only the
// samples before t_k and the OOM episodes the replay produced before t_k; its
// settings then hold for [t_k, t_k+1), where every sample is scored weighted
// by the time since its pod container's previous sample (capped at twice the
// median step, so gaps count as nothing).
//
// Besides the profiles of package policy, two yardsticks are offered:
// "current" (the settings recorded in the input) and "oracle" (hindsight: the
// next interval's p98 as request, no CPU limit, its maximum as memory limit).
package backtest
