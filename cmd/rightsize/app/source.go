package app

import (
	"errors"
	"fmt"
	"io"
	"os"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender/history"
)

// usageData is history loaded from a usage CSV.
type usageData struct {
	name  string
	demo  bool
	store *history.Store
	stats usagecsv.Stats
}

// loadUsage reads a usage CSV file, or the embedded demo data when path is
// empty.
func loadUsage(path string) (*usageData, error) {
	var r io.Reader
	d := &usageData{name: path}
	if path == "" {
		r, d.name, d.demo = demo.Open(), demo.Name, true
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening usage file: %w", err)
		}
		defer f.Close()
		r = f
	}
	cr, err := usagecsv.NewReader(r, d.name)
	if err != nil {
		return nil, err
	}
	d.store = history.NewStore()
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		d.store.Add(row.Key, row.Sample)
	}
	d.stats = cr.Stats()
	if dup := d.store.Finalize(); dup > 0 {
		d.stats.Skip("duplicate", dup)
	}
	if d.store.Samples() == 0 {
		return nil, fmt.Errorf("%s: no usable samples (%s)", d.name, d.stats)
	}
	return d, nil
}

// describe is the one line said on stderr about the data.
func (d *usageData) describe() string {
	if d.demo {
		return "using " + demo.Description + " (no --input given); " + d.stats.String()
	}
	return d.name + ": " + d.stats.String()
}
