package constraints

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// Apply returns the plan with the cluster's constraints applied. The input
// plan is not modified.
func Apply(plan workload.Plan, in Input) workload.Plan {
	out := plan
	out.Workloads = make([]workload.WorkloadPlan, len(plan.Workloads))
	lrs := byNamespace(in.LimitRanges, func(l LimitRange) string { return l.Namespace })
	quotas := byNamespace(in.Quotas, func(q ResourceQuota) string { return q.Namespace })
	for i, wp := range plan.Workloads {
		wp = clone(wp)
		spec, hasSpec := in.Specs[wp.Key]
		before := recommended(wp)
		for ci := range wp.Containers {
			c := &wp.Containers[ci]
			if hasSpec {
				if cs := containerSpec(spec, c.Name); cs != nil && cs.JVM != nil {
					applyJVM(c, *cs.JVM, in.MemoryPeaks[workload.ContainerKey{Workload: wp.Key, Container: c.Name}], in.minNonHeap())
				}
			}
			for _, v := range in.VPAs {
				if v.Namespace == wp.Key.Namespace && v.Target == wp.Key {
					applyVPA(c, v)
				}
			}
			for _, lr := range lrs[wp.Key.Namespace] {
				applyLimitRange(c, lr)
			}
		}
		for _, v := range in.VPAs {
			if v.Namespace == wp.Key.Namespace && v.Target == wp.Key && v.UpdateMode != "Off" {
				wp.Notes = append(wp.Notes, fmt.Sprintf("VPA %s/%s (updateMode %s) also sets this workload's requests: apply one of the two (R15)", v.Namespace, v.Name, v.UpdateMode))
			}
		}
		for _, lr := range lrs[wp.Key.Namespace] {
			wp.Notes = append(wp.Notes, podLimitNotes(wp, lr)...)
		}
		for _, h := range in.HPAs {
			if h.Target == wp.Key {
				wp.Notes = append(wp.Notes, hpaNotes(wp, h)...)
			}
		}
		if after := recommended(wp); !slices.Equal(before, after) {
			if q := policy.PodQoS(after); q != wp.QoSRecommended {
				wp.Notes = append(wp.Notes, fmt.Sprintf("QoS class after the namespace constraints: %s (R7)", q))
				wp.QoSRecommended = q
			}
		}
		out.Workloads[i] = wp
	}
	checkQuotas(out.Workloads, quotas)
	return out
}

// MemoryPeaks returns the highest memory sample of every workload container
// in the store, the observed need R16 keeps a JVM's heap above.
func MemoryPeaks(st *history.Store) map[workload.ContainerKey]workload.Bytes {
	out := map[workload.ContainerKey]workload.Bytes{}
	for _, k := range st.Containers() {
		var peak float64
		for _, s := range st.Series(k) {
			for _, m := range s.Memory {
				if !math.IsNaN(m) {
					peak = max(peak, m)
				}
			}
		}
		if peak > 0 {
			out[k] = workload.BytesOf(peak)
		}
	}
	return out
}

func (in Input) minNonHeap() workload.Bytes {
	if in.JVMMinNonHeap > 0 {
		return in.JVMMinNonHeap
	}
	return 64 * workload.MiB
}

func byNamespace[T any](items []T, ns func(T) string) map[string][]T {
	m := map[string][]T{}
	for _, it := range items {
		m[ns(it)] = append(m[ns(it)], it)
	}
	return m
}

// clone copies what Apply changes so the caller's plan stays untouched.
func clone(wp workload.WorkloadPlan) workload.WorkloadPlan {
	wp.Notes = slices.Clone(wp.Notes)
	wp.Containers = slices.Clone(wp.Containers)
	for i := range wp.Containers {
		wp.Containers[i].Recommendation.Reasons = slices.Clone(wp.Containers[i].Recommendation.Reasons)
	}
	return wp
}

func recommended(wp workload.WorkloadPlan) []workload.Settings {
	out := make([]workload.Settings, len(wp.Containers))
	for i, c := range wp.Containers {
		out[i] = c.Recommended()
	}
	return out
}

func containerSpec(s workload.Spec, name string) *workload.ContainerSpec {
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}
	return nil
}

