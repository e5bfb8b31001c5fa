package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
)

// stretchSamples bounds the samples one stretch of a reading into
// sketches holds at once: about 60 MB of samples, whatever the fleet.
const stretchSamples = 2_000_000

// firstStretchSteps is the first stretch's length, before the number of
// pod containers is known: 6 hours at 5-minute steps.
const firstStretchSteps = 72

// neverExpire keeps every container the window holds, however long before
// its end the container stopped, as the samples' plan does.
const neverExpire = 100 * 365 * 24 * time.Hour

// loadSketches reads the window a stretch at a time, oldest first, each
// stretch's samples added to the containers' sketches and the workloads'
// loads and then dropped: memory grows with the containers, not with the
// history. Every step is read once, in the stretch it falls in, so the
// sketches hold what one reading of the whole window would give them. The
// pod templates and HPAs are read with the last stretch, at the window's
// last step, as Collect reads them.
func (s Source) loadSketches(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	o := s.Options
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	url := RedactedURL(o.URL)
	w := newWindow(o.End, o.History, o.Step)
	if w.n == 0 {
		return nil, fmt.Errorf("prometheus %s: the window holds no %s step", url, o.Step)
	}
	lo := *s.Sketches
	lo.ExpireAfter = neverExpire
	// The whole window's loads, as the samples' plan takes them.
	lo.LoadRetention = max(lo.LoadRetention, time.Duration(w.n+1)*o.Step)
	st, err := livestate.New(lo)
	if err != nil {
		return nil, err
	}

	var (
		sum      = Result{URL: url, First: w.at(0), Last: w.last(), Step: w.step, Skipped: map[string]int{}}
		seen     = map[podSeries]time.Time{}
		shaped   = map[podSeries]bool{}
		notes    []string
		noted    = map[string]bool{}
		noData   error
		stretchN int
		ksmSeen  bool
		lastRead bool // the last stretch held usage and read the HPAs
	)
	unresolved := newUnresolvedPods()
	// count adds what one collection read and said to the sums.
	count := func(res *Result) {
		sum.Queries += res.Queries
		sum.Requests += res.Requests
		sum.Retries += res.Retries
		sum.Splits += res.Splits
		sum.BytesReceived += res.BytesReceived
		sum.BytesOnWire += res.BytesOnWire
		sum.Failed = append(sum.Failed, res.Failed...)
		for r, n := range res.Skipped {
			sum.Skipped[r] += n
		}
		for _, n := range res.notes {
			if !noted[n] {
				noted[n] = true
				notes = append(notes, n)
			}
		}
	}
	steps := min(firstStretchSteps, w.n)
	for start := 0; start < w.n; {
		end := min(start+steps, w.n)
		last := end == w.n
		co := o
		co.End, co.History = w.at(end-1), time.Duration(end-start)*o.Step
		stretchN++
		res, err := collect(ctx, co, stretchProgress(report, start, end, w.n, stretchN), log,
			collectMode{usageOnly: !last, unresolved: unresolved, whole: &w})
		if errors.Is(err, ErrNoData) && ctx.Err() == nil {
			// No pod ran in this stretch: read on.
			log.Debug("nothing to read", "from", w.at(start), "until", w.at(end-1), "reason", err)
			noData = err
			start = end
			continue
		}
		if err != nil {
			return nil, err
		}
		added := st.AddStore(res.Store, nil)
		log.Debug("read a stretch into sketches", "from", w.at(start), "until", w.at(end-1), "pod containers", res.Series, "samples", added)
		sum.Samples += added
		count(res)
		for p := range res.shaped {
			shaped[p] = true
		}
		for p, t := range res.seen {
			if t.After(seen[p]) {
				seen[p] = t
			}
		}
		ksmSeen = ksmSeen || res.ksmSeen
		if last {
			sum.Specs, sum.HPAs, sum.HPAsKnown = res.Specs, res.HPAs, res.HPAsKnown
			lastRead = true
		}
		if res.Series > 0 {
			budget := s.stretchSamples
			if budget <= 0 {
				budget = stretchSamples
			}
			steps = max(budget/res.Series, 1)
		}
		start = end
	}
	if sum.Samples == 0 {
		if len(sum.Failed) > 0 {
			return nil, fmt.Errorf("prometheus %s: no samples read: every chunk failed, the first: %w", url, sum.Failed[0])
		}
		if noData == nil {
			noData = noDataError("no samples in the window")
		}
		return nil, fmt.Errorf("prometheus %s: %w", url, noData)
	}
	if !lastRead {
		// No pod ran in the last stretch: its templates are none, as a
		// reading at once would find, but the HPAs are still there to read.
		co := o
		co.End, co.History = w.last(), o.Step
		res, err := collect(ctx, co, nil, log, collectMode{hpasOnly: true, ksmSeen: ksmSeen})
		if err != nil {
			return nil, err
		}
		sum.HPAs, sum.HPAsKnown = res.HPAs, res.HPAsKnown
		count(res)
	}
	// Close the loads' last points: the window is all there is.
	st.Expire(w.last().Add(time.Millisecond))

	sum.Series, sum.Shaped = len(seen), len(shaped)
	if o.shapes() {
		sum.CPUResolution = o.CPUResolution
	}
	if o.Names.ClusterLabel != "" {
		sum.Clusters = []string{}
		for p := range seen {
			sum.Clusters = append(sum.Clusters, p.cluster)
		}
		sum.Clusters = uniqueSorted(sum.Clusters)
	}
	d := &recommender.Data{
		Name: url, States: st.States(), Snapshot: st.Snapshot(), Loads: st.Loads(),
		Specs: sum.Specs, HPAs: sum.HPAs, HPAsKnown: sum.HPAsKnown,
		Summary: sum.Summary() + fmt.Sprintf("; read in %d stretches into sketches", stretchN),
	}
	for _, f := range sum.Failed {
		d.Warnings = append(d.Warnings, "not read, its samples are missing: "+f.Error())
	}
	d.Warnings = append(d.Warnings, notes...)
	d.Warnings = append(d.Warnings, countWarnings(unresolved.count, sum.Skipped)...)
	if n := st.Dropped(); n > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d samples came before a newer one of their container or workload and were left out", n))
	}
	return d, nil
}

// stretchProgress reports a stretch's progress as steps of the whole
// window: the stretch [start, end) of n steps, the k-th read.
func stretchProgress(report progress.Func, start, end, n, k int) progress.Func {
	if report == nil {
		return nil
	}
	return func(u progress.Update) {
		done := start
		if u.Total > 0 {
			done += (end - start) * min(u.Done, u.Total) / u.Total
		}
		report(progress.Update{Source: u.Source, Done: done, Total: n, Detail: fmt.Sprintf("stretch %d, %s", k, u.Detail)})
	}
}
