package cost

import (
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// Input is everything one report is made from.
type Input struct {
	// Title heads the report; DefaultTitle when empty.
	Title string
	// Source names where the history came from (a file, "demo", a URL).
	Source string
	// Meter holds the usage accounted as it was read (a history read into
	// sketches); without it Build meters Store.
	Meter *Meter
	Store *history.Store
	// Specs are the workloads' pod templates where the source knows them:
	// labels for --group-by-label, node pools for prices, settings where
	// samples recorded none.
	Specs map[workload.Key]workload.Spec
	// HPAs are the HorizontalPodAutoscalers the source found. HPASource
	// says why there are none when the source cannot know them ("usage
	// file"); leave it empty for sources that list HPAs.
	HPAs      []workload.HPA
	HPASource string
	// Plan is the recommendation at End; Previous the one at the end of
	// the previous period (both from recommender.RunOnce with one profile).
	Plan, Previous workload.Plan
	Pricing        pricing.Pricing
	// End is the end of the report period, exclusive; the period is the
	// Period before it and the previous period the Period before that.
	End    time.Time
	Period time.Duration
	// GroupByLabel is the workload label whose value names a team; empty
	// for no team breakdown.
	GroupByLabel string
}

// DefaultTitle heads a report without a title.
const DefaultTitle = "Weekly cost report"

// NoLabel stands for a team when a workload has no value for the label.
const NoLabel = "(no label)"

// Window is a stretch of time, [Start, End).
type Window struct {
	Start, End time.Time
}

// Report is the weekly cost report: the figures every format shows.
type Report struct {
	Title, Source, Profile string
	Pricing                pricing.Pricing
	Period, PreviousPeriod Window
	// Data is the span of the history: where it does not cover a period,
	// the figures for it are partial.
	Data Window

	Totals, PreviousTotals Totals
	// HasPrevious is false when no sample fell into the previous period.
	HasPrevious bool

	// Clusters are the costs by cluster where workloads name theirs (a
	// usage file's cluster column, a store's cluster label); empty for one
	// unnamed cluster. A namespace is then grouped per cluster
	// (namespace@cluster).
	Clusters   []Group
	Namespaces []Group
	// TeamLabel is the label teams come from; Teams is empty without one.
	TeamLabel string
	Teams     []Group
	// Workloads are sorted by requested cost, highest first.
	Workloads []WorkloadCost
	Daily     []Day

	// TopSavings are the (at most TopN) workloads that save the most;
	// ExtraCost those whose recommendations cost more, largest first.
	TopSavings []WorkloadCost
	ExtraCost  []WorkloadCost

	Risks      []Risk
	QoS        []QoSCount
	HPA        HPASection
	Confidence []string
}

// TopN is how many workloads the savings list and charts name.
const TopN = 10

// Cost is one scope's cost over a period.
type Cost struct {
	pricing.Breakdown
	// Savings is what applying the recommendations would have saved over
	// the period: negative where they ask for more than today.
	Savings pricing.Money
	Usage   pricing.Usage
}

func (c *Cost) add(o Cost) {
	c.Breakdown.Add(o.Breakdown)
	c.Savings += o.Savings
	c.Usage.Merge(o.Usage)
}

// IdleShare returns idle cost as a share of requested cost, 0 when nothing
// was requested.
func (c Cost) IdleShare() float64 {
	if c.Requested <= 0 {
		return 0
	}
	return float64(c.Idle / c.Requested)
}

// Totals is the whole report's cost over a period.
type Totals struct {
	Cost
	// GrossSavings sums the workloads that would save; ExtraCost sums,
	// as a positive amount, those that would cost more. Savings is their
	// difference.
	GrossSavings, ExtraCost pricing.Money
	// Workloads and Pods count those with samples in the period.
	Workloads, Pods int
}

// Group is the cost of a namespace or a team.
type Group struct {
	Name      string
	Workloads int
	Cost
	Previous Cost
}

// WorkloadCost is one workload's cost, with what the plan would change.
type WorkloadCost struct {
	Key      workload.Key
	Team     string
	NodePool string
	Price    pricing.Price
	Replicas int
	Critical bool
	// Requests and Recommended are one pod's requests today and with the
	// recommendations applied.
	Requests, Recommended workload.Resources
	QoS, QoSRecommended   workload.QoSClass
	// Confidence is the lowest confidence among the containers with a
	// recommendation; 0 when none has one.
	Confidence float64
	Cost
	Previous Cost
}

// Day is one day of the period.
type Day struct {
	Start time.Time
	// Requested, Used and Idle are the day's costs; Recommended what the
	// same pods would have requested with the recommendations applied.
	Requested, Used, Idle, Recommended pricing.Money
}

// Severity orders risks.
type Severity int

// The severities, most urgent first.
const (
	High Severity = iota
	Medium
	Low
)

func (s Severity) String() string {
	return [...]string{"high", "medium", "low"}[s]
}

// RiskKind names what is at risk.
type RiskKind string

// The risks the report looks for.
const (
	RiskOOM                   RiskKind = "oom-kills"
	RiskBestEffort            RiskKind = "best-effort"
	RiskMemoryAboveRequest    RiskKind = "memory-above-request"
	RiskThrottled             RiskKind = "cpu-throttled"
	RiskCriticalNotGuaranteed RiskKind = "critical-not-guaranteed"
	RiskCPUAboveRequest       RiskKind = "cpu-above-request"
	RiskMissingSettings       RiskKind = "missing-requests-or-limits"
)

// Risk is one finding about one workload or container.
type Risk struct {
	Severity Severity
	Kind     RiskKind
	Workload workload.Key
	// Container is empty for pod-level risks (the QoS class).
	Container string
	// Rule is the RULES.md rule it follows.
	Rule   string
	Detail string
}

// QoSCount counts workloads and pods of one QoS class.
type QoSCount struct {
	Class                     workload.QoSClass
	Workloads, Pods           int
	WorkloadsAfter, PodsAfter int
}

// HPASection is HPA coverage and what the plan recommends for each
// scalable workload (its Autoscaling, R9–R11).
type HPASection struct {
	// Note says why no HPA is known, for sources that cannot know them.
	Note string
	// Scalable counts the workloads an HPA could scale (Deployments,
	// StatefulSets, ReplicaSets); Covered those that have one.
	Scalable, Covered int
	// Existing are the HPAs the source knows, by workload; Suggested the
	// workloads without one the plan recommends an HPA for, the most
	// expensive first.
	Existing  []HPAReview
	Suggested []HPASuggestion
}

// HPAReview is an existing HPA and what the plan recommends instead.
type HPAReview struct {
	workload.HPA
	// NoHistory is set for an HPA whose workload has no usage history in
	// the plan: listed as a coverage fact only.
	NoHistory bool
	Plan      HPAPlan
}

// HPASuggestion is an HPA the plan recommends for a workload without one.
type HPASuggestion struct {
	Workload workload.Key
	Replicas int
	// Why sums up what makes the workload a candidate: its load's peak to
	// trough and the replica-hours the HPA saves against a fixed count.
	Why string
	// HPA is the recommended HPA.
	workload.HPA
	Plan HPAPlan
}

// HPAPlan is what the plan says about a workload's scaling.
type HPAPlan struct {
	// Recommended is the HPA recommended; nil to keep (or go back to) a
	// fixed replica count.
	Recommended *workload.HPA
	Reasons     []string
	// PodCPU is the pod CPU request the HPA is sized with; zero when the
	// requests stay as the per-container policy made them.
	PodCPU  workload.Millicores
	Replays HPAReplays
}

// HPAReplays are a workload's replays of the history, nil where the plan
// has none: the current HPA, the R10/R11 defaults, the recommendation and
// a fixed count sized for the peak.
type HPAReplays struct {
	Current, Defaults, Recommended, Fixed *workload.Replay
}