// resourceKind selects CPU or memory so one code path serves both.
type resourceKind int

const (
	cpu resourceKind = iota
	memory
)

func (r resourceKind) String() string {
	if r == cpu {
		return "cpu"
	}
	return "memory"
}

func (r resourceKind) get(v workload.Resources) int64 {
	if r == cpu {
		return int64(v.CPU)
	}
	return int64(v.Memory)
}

func (r resourceKind) set(v *workload.Resources, x int64) {
	if r == cpu {
		v.CPU = workload.Millicores(x)
	} else {
		v.Memory = workload.Bytes(x)
	}
}

func (r resourceKind) format(v int64) string {
	if r == cpu {
		return workload.Millicores(v).String()
	}
	return workload.Bytes(v).String()
}

func (r resourceKind) recommended(rec workload.Recommendation) bool {
	if r == cpu {
		return rec.HasCPU
	}
	return rec.HasMemory
}

func (r resourceKind) ratio(x Ratios) float64 {
	if r == cpu {
		return x.CPU
	}
	return x.Memory
}

// target is one resource of one container's recommendation, edited in place.
type target struct {
	c *workload.ContainerPlan
	r resourceKind
}

func (t target) req() int64 { return t.r.get(t.c.Recommendation.Target.Requests) }
func (t target) lim() int64 { return t.r.get(t.c.Recommendation.Target.Limits) }
func (t target) setReq(v int64) {
	t.r.set(&t.c.Recommendation.Target.Requests, v)
}
func (t target) setLim(v int64) {
	t.r.set(&t.c.Recommendation.Target.Limits, v)
}
func (t target) reason(format string, args ...any) {
	t.c.Recommendation.Reasons = append(t.c.Recommendation.Reasons, t.r.String()+" "+fmt.Sprintf(format, args...))
}

// applyLimitRange clamps one container to a LimitRange's Container items the
// way admission checks them: defaults fill what is unset, then min, max and
// the limit:request ratio must hold (R13).
func applyLimitRange(c *workload.ContainerPlan, lr LimitRange) {
	name := lr.Namespace + "/" + lr.Name
	for _, it := range lr.Items {
		if it.Type != LimitContainer {
			continue
		}
		for _, r := range []resourceKind{cpu, memory} {
			if !r.recommended(c.Recommendation) {
				continue
			}
			t := target{c, r}
			if def := r.get(it.Default); def > 0 && t.lim() == 0 {
				// Admission fills in the default; say so, and keep it valid.
				lim := max(def, t.req())
				t.setLim(lim)
				if lim == def {
					t.reason("limit: none recommended; LimitRange %s default %s applies at admission (R13)", name, r.format(def))
				} else {
					t.reason("limit: none recommended; LimitRange %s default %s is below the request, set to %s (R13)", name, r.format(def), r.format(lim))
				}
			}
			if mx := r.get(it.Max); mx > 0 {
				if t.lim() == 0 {
					t.setLim(mx)
					t.reason("limit: set to LimitRange %s max %s, which requires a limit (R13)", name, r.format(mx))
				}
				if t.lim() > mx {
					t.setLim(mx)
					t.reason("limit: clamped to LimitRange %s max %s (R13)", name, r.format(mx))
				}
				if t.req() > mx {
					t.setReq(mx)
					t.reason("request: clamped to LimitRange %s max %s (R13)", name, r.format(mx))
				}
			}
			if mn := r.get(it.Min); mn > 0 {
				if t.req() < mn {
					t.setReq(mn)
					t.reason("request: raised to LimitRange %s min %s (R13)", name, r.format(mn))
				}
				if l := t.lim(); l > 0 && l < mn {
					t.setLim(mn)
					t.reason("limit: raised to LimitRange %s min %s (R13)", name, r.format(mn))
				}
			}
			if l := t.lim(); l > 0 && t.req() > l {
				t.setLim(t.req())
			}
			if ratio := r.ratio(it.MaxLimitRequestRatio); ratio > 0 && t.lim() > 0 && t.req() > 0 && float64(t.lim()) > ratio*float64(t.req()) {
				// Raising the request keeps the limit that covers the
				// peaks. It stays within max: the limit is, and admission
				// only accepts ratios of at least 1.
				req := ceilSat(float64(t.lim())/ratio - 1e-9)
				t.setReq(req)
				t.reason("request: raised to %s by LimitRange %s maxLimitRequestRatio %s (R13)", r.format(req), name, fmtRatio(ratio))
			}
		}
	}
}

