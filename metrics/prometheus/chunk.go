package prometheus

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// settingsGridStep is the spacing of the instants at which requests,
// limits and restart counts are read: coarse, so that the server decodes a
// small share of the stored samples (they change rarely), fine enough that
// a pod lives across a grid point unless it is short-lived.
const settingsGridStep = 6 * time.Hour

// chunkData is one chunk's values, per pod container.
type chunkData struct {
	c chunk
	// usage holds CPU, memory and throttling at every step.
	usage map[podSeries]*stepValues
	// settings holds requests and limits as changes.
	settings map[podSeries]*seriesSettings
	// ooms holds the steps with an OOM kill.
	ooms map[podSeries][]int
	// shapes holds the CPU shapes of the hours the chunk's samples lie in.
	shapes map[podSeries][]history.CPUShape
	// cpu says the chunk held CPU usage.
	cpu bool
	// points is the most points one usage query returned.
	points int
}

// stepValues holds a container's usage as the points the server returned:
// a chunk lists many pods that ran for a few of its steps only.
type stepValues struct {
	cpu, mem, throttled points
}

// points are values at steps, in step order.
type points struct {
	step []int32
	val  []float64
}

// grow makes room for n more points.
func (p *points) grow(n int) {
	p.step, p.val = slices.Grow(p.step, n), slices.Grow(p.val, n)
}

func (p *points) add(i int, v float64) {
	p.step = append(p.step, int32(i))
	p.val = append(p.val, v)
}

// at returns the value at step i, advancing *k past earlier points.
func (p *points) at(k *int, i int) (float64, bool) {
	for *k < len(p.step) && int(p.step[*k]) < i {
		*k++
	}
	if *k < len(p.step) && int(p.step[*k]) == i {
		return p.val[*k], true
	}
	return 0, false
}

type seriesSettings struct {
	requests, limits []settingChange
}

type settingChange struct {
	step     int
	resource string
	value    float64 // −1: no longer set
}

func (d *chunkData) usageOf(s podSeries) *stepValues {
	sv := d.usage[s]
	if sv == nil {
		sv = &stepValues{}
		d.usage[s] = sv
	}
	return sv
}

func (d *chunkData) settingsOf(s podSeries) *seriesSettings {
	ss := d.settings[s]
	if ss == nil {
		ss = &seriesSettings{}
		d.settings[s] = ss
	}
	return ss
}

// set records a value in force from the first step; it reports whether
// another value was recorded for the resource already.
func (ss *seriesSettings) set(setting string, ch settingChange) (conflict bool) {
	list := &ss.requests
	if setting == setLimits {
		list = &ss.limits
	}
	for _, c := range *list {
		if c.resource == ch.resource {
			return c.value != ch.value
		}
	}
	*list = append(*list, ch)
	return false
}

// spans reports whether the container has usage at the chunk's first and
// last steps: it lived through the chunk.
func (sv *stepValues) spans(n int) bool {
	first, last := false, false
	for _, p := range []points{sv.cpu, sv.mem} {
		if len(p.step) > 0 {
			first = first || p.step[0] == 0
			last = last || int(p.step[len(p.step)-1]) == n-1
		}
	}
	return first && last
}

func (ss *seriesSettings) add(setting string, ch settingChange) {
	if setting == setLimits {
		ss.limits = append(ss.limits, ch)
	} else {
		ss.requests = append(ss.requests, ch)
	}
}

// fetch reads one chunk, splitting it in time while the server finds it
// too large.
func (c *collector) fetch(ctx context.Context, ch chunk) ([]*chunkData, []ChunkError) {
	d, err := c.fetchOnce(ctx, ch)
	if err == nil {
		return []*chunkData{d}, nil
	}
	// Fewer steps make a smaller answer, whether the server refused it or
	// it came back larger than the response limit.
	if (errors.Is(err, ErrTooLarge) || errors.Is(err, ErrResponseTooLarge)) && ch.steps() > 1 {
		c.splits.Add(1)
		c.log.Debug("splitting chunk", "chunk", ch.name(c.w), "error", err)
		parts := []chunk{}
		var steps *TooManyStepsError
		if errors.As(err, &steps) && steps.Limit < ch.steps() {
			// The server named its limit: cut to it at once, and keep the
			// chunks to come under it.
			c.capSteps(steps.Limit)
			parts = ch.cut(steps.Limit)
		} else {
			a, b := ch.halves()
			parts = append(parts, a, b)
		}
		var data []*chunkData
		var failed []ChunkError
		for _, p := range parts {
			d, f := c.fetch(ctx, p)
			data, failed = append(data, d...), append(failed, f...)
		}
		return data, failed
	}
	return nil, []ChunkError{{Chunk: ch.name(c.w), Err: err}}
}

