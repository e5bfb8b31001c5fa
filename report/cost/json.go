package cost

import (
	"encoding/json"
	"io"
	"math"
	"sort"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
	"rightsize.dev/rightsize/report/pricing"
)

// Kind identifies the report document; its apiVersion is the plan's,
// report.APIVersion.
const Kind = "CostReport"

// Document is the versioned JSON form of a report. Money is a number in
// Currency rounded to four decimals, resource-hours to three; requests are
// Kubernetes quantity strings. Field names and meanings are the stable
// interface: fields may be added, existing ones do not change within an
// apiVersion.
type Document struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Title          string         `json:"title"`
	Source         string         `json:"source"`
	Profile        string         `json:"profile"`
	Currency       string         `json:"currency"`
	Prices         PricesDocument `json:"prices"`
	Period         WindowDocument `json:"period"`
	PreviousPeriod WindowDocument `json:"previousPeriod"`
	// History is the span of the samples read.
	History WindowDocument `json:"history"`
	Totals  TotalsDocument `json:"totals"`
	// Previous and Change are absent when the previous period has no data;
	// Change holds relative changes (0.1 = +10 %).
	Previous *TotalsDocument `json:"previous,omitempty"`
	Change   *ChangeDocument `json:"change,omitempty"`
	// Clusters are set where workloads name several.
	Clusters   []GroupDocument       `json:"clusters,omitempty"`
	Namespaces []GroupDocument       `json:"namespaces"`
	TeamLabel  string                `json:"teamLabel,omitempty"`
	Teams      []GroupDocument       `json:"teams,omitempty"`
	Workloads  []WorkloadDocument    `json:"workloads"`
	Daily      []DayDocument         `json:"daily"`
	TopSavings []WorkloadRefDocument `json:"topSavings"`
	ExtraCost  []WorkloadRefDocument `json:"extraCost"`
	Risks      []RiskDocument        `json:"risks"`
	QoS        []QoSDocument         `json:"qos"`
	HPA        HPASectionDocument    `json:"hpa"`
	Confidence []string              `json:"confidence"`
}

// PricesDocument is the cost model used.
type PricesDocument struct {
	CPUPerCoreHour   float64                     `json:"cpuPerCoreHour"`
	MemoryPerGiBHour float64                     `json:"memoryPerGiBHour"`
	Namespaces       map[string]OverrideDocument `json:"namespaces,omitempty"`
	NodePools        map[string]OverrideDocument `json:"nodePools,omitempty"`
}

// OverrideDocument is a price override; an absent field keeps the default.
type OverrideDocument struct {
	CPU    *float64 `json:"cpu,omitempty"`
	Memory *float64 `json:"memory,omitempty"`
}

// WindowDocument is [start, end) in RFC 3339, UTC.
type WindowDocument struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// CostDocument is one scope's cost over a period.
type CostDocument struct {
	Requested float64 `json:"requested"`
	Used      float64 `json:"used"`
	Idle      float64 `json:"idle"`
	// Savings is negative where the recommendations cost more.
	Savings  float64          `json:"savings"`
	PodHours float64          `json:"podHours"`
	CPU      HoursDocument    `json:"cpu"`
	Memory   MemHoursDocument `json:"memory"`
}

// HoursDocument is CPU in core-hours.
type HoursDocument struct {
	Requested float64 `json:"requestedCoreHours"`
	Used      float64 `json:"usedCoreHours"`
	Idle      float64 `json:"idleCoreHours"`
}

// MemHoursDocument is memory in GiB-hours.
type MemHoursDocument struct {
	Requested float64 `json:"requestedGiBHours"`
	Used      float64 `json:"usedGiBHours"`
	Idle      float64 `json:"idleGiBHours"`
}

// TotalsDocument is the whole report's cost over a period.
type TotalsDocument struct {
	CostDocument
	GrossSavings float64 `json:"grossSavings"`
	ExtraCost    float64 `json:"extraCost"`
	Workloads    int     `json:"workloads"`
	Pods         int     `json:"pods"`
}

// ChangeDocument is the relative change against the previous period; an
// absent field had nothing to compare with.
type ChangeDocument struct {
	Requested *float64 `json:"requested,omitempty"`
	Used      *float64 `json:"used,omitempty"`
	Idle      *float64 `json:"idle,omitempty"`
	Savings   *float64 `json:"savings,omitempty"`
}

// GroupDocument is a namespace's or team's cost.
type GroupDocument struct {
	Name      string       `json:"name"`
	Workloads int          `json:"workloads"`
	Cost      CostDocument `json:"cost"`
	Previous  CostDocument `json:"previous"`
}

