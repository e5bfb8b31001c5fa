package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Result is what a collection read.
type Result struct {
	// Store holds one sample per pod container per step; it is finalized.
	Store *history.Store
	// Specs are the workloads' current pod templates from kube-state-metrics
	// at the last step, for workloads with pods running then.
	Specs map[workload.Key]workload.Spec
	// HPAs are the HorizontalPodAutoscalers kube-state-metrics exports at
	// the last step, by cluster, namespace and name. HPAsKnown says they
	// could be read: with it, no HPAs means there are none; without it, a
	// warning says why they are unknown.
	HPAs      []workload.HPA
	HPAsKnown bool
	// URL is the server, without credentials.
	URL string
	// First and Last are the first and last step; Step the resolution.
	First, Last time.Time
	Step        time.Duration
	// Series counts the pod containers found; Samples the samples kept.
	Series, Samples int
	// Shaped counts the pod containers whose CPU percentiles are of
	// CPUResolution rates (CPU shapes); CPUResolution is 0 where none were
	// read.
	Shaped        int
	CPUResolution time.Duration
	// Clusters are the clusters of the pod containers read, in order ("" for
	// series without the label); nil without a cluster label.
	Clusters []string
	// Queries counts API calls; Requests the HTTP requests sent for them,
	// retries included; Retries and Splits how often a request was retried
	// and a chunk split in two after a "too large" answer.
	Queries, Requests, Retries, Splits int
	// BytesReceived counts response bytes as decoded (JSON); BytesOnWire
	// what the connections carried (compressed).
	BytesReceived, BytesOnWire int64
	// Failed lists the chunks that kept failing: their samples are missing.
	Failed []ChunkError
	// Skipped counts what was left out, by reason.
	Skipped map[string]int
	// Warnings are the server's warnings (e.g. Thanos partial responses)
	// and notes on data that could not be used as is.
	Warnings []string

	// Held is, for a collection into a sink, the most samples one store
	// (a chunk's, or a family's of groups) held before the sink took it.
	Held int
}

// podSeen is what a collection keeps of a pod container it sampled.
type podSeen struct {
	last   int64 // the newest sample, Unix ms
	shaped bool  // its CPU shapes were read
}

// ChunkError is a chunk that could not be read.
type ChunkError struct {
	// Chunk names the namespaces (or pods) and time range.
	Chunk string
	Err   error
}

func (e ChunkError) Error() string { return e.Chunk + ": " + e.Err.Error() }

// Collect reads the usage history and current pod templates of every
// container the options select, and the HPAs. report, when set, is told how the
// collection advances.
func Collect(ctx context.Context, o Options, report progress.Func, log *slog.Logger) (*Result, error) {
	return collect(ctx, o, report, log, collectMode{})
}

// collectMode is where one collection's samples go.
type collectMode struct {
	// sink, when set, takes the samples a family of groups at a time
	// instead of one store for the whole window: the groups that share a
	// workload, each read to the window's end, finalized (Source.Sketches).
	// It returns how many samples it took; calls are not concurrent.
	sink func(*history.Store) int
}

// unresolvedPods counts pods whose workload was not found as such, by why,
// each pod once.
type unresolvedPods struct {
	count map[resolution]int
	seen  map[nsName]bool
}

func newUnresolvedPods() *unresolvedPods {
	return &unresolvedPods{count: map[resolution]int{}, seen: map[nsName]bool{}}
}

