package usagecsv

import (
	"errors"
	"io"

	"rightsize.dev/rightsize/recommender/history"
)

// Load reads a whole usage file with DefaultOptions; see Options.Load.
func Load(r io.Reader, name string) (*history.Store, Stats, error) {
	return DefaultOptions().Load(r, name)
}

// Load reads a whole usage file into a finalized history store. Duplicates
// the store drops are counted in the returned stats as SkipDuplicate: a row
// repeating the timestamp of its pod container's previous row is dropped as
// it arrives, with its line, so that a file of one row repeated costs no
// memory; other duplicates are found by sorting, without a line.
func (o Options) Load(r io.Reader, name string) (*history.Store, Stats, error) {
	cr, err := o.NewReader(r, name)
	if err != nil {
		return nil, Stats{}, err
	}
	st := history.NewStore()
	dups, first := 0, 0
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cr.Stats(), err
		}
		if !st.Record(row.Key, row.Sample) {
			if dups == 0 {
				first = cr.Line()
			}
			dups++
		}
	}
	stats := cr.Stats()
	stats.SkipAt(SkipDuplicate, dups, first)
	if sorted := st.Finalize() - dups; sorted > 0 {
		stats.Skip(SkipDuplicate, sorted)
	}
	return st, stats, nil
}