// WorkloadDocument is one workload's cost and what the plan would change.
type WorkloadDocument struct {
	Cluster    string            `json:"cluster,omitempty"`
	Namespace  string            `json:"namespace"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Team       string            `json:"team,omitempty"`
	NodePool   string            `json:"nodePool,omitempty"`
	Replicas   int               `json:"replicas"`
	Critical   bool              `json:"critical,omitempty"`
	QoS        QoSChangeDocument `json:"qos"`
	Requests   RequestsDocument  `json:"requests"`
	Confidence float64           `json:"confidence"`
	Cost       CostDocument      `json:"cost"`
	Previous   CostDocument      `json:"previous"`
}

// QoSChangeDocument is the QoS class today and with the recommendations.
type QoSChangeDocument struct {
	Current     string `json:"current,omitempty"`
	Recommended string `json:"recommended,omitempty"`
}

// RequestsDocument is one pod's requests today and recommended.
type RequestsDocument struct {
	Current     ResourcesDocument `json:"current"`
	Recommended ResourcesDocument `json:"recommended"`
}

// ResourcesDocument holds quantity strings; an unset amount is absent.
type ResourcesDocument struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// DayDocument is one day's cost.
type DayDocument struct {
	Start       string  `json:"start"`
	Requested   float64 `json:"requested"`
	Used        float64 `json:"used"`
	Idle        float64 `json:"idle"`
	Recommended float64 `json:"recommended"`
}

// WorkloadRefDocument names a workload with its savings.
type WorkloadRefDocument struct {
	Cluster   string  `json:"cluster,omitempty"`
	Namespace string  `json:"namespace"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Savings   float64 `json:"savings"`
}

// RiskDocument is one finding.
type RiskDocument struct {
	Severity     string `json:"severity"`
	Kind         string `json:"kind"`
	Cluster      string `json:"cluster,omitempty"`
	Namespace    string `json:"namespace"`
	WorkloadKind string `json:"workloadKind"`
	Workload     string `json:"workload"`
	Container    string `json:"container,omitempty"`
	Rule         string `json:"rule"`
	Detail       string `json:"detail"`
}

// QoSDocument counts one QoS class.
type QoSDocument struct {
	Class                string `json:"class"`
	Workloads            int    `json:"workloads"`
	Pods                 int    `json:"pods"`
	WorkloadsRecommended int    `json:"workloadsRecommended"`
	PodsRecommended      int    `json:"podsRecommended"`
}

// HPASectionDocument is HPA coverage, the existing HPAs with what the
// plan recommends instead, and the HPAs it recommends for workloads
// without one.
type HPASectionDocument struct {
	Note      string        `json:"note,omitempty"`
	Scalable  int           `json:"scalable"`
	Covered   int           `json:"covered"`
	Existing  []HPADocument `json:"existing"`
	Suggested []HPADocument `json:"suggested"`
}

// HPADocument is an existing HPA (its bounds and targets) or a suggested
// one (the recommendation's, with Replicas and Why).
type HPADocument struct {
	Cluster     string              `json:"cluster,omitempty"`
	Namespace   string              `json:"namespace"`
	Kind        string              `json:"kind"`
	Name        string              `json:"name"`
	MinReplicas int                 `json:"minReplicas"`
	MaxReplicas int                 `json:"maxReplicas"`
	Targets     []HPATargetDocument `json:"targets"`
	// Replicas and Why are set on suggestions; NoHistory on an existing
	// HPA whose workload has no usage history (nothing else is known).
	Replicas  int    `json:"replicas,omitempty"`
	Why       string `json:"why,omitempty"`
	NoHistory bool   `json:"noHistory,omitempty"`
	// Recommended is, on an existing HPA, the one recommended instead;
	// absent for a fixed replica count.
	Recommended *HPABoundsDocument `json:"recommended,omitempty"`
	// PodCPU is the pod CPU request the recommendation is sized with.
	PodCPU  string              `json:"podCPU,omitempty"`
	Reasons []string            `json:"reasons,omitempty"`
	Replays []HPAReplayDocument `json:"replays,omitempty"`
}

// HPABoundsDocument is an HPA's bounds and targets.
type HPABoundsDocument struct {
	MinReplicas int                 `json:"minReplicas"`
	MaxReplicas int                 `json:"maxReplicas"`
	Targets     []HPATargetDocument `json:"targets"`
}

// HPAReplayDocument is one replay of the history (docs/hpa.md): setup
// current, defaults, recommended or fixed.
type HPAReplayDocument struct {
	Setup        string  `json:"setup"`
	ReplicaHours float64 `json:"replicaHours"`
	CoreHours    float64 `json:"coreHours"`
	// Saturated is the share of time the load exceeded the ready pods'
	// CPU requests.
	Saturated float64 `json:"saturated"`
}

