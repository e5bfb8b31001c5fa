package usagecsv

import (
	"errors"
	"fmt"
	"io"
	"time"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
)

// ErrOutOfOrder says a usage file's rows are not in time order per pod
// container (nor, within a workload, roughly in time order overall): the
// sketches of LoadSketches cannot take them, the samples of Load can.
var ErrOutOfOrder = errors.New("rows not in time order per pod container")

// neverExpire keeps every container a file holds, however long before
// the file's end its samples stopped, as the samples' plan does.
const neverExpire = 100 * 365 * 24 * time.Hour

// loadRetention is the span of aggregate load a sketched file keeps: a
// year, the most a load state holds at minute steps.
const loadRetention = 365 * 24 * time.Hour

// LoadSketches reads a whole usage file into the history a controller
// keeps — each workload container's sketches and each workload's aggregate
// load — instead of every sample: memory grows with the containers, not
// with the rows. The recommendations match the samples' within the
// sketches' error (history.Accumulator). The rows must come in time order
// per pod container, and within a workload roughly in time order (within
// hpa.Lateness, or a step): a file exported series by series of workloads
// of several pods, or shuffled, is ErrOutOfOrder, and the caller reads it
// again with Load. Skips and duplicates are counted as Load counts them,
// but a duplicate is told by the count alone.
func (o Options) LoadSketches(r io.Reader, name string, lo livestate.Options) (*recommender.Data, Stats, error) {
	cr, err := o.NewReader(r, name)
	if err != nil {
		return nil, Stats{}, err
	}
	lo.ExpireAfter = neverExpire
	if lo.LoadRetention == 0 {
		// The whole file, as the samples' aggregate load takes it: a
		// point is 3–4 bytes, allocated as the history grows.
		lo.LoadRetention = loadRetention
	}
	// The loads wait for the HPA recommendations in a file, not in memory.
	lo.SpillLoads = true
	st, err := livestate.New(lo)
	if err != nil {
		return nil, Stats{}, err
	}
	var dups duplicates
	// Each pod container's sink into the state, by the reader's number for
	// it. A row that repeats its newest time is a duplicate, skipped as
	// Load skips it; one before it ends this way of reading.
	var sinks []*livestate.Sink
	var row Row
	for {
		err := cr.readInto(&row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cr.Stats(), err
		}
		id := cr.Series()
		for len(sinks) <= id {
			sinks = append(sinks, nil)
		}
		sk := sinks[id]
		if sk == nil {
			sk = st.Sink(row.Key)
			sinks[id] = sk
		}
		switch t := row.Sample.Time.UnixMilli(); {
		case t == sk.Last():
			if err := dups.add(o, cr, name); err != nil {
				return nil, cr.Stats(), err
			}
			continue
		case t < sk.Last():
			return nil, cr.Stats(), fmt.Errorf("%s:%d: %w", untrusted.Escape(name), cr.Line(), ErrOutOfOrder)
		}
		sk.Add(row.Sample)
	}
	stats := cr.Stats()
	dups.count(&stats)
	if stats.Used == 0 {
		return nil, stats, fmt.Errorf("%s: no usable samples (%s)", untrusted.Escape(name), stats)
	}
	for _, k := range sinks {
		if k != nil {
			k.Done()
		}
	}
	// Close the loads' last points: the file is all there is.
	st.Expire(st.States().Last().Add(time.Millisecond))
	if n := st.Dropped(); n > 0 {
		return nil, stats, fmt.Errorf("%s: %w (%d samples came before a newer one of theirs)", untrusted.Escape(name), ErrOutOfOrder, n)
	}
	return &recommender.Data{Name: name, States: st.States(), Snapshot: st.Snapshot(), Loads: st.Loads(), ForgetLoad: st.LoadForgetter(),
		LoadsErr: st.LoadsErr(), Warnings: st.LoadWarnings(), Recorded: true}, stats, nil
}
