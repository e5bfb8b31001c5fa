package usagecsv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender"
)

// File is a usage file as a recommender.Source: rows outside the bounds of
// Options are skipped and counted in the summary.
type File struct {
	Path    string
	Options Options
	// Log, when set, gets at debug level (-v) the lines of the first rows
	// skipped for each reason.
	Log *slog.Logger
}

// Load implements recommender.Source.
func (f File) Load(ctx context.Context, _ progress.Func) (*recommender.Data, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("opening usage file: %w", err)
	}
	defer file.Close()
	d, stats, err := f.Options.LoadData(file, f.Path)
	if err != nil {
		return nil, err
	}
	d.Summary = f.Path + ": " + stats.String()
	if f.Log != nil {
		for _, line := range stats.Details() {
			f.Log.Debug("skipped rows", "file", f.Path, "rows", line)
		}
	}
	return d, ctx.Err()
}

// LoadData reads a whole usage file as a run's data: recorded history with
// no specs. A file without one usable sample is an error naming the file
// and saying what was skipped.
func (o Options) LoadData(r io.Reader, name string) (*recommender.Data, Stats, error) {
	store, stats, err := o.Load(r, name)
	if err != nil {
		return nil, stats, err
	}
	if store.Samples() == 0 {
		return nil, stats, fmt.Errorf("%s: no usable samples (%s)", name, stats)
	}
	return &recommender.Data{Name: name, Store: store, Recorded: true}, stats, nil
}