// fetchOnce runs a chunk's queries: CPU, memory and throttling at every
// step, and the CPU shapes of its hours; requests, limits and restart counts at a coarse grid, read step by
// step only for the pods whose settings changed or that restarted.
func (c *collector) fetchOnce(ctx context.Context, ch chunk) (*chunkData, error) {
	d := &chunkData{c: ch, usage: map[podSeries]*stepValues{}, settings: map[podSeries]*seriesSettings{}, ooms: map[podSeries][]int{},
		shapes: map[podSeries][]history.CPUShape{}}
	sc := c.scopeOf(ch)
	if err := c.readChunkUsage(ctx, sc, d); err != nil {
		return nil, err
	}
	if ch.shapes {
		if err := c.readChunkShapes(ctx, sc, d); err != nil {
			return nil, err
		}
	}
	seen, r, err := c.readSettingsGrid(ctx, sc, d)
	if err != nil {
		return nil, err
	}
	if err := c.readChurnedSettings(ctx, sc, d, churnedPods(d, seen), r); err != nil {
		return nil, err
	}
	if err := c.readSettingChanges(ctx, sc, d, r.settings); err != nil {
		return nil, err
	}
	if err := c.readOOMKills(ctx, sc, d, r.ooms); err != nil {
		return nil, err
	}
	return d, nil
}

// chunkScope is what a chunk's queries share: its steps and the group's
// matchers, in cAdvisor's labels and in kube-state-metrics'.
type chunkScope struct {
	ch         chunk
	start, end time.Time // the first and last steps
	step       time.Duration
	atStep     func(model.Time) (int, bool)
	cl, kl     labelNames
	gm, gk     []Matcher
}

func (c *collector) scopeOf(ch chunk) chunkScope {
	cl, kl := c.o.Names.cadvisorLabels(), c.o.Names.ksmLabels()
	start := c.w.at(ch.start)
	return chunkScope{
		ch:     ch,
		start:  start,
		end:    c.w.at(ch.end - 1),
		step:   c.w.step,
		atStep: c.stepIndex(start, c.w.step, ch.steps()),
		cl:     cl,
		kl:     kl,
		gm:     ch.group.matchers(cl),
		gk:     ch.group.matchers(kl),
	}
}

// refinement is the pods the coarse reads cannot settle, read again step
// by step: those whose settings changed, and those that restarted (an OOM
// kill, maybe). They are named as the queries select them, by pod name: a
// pod of the same name in another namespace or cluster of the chunk is
// read again too, whole.
type refinement struct {
	settings, ooms map[string]bool
}

// usageQuery is one of the queries read at every step.
type usageQuery struct {
	what string
	expr string
	// of is where in a container's values the query's go.
	of func(sv *stepValues) *points
	// cpu: a value read says the chunk held CPU usage (chunkData.cpu).
	cpu bool
	// share: a value is a share of periods, at most 1; 0/0 (NaN) means
	// no CFS periods in the step, nothing to say. Infinities are invalid
	// even here: badValue, or x/0.
	share bool
}

// readChunkUsage reads CPU, memory and throttling at every step.
func (c *collector) readChunkUsage(ctx context.Context, sc chunkScope, d *chunkData) error {
	for _, q := range []usageQuery{
		{"reading cpu usage", c.p.cpu(sc.gm, sc.step), func(sv *stepValues) *points { return &sv.cpu }, true, false},
		{"reading memory usage", c.p.memory(sc.gm, sc.step), func(sv *stepValues) *points { return &sv.mem }, false, false},
		{"reading cpu throttling", c.p.throttled(sc.gm, sc.step), func(sv *stepValues) *points { return &sv.throttled }, false, true},
	} {
		m, err := c.q.queryRange(ctx, q.what, q.expr, sc.start, sc.end, sc.step)
		if err != nil {
			return err
		}
		invalid, points := d.addUsage(m, q, sc)
		c.skip(skipInvalid, invalid)
		d.points = max(d.points, points)
	}
	return nil
}

