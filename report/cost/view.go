package cost

import (
	"fmt"
	"strconv"

	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/pricing"
)

// view is the report as the HTML and Markdown writers show it: every
// figure already rendered, so both say exactly the same.
type view struct {
	Title, Period, PeriodLength, Previous, Source, Profile, Prices string

	Headline []headline
	// Counts says how many workloads and pods ran; IdleShare is idle as a
	// share of requested.
	Counts, IdleShare string
	// SavingsNote explains gross savings against extra cost.
	SavingsNote string

	Clusters   []groupRow
	Namespaces []groupRow
	TeamLabel  string
	Teams      []groupRow

	TopSavings, ExtraCost []savingRow
	Risks                 []riskRow
	QoS                   []qosRow
	HPA                   hpaView
	Workloads             []workloadRow
	Confidence            []string
	Method                []string
}

type headline struct {
	Label, Now, Before, Change, Note string
}

type groupRow struct {
	Name, Workloads, Requested, Used, Idle, IdleShare, Savings, Change string
}

type savingRow struct {
	Workload, Replicas, CPU, Memory, Savings, Confidence string
	Low                                                  bool
}

type riskRow struct {
	Severity, Workload, Container, Detail, Rule string
}

type qosRow struct {
	Class, Workloads, Pods, WorkloadsAfter, PodsAfter string
}

type hpaView struct {
	Coverage, Note, Behavior string
	Existing                 []hpaRow
	Suggested                []hpaRow
}

// hpaRow is an existing HPA (HPA, with Recommended instead) or a
// suggested one (HPA, with Replicas and Why); the replays compare the
// workload as it runs today with the recommendation.
type hpaRow struct {
	Workload, Replicas, Why, HPA, Recommended, PodCPU string
	ReplicaHours, CoreHours, Saturated, Notes         string
	Reasons                                           []string
}

type workloadRow struct {
	Workload, Team, Replicas, QoS, CPU, Memory, Requested, Used, Idle, IdleShare, Savings string
}

func (r *Report) view() view {
	t, pt := r.Totals, r.PreviousTotals
	before := func(m pricing.Money) string {
		if !r.HasPrevious {
			return "—"
		}
		return r.Money(m)
	}
	change := func(cur, prev pricing.Money) string {
		if !r.HasPrevious {
			return "n/a"
		}
		return signedChange(cur, prev)
	}
	v := view{
		Title:        r.Title,
		Period:       fmtWindow(r.Period),
		PeriodLength: humanDuration(r.Period.End.Sub(r.Period.Start)),
		Previous:     fmtWindow(r.PreviousPeriod),
		Source:       r.Source,
		Profile:      r.Profile,
		Prices:       r.Pricing.String(),
		TeamLabel:    r.TeamLabel,
		// Pods that ran at any time in the period, restarts and rollouts
		// included: more than the replicas counted "today" by QoS.
		Counts:    fmt.Sprintf("%d %s, %d %s ran in the period", t.Workloads, plural(t.Workloads, "workload", "workloads"), t.Pods, plural(t.Pods, "pod", "pods")),
		IdleShare: fmtShare(t.IdleShare()),
		Headline: []headline{
			{"Requested", r.Money(t.Requested), before(pt.Requested), change(t.Requested, pt.Requested), ""},
			{"Used", r.Money(t.Used), before(pt.Used), change(t.Used, pt.Used), fmtShare(share(t.Used, t.Requested)) + " of requested"},
			{"Idle", r.Money(t.Idle), before(pt.Idle), change(t.Idle, pt.Idle), fmtShare(t.IdleShare()) + " of requested"},
			{"Potential savings", r.Money(t.Savings), before(pt.Savings), change(t.Savings, pt.Savings),
				fmtShare(share(t.Savings, t.Requested)) + " of requested"},
		},
		SavingsNote: fmt.Sprintf("%s saved where requests shrink, %s more where they grow (under-provisioned workloads)",
			r.Money(t.GrossSavings), r.Money(t.ExtraCost)),
	}
	v.Headline[0].Note = v.Counts
	for _, g := range r.Clusters {
		v.Clusters = append(v.Clusters, r.groupRow(g))
	}
	for _, g := range r.Namespaces {
		v.Namespaces = append(v.Namespaces, r.groupRow(g))
	}
	for _, g := range r.Teams {
		v.Teams = append(v.Teams, r.groupRow(g))
	}
	for _, w := range r.TopSavings {
		v.TopSavings = append(v.TopSavings, r.savingRow(w))
	}
	for _, w := range r.ExtraCost {
		v.ExtraCost = append(v.ExtraCost, r.savingRow(w))
	}
	for _, k := range r.Risks {
		v.Risks = append(v.Risks, riskRow{Severity: k.Severity.String(), Workload: k.Workload.String(), Container: k.Container, Detail: k.Detail, Rule: k.Rule})
	}
	for _, q := range r.QoS {
		v.QoS = append(v.QoS, qosRow{string(q.Class), strconv.Itoa(q.Workloads), strconv.Itoa(q.Pods), strconv.Itoa(q.WorkloadsAfter), strconv.Itoa(q.PodsAfter)})
	}
	v.HPA = r.hpaView()
	for _, w := range r.Workloads {
		qos := orDash(string(w.QoS))
		if w.QoSRecommended != "" && w.QoSRecommended != w.QoS {
			qos += " → " + string(w.QoSRecommended)
		}
		v.Workloads = append(v.Workloads, workloadRow{
			Workload: w.Key.String(), Team: w.Team, Replicas: strconv.Itoa(w.Replicas), QoS: qos,
			CPU:       requestChange(w.Requests.CPU, w.Recommended.CPU, fmtCPU),
			Memory:    requestChange(w.Requests.Memory, w.Recommended.Memory, fmtMemory),
			Requested: r.Money(w.Requested), Used: r.Money(w.Used), Idle: r.Money(w.Idle),
			IdleShare: fmtShare(w.IdleShare()), Savings: r.Money(w.Savings),
		})
	}
	v.Confidence = r.Confidence
	if len(v.Confidence) == 0 {
		v.Confidence = []string{"every container has a recommendation with confidence of at least " + strconv.FormatFloat(LowConfidence, 'f', -1, 64)}
	}
	v.Method = []string{
		"Requested and used cost integrate each pod's recorded requests and usage over the time it ran: a sample weighs the time since the pod's previous sample, at most twice the usual step, so gaps count as nothing.",
		"Idle is max(request − usage, 0) per sample, summed: usage above the request in one pod does not cancel idle requests elsewhere.",
		"Potential savings price the difference between today's and the recommended requests (profile " + r.Profile + ") over the pod-hours each container ran this period; a negative amount means the recommendations ask for more than today.",
		"The previous period is the " + humanDuration(r.Period.End.Sub(r.Period.Start)) + " before this one, from the same history, with the recommendations as of its end.",
		"Prices: " + r.Pricing.String() + ".",
	}
	return v
}

