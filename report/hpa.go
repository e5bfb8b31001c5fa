package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender/workload"
)

// HPADocument is what the plan says about a scalable workload's HPA: the
// one it has, the one recommended, why, the load both were judged on and
// the replays of the history under each setup.
type HPADocument struct {
	// Current is absent when the workload has no HPA; Recommended when it
	// is better left at a fixed replica count.
	Current     *HPASpecDocument `json:"current,omitempty"`
	Recommended *HPASpecDocument `json:"recommended,omitempty"`
	Reasons     []string         `json:"reasons,omitempty"`
	// PodCPU is the pod's CPU request the recommendation is sized with;
	// absent when the requests stay as the per-container policy made them.
	PodCPU  string           `json:"podCPU,omitempty"`
	Load    LoadDocument     `json:"load"`
	Replays []ReplayDocument `json:"replays,omitempty"`
}

// HPASpecDocument is an HPA's spec under autoscaling/v2's field names
// (hpaobject.ToObject), without the scale target: the workload the
// document is about.
type HPASpecDocument struct {
	// Name is the object's name; absent for an HPA that does not exist yet.
	Name        string                                         `json:"name,omitempty"`
	MinReplicas *int32                                         `json:"minReplicas,omitempty"`
	MaxReplicas int32                                          `json:"maxReplicas"`
	Metrics     []autoscalingv2.MetricSpec                     `json:"metrics,omitempty"`
	Behavior    *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// LoadDocument is the workload's CPU load summed over its pods, in cores.
type LoadDocument struct {
	Trough float64 `json:"trough"`
	Median float64 `json:"median"`
	Peak   float64 `json:"peak"`
	// Rise is the load's growth within one reaction time, as a factor.
	Rise            float64 `json:"rise"`
	ReactionSeconds int64   `json:"reactionSeconds"`
	Samples         int     `json:"samples"`
}

// ReplayDocument is one replay of the history: "current", "defaults",
// "recommended" or "fixed".
type ReplayDocument struct {
	Setup  string  `json:"setup"`
	PodCPU string  `json:"podCPU,omitempty"`
	Hours  float64 `json:"hours"`
	// ReplicaHours and CoreHours are rounded to one decimal, Saturated and
	// AboveTarget (shares of the time) to four.
	ReplicaHours float64 `json:"replicaHours"`
	CoreHours    float64 `json:"coreHours"`
	Saturated    float64 `json:"saturated"`
	AboveTarget  float64 `json:"aboveTarget"`
	Events       int     `json:"events"`
	PeakReplicas int     `json:"peakReplicas"`
}

// hpaDocument returns nil for a workload the plan says nothing about
// scaling for.
func hpaDocument(a *workload.Autoscaling) *HPADocument {
	if a == nil {
		return nil
	}
	d := &HPADocument{
		Current:     hpaSpecDocument(a.Current),
		Recommended: hpaSpecDocument(a.Recommended),
		Reasons:     a.Reasons,
		PodCPU:      quantity(a.PodCPU),
		Load: LoadDocument{
			Trough:          round(float64(a.Load.Trough), 3),
			Median:          round(float64(a.Load.Median), 3),
			Peak:            round(float64(a.Load.Peak), 3),
			Rise:            round(a.Load.Rise, 3),
			ReactionSeconds: int64(a.Load.Reaction / time.Second),
			Samples:         a.Load.Samples,
		},
	}
	for _, r := range a.Replays {
		d.Replays = append(d.Replays, ReplayDocument{
			Setup:        r.Setup,
			PodCPU:       quantity(r.PodCPU),
			Hours:        round(r.Duration.Hours(), 2),
			ReplicaHours: round(r.ReplicaHours, 1),
			CoreHours:    round(r.CoreHours, 1),
			Saturated:    round(r.Saturated, 4),
			AboveTarget:  round(r.AboveTarget, 4),
			Events:       r.Events,
			PeakReplicas: r.PeakReplicas,
		})
	}
	return d
}

// Replay returns the replay of the named setup, nil without one.
func (d *HPADocument) Replay(setup string) *ReplayDocument {
	if d == nil {
		return nil
	}
	for i := range d.Replays {
		if d.Replays[i].Setup == setup {
			return &d.Replays[i]
		}
	}
	return nil
}

func hpaSpecDocument(h *workload.HPA) *HPASpecDocument {
	if h == nil {
		return nil
	}
	spec := hpaobject.ToObject(*h).Spec
	return &HPASpecDocument{
		Name:        h.Name,
		MinReplicas: spec.MinReplicas,
		MaxReplicas: spec.MaxReplicas,
		Metrics:     spec.Metrics,
		Behavior:    spec.Behavior,
	}
}

// round rounds v to n decimals; NaN and infinities become 0, which JSON
// can hold.
func round(v float64, n int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow10(n)
	return math.Round(v*p) / p
}

// hpaRow is one workload's HPA as the table and markdown formats show it.
type hpaRow struct {
	workload, current, recommended, podCPU string
	// replicaHours, coreHours and saturated compare the replay of the workload as it
	// runs today with the one of the recommendation: "412 → 298".
	replicaHours, coreHours, saturated string
}

var hpaHeader = []string{"HPA", "CURRENT", "RECOMMENDED", "POD CPU", "REPLICA-HOURS", "CORE-HOURS", "SATURATED"}

// hpaRows returns the rows of the workloads that have Autoscaling.
func hpaRows(ws []workload.WorkloadPlan) []hpaRow {
	var rows []hpaRow
	for _, wp := range ws {
		a := wp.Autoscaling
		if a == nil {
			continue
		}
		r := hpaRow{
			workload:    wp.Key.Printable(),
			current:     hpaCell(a.Current, "none"),
			recommended: hpaCell(a.Recommended, "keep fixed"),
			podCPU:      "—",
		}
		if a.PodCPU > 0 {
			r.podCPU = a.PodCPU.String()
		}
		from, to := baseline(a), chosen(a)
		r.replicaHours = compare(from, to, func(f workload.ReplayFigures) string {
			return strconv.FormatFloat(f.ReplicaHours, 'f', 0, 64)
		})
		r.coreHours = compare(from, to, func(f workload.ReplayFigures) string {
			return strconv.FormatFloat(f.CoreHours, 'f', 0, 64)
		})
		r.saturated = compare(from, to, func(f workload.ReplayFigures) string { return share(f.Saturated) })
		rows = append(rows, r)
	}
	return rows
}

// baseline is the replay of the workload as it runs today: its current
// HPA's, else the fixed replica count's (else the R10/R11 defaults').
func baseline(a *workload.Autoscaling) *workload.Replay {
	for _, setup := range []string{"current", "fixed", "defaults"} {
		if r := a.Replay(setup); r != nil && (setup != "current" || a.Current != nil) {
			return r
		}
	}
	return nil
}

// chosen is the replay of what the plan recommends: the recommended HPA,
// else the fixed replica count.
func chosen(a *workload.Autoscaling) *workload.Replay {
	if a.Recommended != nil {
		return a.Replay("recommended")
	}
	return a.Replay("fixed")
}

// compare renders a figure of two replays, "412 → 298"; one side alone
// when the other is missing or the same, "—" without either.
func compare(from, to *workload.Replay, show func(workload.ReplayFigures) string) string {
	switch {
	case from == nil && to == nil:
		return "—"
	case from == nil:
		return show(to.ReplayFigures)
	case to == nil || to == from:
		return show(from.ReplayFigures)
	}
	return show(from.ReplayFigures) + " → " + show(to.ReplayFigures)
}

// hpaLegend says what the replay columns compare.
const hpaLegend = "replaying the history: pods and requested cores times hours, time saturated; current HPA (else a fixed count sized for the peak) → recommended"

// share renders a share of time as a percentage, with one decimal below
// 10 %.
func share(v float64) string {
	p := v * 100
	if p < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + " %"
}

// hpaCell renders an HPA in one line: "3–23 pods, cpu 75 %, memory 80 %";
// none when h is nil.
func hpaCell(h *workload.HPA, none string) string {
	if h == nil {
		return none
	}
	parts := []string{fmt.Sprintf("%d–%d pods", h.MinReplicas, h.MaxReplicas)}
	for _, m := range h.Metrics {
		name := workload.PrintableName(m.Resource)
		switch {
		case m.AverageUtilization != 0:
			parts = append(parts, fmt.Sprintf("%s %d %%", name, m.AverageUtilization))
		case m.AverageValue != "":
			parts = append(parts, name+" "+untrusted.Escape(m.AverageValue)+" avg")
		default:
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, ", ")
}