// addUsage keeps one usage query's valid values. It returns how many
// values were invalid and how many points the answer held.
func (d *chunkData) addUsage(m model.Matrix, q usageQuery, sc chunkScope) (invalid, held int) {
	for _, ss := range m {
		held += len(ss.Values)
		s := seriesOf(model.LabelSet(ss.Metric), sc.cl)
		if !s.valid() {
			continue
		}
		var p *points
		for _, sp := range ss.Values {
			i, ok := sc.atStep(sp.Timestamp)
			v := float64(sp.Value)
			switch {
			case !ok || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) && !q.share:
				invalid++
			case math.IsNaN(v):
			default:
				if p == nil {
					// Room for the series' points at once: grown point
					// by point, a fleet's were allocated twice over.
					p = q.of(d.usageOf(s))
					p.grow(len(ss.Values))
					d.cpu = d.cpu || q.cpu
				}
				if q.share {
					v = min(v, 1)
				}
				p.add(i, v)
			}
		}
	}
	return invalid, held
}

// gridSeries is one series of the settings grid: a container's requests,
// limits or restart count at the grid points where it is valid.
type gridSeries struct {
	s      podSeries
	metric model.Metric
	points []int
	vals   []float64
}

func (g gridSeries) setting() string { return string(g.metric[settingLabel]) }

// restarted reports whether a restart count grew. A new pod's count starts
// at 0: one seen with restarts after the grid's first point restarted
// within the chunk.
func (g gridSeries) restarted() bool {
	grew := g.points[0] > 0 && g.vals[0] > 0
	for j := 1; j < len(g.vals); j++ {
		grew = grew || g.vals[j] > g.vals[j-1]
	}
	return grew
}

// readSettingsGrid reads requests, limits and restart counts at the grid.
// The settings it finds constant go to d; it returns the grid points at
// which each container's restart count is seen, and the pods to refine.
func (c *collector) readSettingsGrid(ctx context.Context, sc chunkScope, d *chunkData) (map[podSeries][]int, refinement, error) {
	grid, err := c.querySettingsGrid(ctx, sc)
	if err != nil {
		return nil, refinement{}, err
	}
	// First the restart counts: where a container's count is seen, its
	// pod was known to kube-state-metrics.
	seen := map[podSeries][]int{} // grid points with a restart count
	r := refinement{settings: map[string]bool{}, ooms: map[string]bool{}}
	var settings []gridSeries
	for _, g := range grid {
		if g.setting() != setRestarts {
			settings = append(settings, g)
			continue
		}
		seen[g.s] = g.points
		if g.restarted() {
			r.ooms[g.s.pod] = true
		}
	}
	for _, g := range settings {
		// A value that changed, or that is set at some points and not at
		// others where the pod was there (a limit removed or added). Init
		// containers have no restart count to compare with.
		present, counted := seen[g.s]
		if slices.Min(g.vals) != slices.Max(g.vals) || counted && !slices.Equal(g.points, present) {
			r.settings[g.s.pod] = true
			continue
		}
		d.settingsOf(g.s).add(g.setting(), settingChange{step: 0, resource: string(g.metric["resource"]), value: g.vals[0]})
	}
	return seen, r, nil
}

// querySettingsGrid reads requests, limits and restart counts at the grid:
// from a point at or before the step ahead of the chunk to its last step.
// It keeps the valid points of each series, and the series that have any.
func (c *collector) querySettingsGrid(ctx context.Context, sc chunkScope) ([]gridSeries, error) {
	k := int((sc.end.Sub(sc.start) + sc.step + settingsGridStep - 1) / settingsGridStep)
	gridStart := sc.end.Add(-time.Duration(k) * settingsGridStep)
	atGrid := c.stepIndex(gridStart, settingsGridStep, k+1)
	m, err := c.q.queryRange(ctx, "reading requests, limits and restarts", c.p.settingsGrid(sc.gk), gridStart, sc.end, settingsGridStep)
	if err != nil {
		return nil, err
	}
	var grid []gridSeries
	for _, ss := range m {
		g := gridSeries{s: seriesOf(model.LabelSet(ss.Metric), sc.kl), metric: ss.Metric}
		if !g.s.valid() {
			continue
		}
		for _, sp := range ss.Values {
			i, ok := atGrid(sp.Timestamp)
			v := float64(sp.Value)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				c.skip(skipInvalid, 1)
				continue
			}
			g.points = append(g.points, i)
			g.vals = append(g.vals, v)
		}
		if len(g.vals) > 0 {
			grid = append(grid, g)
		}
	}
	return grid, nil
}

