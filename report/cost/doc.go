// Package cost makes the cost report: what the requested
// resources cost over a period, how much of that was used and how much sat
// idle, what applying the recommendations would save, and what is at risk.
//
// Build computes a Report from the usage a Meter summed as the samples
// passed (from a history.Store, or as a reading into sketches took them),
// the plans recommender.RunOnce made at the end of the period and at the
// end of the previous one, and a pricing.Pricing. The period is the Period
// before End; the previous period, for week-over-week changes, is the
// Period before that, read from the same history, so no state is kept
// between runs.
//
// Figures, per workload and summed per namespace, per team (the value of a
// workload label) and in total:
//
//   - requested, used and idle cost integrate the recorded requests and
//     usage over the time each pod ran (see Meter for the weighting and
//     package pricing for why idle is clamped per sample);
//   - savings price the difference between each container's current and
//     recommended requests over the pod-hours it ran in the period. A
//     steady Deployment's pod-hours are its replicas times the period; a
//     CronJob counts only its runs. Savings are negative where the
//     recommendations ask for more (under-provisioned workloads) and are
//     shown as extra cost.
//
// Sections besides the figures: the top savings, risks (OOM kills,
// throttling, usage above requests, missing requests or limits (R5),
// BestEffort pods (R7), critical workloads that are not Guaranteed (R8)),
// the QoS class distribution today and recommended, HPA coverage with the
// R10/R11 suggestions, and confidence notes.
//
// Writers: WriteHTML (one self-contained page with inline CSS and SVG
// charts drawn with gonum.org/v1/plot, no script, readable on a phone,
// printable), WriteMarkdown (short enough for a chat message or a pull
// request), WriteCSV (long form for spreadsheets) and WriteJSON (the
// versioned Document, kind CostReport). Post sends the Markdown to a
// Slack- or Mattermost-compatible webhook.
package cost