func collect(ctx context.Context, o Options, report progress.Func, log *slog.Logger, mode collectMode) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	user, _ := ParseSelector(o.Selector) // validated above
	if len(o.Clusters) > 0 {
		// The store leaves the other clusters out, listings included.
		user = append(user, anyOf(o.Names.ClusterLabel, uniqueSorted(o.Clusters)))
	}
	c := &collector{
		o:          o,
		w:          newWindow(o.End, o.History, o.Step),
		p:          promql{n: o.Names, user: user},
		log:        log,
		report:     report,
		url:        RedactedURL(o.URL),
		owners:     newOwners(),
		skipped:    map[string]int{},
		unresolved: newUnresolvedPods(),
		count:      &counters{},
		mode:       mode,
	}
	c.maxSteps.Store(maxStepsPerQuery)
	c.shapeHours = hoursWithin(c.w)
	if c.w.n == 0 {
		return nil, fmt.Errorf("prometheus %s: the window holds no %s step", c.url, o.Step)
	}
	q, hc, err := newQuerier(o, c.count, log)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", c.url, err)
	}
	// Connections are not needed after the run; a long-lived caller should
	// not keep them.
	defer hc.CloseIdleConnections()
	c.q = q
	res, err := c.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", c.url, err)
	}
	return res, nil
}

type collector struct {
	o      Options
	w      window
	p      promql
	q      *querier
	log    *slog.Logger
	report progress.Func
	url    string
	count  *counters

	owners *owners
	splits atomic.Int64
	// maxSteps bounds a chunk's steps: maxStepsPerQuery, or less once
	// the server named its limit of points per series.
	maxSteps atomic.Int64

	mu      sync.Mutex // guards skipped and notes
	skipped map[string]int
	notes   []string
	failed  []ChunkError
	store   *history.Store // nil with a sink
	// seen holds the pod containers sampled: the newest sample and whether
	// CPU shapes were read; shapedN counts the shaped ones.
	seen    map[podSeries]podSeen
	shapedN int
	// unresolved counts the pods whose workload was not found.
	unresolved *unresolvedPods
	// sinkMu serializes the sink; sunk counts the samples it took, held
	// the most samples one family's store held.
	sinkMu     sync.Mutex
	sunk, held int
	// shapeHours are the hours whose CPU shapes may be read.
	shapeHours shapeHours

	mode collectMode
}

// capSteps lowers the steps of the chunks to come to a server's limit.
func (c *collector) capSteps(limit int) {
	for {
		cur := c.maxSteps.Load()
		if int64(limit) >= cur || c.maxSteps.CompareAndSwap(cur, int64(limit)) {
			return
		}
	}
}

// chunkSteps caps a chunk's length at what the server accepts.
func (c *collector) chunkSteps(steps int) int {
	return max(min(steps, int(c.maxSteps.Load())), 1)
}

func (c *collector) skip(reason string, n int) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	c.skipped[reason] += n
	c.mu.Unlock()
}