// churnedPods returns the pods that started or ended within the chunk, or
// whose restart count the grid never saw. They may have changed or
// restarted where no grid point sees it (after the last one of their life,
// say), and short-lived pods may fall between grid points.
func churnedPods(d *chunkData, seen map[podSeries][]int) []string {
	var churned []string
	for s, sv := range d.usage {
		if seen[s] == nil || !sv.spans(d.c.steps()) {
			churned = append(churned, s.pod)
		}
	}
	return uniqueSorted(churned)
}

// readChurnedSettings reads the settings and restarts of pods that came or
// went over the chunk's range whole, MaxSeries pods a query. Settings that
// varied, differ from the grid's, or restarts mark the pod for refinement.
func (c *collector) readChurnedSettings(ctx context.Context, sc chunkScope, d *chunkData, pods []string, r refinement) error {
	span := time.Duration(sc.ch.steps()) * sc.step
	// The query lists the pods eight times: a third of the budget.
	for _, part := range cutListBytes(pods, c.o.MaxSeries, maxListBytes/3) {
		vec, err := c.q.query(ctx, "reading requests, limits and restarts of pods that came or went",
			c.p.settingsWithin(withList(sc.gk, sc.kl.pod, part), span-time.Millisecond), sc.end)
		if err != nil {
			return err
		}
		d.addSettingsWithin(vec, sc.kl, r)
	}
	return nil
}

func (d *chunkData) addSettingsWithin(vec model.Vector, kl labelNames, r refinement) {
	for _, smp := range vec {
		s := seriesOf(model.LabelSet(smp.Metric), kl)
		v := float64(smp.Value)
		if !s.valid() || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			continue
		}
		switch setting := string(smp.Metric[settingLabel]); setting {
		case setRestarts:
			r.ooms[s.pod] = true
		case setVariedRequests, setVariedLimits:
			r.settings[s.pod] = true
		default:
			ch := settingChange{step: 0, resource: string(smp.Metric["resource"]), value: v}
			if d.settingsOf(s).set(setting, ch) {
				// The grid saw another value: it changed.
				r.settings[s.pod] = true
			}
		}
	}
}

// readSettingChanges reads the requests and limits of the given pods at
// every step, as changes; these replace what the coarse reads found.
func (c *collector) readSettingChanges(ctx context.Context, sc chunkScope, d *chunkData, pods map[string]bool) error {
	if len(pods) == 0 {
		return nil
	}
	for s := range d.settings {
		if pods[s.pod] {
			delete(d.settings, s)
		}
	}
	n := c.o.Names
	for _, part := range cutList(slices.Sorted(maps.Keys(pods)), c.o.MaxSeries) {
		pm := withList(sc.gk, sc.kl.pod, part)
		for _, q := range []struct {
			what, setting string
			names         []string
		}{
			{"reading changes of requests", setRequests, []string{n.Requests, n.InitRequests}},
			{"reading changes of limits", setLimits, []string{n.Limits, n.InitLimits}},
		} {
			m, err := c.q.queryRange(ctx, q.what, c.p.settingsChanges(pm, sc.step, sc.start, q.names...), sc.start, sc.end, sc.step)
			if err != nil {
				return err
			}
			c.skip(skipInvalid, d.addSettingChanges(m, q.setting, sc))
		}
	}
	return nil
}

// addSettingChanges keeps the valid changes of one setting (−1: no longer
// set) and returns how many values were invalid.
func (d *chunkData) addSettingChanges(m model.Matrix, setting string, sc chunkScope) (invalid int) {
	for _, ss := range m {
		s := seriesOf(model.LabelSet(ss.Metric), sc.kl)
		if !s.valid() {
			continue
		}
		for _, sp := range ss.Values {
			i, ok := sc.atStep(sp.Timestamp)
			v := float64(sp.Value)
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) || (v < 0 && v != -1) {
				invalid++
				continue
			}
			d.settingsOf(s).add(setting, settingChange{step: i, resource: string(ss.Metric["resource"]), value: v})
		}
	}
	return invalid
}

