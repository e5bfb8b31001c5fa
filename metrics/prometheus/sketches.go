package prometheus

import (
	"context"
	"fmt"
	"time"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/livestate"
)

// neverExpire keeps every container the window holds, however long before
// its end the container stopped, as the samples' plan does.
const neverExpire = 100 * 365 * 24 * time.Hour

// loadSketches reads the window as Collect does, with every family of
// groups (the groups that share a workload) added to the containers'
// sketches and the workloads' loads as soon as it is read, and then
// dropped: memory grows with the containers and the groups in flight, not
// with the fleet's history. Each workload's samples come whole and in time
// order, so the sketches hold what one reading of the whole window would
// give them, and the server reads each series' window once, as Collect's
// queries do.
func (s Source) loadSketches(ctx context.Context, report progress.Func) (*recommender.Data, error) {
	o := s.Options
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	w := newWindow(o.End, o.History, o.Step)
	lo := *s.Sketches
	lo.ExpireAfter = neverExpire
	// The whole window's loads, as the samples' plan takes them.
	lo.LoadRetention = max(lo.LoadRetention, time.Duration(w.n+1)*o.Step)
	// The loads wait for the HPA recommendations in a file, not in memory.
	lo.SpillLoads = true
	st, err := livestate.New(lo)
	if err != nil {
		return nil, err
	}
	res, err := collect(ctx, o, report, s.Log, collectMode{sink: func(h *history.Store) int { return st.AddStore(h, nil) }})
	if err != nil {
		return nil, err
	}
	// Close the loads' last points: the window is all there is.
	st.Expire(res.Last.Add(time.Millisecond))
	d := &recommender.Data{
		Name: res.URL, States: st.States(), Snapshot: st.Snapshot(), Loads: st.Loads(), ForgetLoad: st.LoadForgetter(),
		Specs: res.Specs, HPAs: res.HPAs, HPAsKnown: res.HPAsKnown,
		Summary: res.Summary() + fmt.Sprintf("; read into sketches a workload's groups at a time (at most %d samples held)", res.Held),
	}
	for _, f := range res.Failed {
		d.Warnings = append(d.Warnings, "not read, its samples are missing: "+f.Error())
	}
	d.Warnings = append(d.Warnings, res.Warnings...)
	d.Warnings = append(d.Warnings, st.LoadWarnings()...)
	d.LoadsErr = st.LoadsErr()
	if n := st.Dropped(); n > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("%d samples came before a newer one of their container or workload and were left out", n))
	}
	return d, nil
}
