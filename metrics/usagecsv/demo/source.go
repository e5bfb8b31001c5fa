package demo

import (
	"context"
	"math"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender"
)

// Source is the demo data as a recommender.Source, read with Options.
type Source struct {
	Options usagecsv.Options
}

// Load implements recommender.Source. The demo marks its database critical
// (R8).
func (s Source) Load(ctx context.Context, _ progress.Func) (*recommender.Data, error) {
	o := s.Options
	// The demo's instants are fixed when it is generated: a machine whose
	// clock is behind them must still show it.
	o.Future = math.MaxInt64
	d, stats, err := o.LoadData(Open(), Name)
	if err != nil {
		return nil, err
	}
	d.Critical = Critical()
	d.Summary = "using " + Description + " (no --input given); " + stats.String()
	return d, ctx.Err()
}