// podLimitNotes reports pod totals outside a LimitRange's Pod items: one
// container cannot be blamed, so the plan gets a note rather than a clamp.
func podLimitNotes(wp workload.WorkloadPlan, lr LimitRange) []string {
	var notes []string
	tot := podTotals(wp.Containers, func(c workload.ContainerPlan) workload.Settings { return c.Recommended() })
	for _, it := range lr.Items {
		if it.Type != LimitPod {
			continue
		}
		for _, r := range []resourceKind{cpu, memory} {
			for _, side := range []struct {
				what string
				v    int64
			}{{"request", r.get(tot.Requests)}, {"limit", r.get(tot.Limits)}} {
				if mx := r.get(it.Max); mx > 0 && side.v > mx {
					notes = append(notes, fmt.Sprintf("pod %s %s %s exceeds LimitRange %s/%s pod max %s: admission would reject the pod (R13)",
						r, side.what, r.format(side.v), lr.Namespace, lr.Name, r.format(mx)))
				}
				if mn := r.get(it.Min); mn > 0 && side.v > 0 && side.v < mn {
					notes = append(notes, fmt.Sprintf("pod %s %s %s is below LimitRange %s/%s pod min %s: admission would reject the pod (R13)",
						r, side.what, r.format(side.v), lr.Namespace, lr.Name, r.format(mn)))
				}
			}
		}
	}
	return notes
}

// applyVPA bounds the requests by the VPA's container policy: a container's
// own policy wins over "*" (R15).
func applyVPA(c *workload.ContainerPlan, v VPA) {
	var pol *VPAContainerPolicy
	for i := range v.Policies {
		p := &v.Policies[i]
		if p.Container == c.Name || (p.Container == "*" && pol == nil) {
			pol = p
		}
	}
	if pol == nil || pol.Off {
		return
	}
	name := v.Namespace + "/" + v.Name
	for _, r := range []resourceKind{cpu, memory} {
		if !r.recommended(c.Recommendation) {
			continue
		}
		t := target{c, r}
		if mn := r.get(pol.MinAllowed); mn > 0 && t.req() < mn {
			t.setReq(mn)
			t.reason("request: raised to VPA %s minAllowed %s (R15)", name, r.format(mn))
		}
		if mx := r.get(pol.MaxAllowed); mx > 0 && t.req() > mx {
			t.setReq(mx)
			t.reason("request: lowered to VPA %s maxAllowed %s (R15)", name, r.format(mx))
		}
		if l := t.lim(); l > 0 && l < t.req() {
			t.setLim(t.req())
		}
	}
}

