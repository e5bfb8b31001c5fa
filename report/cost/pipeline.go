package cost

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender"
)

// FromPipeline builds the report from what p loaded into d: the plans at
// the period's end and a period before it (for the change), made by p
// from one load, with d's history, specs and HPAs. in holds the rest
// (title, prices, period, grouping); its End, when set, ends the period,
// else PeriodEnd does with now.
//
// A history read into sketches (d.States) needs its Snapshot at the
// previous period's end and in.Meter, the usage metered as it was read,
// for that same period; a history of samples is metered here, and
// in.Meter is not read.
func FromPipeline(ctx context.Context, p *recommender.Pipeline, d *recommender.Data, in Input, now time.Time) (*Report, error) {
	end, hpaSource := PeriodEnd(d, in.End, now)
	plan, err := p.Plan(ctx, d, end)
	if err != nil {
		return nil, err
	}
	before := d
	if d.States != nil {
		if d.Snapshot == nil || in.Meter == nil {
			return nil, fmt.Errorf("%s: a history read into sketches needs its snapshot at the previous period's end and its metered usage", d.Name)
		}
		// The same data as of the previous period's end.
		prev := *d
		prev.States = d.Snapshot
		before = &prev
	} else {
		// Samples: metered from the store, whatever a reading into
		// sketches given up on (an out-of-order file) metered.
		in.Meter = nil
	}
	previous, err := p.Plan(ctx, before, end.Add(-in.Period))
	if err != nil {
		return nil, err
	}
	in.Source, in.Store, in.Specs, in.HPAs, in.HPASource = d.Name, d.Store, d.Specs, d.HPAs, hpaSource
	in.Plan, in.Previous, in.End = plan, previous, end
	rep, err := Build(in)
	if err != nil {
		return nil, fmt.Errorf("building report: %w", err)
	}
	return rep, nil
}

// PeriodEnd returns the end of the report period and, for sources that
// did not say which HPAs exist (HPAsKnown), why none are known. end, when
// set, is the end. Else a recorded history's "now" is its newest sample,
// rounded up to the full hour so that days start on the hour; a live
// source's is now.
func PeriodEnd(d *recommender.Data, end, now time.Time) (time.Time, string) {
	live := !d.Recorded
	hpaSource := "usage file; pass --hpa"
	switch {
	case d.HPAsKnown:
		hpaSource = ""
	case live:
		hpaSource = "no cluster configured and no kube-state-metrics HPA series; pass --hpa"
	}
	if !end.IsZero() {
		return end.UTC(), hpaSource
	}
	if live {
		return now.UTC(), hpaSource
	}
	var last time.Time
	if d.States != nil {
		last = d.States.Last()
	} else {
		_, last = d.Store.Span()
	}
	return RecordedEnd(last), hpaSource
}

// RecordedEnd is the end of a recorded history's report period whose
// newest sample is at last: the full hour after it, so that days start on
// the hour.
func RecordedEnd(last time.Time) time.Time {
	return last.UTC().Truncate(time.Hour).Add(time.Hour)
}

// ReadWebhookURL reads the webhook's URL from the file at path, which
// keeps it out of the command line and the process list.
func ReadWebhookURL(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading webhook URL: %w", err)
	}
	u := strings.TrimSpace(string(raw))
	if u == "" {
		return "", fmt.Errorf("%s: no webhook URL in the file", path)
	}
	return u, nil
}