// HPATargetDocument is one HPA metric target.
type HPATargetDocument struct {
	Resource           string `json:"resource"`
	AverageUtilization int    `json:"averageUtilization,omitempty"`
	AverageValue       string `json:"averageValue,omitempty"`
}

// NewDocument builds the versioned document for r.
func NewDocument(r *Report) Document {
	d := Document{
		APIVersion: report.APIVersion, Kind: Kind,
		Title: r.Title, Source: r.Source, Profile: r.Profile, Currency: r.Pricing.Currency,
		Prices: PricesDocument{
			CPUPerCoreHour: r.Pricing.Default.CPU, MemoryPerGiBHour: r.Pricing.Default.Memory,
			Namespaces: overrides(r.Pricing.Namespaces), NodePools: overrides(r.Pricing.NodePools),
		},
		Period: window(r.Period), PreviousPeriod: window(r.PreviousPeriod), History: window(r.Data),
		Totals:     totalsDoc(r.Totals),
		Namespaces: []GroupDocument{}, Workloads: []WorkloadDocument{}, Daily: []DayDocument{},
		TopSavings: []WorkloadRefDocument{}, ExtraCost: []WorkloadRefDocument{}, Risks: []RiskDocument{},
		QoS: []QoSDocument{}, Confidence: append([]string{}, r.Confidence...),
		TeamLabel: r.TeamLabel,
	}
	if r.HasPrevious {
		p := totalsDoc(r.PreviousTotals)
		d.Previous = &p
		rel := func(cur, prev pricing.Money) *float64 {
			if prev <= 0 {
				return nil
			}
			v := round(float64((cur-prev)/prev), 4)
			return &v
		}
		t, pt := r.Totals, r.PreviousTotals
		d.Change = &ChangeDocument{Requested: rel(t.Requested, pt.Requested), Used: rel(t.Used, pt.Used), Idle: rel(t.Idle, pt.Idle), Savings: rel(t.Savings, pt.Savings)}
	}
	for _, g := range r.Namespaces {
		d.Namespaces = append(d.Namespaces, GroupDocument{Name: g.Name, Workloads: g.Workloads, Cost: costDoc(g.Cost), Previous: costDoc(g.Previous)})
	}
	for _, g := range r.Clusters {
		d.Clusters = append(d.Clusters, GroupDocument{Name: g.Name, Workloads: g.Workloads, Cost: costDoc(g.Cost), Previous: costDoc(g.Previous)})
	}
	for _, g := range r.Teams {
		d.Teams = append(d.Teams, GroupDocument{Name: g.Name, Workloads: g.Workloads, Cost: costDoc(g.Cost), Previous: costDoc(g.Previous)})
	}
	for _, w := range r.Workloads {
		d.Workloads = append(d.Workloads, WorkloadDocument{
			Cluster: w.Key.Cluster, Namespace: w.Key.Namespace, Kind: string(w.Key.Kind), Name: w.Key.Name,
			Team: w.Team, NodePool: w.NodePool, Replicas: w.Replicas, Critical: w.Critical,
			QoS:        QoSChangeDocument{Current: string(w.QoS), Recommended: string(w.QoSRecommended)},
			Requests:   RequestsDocument{Current: resources(w.Requests), Recommended: resources(w.Recommended)},
			Confidence: round(w.Confidence, 2),
			Cost:       costDoc(w.Cost), Previous: costDoc(w.Previous),
		})
	}
	for _, day := range r.Daily {
		d.Daily = append(d.Daily, DayDocument{Start: day.Start.UTC().Format(time.RFC3339),
			Requested: money4(day.Requested), Used: money4(day.Used), Idle: money4(day.Idle), Recommended: money4(day.Recommended)})
	}
	for _, w := range r.TopSavings {
		d.TopSavings = append(d.TopSavings, ref(w))
	}
	for _, w := range r.ExtraCost {
		d.ExtraCost = append(d.ExtraCost, ref(w))
	}
	for _, k := range r.Risks {
		d.Risks = append(d.Risks, RiskDocument{Severity: k.Severity.String(), Kind: string(k.Kind),
			Cluster: k.Workload.Cluster, Namespace: k.Workload.Namespace, WorkloadKind: string(k.Workload.Kind), Workload: k.Workload.Name,
			Container: k.Container, Rule: k.Rule, Detail: k.Detail})
	}
	for _, q := range r.QoS {
		d.QoS = append(d.QoS, QoSDocument{Class: string(q.Class), Workloads: q.Workloads, Pods: q.Pods, WorkloadsRecommended: q.WorkloadsAfter, PodsRecommended: q.PodsAfter})
	}
	d.HPA = HPASectionDocument{Note: r.HPA.Note, Scalable: r.HPA.Scalable, Covered: r.HPA.Covered,
		Existing: []HPADocument{}, Suggested: []HPADocument{}}
	for _, e := range r.HPA.Existing {
		h := hpaDoc(e.HPA)
		h.NoHistory = e.NoHistory
		h.planned(e.Plan)
		if rec := e.Plan.Recommended; rec != nil {
			b := hpaDoc(*rec)
			h.Recommended = &HPABoundsDocument{MinReplicas: b.MinReplicas, MaxReplicas: b.MaxReplicas, Targets: b.Targets}
		}
		d.HPA.Existing = append(d.HPA.Existing, h)
	}
	for _, s := range r.HPA.Suggested {
		h := hpaDoc(s.HPA)
		h.Replicas, h.Why = s.Replicas, s.Why
		h.planned(s.Plan)
		d.HPA.Suggested = append(d.HPA.Suggested, h)
	}
	return d
}