// applyJVM keeps a JVM's memory limit above what its heap was seen to need
// plus non-heap memory on top (R16). The JVM sizes its heap from -Xmx, or as
// MaxRAMPercentage of the limit, so a limit cut to the observed working set
// would shrink the heap below what the application uses.
func applyJVM(c *workload.ContainerPlan, jvm workload.JVM, peak, minNonHeap workload.Bytes) {
	if !c.Recommendation.HasMemory || peak <= 0 {
		return
	}
	t := target{c, memory}
	lim := workload.Bytes(t.lim())
	if lim == 0 {
		if jvm.MaxHeap == 0 {
			t.reason("limit: none; the JVM then sizes its heap from the node's memory, set -Xmx or a limit (R16)")
		}
		return
	}
	var need workload.Bytes
	var why string
	if jvm.MaxHeap > 0 {
		nonHeap := max(peak-jvm.MaxHeap, minNonHeap)
		need = workload.AddSat(jvm.MaxHeap, nonHeap)
		why = fmt.Sprintf("-Xmx%s heap + %s non-heap", jvm.MaxHeap, nonHeap)
	} else {
		pct := jvm.MaxRAMPercentage
		if pct <= 0 {
			pct = 25 // the JVM's default
		}
		f := min(pct/100, 0.95)
		// The heap could use at most f × the limit in force; what the
		// working set held beyond that was non-heap.
		heap := peak
		if cur := c.Current.Limits.Memory; cur > 0 {
			heap = min(peak, workload.BytesOf(f*float64(cur)))
		}
		nonHeap := max(peak-heap, minNonHeap)
		need = workload.BytesOf(max(float64(heap)/f, float64(nonHeap)/(1-f)))
		why = fmt.Sprintf("MaxRAMPercentage %s gives the heap %s of the limit; the observed heap %s and %s non-heap need %s",
			fmtRatio(pct), fmtPercent(f), heap, nonHeap, roundMiB(need))
	}
	need = roundMiB(need)
	if lim >= need {
		t.reason("limit: %s covers the JVM (%s) (R16)", lim, why)
		return
	}
	if need > workload.MaxMemory {
		// Only a broken sample makes a JVM need more than any container
		// can be given (see workload.MaxMemory): withhold, as policies do.
		c.Recommendation.HasMemory = false
		c.Recommendation.Reasons = append(c.Recommendation.Reasons, fmt.Sprintf(
			"memory: no recommendation: the JVM would need a limit above %s (%s), more than any container can be given; check the usage data for implausible samples (R16)",
			workload.MaxMemory, why))
		return
	}
	if t.req() == int64(lim) {
		t.setReq(int64(need)) // keep requests == limits (Guaranteed)
	}
	t.setLim(int64(need))
	t.reason("limit: raised to %s for the JVM: %s (R16)", need, why)
}

func hpaNotes(wp workload.WorkloadPlan, h workload.HPA) []string {
	var notes []string
	name := h.Target.Namespace + "/" + h.Name
	for _, m := range []struct {
		r    resourceKind
		util int
	}{{cpu, h.Utilization("cpu")}, {memory, h.Utilization("memory")}} {
		if m.util == 0 {
			continue
		}
		var cur, rec int64
		for _, c := range wp.Containers {
			if c.Init && !c.Sidecar {
				continue
			}
			cur = workload.AddSat(cur, m.r.get(c.Current.Requests))
			rec = workload.AddSat(rec, m.r.get(c.Recommended().Requests))
		}
		if cur == rec {
			continue
		}
		if a := wp.Autoscaling; m.r == cpu && a != nil && a.PodCPU > 0 && a.Recommended != nil {
			// The request was sized with the recommended HPA (hpa.Apply):
			// not a side effect to warn of, but half of one change.
			notes = append(notes, fmt.Sprintf("HPA %s scales on cpu at %d%% of the request: the pod's cpu request %s → %s was chosen together with the recommended HPA (cpu target %d%%): apply the two together (R10)",
				name, m.util, m.r.format(cur), m.r.format(rec), a.Recommended.Utilization("cpu")))
			continue
		}
		notes = append(notes, fmt.Sprintf("HPA %s scales on %s at %d%% of the request: the pod's %s request %s → %s moves its scaling point (R10)",
			name, m.r, m.util, m.r, m.r.format(cur), m.r.format(rec)))
	}
	return notes
}

// podTotals is what one pod asks for as the scheduler and quotas count it:
// app containers and sidecars run together; a plain init container runs
// alone (with the sidecars started before it, ignored here), so the pod
// needs the larger of the two. Sums saturate at math.MaxInt64.
func podTotals(cs []workload.ContainerPlan, settings func(workload.ContainerPlan) workload.Settings) workload.Settings {
	var run, initMax workload.Settings
	for _, c := range cs {
		s := settings(c)
		if c.Init && !c.Sidecar {
			initMax.Requests.CPU = max(initMax.Requests.CPU, s.Requests.CPU)
			initMax.Requests.Memory = max(initMax.Requests.Memory, s.Requests.Memory)
			initMax.Limits.CPU = max(initMax.Limits.CPU, s.Limits.CPU)
			initMax.Limits.Memory = max(initMax.Limits.Memory, s.Limits.Memory)
			continue
		}
		run.Requests.CPU = workload.AddSat(run.Requests.CPU, s.Requests.CPU)
		run.Requests.Memory = workload.AddSat(run.Requests.Memory, s.Requests.Memory)
		run.Limits.CPU = workload.AddSat(run.Limits.CPU, s.Limits.CPU)
		run.Limits.Memory = workload.AddSat(run.Limits.Memory, s.Limits.Memory)
	}
	return workload.Settings{
		Requests: workload.Resources{CPU: max(run.Requests.CPU, initMax.Requests.CPU), Memory: max(run.Requests.Memory, initMax.Requests.Memory)},
		Limits:   workload.Resources{CPU: max(run.Limits.CPU, initMax.Limits.CPU), Memory: max(run.Limits.Memory, initMax.Limits.Memory)},
	}
}

