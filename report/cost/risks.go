package cost

import (
	"fmt"
	"sort"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// risks lists what is at risk in one workload: from its samples in the
// period (OOM kills, throttling, usage above requests) and from its current
// settings (R5, R7, R8).
func risks(wc WorkloadCost, wp *workload.WorkloadPlan, cs map[string]*containerRisk) []Risk {
	var out []Risk
	add := func(sev Severity, kind RiskKind, container, rule, detail string) {
		out = append(out, Risk{Severity: sev, Kind: kind, Workload: wc.Key, Container: container, Rule: rule, Detail: detail})
	}
	if wp != nil && wp.QoSCurrent == workload.BestEffort {
		add(High, RiskBestEffort, "", "R7",
			fmt.Sprintf("BestEffort pods: no container sets requests or limits, so they are evicted first under node pressure; with the recommendations: %s", wp.QoSRecommended))
	}
	if wp != nil && wp.Critical && wp.QoSCurrent != workload.Guaranteed {
		detail := fmt.Sprintf("critical workload runs as %s, not Guaranteed", orDash(string(wp.QoSCurrent)))
		if wp.QoSRecommended == workload.Guaranteed {
			detail += "; the recommendations make it Guaranteed"
		}
		add(Medium, RiskCriticalNotGuaranteed, "", "R8", detail)
	}
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cr := cs[name]
		cp := containerPlan(wp, name)
		var cur, rec workload.Settings
		if cp != nil {
			cur, rec = cp.Current, cp.Recommended()
		}
		if cr.ooms > 0 {
			add(High, RiskOOM, name, "R6", fmt.Sprintf("%d OOM %s; memory limit %s%s", cr.ooms, plural(cr.ooms, "kill", "kills"),
				setting(cur.Limits.Memory, fmtMemory), proposed(cur.Limits.Memory, rec.Limits.Memory, fmtMemory)))
		}
		if cr.memMeasured > 0 {
			if share := cr.memAbove / cr.memMeasured; share >= MemoryAboveRequestRisk {
				add(Medium, RiskMemoryAboveRequest, name, "R1", fmt.Sprintf("memory above its request (%s) %s of the time: evicted first under node memory pressure%s",
					fmtMemory(cur.Requests.Memory), fmtShare(share), proposed(cur.Requests.Memory, rec.Requests.Memory, fmtMemory)))
			}
		}
		if cr.throttledDt > 0 {
			if share := cr.throttledTime / cr.throttledDt; share >= ThrottledTimeRisk {
				add(Medium, RiskThrottled, name, "R6", fmt.Sprintf("CPU throttled %s of the time (up to %s of CFS periods); CPU limit %s%s",
					fmtShare(share), fmtShare(cr.throttledMax), setting(cur.Limits.CPU, fmtCPU), proposed(cur.Limits.CPU, rec.Limits.CPU, fmtCPU)))
			}
		}
		if cr.cpuMeasured > 0 {
			if share := cr.cpuAbove / cr.cpuMeasured; share >= CPUAboveRequestRisk {
				add(Low, RiskCPUAboveRequest, name, "R1", fmt.Sprintf("CPU above its request (%s) %s of the time: it competes for CPU on a busy node%s",
					fmtCPU(cur.Requests.CPU), fmtShare(share), proposed(cur.Requests.CPU, rec.Requests.CPU, fmtCPU)))
			}
		}
	}
	if wp != nil {
		for _, c := range wp.Containers {
			if missing := missingSettings(c.Current); len(missing) > 0 {
				sev := Low
				if len(missing) == 4 {
					sev = Medium
				}
				add(sev, RiskMissingSettings, c.Name, "R5", "no "+joinList(missing))
			}
		}
	}
	return out
}

func missingSettings(s workload.Settings) []string {
	var m []string
	if !s.Requests.CPU.IsSet() {
		m = append(m, "CPU request")
	}
	if !s.Requests.Memory.IsSet() {
		m = append(m, "memory request")
	}
	if !s.Limits.CPU.IsSet() {
		m = append(m, "CPU limit")
	}
	if !s.Limits.Memory.IsSet() {
		m = append(m, "memory limit")
	}
	return m
}

// joinList joins "a", "a or b", "a, b or c".
func joinList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func setting[A workload.Millicores | workload.Bytes](v A, show func(A) string) string {
	if v <= 0 {
		return "none"
	}
	return show(v)
}

// proposed renders "; recommended X" when the plan changes the setting.
func proposed[A workload.Millicores | workload.Bytes](cur, rec A, show func(A) string) string {
	if cur == rec {
		return ""
	}
	return "; recommended " + setting(rec, show)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
