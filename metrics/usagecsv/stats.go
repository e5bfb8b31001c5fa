package usagecsv

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Stats counts the rows of a file: Read = Used + SkippedTotal().
type Stats struct {
	Read, Used int
	// Skipped counts skipped rows by reason (the Skip constants).
	Skipped map[string]int
}

// Skip records that n rows counted as used were dropped later for reason,
// such as duplicates found by the store after sorting: Used goes down by n.
func (s *Stats) Skip(reason string, n int) {
	if n <= 0 {
		return
	}
	if s.Skipped == nil {
		s.Skipped = make(map[string]int)
	}
	s.Skipped[reason] += n
	s.Used -= n
}

// SkippedTotal returns the number of skipped rows.
func (s Stats) SkippedTotal() int {
	n := 0
	for _, c := range s.Skipped {
		n += c
	}
	return n
}

// String summarizes the counts on one line, reasons by count, most first:
// "read 1000 rows, used 990, skipped 10 (6 unknown kind, 4 negative value)".
func (s Stats) String() string {
	var b strings.Builder
	rows := "rows"
	if s.Read == 1 {
		rows = "row"
	}
	fmt.Fprintf(&b, "read %d %s, used %d, skipped %d", s.Read, rows, s.Used, s.SkippedTotal())
	reasons := slices.SortedFunc(maps.Keys(s.Skipped), func(a, b string) int {
		return cmp.Or(cmp.Compare(s.Skipped[b], s.Skipped[a]), cmp.Compare(a, b))
	})
	sep := " ("
	for _, r := range reasons {
		if s.Skipped[r] == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s%d %s", sep, s.Skipped[r], r)
		sep = ", "
	}
	if sep == ", " {
		b.WriteString(")")
	}
	return b.String()
}
