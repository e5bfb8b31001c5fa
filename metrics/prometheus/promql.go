package prometheus

import (
	"strconv"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// promql builds the queries. Every selector carries the user's matchers;
// every aggregation keeps only the labels the collector reads, which also
// merges duplicates from several scrape jobs or HA replicas (max).
type promql struct {
	n    Names
	user []Matcher
	// victoria selects MetricsQL's forms where VictoriaMetrics' answer to
	// the PromQL one differs (counterIncrease).
	victoria bool
}

// cadvisor returns the matchers of a group's cAdvisor series: the pause
// container ("POD") and pod-level cgroups (container="") are left out.
func (p promql) cadvisor(g []Matcher) []Matcher {
	ms := append(append([]Matcher{}, p.user...), g...)
	return append(ms,
		Matcher{Name: p.n.ContainerLabel, Op: "!=", Value: ""},
		Matcher{Name: p.n.ContainerLabel, Op: "!=", Value: "POD"})
}

func (p promql) ksm(g []Matcher, extra ...Matcher) []Matcher {
	return append(append(append([]Matcher{}, p.user...), g...), extra...)
}

// labels lists the labels of a grouping or a join: the cluster label
// first where one is set, so that no result merges or matches series of
// two clusters.
func (p promql) labels(names ...string) string {
	if p.n.ClusterLabel != "" {
		names = append([]string{p.n.ClusterLabel}, names...)
	}
	return strings.Join(names, ", ")
}

// by is the aggregation of every query: the max by the labels read.
func (p promql) by(names ...string) string { return "max by (" + p.labels(names...) + ") " }

// byContainer is the grouping of per-container results of cAdvisor series.
func (p promql) byContainer(extra ...string) string {
	return p.by(append([]string{p.n.NamespaceLabel, p.n.PodLabel, p.n.ContainerLabel}, extra...)...)
}

// byKSMContainer is the grouping of per-container results of
// kube-state-metrics series.
func (p promql) byKSMContainer(extra ...string) string {
	return p.by(append([]string{p.n.KSMNamespaceLabel, p.n.KSMPodLabel, p.n.KSMContainerLabel}, extra...)...)
}

// promDuration renders d in the largest unit that keeps it exact.
func promDuration(d time.Duration) string {
	ms := d.Milliseconds()
	switch {
	case ms%(3600*1000) == 0:
		return strconv.FormatInt(ms/3600/1000, 10) + "h"
	case ms%(60*1000) == 0:
		return strconv.FormatInt(ms/60/1000, 10) + "m"
	case ms%1000 == 0:
		return strconv.FormatInt(ms/1000, 10) + "s"
	default:
		return strconv.FormatInt(ms, 10) + "ms"
	}
}

// counterRange is the range for rates over a step: one millisecond longer
// than the step so that a sample exactly one step back is the left edge
// under either of Prometheus's range conventions (closed before 3.0,
// left-open since), and consecutive steps share their edge sample.
func counterRange(step time.Duration) string { return "[" + promDuration(step+time.Millisecond) + "]" }

// gaugeRange is the range for peaks within a step: one millisecond shorter,
// so that every sample falls into exactly one step whichever convention the
// server follows.
func gaugeRange(step time.Duration) string { return "[" + promDuration(step-time.Millisecond) + "]" }

// counterIncrease is a counter's increase over each step, per second:
// every increase between two raw samples counts in the step of the later
// one. For Prometheus that is rate over counterRange. VictoriaMetrics'
// rate starts from the last sample before the range and, in 1.79 (Debian
// 12's), widens a range shorter than about 1.125 scrape intervals, so that
// with the step as long as the scrape interval it averages over two steps:
// there increase over gaugeRange (from the sample before the step to the
// last in it, exact) divided by the step is the same figure. Its increase
// also counts a series' first sample from zero, which rate does not (it
// needs two samples): "and rate" keeps the steps Prometheus gives a value.
func (p promql) counterIncrease(sel string, step time.Duration) string {
	if !p.victoria {
		return "rate(" + sel + counterRange(step) + ")"
	}
	return "increase(" + sel + gaugeRange(step) + ") / " + strconv.FormatFloat(step.Seconds(), 'f', -1, 64) +
		" and rate(" + sel + gaugeRange(step) + ")"
}

// lookback is Prometheus's default lookback delta: a bare selector gives
// the last sample within it.
const lookback = 5 * time.Minute

// current is sel's value at each instant of a range query, as a bare
// selector gives it in Prometheus: the last sample within the lookback.
// VictoriaMetrics looks back a whole step instead (on the settings grid,
// six hours, where a pod or a limit that is gone would still show): there
// the lookback is explicit.
func (p promql) current(sel string) string { return p.currentAgo(sel, 0) }

// currentAgo is current a duration ago (offset).
func (p promql) currentAgo(sel string, ago time.Duration) string {
	offset := ""
	if ago > 0 {
		offset = " offset " + promDuration(ago)
	}
	if !p.victoria {
		return sel + offset
	}
	return "last_over_time(" + sel + "[" + promDuration(lookback) + "]" + offset + ")"
}

// cpu is the CPU usage in cores, averaged over each step.
func (p promql) cpu(g []Matcher, step time.Duration) string {
	return p.byContainer() + "(" + p.counterIncrease(selector(p.n.CPU, p.cadvisor(g)...), step) + ")"
}

// shapeLabel tells a CPU shape's levels apart.
const shapeLabel = "rightsize_quantile"

// cpuShape is, at each hour's end, the values of the CPU rates over res
// windows within the hour at the ranks a shape holds: quantiles at
// history.ShapeLevels of the hour's windows, of a subquery of the rates at
// res steps, one millisecond shorter than the hour so that it holds the
// hour's windows under either range convention. Each level is a series
// tagged with shapeLabel. VictoriaMetrics takes all levels in one pass
// (quantiles_over_time); PromQL needs a subquery per level, joined with
// "or" into as few queries as stay short enough.
func (p promql) cpuShape(g []Matcher, res time.Duration) []string {
	sel := selector(p.n.CPU, p.cadvisor(g)...)
	rates := p.counterIncrease(sel, res)
	if p.victoria {
		// VictoriaMetrics' increase reaches back to the sample before the
		// window however far it is: scraped less often than res, one
		// window would take a longer time's increase. As Prometheus's
		// rate, a window must hold two samples to give a rate:
		// increase_prometheus takes the increase within the window alone,
		// in one pass over the samples (increase "and" count_over_time >= 2
		// gave the same figures in two, and counterIncrease's in three).
		rates = "increase_prometheus(" + sel + counterRange(res) + ") / " + strconv.FormatFloat(res.Seconds(), 'f', -1, 64)
	}
	sub := "(" + rates + ")[" + promDuration(history.ShapeSpan-time.Millisecond) + ":" + promDuration(res) + "]"
	levels := shapeLevelStrings(res)
	if p.victoria {
		return []string{p.byContainer(shapeLabel) + `(quantiles_over_time("` + shapeLabel + `", ` + strings.Join(levels, ", ") + ", " + sub + "))"}
	}
	// As few queries as keep each within maxQueryBytes.
	var out []string
	for _, l := range levels {
		part := `label_replace(` + p.byContainer() + "(quantile_over_time(" + l + ", " + sub + `)), "` + shapeLabel + `", "` + l + `", "", "")`
		if n := len(out); n > 0 && len(out[n-1])+len(part)+4 <= maxQueryBytes {
			out[n-1] += " or " + part
		} else {
			out = append(out, part)
		}
	}
	return out
}

// maxQueryBytes bounds a query that repeats a selector as often as it
// likes: VictoriaMetrics refuses queries over 16 KB by default.
const maxQueryBytes = 12 << 10

// shapeLevelStrings are the distinct levels of a shape at resolution res.
func shapeLevelStrings(res time.Duration) []string {
	var out []string
	for _, l := range history.ShapeLevels(shapeWindows(res)) {
		if s := strconv.FormatFloat(l, 'g', -1, 64); len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// shapeWindows is how many res windows an hour holds.
func shapeWindows(res time.Duration) int { return int(history.ShapeSpan / res) }

// memory is the working set's peak within each step.
func (p promql) memory(g []Matcher, step time.Duration) string {
	return p.byContainer() + "(max_over_time(" + selector(p.n.Memory, p.cadvisor(g)...) + gaugeRange(step) + "))"
}

// throttled is the share of CFS periods throttled within each step.
func (p promql) throttled(g []Matcher, step time.Duration) string {
	return p.byContainer() + "(" + p.counterIncrease(selector(p.n.CFSThrottledPeriods, p.cadvisor(g)...), step) + ") / " +
		p.byContainer() + "(" + p.counterIncrease(selector(p.n.CFSPeriods, p.cadvisor(g)...), step) + ")"
}

// ooms is 1 at the steps in which a container restarted while its last
// termination reason is OOMKilled: only those steps are returned.
func (p promql) ooms(g []Matcher, step time.Duration) string {
	restarts := selector(p.n.Restarts, p.ksm(g)...)
	on := p.labels(p.n.KSMNamespaceLabel, p.n.KSMPodLabel, p.n.KSMContainerLabel)
	return "((" + p.byKSMContainer() + "(" + p.current(restarts) + ") - " + p.byKSMContainer() + "(" + p.currentAgo(restarts, step) + ")) > 0)" +
		" and on (" + on + ") (" + p.byKSMContainer() + "(" + p.current(selector(p.n.LastTerminatedReason, p.ksm(g, Matcher{Name: "reason", Op: "=", Value: "OOMKilled"})...)) + ") == 1)"
}

// settingsSelector selects requests or limits of app and init containers.
func (p promql) settingsSelector(g []Matcher, names ...string) string {
	return selector("", p.ksm(g, anyOf("__name__", names), Matcher{Name: "resource", Op: "=~", Value: "cpu|memory"})...)
}

// fixedLabels are the labels the queries read or make whose names are not
// configurable (Names).
var fixedLabels = []string{
	"__name__", "resource", "reason", "owner_kind", "owner_name", "owner_is_controller", "replicaset", "job_name", "restart_policy",
	hpaLabel, "scaletargetref_kind", "scaletargetref_name", "metric_name", "metric_target_type", settingLabel,
	"cronjob", "daemonset", "deployment", "statefulset", profileAnnotation, shapeLabel,
}

// The setting label tells requests, limits and restarts apart in the
// instant queries that read them together.
const (
	settingLabel = "rightsize_setting"
	setRequests  = "requests"
	setLimits    = "limits"
	setRestarts  = "restarts"
	// setVariedRequests and setVariedLimits mark containers whose settings
	// took more than one value.
	setVariedRequests = "varied-requests"
	setVariedLimits   = "varied-limits"
)

func tag(expr, value string) string {
	return `label_replace(` + expr + `, "` + settingLabel + `", "` + value + `", "", "")`
}

// settingsGrid returns requests, limits and restart counts as they are at
// the query's instants: read at a coarse grid (hours apart) it touches a
// small part of the stored samples. Pod specs are immutable but for
// in-place resizes, so one value per container is the rule; a value that
// differs between grid points, or a restart count that grows, sends the
// container's pod to a step-by-step read.
func (p promql) settingsGrid(g []Matcher) string {
	return tag(p.byKSMContainer("resource")+"("+p.current(p.settingsSelector(g, p.n.Requests, p.n.InitRequests))+")", setRequests) +
		" or " + tag(p.byKSMContainer("resource")+"("+p.current(p.settingsSelector(g, p.n.Limits, p.n.InitLimits))+")", setLimits) +
		" or " + tag(p.byKSMContainer()+"("+p.current(selector(p.n.Restarts, p.ksm(g)...))+")", setRestarts)
}

// settingsWithin returns, for pods that started or ended within the range
// ending at the query's instant (whose changes the grid may miss), their
// last requests and limits, and the containers whose settings varied or
// that restarted within the range.
func (p promql) settingsWithin(g []Matcher, r time.Duration) string {
	rng := "[" + promDuration(r) + "]"
	req := p.settingsSelector(g, p.n.Requests, p.n.InitRequests) + rng
	lim := p.settingsSelector(g, p.n.Limits, p.n.InitLimits) + rng
	restarts := selector(p.n.Restarts, p.ksm(g)...) + rng
	varied := func(sel string, extra ...string) string {
		return p.byKSMContainer(extra...) + "(max_over_time(" + sel + ") - min_over_time(" + sel + ")) > 0"
	}
	return tag(p.byKSMContainer("resource")+"(last_over_time("+req+"))", setRequests) +
		" or " + tag(p.byKSMContainer("resource")+"(last_over_time("+lim+"))", setLimits) +
		" or " + tag(varied(req, "resource"), setVariedRequests) +
		" or " + tag(varied(lim, "resource"), setVariedLimits) +
		" or " + tag(varied(restarts), setRestarts)
}

// settingsChanges returns requests or limits only where they change: every
// value at the first step, then values that differ from a step ago or
// appear, and −1 where a value disappears. The value at a step is the last
// one within it, (t − step, t], not the last one within the lookback
// window, so that a value removed shows at the first step without it.
func (p promql) settingsChanges(g []Matcher, step time.Duration, first time.Time, names ...string) string {
	sel := p.settingsSelector(g, names...) + gaugeRange(step)
	now := p.byKSMContainer("resource") + "(last_over_time(" + sel + "))"
	ago := p.byKSMContainer("resource") + "(last_over_time(" + sel + " offset " + promDuration(step) + "))"
	return "(" + now + " != " + ago + ")" +
		" or (" + now + " unless " + ago + ")" +
		" or (" + now + " and on () (vector(time()) == " + strconv.FormatInt(first.Unix(), 10) + "))" +
		" or ((" + ago + " unless " + now + ") * 0 - 1)"
}

// settingsAt returns requests or limits at one instant.
func (p promql) settingsAt(g []Matcher, names ...string) string {
	return p.byKSMContainer("resource") + "(" + p.settingsSelector(g, names...) + ")"
}

// podOwners returns each pod's controlling owner seen within the range
// ending at the query's instant.
func (p promql) podOwners(g []Matcher, r time.Duration) string {
	return p.by(p.n.KSMNamespaceLabel, p.n.KSMPodLabel, "owner_kind", "owner_name") + "(last_over_time(" +
		selector(p.n.PodOwner, p.ksm(g, Matcher{Name: "owner_is_controller", Op: "!=", Value: "false"})...) + "[" + promDuration(r) + "]))"
}

// owners returns the controlling owners of ReplicaSets or Jobs (label is
// replicaset or job_name) named in names.
func (p promql) owners(metric, label string, g []Matcher, names []string, r time.Duration) string {
	return p.by(p.n.KSMNamespaceLabel, label, "owner_kind", "owner_name") + "(last_over_time(" +
		selector(metric, p.ksm(g, anyOf(label, names), Matcher{Name: "owner_is_controller", Op: "!=", Value: "false"})...) + "[" + promDuration(r) + "]))"
}

// containers returns the app containers of pods at the query's instant.
func (p promql) containers(g []Matcher) string {
	return p.byKSMContainer() + "(" + selector(p.n.ContainerInfo, p.ksm(g)...) + ")"
}

// initContainers returns the init containers, with restart_policy (Always
// marks a native sidecar) where kube-state-metrics exports it.
func (p promql) initContainers(g []Matcher) string {
	return p.byKSMContainer("restart_policy") + "(" + selector(p.n.InitContainerInfo, p.ksm(g)...) + ")"
}

// podCreated returns each pod's creation time.
func (p promql) podCreated(g []Matcher) string {
	return p.by(p.n.KSMNamespaceLabel, p.n.KSMPodLabel) + "(" + selector(p.n.PodCreated, p.ksm(g)...) + ")"
}

// profileAnnotation is the label kube-state-metrics gives the
// rightsize.dev/profile annotation on its kube_<kind>_annotations series
// (exported where its --metric-annotations-allowlist names it).
const profileAnnotation = "annotation_rightsize_dev_profile"

// annotatedKinds are the workload kinds whose annotations series
// kube-state-metrics exports, with the label naming the object.
var annotatedKinds = []struct {
	kind          workload.Kind
	metric, label string
}{
	{workload.CronJob, "kube_cronjob_annotations", "cronjob"},
	{workload.DaemonSet, "kube_daemonset_annotations", "daemonset"},
	{workload.Deployment, "kube_deployment_annotations", "deployment"},
	{workload.Job, "kube_job_annotations", "job_name"},
	{workload.ReplicaSet, "kube_replicaset_annotations", "replicaset"},
	{workload.StatefulSet, "kube_statefulset_annotations", "statefulset"},
}

// profiles returns the workloads' rightsize.dev/profile annotations where
// kube-state-metrics exports them, at the query's instant.
func (p promql) profiles(g []Matcher) string {
	names := make([]string, len(annotatedKinds))
	for i, k := range annotatedKinds {
		names[i] = k.metric
	}
	return selector("", p.ksm(g, anyOf("__name__", names), Matcher{Name: profileAnnotation, Op: "!=", Value: ""})...)
}

// podsSelector returns the series selector of the discovery: the cAdvisor
// series of CPU and memory.
func (p promql) podsSelector(g []Matcher) string {
	return selector("", p.cadvisor(append([]Matcher{anyOf("__name__", []string{p.n.CPU, p.n.Memory})}, g...))...)
}

// hpaInfo returns each HPA's scale target at the query's instant. The
// API version kube-state-metrics adds is left out: the kind and name
// name the workload.
func (p promql) hpaInfo() string {
	return p.by(p.n.KSMNamespaceLabel, hpaLabel, "scaletargetref_kind", "scaletargetref_name") + "(" + selector(p.n.HPAInfo, p.ksm(nil)...) + ")"
}

// hpaReplicas returns each HPA's min or max replicas (metric says which).
func (p promql) hpaReplicas(metric string) string {
	return p.by(p.n.KSMNamespaceLabel, hpaLabel) + "(" + selector(metric, p.ksm(nil)...) + ")"
}

// hpaTargets returns each HPA's metric targets, one series per metric and
// target type, the target as the value.
func (p promql) hpaTargets() string {
	return p.by(p.n.KSMNamespaceLabel, hpaLabel, "metric_name", "metric_target_type") + "(" + selector(p.n.HPATargetMetric, p.ksm(nil)...) + ")"
}

// hpaV1 counts kube-state-metrics v1's HPA series.
func (p promql) hpaV1() string {
	return "count(" + selector(hpaV1MaxReplicas, p.ksm(nil)...) + ")"
}