// WriteJSON writes the versioned document, indented.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(NewDocument(r))
}

func window(w Window) WindowDocument {
	if w.Start.IsZero() && w.End.IsZero() {
		return WindowDocument{}
	}
	return WindowDocument{Start: w.Start.UTC().Format(time.RFC3339), End: w.End.UTC().Format(time.RFC3339)}
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

func money4(m pricing.Money) float64 { return round(float64(m), 4) }

func costDoc(c Cost) CostDocument {
	return CostDocument{
		Requested: money4(c.Requested), Used: money4(c.Used), Idle: money4(c.Idle), Savings: money4(c.Savings),
		PodHours: round(c.Usage.PodHours, 3),
		CPU: HoursDocument{Requested: round(float64(c.Usage.CPU.Requested), 3), Used: round(float64(c.Usage.CPU.Used), 3),
			Idle: round(float64(c.Usage.CPU.Idle), 3)},
		Memory: MemHoursDocument{Requested: round(float64(c.Usage.Memory.Requested), 3), Used: round(float64(c.Usage.Memory.Used), 3),
			Idle: round(float64(c.Usage.Memory.Idle), 3)},
	}
}

func totalsDoc(t Totals) TotalsDocument {
	return TotalsDocument{CostDocument: costDoc(t.Cost), GrossSavings: money4(t.GrossSavings), ExtraCost: money4(t.ExtraCost),
		Workloads: t.Workloads, Pods: t.Pods}
}

func resources(r workload.Resources) ResourcesDocument {
	var d ResourcesDocument
	if r.CPU.IsSet() {
		d.CPU = r.CPU.String()
	}
	if r.Memory.IsSet() {
		d.Memory = r.Memory.String()
	}
	return d
}

func ref(w WorkloadCost) WorkloadRefDocument {
	return WorkloadRefDocument{Cluster: w.Key.Cluster, Namespace: w.Key.Namespace, Kind: string(w.Key.Kind), Name: w.Key.Name, Savings: money4(w.Savings)}
}

// planned adds what the plan says: the pod CPU request, the reasons and
// the replays.
func (d *HPADocument) planned(p HPAPlan) {
	if p.PodCPU > 0 {
		d.PodCPU = p.PodCPU.String()
	}
	d.Reasons = p.Reasons
	r := p.Replays
	for _, rp := range []*workload.Replay{r.Current, r.Defaults, r.Recommended, r.Fixed} {
		if rp == nil {
			continue
		}
		round := func(v, unit float64) float64 {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0
			}
			return math.Round(v/unit) * unit
		}
		d.Replays = append(d.Replays, HPAReplayDocument{Setup: rp.Setup,
			ReplicaHours: round(rp.ReplicaHours, 0.1), CoreHours: round(rp.CoreHours, 0.1), Saturated: round(rp.Saturated, 1e-4)})
	}
}

func hpaDoc(h workload.HPA) HPADocument {
	d := HPADocument{Cluster: h.Target.Cluster, Namespace: h.Target.Namespace, Kind: string(h.Target.Kind), Name: h.Target.Name,
		MinReplicas: h.MinReplicas, MaxReplicas: h.MaxReplicas, Targets: []HPATargetDocument{}}
	for _, t := range h.Metrics {
		d.Targets = append(d.Targets, HPATargetDocument(t))
	}
	return d
}

func overrides(m map[string]pricing.Override) map[string]OverrideDocument {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]OverrideDocument, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = OverrideDocument{CPU: m[k].CPU, Memory: m[k].Memory}
	}
	return out
}