func (c *collector) note(format string, args ...any) {
	c.mu.Lock()
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

func (c *collector) run(ctx context.Context) (*Result, error) {
	start := time.Now()
	all, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	// The listings answered before any query that depends on the engine.
	c.p.victoria = c.q.victoria.Load()
	if len(all) == 0 {
		return nil, noDataError(fmt.Sprintf("no container series match %s between %s and %s",
			c.p.podsSelector(nil), c.w.at(0).Add(-c.w.step).Format(time.RFC3339), c.w.last().Format(time.RFC3339)))
	}
	groups := groupSeries(all, c.o.MaxSeries)
	c.log.Debug("found containers", "series", len(all), "groups", len(groups), "took", time.Since(start))

	step := time.Now()
	ok, err := c.readOwners(ctx, groups)
	if err != nil {
		return nil, err
	}
	c.log.Debug("read owners", "pods", len(c.owners.pods), "replicasets", len(c.owners.replicaSets), "jobs", len(c.owners.jobs), "took", time.Since(step))

	step = time.Now()
	var usable []group
	for _, g := range groups {
		if ok[g.id] {
			usable = append(usable, g)
		}
	}
	if c.mode.sink != nil {
		// Owners known, the large namespaces' pods are cut by workload.
		usable = regroupByWorkload(usable, all, func(s podSeries) workload.Key {
			wk, _ := c.owners.workloadOf(s.podName())
			return wk
		}, c.o.MaxSeries)
	}
	if err := c.readUsage(ctx, usable, all); err != nil {
		return nil, err
	}
	c.log.Debug("read usage", "samples", c.samples(), "took", time.Since(step))
	if c.samples() == 0 {
		if len(c.failed) > 0 {
			return nil, fmt.Errorf("no samples read: every chunk failed, the first: %w", c.failed[0])
		}
		return nil, noDataError("no samples in the window")
	}

	// Pod owners or templates show that kube-state-metrics is scraped.
	ksmSeen := len(c.owners.pods) > 0
	step = time.Now()
	specs, err := c.readSpecs(ctx, usable)
	if err != nil {
		return nil, err
	}
	c.log.Debug("read pod templates", "workloads", len(specs), "took", time.Since(step))

	ksmSeen = ksmSeen || len(specs) > 0
	step = time.Now()
	// With kube-state-metrics scraped, no HPA series means no HPAs.
	hpas, hpasKnown, err := c.readHPAs(ctx, ksmSeen)
	if err != nil {
		return nil, err
	}
	c.log.Debug("read HPAs", "hpas", len(hpas), "known", hpasKnown, "took", time.Since(step))

	res := c.result(&Result{
		Store:     c.store,
		Specs:     specs,
		HPAs:      hpas,
		HPAsKnown: hpasKnown,
		Series:    len(c.seen),
		Shaped:    c.shapedN,
		Samples:   c.samples(),
		Held:      c.held,
	})
	if c.o.Names.ClusterLabel != "" {
		res.Clusters = []string{}
		for s := range c.seen {
			res.Clusters = append(res.Clusters, s.cluster)
		}
		res.Clusters = uniqueSorted(res.Clusters)
	}
	return res, nil
}

// result completes res with what every collection says: the server and
// window, the counts of queries and bytes, the failed chunks, what was
// skipped, and the warnings.
func (c *collector) result(res *Result) *Result {
	res.URL, res.First, res.Last, res.Step = c.url, c.w.at(0), c.w.last(), c.w.step
	if c.o.shapes() {
		res.CPUResolution = c.o.CPUResolution
	}
	res.Queries = int(c.q.queries.Load())
	res.Requests = int(c.count.requests.Load())
	res.Retries = int(c.q.retried.Load())
	res.Splits = int(c.splits.Load())
	res.BytesReceived, res.BytesOnWire = c.count.body.Load(), c.count.wire.Load()
	res.Failed, res.Skipped = c.failed, c.skipped
	res.Warnings = append(slices.Concat(c.q.serverWarnings(), c.notes), countWarnings(c.unresolved.count, c.skipped)...)
	return res
}

// countWarnings says how many pods were planned other than as their
// workload, and how many series or samples were skipped, by why.
func countWarnings(unresolved map[resolution]int, skipped map[string]int) []string {
	var out []string
	for _, why := range []resolution{noPodOwner, unknownOwnerKind, replicaSetUnowned} {
		if n := unresolved[why]; n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, why))
		}
	}
	for _, r := range sortedKeys(skipped) {
		out = append(out, fmt.Sprintf("%d %s", skipped[r], r))
	}
	return out
}

// ErrNoData says a window held no usage to read: no container series, or
// none with a sample in it.
var ErrNoData = errors.New("no usage in the window")

// noDataError is an ErrNoData that says what was looked for.
type noDataError string

func (e noDataError) Error() string        { return string(e) }
func (e noDataError) Is(target error) bool { return target == ErrNoData }

// forEach runs f for 0..n-1 with at most Concurrency at a time. An error
// stops everything (f returns one only for what ends the collection, such
// as an error wrapping ErrUnreachable: the server is gone).
func (c *collector) forEach(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.o.Concurrency)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return f(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return context.Cause(ctx)
}