func quotaAmount(s workload.Settings, r QuotaResource) int64 {
	switch r {
	case RequestsCPU:
		return int64(s.Requests.CPU)
	case RequestsMemory:
		return int64(s.Requests.Memory)
	case LimitsCPU:
		return int64(s.Limits.CPU)
	default:
		return int64(s.Limits.Memory)
	}
}

// checkQuotas notes, on every workload that grows a resource, each quota
// whose hard cap the namespace's recommended total would pass (R14). The
// projection is today's usage of the quota minus what the planned workloads
// count today plus what they would count.
func checkQuotas(wps []workload.WorkloadPlan, quotas map[string][]ResourceQuota) {
	byNS := map[string][]int{}
	for i, wp := range wps {
		byNS[wp.Key.Namespace] = append(byNS[wp.Key.Namespace], i)
	}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		idx := byNS[ns]
		cur := make([]workload.Settings, len(idx))
		rec := make([]workload.Settings, len(idx))
		for j, i := range idx {
			n := int64(max(wps[i].Replicas, 1))
			c := podTotals(wps[i].Containers, func(c workload.ContainerPlan) workload.Settings { return c.Current })
			r := podTotals(wps[i].Containers, func(c workload.ContainerPlan) workload.Settings { return c.Recommended() })
			cur[j], rec[j] = scale(c, n), scale(r, n)
		}
		for _, q := range quotas[ns] {
			if q.Scoped {
				continue
			}
			for _, res := range QuotaResources {
				hard, ok := q.Hard[res]
				if !ok {
					continue
				}
				var curTotal, recTotal int64
				for j := range idx {
					curTotal = workload.AddSat(curTotal, quotaAmount(cur[j], res))
					recTotal = workload.AddSat(recTotal, quotaAmount(rec[j], res))
				}
				projected := recTotal
				if used, ok := q.Used[res]; ok {
					projected = workload.AddSat(max(workload.AddSat(used, -curTotal), 0), recTotal)
				}
				if projected <= hard || recTotal <= curTotal {
					continue
				}
				for j, i := range idx {
					grow := quotaAmount(rec[j], res) - quotaAmount(cur[j], res)
					if grow <= 0 {
						continue
					}
					wps[i].Notes = append(wps[i].Notes, fmt.Sprintf("ResourceQuota %s/%s: %s would total %s of hard %s in namespace %s; this workload adds %s (R14)",
						q.Namespace, q.Name, res, res.Format(projected), res.Format(hard), ns, res.Format(grow)))
				}
			}
		}
	}
}

// scale multiplies settings by a replica count, saturating at math.MaxInt64.
func scale(s workload.Settings, n int64) workload.Settings {
	return workload.Settings{
		Requests: workload.Resources{CPU: workload.MulSat(s.Requests.CPU, n), Memory: workload.MulSat(s.Requests.Memory, n)},
		Limits:   workload.Resources{CPU: workload.MulSat(s.Limits.CPU, n), Memory: workload.MulSat(s.Limits.Memory, n)},
	}
}

// roundMiB rounds up to whole MiB; within a MiB of the int64 range it
// leaves the amount as it is rather than wrap around.
func roundMiB(b workload.Bytes) workload.Bytes {
	return max(b, workload.AddSat(b, workload.MiB-1)/workload.MiB*workload.MiB)
}

// ceilSat rounds up to an integer amount, saturating at the int64 range
// (a ratio near zero divides a limit into more than int64 holds); NaN is 0.
func ceilSat(f float64) int64 {
	f = math.Ceil(f)
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func fmtRatio(v float64) string {
	return fmt.Sprint(math.Round(v*1000) / 1000)
}

func fmtPercent(f float64) string {
	return fmtRatio(100*f) + "%"
}