func share(a, b pricing.Money) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a / b)
}

func (r *Report) groupRow(g Group) groupRow {
	ch := "n/a"
	if r.HasPrevious {
		ch = signedChange(g.Requested, g.Previous.Requested)
	}
	return groupRow{
		Name: g.Name, Workloads: strconv.Itoa(g.Workloads),
		Requested: r.Money(g.Requested), Used: r.Money(g.Used), Idle: r.Money(g.Idle),
		IdleShare: fmtShare(g.IdleShare()), Savings: r.Money(g.Savings), Change: ch,
	}
}

func (r *Report) savingRow(w WorkloadCost) savingRow {
	conf := strconv.FormatFloat(w.Confidence, 'f', 2, 64)
	low := w.Confidence < LowConfidence
	if low {
		conf = "low " + conf
	}
	return savingRow{
		Workload: w.Key.String(), Replicas: strconv.Itoa(w.Replicas),
		CPU:     requestChange(w.Requests.CPU, w.Recommended.CPU, fmtCPU),
		Memory:  requestChange(w.Requests.Memory, w.Recommended.Memory, fmtMemory),
		Savings: r.Money(w.Savings), Confidence: conf, Low: low,
	}
}

func requestChange[A workload.Millicores | workload.Bytes](cur, rec A, show func(A) string) string {
	if cur == rec {
		return show(cur)
	}
	return show(cur) + " → " + show(rec)
}

func (r *Report) hpaView() hpaView {
	h := r.HPA
	hv := hpaView{Note: h.Note, Behavior: "Recommended HPAs are autoscaling/v2 objects with their scaling behavior (R11): " +
		"rightsize plan -o yaml shows them in full and --patches writes them."}
	hv.Coverage = fmt.Sprintf("%d of %d scalable workloads (Deployments, StatefulSets, ReplicaSets) have an HPA", h.Covered, h.Scalable)
	for _, e := range h.Existing {
		row := hpaRow{Workload: e.Target.String(), HPA: describeHPA(e.HPA), Recommended: "—", PodCPU: "—", ReplicaHours: "—", CoreHours: "—", Saturated: "—"}
		if e.NoHistory {
			row.Notes = "its workload has no usage history"
			hv.Existing = append(hv.Existing, row)
			continue
		}
		p := e.Plan
		switch {
		case p.Recommended != nil:
			row.Recommended = describeHPA(*p.Recommended)
		case len(p.Reasons) > 0:
			row.Recommended = "none: a fixed replica count"
		}
		after := p.Replays.Recommended
		if p.Recommended == nil {
			after = p.Replays.Fixed
		}
		row.fill(p, p.Replays.Current, after)
		hv.Existing = append(hv.Existing, row)
	}
	for _, s := range h.Suggested {
		row := hpaRow{Workload: s.Workload.String(), Replicas: strconv.Itoa(s.Replicas), Why: s.Why, HPA: describeHPA(s.HPA)}
		row.fill(s.Plan, s.Plan.Replays.Fixed, s.Plan.Replays.Recommended)
		hv.Suggested = append(hv.Suggested, row)
	}
	return hv
}

// fill sets the row's pod CPU request, reasons and the replays' figures
// before → after.
func (row *hpaRow) fill(p HPAPlan, before, after *workload.Replay) {
	row.PodCPU = "—"
	if p.PodCPU > 0 {
		row.PodCPU = fmtCPU(p.PodCPU)
	}
	row.Reasons = p.Reasons
	row.ReplicaHours = replayChange(before, after, func(f workload.ReplayFigures) string { return wholeHours(f.ReplicaHours) })
	row.CoreHours = replayChange(before, after, func(f workload.ReplayFigures) string { return wholeHours(f.CoreHours) })
	row.Saturated = replayChange(before, after, func(f workload.ReplayFigures) string {
		return strconv.FormatFloat(100*f.Saturated, 'f', 1, 64) + " %"
	})
}

// replayChange renders a figure of two replays, "763 → 1870"; one alone
// when the other is missing, "—" without either.
func replayChange(before, after *workload.Replay, show func(workload.ReplayFigures) string) string {
	switch {
	case before == nil && after == nil:
		return "—"
	case before == nil:
		return show(after.ReplayFigures)
	case after == nil:
		return show(before.ReplayFigures)
	}
	return show(before.ReplayFigures) + " → " + show(after.ReplayFigures)
}
