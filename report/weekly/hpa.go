package weekly

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// The HPA the rules recommend (R9, R10).
const (
	HPACPUUtilization    = 70
	HPAMemoryUtilization = 80
	HPAMinReplicas       = 3
	HPACriticalMin       = 5 // R9: critical services run at least 5
	HPAMaxReplicas       = 20
	// BurstyRatio is the CPU p95 : median ratio from which a workload's
	// usage counts as bursty enough to scale horizontally.
	BurstyRatio = 2.0
)

// R11Behavior is the scaling behavior R11 asks for, in words.
const R11Behavior = "scale down after a 300 s stabilization window, at most 50 % per 60 s; scale up at once, at most 100 % per 30 s and 5 pods per 60 s (R11)"

// scalable reports whether an HPA can scale the kind.
func scalable(k workload.Kind) bool {
	return k == workload.Deployment || k == workload.StatefulSet || k == workload.ReplicaSet
}

// hpa works out HPA coverage, reviews the existing HPAs against R10 and
// suggests one for scalable workloads without an HPA that run at least 3
// replicas or whose CPU usage is bursty.
func (b *builder) hpa() HPASection {
	sec := HPASection{}
	if b.in.HPASource != "" {
		sec.Note = "no HorizontalPodAutoscalers known (" + b.in.HPASource + ")"
	}
	have := map[workload.Key]HPA{}
	for _, h := range b.in.HPAs {
		have[h.Workload] = h
	}
	for _, wp := range sortedPlans(b.in.Plan) {
		if !scalable(wp.Key.Kind) {
			continue
		}
		sec.Scalable++
		if h, ok := have[wp.Key]; ok {
			sec.Covered++
			sec.Existing = append(sec.Existing, HPAReview{HPA: h, Notes: reviewHPA(h, wp.Critical)})
			continue
		}
		var why []string
		if wp.Replicas >= HPAMinReplicas {
			why = append(why, fmt.Sprintf("%d replicas", wp.Replicas))
		}
		if r := b.burst[wp.Key]; r >= BurstyRatio {
			why = append(why, fmt.Sprintf("bursty CPU: p95 %.1f × median", r))
		}
		if len(why) == 0 {
			continue
		}
		sec.Suggested = append(sec.Suggested, HPASuggestion{
			Workload: wp.Key,
			Replicas: wp.Replicas,
			Why:      strings.Join(why, ", "),
			HPA:      recommendedHPA(wp.Key, wp.Critical),
		})
	}
	// HPAs whose workload is not in the plan are still coverage facts.
	for _, h := range b.in.HPAs {
		if !slices.ContainsFunc(sec.Existing, func(r HPAReview) bool { return r.Workload == h.Workload }) {
			sec.Existing = append(sec.Existing, HPAReview{HPA: h, Notes: append([]string{"its workload has no usage history"}, reviewHPA(h, false)...)})
		}
	}
	slices.SortStableFunc(sec.Existing, func(a, b HPAReview) int { return cmpKey(a.Workload, b.Workload) })
	// The most expensive candidates first: they gain the most from scaling
	// in when idle.
	requested := map[workload.Key]float64{}
	for _, w := range b.r.Workloads {
		requested[w.Key] = float64(w.Requested)
	}
	slices.SortStableFunc(sec.Suggested, func(a, b HPASuggestion) int {
		return cmp.Compare(requested[b.Workload], requested[a.Workload])
	})
	return sec
}

func recommendedHPA(k workload.Key, critical bool) HPA {
	minimum := HPAMinReplicas
	if critical {
		minimum = HPACriticalMin
	}
	return HPA{Workload: k, Min: minimum, Max: HPAMaxReplicas, Targets: []HPATarget{
		{Resource: "cpu", AverageUtilization: HPACPUUtilization},
		{Resource: "memory", AverageUtilization: HPAMemoryUtilization},
	}}
}

// reviewHPA says where an existing HPA departs from R9–R10.
func reviewHPA(h HPA, critical bool) []string {
	var notes []string
	want := HPAMinReplicas
	if critical {
		want = HPACriticalMin
	}
	if h.Min < want {
		notes = append(notes, fmt.Sprintf("minReplicas %d, R9/R10 ask for at least %d", h.Min, want))
	}
	if h.Max < h.Min {
		notes = append(notes, fmt.Sprintf("maxReplicas %d is below minReplicas %d", h.Max, h.Min))
	}
	var cpu, mem *HPATarget
	for i := range h.Targets {
		switch h.Targets[i].Resource {
		case "cpu":
			cpu = &h.Targets[i]
		case "memory":
			mem = &h.Targets[i]
		}
	}
	switch {
	case cpu == nil:
		notes = append(notes, fmt.Sprintf("no CPU target (R10: averageUtilization %d)", HPACPUUtilization))
	case cpu.AverageUtilization != 0 && cpu.AverageUtilization != HPACPUUtilization:
		notes = append(notes, fmt.Sprintf("CPU target %d %%, R10 says %d %%", cpu.AverageUtilization, HPACPUUtilization))
	}
	if mem != nil && mem.AverageUtilization != 0 && mem.AverageUtilization != HPAMemoryUtilization {
		notes = append(notes, fmt.Sprintf("memory target %d %%, R10 says %d %%", mem.AverageUtilization, HPAMemoryUtilization))
	}
	return notes
}

// Describe renders an HPA's bounds and targets in one line.
func (h HPA) Describe() string {
	var ts []string
	for _, t := range h.Targets {
		switch {
		case t.AverageUtilization != 0:
			ts = append(ts, fmt.Sprintf("%s %d %%", t.Resource, t.AverageUtilization))
		case t.AverageValue != "":
			ts = append(ts, fmt.Sprintf("%s %s", t.Resource, t.AverageValue))
		default:
			ts = append(ts, t.Resource)
		}
	}
	targets := "no targets"
	if len(ts) > 0 {
		targets = strings.Join(ts, ", ")
	}
	return fmt.Sprintf("min %d, max %d; %s", h.Min, h.Max, targets)
}