// discover lists the pod containers with cAdvisor series in the window,
// from the index only: the namespaces first, then their series in batches.
func (c *collector) discover(ctx context.Context) ([]podSeries, error) {
	from, to := c.w.at(0).Add(-c.w.step), c.w.last()
	nsValues, err := c.q.labelValues(ctx, "listing namespaces", c.o.Names.NamespaceLabel, []string{c.p.podsSelector(nil)}, from, to)
	if err != nil {
		return nil, err
	}
	namespaces := make([]string, 0, len(nsValues))
	for _, v := range nsValues {
		if kubeName(string(v)) {
			namespaces = append(namespaces, string(v))
		} else {
			c.skip(skipNames, 1)
		}
	}
	const batch = 20
	var mu sync.Mutex
	found := map[podSeries]bool{}
	// list reads the series of some namespaces over [from, to], halving
	// the list, and then the time, while the answer is larger than the
	// response limit or the server refuses it as too large
	// (VictoriaMetrics lists 30,000 series at most by default).
	var list func(ctx context.Context, nss []string, from, to time.Time) error
	list = func(ctx context.Context, nss []string, from, to time.Time) error {
		sets, err := c.q.series(ctx, "listing series of "+group{namespaces: nss}.String(), []string{c.p.podsSelector([]Matcher{anyOf(c.o.Names.NamespaceLabel, nss)})}, from, to)
		if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrTooLarge) {
			switch mid := from.Add(to.Sub(from) / 2).Truncate(time.Second); {
			case len(nss) > 1:
				c.splits.Add(1)
				if err := list(ctx, nss[:len(nss)/2], from, to); err != nil {
					return err
				}
				return list(ctx, nss[len(nss)/2:], from, to)
			case to.Sub(from) > c.w.step:
				c.splits.Add(1)
				if err := list(ctx, nss, from, mid); err != nil {
					return err
				}
				return list(ctx, nss, mid, to)
			}
		}
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		unusable := map[string]int{}
		for _, ls := range sets {
			s := seriesOf(ls, c.o.Names.cadvisorLabels())
			if why := s.unusable(); why != "" {
				unusable[why]++
				continue
			}
			found[s] = true
		}
		for _, why := range sortedKeys(unusable) {
			c.skip(why, unusable[why])
		}
		return nil
	}
	n := (len(namespaces) + batch - 1) / batch
	err = c.forEach(ctx, n, func(ctx context.Context, i int) error {
		return list(ctx, namespaces[i*batch:min((i+1)*batch, len(namespaces))], from, to)
	})
	if err != nil {
		return nil, err
	}
	all := slices.Collect(maps.Keys(found))
	slices.SortFunc(all, podSeries.compare)
	return all, nil
}

// readOwners reads the owners of every group's pods over the whole window,
// then the owners of their ReplicaSets and Jobs. It returns the groups
// whose owners could be read; the others are reported as failed.
func (c *collector) readOwners(ctx context.Context, groups []group) (map[int]bool, error) {
	ok := map[int]bool{}
	var mu sync.Mutex
	span := time.Duration(c.w.n) * c.w.step
	err := c.forEach(ctx, len(groups), func(ctx context.Context, i int) error {
		g := groups[i]
		gm := g.matchers(c.o.Names.ksmLabels())
		pods, err := c.lastOver(ctx, "reading pod owners of "+g.String(), func(r time.Duration) string { return c.p.podOwners(gm, r) }, c.w.last(), span)
		if err == nil {
			var rsNames, jobNames []string
			for _, s := range pods {
				switch string(s.Metric["owner_kind"]) {
				case string(workload.ReplicaSet):
					rsNames = append(rsNames, string(s.Metric["owner_name"]))
				case string(workload.Job):
					jobNames = append(jobNames, string(s.Metric["owner_name"]))
				}
			}
			// ReplicaSets and Jobs carry no pod label: select them by
			// namespace and name.
			nsOnly := []Matcher{anyOf(c.o.Names.KSMNamespaceLabel, g.namespaces)}
			var rs, jobs model.Vector
			rs, err = c.ownersOf(ctx, "reading ReplicaSet owners of "+g.String(), c.o.Names.ReplicaSetOwner, "replicaset", nsOnly, uniqueSorted(rsNames), span)
			if err == nil {
				jobs, err = c.ownersOf(ctx, "reading Job owners of "+g.String(), c.o.Names.JobOwner, "job_name", nsOnly, uniqueSorted(jobNames), span)
			}
			if err == nil {
				n := c.o.Names
				nsl := model.LabelName(n.KSMNamespaceLabel)
				mu.Lock()
				for _, skipped := range []map[string]int{
					addOwners(c.owners.pods, pods, objectLabels{nsl, model.LabelName(n.KSMPodLabel), n.ClusterLabel}),
					addOwners(c.owners.replicaSets, rs, objectLabels{nsl, "replicaset", n.ClusterLabel}),
					addOwners(c.owners.jobs, jobs, objectLabels{nsl, "job_name", n.ClusterLabel}),
				} {
					for _, why := range sortedKeys(skipped) {
						c.skip(why, skipped[why])
					}
				}
				ok[g.id] = true
				mu.Unlock()
				return nil
			}
		}
		if errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
			return err
		}
		mu.Lock()
		c.failed = append(c.failed, ChunkError{Chunk: g.String() + ", whole window", Err: err})
		mu.Unlock()
		return nil
	})
	return ok, err
}

