package cost

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// Risk thresholds over the report period. A sample counts as throttled
// when more than ThrottledPeriods of its CFS periods were; a container is at
// risk when that is so for ThrottledTimeRisk of the time or more (short
// bursts against a limit hurt latency long before the weekly mean shows
// it). "Above request" is the share of time usage exceeded a set request.
const (
	ThrottledPeriods       = 0.10
	ThrottledTimeRisk      = 0.01
	MemoryAboveRequestRisk = 0.05
	CPUAboveRequestRisk    = 0.25
)

// LowConfidence is the confidence below which a savings figure is flagged
// as a rough estimate (the plan formats use the same bound).
const LowConfidence = 0.5

// minSavings leaves out savings that would print as 0.00.
const minSavings = 0.005

// Build computes the report.
func Build(in Input) (*Report, error) {
	var errs []error
	if in.Store == nil && in.Meter == nil {
		errs = append(errs, errors.New("no usage history"))
	}
	if in.Period <= 0 {
		errs = append(errs, errors.New("period must be positive"))
	}
	if in.End.IsZero() {
		errs = append(errs, errors.New("no end of period"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Report{
		Title:          in.Title,
		Source:         in.Source,
		Profile:        in.Plan.Profile,
		Pricing:        in.Pricing,
		Period:         Window{in.End.Add(-in.Period).UTC(), in.End.UTC()},
		PreviousPeriod: Window{in.End.Add(-2 * in.Period).UTC(), in.End.Add(-in.Period).UTC()},
		TeamLabel:      in.GroupByLabel,
	}
	if r.Title == "" {
		r.Title = DefaultTitle
	}
	if in.Meter == nil {
		in.Meter = MeterStore(in.Store, in.End, in.Period, SpecFallback(in.Specs))
	}
	if in.Meter.period != r.Period {
		return nil, fmt.Errorf("the usage was metered for %s – %s, not the report period %s – %s",
			in.Meter.period.Start.Format(time.RFC3339), in.Meter.period.End.Format(time.RFC3339),
			r.Period.Start.Format(time.RFC3339), r.Period.End.Format(time.RFC3339))
	}
	first, last := in.Meter.Span()
	r.Data = Window{first, last}

	b := builder{in: in, r: r, plans: plansByKey(in.Plan), previous: plansByKey(in.Previous), keys: in.Meter.containers()}
	b.days = make([]Day, int(math.Ceil(in.Period.Hours()/24)))
	for i := range b.days {
		b.days[i].Start = r.Period.Start.Add(time.Duration(i) * 24 * time.Hour)
	}
	for _, k := range b.workloadKeys() {
		b.workload(k)
	}
	r.Daily = b.days
	b.groups()
	b.savings()
	b.qos()
	r.HPA = b.hpa()
	r.Confidence = b.confidence()
	slices.SortStableFunc(r.Risks, func(a, b Risk) int {
		if a.Severity != b.Severity {
			return int(a.Severity) - int(b.Severity)
		}
		if a.Workload != b.Workload {
			return cmpKey(a.Workload, b.Workload)
		}
		if a.Container != b.Container {
			return strings.Compare(a.Container, b.Container)
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return r, nil
}

type builder struct {
	in              Input
	r               *Report
	plans, previous map[workload.Key]*workload.WorkloadPlan
	days            []Day
	// keys are the metered containers, sorted.
	keys []workload.ContainerKey
}

func plansByKey(p workload.Plan) map[workload.Key]*workload.WorkloadPlan {
	m := make(map[workload.Key]*workload.WorkloadPlan, len(p.Workloads))
	for i := range p.Workloads {
		m[p.Workloads[i].Key] = &p.Workloads[i]
	}
	return m
}

// workloadKeys lists every workload with samples or in the plan, sorted.
func (b *builder) workloadKeys() []workload.Key {
	seen := map[workload.Key]bool{}
	var keys []workload.Key
	for _, ck := range b.keys {
		if !seen[ck.Workload] {
			seen[ck.Workload] = true
			keys = append(keys, ck.Workload)
		}
	}
	for k := range b.plans {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmpKey)
	return keys
}

func cmpKey(a, b workload.Key) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

// containersOf returns the metered containers of workload k.
func (b *builder) containersOf(k workload.Key) []workload.ContainerKey {
	all := b.keys
	i := sort.Search(len(all), func(i int) bool { return !all[i].Workload.Less(k) })
	var out []workload.ContainerKey
	for ; i < len(all) && all[i].Workload == k; i++ {
		out = append(out, all[i])
	}
	return out
}

// workload accounts one workload over both periods and looks for risks.
func (b *builder) workload(k workload.Key) {
	var spec *workload.Spec
	if s, ok := b.in.Specs[k]; ok {
		spec = &s
	}
	wc := WorkloadCost{Key: k, NodePool: pricing.NodePoolOf(spec)}
	if b.in.GroupByLabel != "" {
		wc.Team = NoLabel
		if spec != nil && spec.Labels[b.in.GroupByLabel] != "" {
			wc.Team = spec.Labels[b.in.GroupByLabel]
		}
	}
	wc.Price = b.in.Pricing.For(k.Namespace, wc.NodePool)
	wp := b.plans[k]
	if wp != nil {
		wc.Replicas, wc.Critical = wp.Replicas, wp.Critical
		wc.QoS, wc.QoSRecommended = wp.QoSCurrent, wp.QoSRecommended
		wc.Requests = workload.PodRequests(wp.Containers, func(c workload.ContainerPlan) workload.Settings { return c.Current })
		wc.Recommended = workload.PodRequests(wp.Containers, workload.ContainerPlan.Recommended)
		wc.Confidence = lowestConfidence(wp)
	}
	containers := b.containersOf(k)
	var cs map[string]*containerRisk
	wc.Cost, cs = b.account(containers, wp, wc.Price, true)
	wc.Previous, _ = b.account(containers, b.previous[k], wc.Price, false)
	if wc.Previous.Usage.PodHours > 0 {
		b.r.HasPrevious = true
	}
	b.r.Workloads = append(b.r.Workloads, wc)
	b.r.Risks = append(b.r.Risks, risks(wc, wp, cs)...)
}

// containerRisk is what the risk checks need from one container's samples.
type containerRisk struct {
	ooms                       int
	throttledTime, throttledDt float64
	throttledMax               float64
	cpuAbove, cpuMeasured      float64
	memAbove, memMeasured      float64
}

// account prices one workload's metered usage in the report period
// (current) or the previous one. Savings price the difference between
// each container's current and recommended requests for the pod-hours the
// container actually ran, so a CronJob's short runs and an autoscaled
// workload's changing replica count are counted as they happened. For the
// report period it also fills the daily series and returns the risk
// counts by container.
func (b *builder) account(containers []workload.ContainerKey, wp *workload.WorkloadPlan, price pricing.Price, current bool) (Cost, map[string]*containerRisk) {
	var c Cost
	cs := map[string]*containerRisk{}
	for _, ck := range containers {
		var cur, rec workload.Resources
		if cp := containerPlan(wp, ck.Container); cp != nil {
			cur, rec = cp.Current.Requests, cp.Recommended().Requests
		}
		tl := b.in.Meter.tallies[ck]
		u := tl.previous
		if current {
			u = tl.period
			cs[ck.Container] = &tl.risk
			for d := range min(len(tl.days), len(b.days)) {
				du := tl.days[d]
				bd := price.Of(du)
				day := &b.days[d]
				day.Requested += bd.Requested
				day.Used += bd.Used
				day.Idle += bd.Idle
				day.Recommended += recommendedCost(price, du, rec, cur)
			}
		}
		c.Usage.Merge(u)
		c.Savings += price.Requests(diff(cur, rec), u.PodHours)
	}
	c.Breakdown = price.Of(c.Usage)
	return c, cs
}

// recommendedCost prices a day's requests as the recommendation would have
// set them: the recommended request where the plan changes the current
// one, else what was recorded.
func recommendedCost(p pricing.Price, du pricing.Usage, rec, cur workload.Resources) pricing.Money {
	cpu, mem := float64(du.CPU.Requested), float64(du.Memory.Requested)
	if rec.CPU != cur.CPU {
		cpu = float64(rec.CPU.Cores()) * du.PodHours
	}
	if rec.Memory != cur.Memory {
		mem = rec.Memory.GiB() * du.PodHours
	}
	return pricing.Money(cpu*p.CPU + mem*p.Memory)
}

func diff(a, b workload.Resources) workload.Resources {
	return workload.Resources{CPU: a.CPU - b.CPU, Memory: a.Memory - b.Memory}
}

func (cr *containerRisk) observe(smp *workload.Sample, dt time.Duration, set *workload.Settings) {
	if smp.OOMKilled {
		cr.ooms++
	}
	h := dt.Hours()
	if v := smp.Throttled; smp.HasThrottled && !math.IsNaN(v) {
		cr.throttledDt += h
		if v > ThrottledPeriods {
			cr.throttledTime += h
		}
		cr.throttledMax = max(cr.throttledMax, v)
	}
	if v := float64(smp.CPU); smp.HasCPU && set.Requests.CPU.IsSet() {
		cr.cpuMeasured += h
		if v > float64(set.Requests.CPU.Cores()) {
			cr.cpuAbove += h
		}
	}
	if v := float64(smp.Memory); smp.HasMemory && set.Requests.Memory.IsSet() {
		cr.memMeasured += h
		if v > float64(set.Requests.Memory) {
			cr.memAbove += h
		}
	}
}

func containerPlan(wp *workload.WorkloadPlan, name string) *workload.ContainerPlan {
	if wp == nil {
		return nil
	}
	for i := range wp.Containers {
		if wp.Containers[i].Name == name {
			return &wp.Containers[i]
		}
	}
	return nil
}

// specSettings returns a container's settings from the workload spec, for
// samples that recorded none.
func specSettings(spec *workload.Spec, name string) (workload.Settings, bool) {
	if spec == nil {
		return workload.Settings{}, false
	}
	for _, c := range spec.Containers {
		if c.Name == name && !c.Settings.IsZero() {
			return c.Settings, true
		}
	}
	return workload.Settings{}, false
}

func lowestConfidence(wp *workload.WorkloadPlan) float64 {
	low := math.Inf(1)
	for _, c := range wp.Containers {
		if c.Recommendation.HasCPU || c.Recommendation.HasMemory {
			low = min(low, c.Recommendation.Confidence)
		}
	}
	if math.IsInf(low, 1) {
		return 0
	}
	return low
}

// groups sums the workloads into totals, namespaces and teams, and sorts
// the workloads by requested cost.
func (b *builder) groups() {
	r := b.r
	ns := map[string]*Group{}
	teams := map[string]*Group{}
	clusters := map[string]*Group{}
	named := false
	for _, wc := range r.Workloads {
		named = named || wc.Key.Cluster != ""
	}
	add := func(m map[string]*Group, name string, wc WorkloadCost) {
		g := m[name]
		if g == nil {
			g = &Group{Name: name}
			m[name] = g
		}
		g.Workloads++
		g.Cost.add(wc.Cost)
		g.Previous.add(wc.Previous)
	}
	for _, wc := range r.Workloads {
		r.Totals.Cost.add(wc.Cost)
		r.PreviousTotals.Cost.add(wc.Previous)
		if wc.Usage.PodHours > 0 {
			r.Totals.Workloads++
		}
		if wc.Previous.Usage.PodHours > 0 {
			r.PreviousTotals.Workloads++
		}
		for _, t := range []struct {
			tot *Totals
			s   pricing.Money
		}{{&r.Totals, wc.Savings}, {&r.PreviousTotals, wc.Previous.Savings}} {
			if t.s > 0 {
				t.tot.GrossSavings += t.s
			} else {
				t.tot.ExtraCost -= t.s
			}
		}
		add(ns, namespaceGroup(wc.Key), wc)
		if named {
			add(clusters, clusterGroup(wc.Key), wc)
		}
		if r.TeamLabel != "" {
			add(teams, wc.Team, wc)
		}
	}
	r.Totals.Pods = len(b.in.Meter.inPeriod)
	r.PreviousTotals.Pods = len(b.in.Meter.inPrevious)
	r.Clusters = sortedGroups(clusters)
	r.Namespaces = sortedGroups(ns)
	r.Teams = sortedGroups(teams)
	slices.SortStableFunc(r.Workloads, func(a, b WorkloadCost) int {
		if a.Requested != b.Requested {
			if a.Requested > b.Requested {
				return -1
			}
			return 1
		}
		return cmpKey(a.Key, b.Key)
	})
}

// namespaceGroup names a workload's namespace group: the namespace, and
// its cluster after an @ where one is named, so that a namespace of the
// same name in two clusters is two groups.
func namespaceGroup(k workload.Key) string {
	if k.Cluster != "" {
		return k.Namespace + "@" + k.Cluster
	}
	return k.Namespace
}

// clusterGroup names a workload's cluster group; NoLabel for a workload of
// no named cluster among others that name theirs.
func clusterGroup(k workload.Key) string {
	if k.Cluster == "" {
		return NoLabel
	}
	return k.Cluster
}

// sortedGroups orders groups by requested cost, highest first, the "no
// label" team last.
func sortedGroups(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		if (a.Name == NoLabel) != (b.Name == NoLabel) {
			if a.Name == NoLabel {
				return 1
			}
			return -1
		}
		if a.Requested != b.Requested {
			if a.Requested > b.Requested {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// savings picks the top savings and the extra costs.
func (b *builder) savings() {
	r := b.r
	for _, wc := range r.Workloads {
		switch {
		case wc.Savings >= minSavings:
			r.TopSavings = append(r.TopSavings, wc)
		case wc.Savings <= -minSavings:
			r.ExtraCost = append(r.ExtraCost, wc)
		}
	}
	slices.SortStableFunc(r.TopSavings, func(a, b WorkloadCost) int { return cmpMoney(b.Savings, a.Savings) })
	slices.SortStableFunc(r.ExtraCost, func(a, b WorkloadCost) int { return cmpMoney(a.Savings, b.Savings) })
	if len(r.TopSavings) > TopN {
		r.TopSavings = r.TopSavings[:TopN]
	}
}

func cmpMoney(a, b pricing.Money) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// qos counts workloads and pods per QoS class, today and recommended.
func (b *builder) qos() {
	classes := []workload.QoSClass{workload.Guaranteed, workload.Burstable, workload.BestEffort}
	counts := make([]QoSCount, len(classes))
	for i, c := range classes {
		counts[i].Class = c
	}
	for _, wp := range b.in.Plan.Workloads {
		for i, c := range classes {
			if wp.QoSCurrent == c {
				counts[i].Workloads++
				counts[i].Pods += wp.Replicas
			}
			if wp.QoSRecommended == c {
				counts[i].WorkloadsAfter++
				counts[i].PodsAfter += wp.Replicas
			}
		}
	}
	b.r.QoS = counts
}

// confidence lists what the reader should take with care: periods the
// history does not cover, containers without a recommendation, and
// recommendations with low confidence.
func (b *builder) confidence() []string {
	r := b.r
	var notes []string
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
	// A history that starts a little into a period covers it: a live
	// source's window starts a step after its beginning, and the notes
	// speak in hours.
	slack := min(time.Hour, r.Period.End.Sub(r.Period.Start)/24)
	switch {
	case r.Data.Start.IsZero():
	case !r.Data.Start.Before(r.Period.End):
		notes = append(notes, fmt.Sprintf("the history starts at %s, after the period: no figures", day(r.Data.Start)))
	case r.Data.Start.After(r.Period.Start.Add(slack)):
		notes = append(notes, fmt.Sprintf("the history starts at %s: the figures cover only %s of the %s period, and there is no week-over-week change",
			day(r.Data.Start), humanDuration(r.Period.End.Sub(r.Data.Start)), humanDuration(r.Period.End.Sub(r.Period.Start))))
	case !r.HasPrevious:
		notes = append(notes, "no history in the previous period: no week-over-week change")
	case r.Data.Start.After(r.PreviousPeriod.Start.Add(slack)):
		notes = append(notes, fmt.Sprintf("the history starts at %s: the previous period is covered for %s only, so week-over-week changes compare unequal spans",
			day(r.Data.Start), humanDuration(r.PreviousPeriod.End.Sub(r.Data.Start))))
	}
	if !r.Data.End.IsZero() && r.Period.End.Sub(r.Data.End) > time.Hour && r.Data.End.After(r.Period.Start) {
		notes = append(notes, fmt.Sprintf("the newest sample is from %s, %s before the end of the period", day(r.Data.End), humanDuration(r.Period.End.Sub(r.Data.End))))
	}
	for _, wp := range sortedPlans(b.in.Plan) {
		for _, c := range wp.Containers {
			rec := c.Recommendation
			name := wp.Key.String() + " container " + c.Name
			switch {
			case !rec.HasCPU || !rec.HasMemory:
				why := "no recommendation"
				for _, reason := range rec.Reasons {
					if strings.Contains(reason, "no recommendation") {
						why = reason
						break
					}
				}
				notes = append(notes, name+": "+why)
			case rec.Confidence < LowConfidence:
				notes = append(notes, fmt.Sprintf("%s: low confidence %.2f, its savings are a rough estimate", name, rec.Confidence))
			}
		}
	}
	return notes
}

func sortedPlans(p workload.Plan) []workload.WorkloadPlan {
	ws := slices.Clone(p.Workloads)
	slices.SortStableFunc(ws, func(a, b workload.WorkloadPlan) int { return cmpKey(a.Key, b.Key) })
	return ws
}

// humanDuration renders a duration in days and hours ("6d 23h", "7d", "5h").
func humanDuration(d time.Duration) string {
	d = d.Round(time.Hour)
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case days == 0:
		return fmt.Sprintf("%dh", hours)
	case hours == 0:
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, hours)
}
