package prometheus

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// window is the aligned steps of one collection.
type window struct {
	first time.Time // first step
	step  time.Duration
	n     int // number of steps
}

// newWindow returns the steps in (end − history, end], aligned to multiples
// of step since the Unix epoch.
func newWindow(end time.Time, history, step time.Duration) window {
	s := step.Milliseconds()
	last := floorDiv(end.UnixMilli(), s) * s
	first := floorDiv(end.Add(-history).UnixMilli(), s)*s + s
	n := 0
	if last >= first {
		n = int((last-first)/s) + 1
	}
	return window{first: time.UnixMilli(first).UTC(), step: step, n: n}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// at returns the time of step i.
func (w window) at(i int) time.Time { return w.first.Add(time.Duration(i) * w.step) }

// last returns the time of the last step.
func (w window) last() time.Time { return w.at(w.n - 1) }

// podSeries is one pod container found in the index. cluster is the
// cluster label's value: empty without the label, or for a series without
// it.
type podSeries struct {
	namespace, pod, container, cluster string
}

// group is a set of pod containers one selector picks: whole namespaces, or
// a list of pods of one large namespace, in every cluster that has them
// (results tell clusters apart by the label, and a group is sized for all
// its clusters' pods).
type group struct {
	id         int
	namespaces []string
	// pods is set when the group is part of a namespace too large for one
	// query.
	pods   []string
	series int
	// bytes is what the namespaces, or the pods where listed, add to a
	// matcher (maxListBytes).
	bytes int
}

// String names the group in messages. The names come from the server;
// only Kubernetes names are read (kubeName), and they are escaped all the
// same.
func (g group) String() string {
	ns, pods := g.namespaces, g.pods
	switch {
	case len(pods) > 0:
		return fmt.Sprintf("namespace %s (pods %s … %s, %d pods)", serverText(ns[0]), serverText(pods[0]), serverText(pods[len(pods)-1]), len(pods))
	case len(ns) == 1:
		return "namespace " + serverText(ns[0])
	case len(ns) <= 3:
		names := make([]string, len(ns))
		for i, n := range ns {
			names[i] = serverText(n)
		}
		return "namespaces " + strings.Join(names, ", ")
	default:
		return fmt.Sprintf("namespaces %s … %s (%d namespaces)", serverText(ns[0]), serverText(ns[len(ns)-1]), len(ns))
	}
}

// matchers returns the label matchers that select the group.
func (g group) matchers(l labelNames) []Matcher {
	ms := []Matcher{anyOf(l.namespace, g.namespaces)}
	if len(g.pods) > 0 {
		ms = append(ms, anyOf(l.pod, g.pods))
	}
	return ms
}

// groupSeries packs namespaces into groups of at most maxSeries pod
// containers; a larger namespace is cut into lists of whole pods, in name
// order so that a workload's pods mostly stay together. Neither list is
// longer than maxListBytes as a matcher lists it.
func groupSeries(all []podSeries, maxSeries int) []group {
	byNS := map[string]map[string]int{} // namespace → pod → containers
	for _, s := range all {
		pods := byNS[s.namespace]
		if pods == nil {
			pods = map[string]int{}
			byNS[s.namespace] = pods
		}
		pods[s.pod]++
	}
	var out []group
	cur := group{}
	flush := func() {
		if cur.series > 0 {
			cur.id = len(out)
			out = append(out, cur)
		}
		cur = group{}
	}
	for _, ns := range sortedKeys(byNS) {
		pods := byNS[ns]
		total := 0
		for _, c := range pods {
			total += c
		}
		if total <= maxSeries {
			if cur.series+total > maxSeries || cur.bytes+listBytes(ns) > maxListBytes {
				flush()
			}
			cur.namespaces = append(cur.namespaces, ns)
			cur.series += total
			cur.bytes += listBytes(ns)
			continue
		}
		flush()
		for _, pod := range sortedKeys(pods) {
			if cur.series > 0 && (cur.series+pods[pod] > maxSeries || cur.bytes+listBytes(pod) > maxListBytes) {
				flush()
			}
			if len(cur.namespaces) == 0 {
				cur.namespaces = []string{ns}
			}
			cur.pods = append(cur.pods, pod)
			cur.series += pods[pod]
			cur.bytes += listBytes(pod)
		}
		flush()
	}
	flush()
	return out
}

// chunk is one group over a run of steps.
type chunk struct {
	group *group
	// index orders the chunks of a group in time.
	index      int
	start, end int // steps [start, end)
	// shapes says the CPU shapes are read with the chunk.
	shapes bool
}

func (c chunk) name(w window) string {
	return fmt.Sprintf("%s, %s to %s", c.group, w.at(c.start).Format("2006-01-02T15:04Z"), w.at(c.end-1).Format("2006-01-02T15:04Z"))
}

func (c chunk) steps() int { return c.end - c.start }

// halves splits the chunk in time.
func (c chunk) halves() (chunk, chunk) {
	mid := c.start + c.steps()/2
	a, b := c, c
	a.end, b.start = mid, mid
	return a, b
}

// cut splits the chunk in time into the fewest parts of at most n steps,
// of equal length but for one step.
func (c chunk) cut(n int) []chunk {
	k := (c.steps() + n - 1) / n
	parts := make([]chunk, 0, k)
	for i, start := 0, c.start; i < k; i++ {
		p := c
		p.start, p.end = start, start+(c.end-start)/(k-i)
		parts = append(parts, p)
		start = p.end
	}
	return parts
}

// initialSteps is the length of a group's first chunk: as if all its pod
// containers ran at once, at most maxPoints points per response.
func initialSteps(series, maxPoints int) int {
	return min(max(maxPoints/max(series, 1), 1), maxStepsPerQuery)
}

// nextSteps sizes the next chunk of a group from the points per step the
// last one returned (its pod containers running at once), keeping a
// response under maxPoints: with a margin for pods to come, and growing at
// most fourfold at a time so that a quiet stretch does not make the next
// chunk huge.
func nextSteps(cur, perStep, maxPoints int) int {
	want := maxPoints * 3 / 4 / max(perStep, 1)
	return min(max(want, 1), 4*cur, maxStepsPerQuery)
}

// uniqueSorted returns the distinct strings in order.
func uniqueSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// regroupByWorkload packs the pods of each namespace cut into pod lists
// again, once their workloads are known: ordered by workload, a workload's
// pods in one group unless they alone are more than maxSeries pod
// containers or maxListBytes of names. A reading into sketches then holds
// a split workload's history (families) only where one is that large.
// Groups of whole namespaces are kept.
func regroupByWorkload(groups []group, all []podSeries, workloadOf func(podSeries) workload.Key, maxSeries int) []group {
	type podInfo struct {
		name   string
		wk     workload.Key // of the pod's first series
		series int
	}
	listed := map[string]map[string]*podInfo{} // namespace → pod
	var out []group
	var order []string // the cut namespaces, in order
	for _, g := range groups {
		if len(g.pods) == 0 {
			out = append(out, g)
			continue
		}
		ns := g.namespaces[0]
		if listed[ns] == nil {
			listed[ns] = map[string]*podInfo{}
			order = append(order, ns)
		}
		for _, p := range g.pods {
			listed[ns][p] = &podInfo{name: p}
		}
	}
	for _, s := range all {
		if pi := listed[s.namespace][s.pod]; pi != nil {
			if pi.series == 0 {
				pi.wk = workloadOf(s)
			}
			pi.series++
		}
	}
	for _, ns := range order {
		pods := slices.Collect(maps.Values(listed[ns]))
		slices.SortFunc(pods, func(a, b *podInfo) int {
			return cmp.Or(cmp.Compare(a.wk.Cluster, b.wk.Cluster), cmp.Compare(a.wk.Kind, b.wk.Kind), cmp.Compare(a.wk.Name, b.wk.Name), cmp.Compare(a.name, b.name))
		})
		cur := group{}
		flush := func() {
			if len(cur.pods) > 0 {
				out = append(out, cur)
			}
			cur = group{}
		}
		for i := 0; i < len(pods); {
			// The workload's pods from i on.
			j, series, bytes := i, 0, 0
			for ; j < len(pods) && pods[j].wk == pods[i].wk; j++ {
				series += pods[j].series
				bytes += listBytes(pods[j].name)
			}
			if cur.series > 0 && (cur.series+series > maxSeries || cur.bytes+bytes > maxListBytes) {
				flush()
			}
			for ; i < j; i++ {
				p := pods[i]
				if cur.series > 0 && (cur.series+p.series > maxSeries || cur.bytes+listBytes(p.name) > maxListBytes) {
					flush()
				}
				if len(cur.namespaces) == 0 {
					cur.namespaces = []string{ns}
				}
				cur.pods = append(cur.pods, p.name)
				cur.series += p.series
				cur.bytes += listBytes(p.name)
			}
		}
		flush()
	}
	for i := range out {
		out[i].id = i
	}
	return out
}
