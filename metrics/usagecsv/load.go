package usagecsv

import (
	"errors"
	"fmt"
	"io"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/history"
)

// Load reads a whole usage file with DefaultOptions; see Options.Load.
func Load(r io.Reader, name string) (*history.Store, Stats, error) {
	return DefaultOptions().Load(r, name)
}

// Load reads a whole usage file into a finalized history store. Duplicates
// the store drops are counted in the returned stats as SkipDuplicate: a row
// repeating the timestamp of its pod container's previous row is dropped as
// it arrives, with its line (the first ListedLines of them kept for -v), so
// that a file of one row repeated costs no memory; other duplicates are
// found by sorting, without a line. With Strict a duplicate is an error, as
// any other row that would be skipped: one found as it arrives names its
// line, one found by sorting only the count.
func (o Options) Load(r io.Reader, name string) (*history.Store, Stats, error) {
	cr, err := o.NewReader(r, name)
	if err != nil {
		return nil, Stats{}, err
	}
	st := history.NewStore()
	var dups duplicates
	// The store's series by the reader's number for them: one lookup a
	// series, not one a row.
	var series []*history.Series
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cr.Stats(), err
		}
		id := cr.Series()
		for len(series) <= id {
			series = append(series, nil)
		}
		s := series[id]
		if s == nil || id == 0 {
			s = st.SeriesOf(row.Key, row.Sample.Pod)
			series[id] = s
		}
		if !st.RecordTo(s, row.Sample) {
			if err := dups.add(o, cr, name); err != nil {
				return nil, cr.Stats(), err
			}
		}
	}
	stats := cr.Stats()
	dups.count(&stats)
	if sorted := st.Finalize() - dups.n; sorted > 0 {
		if o.Strict {
			what := "rows repeat"
			if sorted == 1 {
				what = "row repeats"
			}
			return nil, stats, fmt.Errorf("%s: %d %s the pod, container and timestamp of another (--strict skips no row)",
				untrusted.Escape(name), sorted, what)
		}
		stats.Skip(SkipDuplicate, sorted)
	}
	return st, stats, nil
}

// duplicates counts the rows that repeat the pod, container and timestamp
// of the row before them of their pod container, keeping the first lines.
type duplicates struct {
	n     int
	lines []int
}

// add counts the row cr read last; with --strict it is the error instead.
func (d *duplicates) add(o Options, cr *Reader, name string) error {
	if o.Strict {
		return &ParseError{File: name, Line: cr.Line(),
			Err: fmt.Errorf("%s: the same pod, container and timestamp as the row before it (--strict skips no row)", SkipDuplicate)}
	}
	if len(d.lines) < ListedLines {
		d.lines = append(d.lines, cr.Line())
	}
	d.n++
	return nil
}

// count adds them to the reader's stats, with their first lines.
func (d *duplicates) count(stats *Stats) {
	if len(d.lines) == 0 {
		return
	}
	stats.SkipAt(SkipDuplicate, d.n, d.lines[0])
	if stats.Lines == nil {
		stats.Lines = make(map[string][]int)
	}
	stats.Lines[SkipDuplicate] = d.lines
}