// readOOMKills reads the steps with an OOM kill of the given pods.
func (c *collector) readOOMKills(ctx context.Context, sc chunkScope, d *chunkData, pods map[string]bool) error {
	if len(pods) == 0 {
		return nil
	}
	for _, part := range cutList(slices.Sorted(maps.Keys(pods)), c.o.MaxSeries) {
		m, err := c.q.queryRange(ctx, "reading OOM kills", c.p.ooms(withList(sc.gk, sc.kl.pod, part), sc.step), sc.start, sc.end, sc.step)
		if err != nil {
			return err
		}
		for _, ss := range m {
			s := seriesOf(model.LabelSet(ss.Metric), sc.kl)
			for _, sp := range ss.Values {
				if i, ok := sc.atStep(sp.Timestamp); ok && s.valid() {
					d.ooms[s] = append(d.ooms[s], i)
				}
			}
		}
	}
	return nil
}

const (
	skipInvalid  = "invalid values (NaN, infinite, out of range, negative or off the step grid)"
	skipNames    = "series with a namespace, pod, container or owner name Kubernetes does not allow"
	skipClusters = "series with a cluster label value that is not printable or longer than 253 bytes"
	skipShapes   = "hours of CPU shapes the server did not compute (their CPU percentiles are the steps' means)"
)

// stepIndex returns a function that maps a timestamp to its step in a
// chunk of n steps from start. Timestamps off the steps, badTime included,
// map to none.
func (c *collector) stepIndex(start time.Time, step time.Duration, n int) func(model.Time) (int, bool) {
	s0, st := start.UnixMilli(), step.Milliseconds()
	last := s0 + int64(n-1)*st
	return func(t model.Time) (int, bool) {
		// Compared before subtracting: far-off timestamps would overflow.
		if int64(t) < s0 || int64(t) > last {
			return 0, false
		}
		ms := int64(t) - s0
		return int(ms / st), ms%st == 0
	}
}

// seriesOf names the pod container of a series.
func seriesOf(ls model.LabelSet, l labelNames) podSeries {
	return podSeries{
		namespace: string(ls[model.LabelName(l.namespace)]),
		pod:       string(ls[model.LabelName(l.pod)]),
		container: string(ls[model.LabelName(l.container)]),
		cluster:   clusterOf(ls, l.cluster),
	}
}

// clusterOf returns a series' cluster: the cluster label's value, "" when
// no cluster label is set (a label without a name in a hostile answer is
// no cluster).
func clusterOf(ls model.LabelSet, label string) string {
	if label == "" {
		return ""
	}
	return string(ls[model.LabelName(label)])
}

// clusterName reports whether s can name a cluster. Any label value may
// (an EKS cluster's ARN holds ':' and '/'), but one a terminal would not
// print as itself, or longer than an object name, names none: its series
// are skipped, so that no such text reaches a table or a file name.
func clusterName(s string) bool {
	return len(s) <= maxClusterName && untrusted.Printable(s)
}

// maxClusterName bounds a cluster's name, as a usage file's cluster
// column is bounded.
const maxClusterName = 253

// unusable returns why the series cannot be read, or "": a name
// Kubernetes does not allow (kubeName), or a cluster that is none.
func (s podSeries) unusable() string {
	switch {
	case !kubeName(s.namespace) || !kubeName(s.pod) || !kubeName(s.container):
		return skipNames
	case !clusterName(s.cluster):
		return skipClusters
	}
	return ""
}

// valid reports whether the series names a pod container Kubernetes could
// have, in a cluster that can be named: anything else is not read.
func (s podSeries) valid() bool { return s.unusable() == "" }

func (s podSeries) compare(o podSeries) int {
	if c := strings.Compare(s.cluster, o.cluster); c != 0 {
		return c
	}
	if c := strings.Compare(s.namespace, o.namespace); c != 0 {
		return c
	}
	if c := strings.Compare(s.pod, o.pod); c != 0 {
		return c
	}
	return strings.Compare(s.container, o.container)
}

