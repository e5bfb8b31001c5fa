package usagecsv

import (
	"errors"
	"io"

	"rightsize.dev/rightsize/recommender/history"
)

// Load reads a whole usage file into a finalized history store. Duplicates
// the store drops are counted in the returned stats as SkipDuplicate.
func Load(r io.Reader, name string) (*history.Store, Stats, error) {
	cr, err := NewReader(r, name)
	if err != nil {
		return nil, Stats{}, err
	}
	st := history.NewStore()
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cr.Stats(), err
		}
		st.Add(row.Key, row.Sample)
	}
	stats := cr.Stats()
	if dup := st.Finalize(); dup > 0 {
		stats.Skip(SkipDuplicate, dup)
	}
	return st, stats, nil
}
