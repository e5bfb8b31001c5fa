package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"rightsize.dev/rightsize/recommender/history"
)

// Follower reads what Collect reads a stretch of time at a time, for a
// process that runs on (the controller): each Read asks only for the steps
// completed since the last one read, so the queries do not grow with the
// history kept, and the samples of at most MaxRange are held at once while
// it catches up.
type Follower struct {
	// Options are the collection's; End and History are the follower's.
	Options Options
	// Delay is how long after a step ends it is read: the time a scrape
	// takes to reach the store, so that a step is read whole (default 1
	// minute).
	Delay time.Duration
	// MaxRange bounds the time one collection reads (default 1 hour).
	MaxRange time.Duration
	// MaxTries is how often a stretch with failed chunks is read again
	// before what was read of it is taken and the rest given up (default
	// 3): a histogram must not count a step twice, so a stretch is added
	// whole or, at the last try, as it is.
	MaxTries int
	Log      *slog.Logger

	// tries counts the reads of the stretch starting at failedFrom.
	tries      int
	failedFrom time.Time
	// noShapes is set once a whole hour read held CPU usage but no CPU
	// shape: the server has no short-window rates, and the follower reads
	// step by step without them.
	noShapes bool
}

// Defaults of the Follower.
const (
	DefaultFollowDelay    = time.Minute
	DefaultFollowMaxRange = time.Hour
	DefaultFollowMaxTries = 3
)

// FollowStats say what one Read did.
type FollowStats struct {
	// Collections counts the stretches read; Samples the samples given.
	Collections, Samples int
	// Queries, BytesReceived as in Result, summed.
	Queries       int
	BytesReceived int64
	// Warnings are the collections' warnings and the chunks given up.
	Warnings []string
}

// floorHour is the start of t's hour on the shapes' grid.
func floorHour(t time.Time) time.Time {
	h := history.ShapeSpan.Milliseconds()
	return time.UnixMilli(floorDiv(t.UnixMilli(), h) * h).UTC()
}

// Source names the server (without credentials), the step and the
// selection a cursor of this follower was made with: a state read with
// another source does not hold this one's steps.
func (f *Follower) Source() string {
	o := f.Options.withDefaults()
	s := "prometheus " + RedactedURL(o.URL) + " step " + o.Step.String()
	if o.Selector != "" {
		s += " selector " + o.Selector
	}
	if o.Names.ClusterLabel != "" {
		s += " cluster label " + o.Names.ClusterLabel
	}
	if len(o.Clusters) > 0 {
		s += fmt.Sprintf(" clusters %q", uniqueSorted(o.Clusters))
	}
	return s
}

// Step is the resolution read.
func (f *Follower) Step() time.Duration { return f.Options.withDefaults().Step }

// Align returns the last step at or before t: a cursor for "read nothing
// before t".
func (f *Follower) Align(t time.Time) time.Time {
	s := f.Step().Milliseconds()
	return time.UnixMilli(floorDiv(t.UnixMilli(), s) * s).UTC()
}

// Read collects the steps after since (a step's time, as Align gives) up
// to the last step ended Delay before now, MaxRange at a time, and gives
// each collection's result to add, oldest first. It returns the step read
// until: since when there was nothing new, and the last step given
// otherwise. A stretch without usage (no pods ran) is read past. An error
// stops the reading at the stretch it could not read, which the next Read
// starts with; what was given before it stays given. A stretch that fails
// MaxTries reads in a row for another reason than an unreachable server is
// given as far as it was read, and the rest named in the warnings.
func (f *Follower) Read(ctx context.Context, since, now time.Time, add func(*Result)) (time.Time, FollowStats, error) {
	var st FollowStats
	o := f.Options.withDefaults()
	delay, maxRange, maxTries := f.Delay, f.MaxRange, f.MaxTries
	if delay <= 0 {
		delay = DefaultFollowDelay
	}
	if maxRange < o.Step {
		maxRange = max(DefaultFollowMaxRange, o.Step)
	}
	if maxTries <= 0 {
		maxTries = DefaultFollowMaxTries
	}
	maxRange -= maxRange % o.Step
	since = f.Align(since)
	last := f.Align(now.Add(-delay))
	// With CPU shapes, whole hours are read: an hour's shape stands for
	// its samples, so they are read together, once the hour has ended.
	// The history then lags the store by up to an hour.
	shapes := o.shapes() && !f.noShapes
	if shapes {
		last = f.Align(floorHour(last))
	}
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for since.Before(last) {
		if err := ctx.Err(); err != nil {
			return since, st, err
		}
		end := since.Add(maxRange)
		if h := floorHour(end); shapes && h.After(since) {
			end = f.Align(h)
		}
		if end.After(last) {
			end = last
		}
		co := o
		co.End, co.History = end, end.Sub(since)
		if !shapes {
			co.CPUResolution = -1
		}
		res, err := Collect(ctx, co, nil, log)
		if shapes && err == nil && res.Samples > 0 && res.Shaped == 0 {
			if h := hoursWithin(newWindow(co.End, co.History, co.Step)); h.first <= h.last {
				log.Info("no short-window CPU rates in a whole hour: following step by step, CPU percentiles of the steps' means",
					"resolution", o.CPUResolution, "from", since, "until", end)
				f.noShapes, shapes = true, false
				last = f.Align(now.Add(-delay))
			}
		}
		if errors.Is(err, ErrNoData) {
			log.Debug("nothing to read", "from", since, "until", end, "reason", err)
			since = end
			continue
		}
		var failed []ChunkError
		switch {
		case err != nil && (errors.Is(err, ErrUnreachable) || ctx.Err() != nil):
			// The server is away, not the stretch bad: wait for it.
			return since, st, err
		case err != nil:
			failed = []ChunkError{{Chunk: since.Format(time.RFC3339) + " to " + end.Format(time.RFC3339), Err: err}}
		default:
			failed = res.Failed
		}
		if len(failed) > 0 {
			if !f.failedFrom.Equal(since) {
				f.failedFrom, f.tries = since, 0
			}
			f.tries++
			if f.tries < maxTries {
				return since, st, fmt.Errorf("reading %s to %s (try %d of %d): %d chunks failed, the first: %w",
					since.Format(time.RFC3339), end.Format(time.RFC3339), f.tries, maxTries, len(failed), failed[0])
			}
			for _, c := range failed {
				st.Warnings = append(st.Warnings, fmt.Sprintf("given up after %d tries: %v", f.tries, c))
			}
		}
		f.failedFrom, f.tries = time.Time{}, 0
		if res == nil {
			since = end
			continue
		}
		st.Collections++
		st.Queries += res.Queries
		st.BytesReceived += res.BytesReceived
		st.Warnings = append(st.Warnings, res.Warnings...)
		add(res)
		st.Samples += res.Samples
		since = end
	}
	return since, st, nil
}