// load adds a chunk's samples to the store: one per step with CPU, memory
// or an OOM kill, carrying the settings in force.
func (c *collector) load(d *chunkData, store *history.Store) {
	keys := slices.Collect(maps.Keys(d.usage))
	for s := range d.ooms {
		if d.usage[s] == nil {
			keys = append(keys, s)
		}
	}
	slices.SortFunc(keys, podSeries.compare)
	unresolved := map[resolution]map[nsName]bool{}
	for _, s := range keys {
		sv := d.usage[s]
		pod := s.podName()
		wk, why := c.owners.workloadOf(pod)
		if why != resolved {
			if unresolved[why] == nil {
				unresolved[why] = map[nsName]bool{}
			}
			unresolved[why][pod] = true
		}
		ck := workload.ContainerKey{Workload: wk, Container: s.container}
		var req, lim *settingsTrack
		if ss := d.settings[s]; ss != nil {
			req, lim = newSettingsTrack(ss.requests), newSettingsTrack(ss.limits)
		} else {
			req, lim = newSettingsTrack(nil), newSettingsTrack(nil)
		}
		if sv == nil {
			sv = &stepValues{}
		}
		ooms := d.ooms[s]
		slices.Sort(ooms)
		var ci, mi, ti, oi int
		newest := int64(math.MinInt64) // the series' newest sample, Unix ms
		var ser *history.Series        // made at the first sample
		for {
			// The next step with CPU, memory or an OOM kill.
			i := math.MaxInt
			if ci < len(sv.cpu.step) {
				i = int(sv.cpu.step[ci])
			}
			if mi < len(sv.mem.step) {
				i = min(i, int(sv.mem.step[mi]))
			}
			if oi < len(ooms) {
				i = min(i, ooms[oi])
			}
			if i == math.MaxInt {
				break
			}
			req.advance(i)
			lim.advance(i)
			t := c.w.at(d.c.start + i)
			smp := workload.Sample{Time: t, Pod: s.pod, Settings: workload.Settings{Requests: req.resources(), Limits: lim.resources()}}
			if v, ok := sv.cpu.at(&ci, i); ok {
				smp.CPU, smp.HasCPU = workload.Cores(v), true
				ci++
			}
			if v, ok := sv.mem.at(&mi, i); ok {
				smp.Memory, smp.HasMemory = workload.BytesOf(v), true
				mi++
			}
			if v, ok := sv.throttled.at(&ti, i); ok {
				smp.Throttled, smp.HasThrottled = v, true
			}
			for oi < len(ooms) && ooms[oi] <= i {
				smp.OOMKilled = smp.OOMKilled || ooms[oi] == i
				oi++
			}
			if ser == nil {
				ser = store.SeriesOf(ck, s.pod)
				ser.Reserve(max(len(sv.cpu.step), len(sv.mem.step)) + len(ooms))
			}
			store.RecordTo(ser, smp)
			newest = max(newest, t.UnixMilli())
		}
		if newest == math.MinInt64 {
			continue
		}
		ps := c.seen[s]
		ps.last = max(ps.last, newest)
		// Shapes go with CPU samples only: they stand for them.
		if shapes := d.shapes[s]; len(shapes) > 0 && len(sv.cpu.step) > 0 {
			for _, sh := range shapes {
				ser.AddShape(sh) // valid: readShapes checked
			}
			if !ps.shaped {
				ps.shaped = true
				c.shapedN++
			}
		}
		c.seen[s] = ps
	}
	for why, pods := range unresolved {
		c.unresolvedPods(why, pods)
	}
}

// settingsTrack replays setting changes step by step.
type settingsTrack struct {
	changes  []settingChange
	next     int
	cpu, mem float64 // −1: not set
}

func newSettingsTrack(ch []settingChange) *settingsTrack {
	slices.SortStableFunc(ch, func(a, b settingChange) int { return a.step - b.step })
	return &settingsTrack{changes: ch, cpu: -1, mem: -1}
}

func (t *settingsTrack) advance(step int) {
	for t.next < len(t.changes) && t.changes[t.next].step <= step {
		ch := t.changes[t.next]
		switch ch.resource {
		case "cpu":
			t.cpu = ch.value
		case "memory":
			t.mem = ch.value
		}
		t.next++
	}
}

func (t *settingsTrack) resources() workload.Resources {
	var r workload.Resources
	if t.cpu >= 0 {
		r.CPU = workload.MillicoresOf(workload.Cores(t.cpu))
	}
	if t.mem >= 0 {
		r.Memory = workload.BytesOf(t.mem)
	}
	return r
}
