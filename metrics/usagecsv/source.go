package usagecsv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/livestate"
)

// File is a usage file as a recommender.Source: rows outside the bounds of
// Options are skipped and counted in the summary.
type File struct {
	Path    string
	Options Options
	// Log, when set, gets at debug level (-v) the lines of the first rows
	// skipped for each reason.
	Log *slog.Logger
	// Sketches, when set, reads the file into sketches (LoadSketches)
	// with these options instead of keeping every sample; a file whose
	// rows are not in time order is read again as samples, and a warning
	// says so.
	Sketches *livestate.Options
}

// Load implements recommender.Source.
func (f File) Load(ctx context.Context, _ progress.Func) (*recommender.Data, error) {
	var warnings []string
	if f.Sketches != nil {
		d, stats, err := f.loadSketches()
		if err == nil {
			f.summarize(d, stats)
			return d, ctx.Err()
		}
		if !errors.Is(err, ErrOutOfOrder) {
			return nil, err
		}
		warnings = append(warnings, err.Error()+": read again keeping every sample, memory growing with the rows")
	}
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("opening usage file: %w", err)
	}
	defer file.Close()
	d, stats, err := f.Options.LoadData(file, f.Path)
	if err != nil {
		return nil, err
	}
	d.Warnings = append(warnings, d.Warnings...)
	f.summarize(d, stats)
	return d, ctx.Err()
}

// Newest returns the time of the file's newest row that Load would use:
// a reader into sketches that must know where the file ends before it
// reads it (a report's period) reads it once for this.
func (f File) Newest() (time.Time, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return time.Time{}, fmt.Errorf("opening usage file: %w", err)
	}
	defer file.Close()
	cr, err := f.Options.NewReader(file, f.Path)
	if err != nil {
		return time.Time{}, err
	}
	var newest time.Time
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return time.Time{}, err
		}
		if row.Sample.Time.After(newest) {
			newest = row.Sample.Time
		}
	}
	if newest.IsZero() {
		return time.Time{}, fmt.Errorf("%s: no usable samples (%s)", untrusted.Escape(f.Path), cr.Stats())
	}
	return newest, nil
}

func (f File) loadSketches() (*recommender.Data, Stats, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("opening usage file: %w", err)
	}
	defer file.Close()
	return f.Options.LoadSketches(file, f.Path, *f.Sketches)
}

// summarize says what was read: the summary line, and at debug level the
// lines of the first rows skipped for each reason.
func (f File) summarize(d *recommender.Data, stats Stats) {
	d.Summary = f.Path + ": " + stats.String()
	if f.Log != nil {
		for _, line := range stats.Details() {
			f.Log.Debug("skipped rows", "file", f.Path, "rows", line)
		}
	}
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