// ownersOf reads the owners of the named ReplicaSets or Jobs, a bounded
// number of names per query.
func (c *collector) ownersOf(ctx context.Context, what, metric, label string, g []Matcher, names []string, span time.Duration) (model.Vector, error) {
	var out model.Vector
	for _, part := range cutList(names, c.o.MaxSeries) {
		vec, err := c.lastOver(ctx, what, func(r time.Duration) string { return c.p.owners(metric, label, g, part, r) }, c.w.last(), span)
		if err != nil {
			return nil, err
		}
		out = append(out, vec...)
	}
	return out, nil
}

// lastOver runs an instant query over the range r ending at t, halving the
// range while the server finds it too large.
func (c *collector) lastOver(ctx context.Context, what string, expr func(r time.Duration) string, t time.Time, r time.Duration) (model.Vector, error) {
	vec, err := c.q.query(ctx, what, expr(r), t)
	if !errors.Is(err, ErrTooLarge) || r <= c.w.step {
		return vec, err
	}
	c.splits.Add(1)
	half := (r / 2).Truncate(c.w.step)
	a, err := c.lastOver(ctx, what, expr, t.Add(-half), r-half)
	if err != nil {
		return nil, err
	}
	b, err := c.lastOver(ctx, what, expr, t, half)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// readUsage reads every group's window, the groups Concurrency at a time,
// each group's chunks in time order so that every series is appended in
// order. A group's first chunk is sized for all its pod containers at
// once; later ones for as many as the previous chunks held per step, so a
// group of many short-lived pods (CronJobs) needs few requests. With a
// sink, a group that is a family of its own (families) gives the sink
// each chunk as it is read; the groups of a larger family share a store,
// given once their last group is read. The history held at once is then
// that of the chunks in flight and of the families split across groups,
// not the fleet's.
func (c *collector) readUsage(ctx context.Context, groups []group, all []podSeries) error {
	c.seen = map[podSeries]podSeen{}
	var (
		mu     sync.Mutex // guards the stores, failed, done and left
		done   int
		fam    []int
		size   map[int]int // groups of each family
		left   map[int]int // groups of each family not read yet
		stores map[int]*history.Store
	)
	if c.mode.sink == nil {
		c.store = history.NewStore()
	} else {
		fam = c.families(groups, all)
		size, left, stores = map[int]int{}, map[int]int{}, map[int]*history.Store{}
		for _, f := range fam {
			size[f]++
			left[f]++
		}
	}
	total := len(groups) * c.w.n
	err := c.forEach(ctx, len(groups), func(ctx context.Context, gi int) error {
		g := &groups[gi]
		store := c.store
		// A group with every pod of its workloads gives each chunk to
		// the sink as it comes (the chunks are in time order) and shares
		// no store.
		alone := false
		if fam != nil {
			mu.Lock()
			if alone = size[fam[gi]] == 1; alone {
				store = history.NewStore()
			} else if store = stores[fam[gi]]; store == nil {
				store = history.NewStore()
				stores[fam[gi]] = store
			}
			mu.Unlock()
		}
		steps := c.chunkSteps(initialSteps(g.series, c.o.MaxPoints))
		shapes := c.o.shapes()
		for start, index := 0, 0; start < c.w.n; index++ {
			ch := chunk{group: g, index: index, start: start, end: min(start+steps, c.w.n), shapes: shapes}
			parts, failed := c.fetch(ctx, ch)
			for _, f := range failed {
				if errors.Is(f.Err, ErrUnreachable) {
					return f.Err
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			perStep, cpu, shaped := 0, false, false
			mu.Lock()
			for _, d := range parts {
				c.load(d, store)
				perStep = max(perStep, (d.points+d.c.steps()-1)/d.c.steps())
				cpu, shaped = cpu || d.cpu, shaped || len(d.shapes) > 0
			}
			c.failed = append(c.failed, failed...)
			done += ch.steps()
			c.report.Report(progress.Update{Source: "prometheus", Done: done, Total: total, Detail: progress.Bytes(c.count.body.Load())})
			mu.Unlock()
			if alone && len(parts) > 0 {
				c.give(store)
				store = history.NewStore()
			}
			if len(parts) > 0 {
				steps = c.chunkSteps(nextSteps(steps, perStep, c.o.MaxPoints))
			}
			// A chunk with CPU rates over whole hours but no shape: the
			// group is scraped less often than the resolution, and the
			// server need not compute rates that are not there again.
			if shapes && cpu && !shaped && ch.hours(c) {
				shapes = false
			}
			start = ch.end
		}
		if fam != nil {
			mu.Lock()
			left[fam[gi]]--
			last := left[fam[gi]] == 0
			if last {
				delete(stores, fam[gi])
			}
			mu.Unlock()
			if last {
				c.give(store)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.store != nil {
		if dup := c.store.Finalize(); dup > 0 {
			c.skip("duplicate samples", dup)
		}
	}
	return nil
}

// give finalizes a family's store and hands it to the sink.
func (c *collector) give(store *history.Store) {
	c.sinkMu.Lock()
	defer c.sinkMu.Unlock()
	if dup := store.Finalize(); dup > 0 {
		c.skip("duplicate samples", dup)
	}
	c.held = max(c.held, store.Samples())
	c.sunk += c.mode.sink(store)
}

// samples counts the samples read: in the store, or given to the sink.
func (c *collector) samples() int {
	if c.store != nil {
		return c.store.Samples()
	}
	c.sinkMu.Lock()
	defer c.sinkMu.Unlock()
	return c.sunk
}

// families numbers the groups so that groups with pods of one workload
// share a number: a sink then takes each workload's history whole, in time
// order. Only the pod lists of one large namespace can share a workload;
// a group of whole namespaces is a family of its own.
func (c *collector) families(groups []group, all []podSeries) []int {
	parent := make([]int, len(groups))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	type nsPod struct{ namespace, pod string }
	listed := map[nsPod]int{}
	for i, g := range groups {
		for _, p := range g.pods {
			listed[nsPod{g.namespaces[0], p}] = i
		}
	}
	first := map[workload.Key]int{}
	for _, s := range all {
		gi, ok := listed[nsPod{s.namespace, s.pod}]
		if !ok {
			continue
		}
		wk, _ := c.owners.workloadOf(s.podName())
		if f, ok := first[wk]; ok {
			parent[find(gi)] = find(f)
		} else {
			first[wk] = gi
		}
	}
	out := make([]int, len(groups))
	for i := range out {
		out[i] = find(i)
	}
	return out
}

// unresolvedPods counts pods whose workload could not be resolved, each
// once.
func (c *collector) unresolvedPods(why resolution, pods map[nsName]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.unresolved
	for p := range pods {
		if !u.seen[p] {
			u.seen[p] = true
			u.count[why]++
		}
	}
}
