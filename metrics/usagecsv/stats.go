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
	// Skipped counts skipped rows by reason (the Skip constants and the
	// reasons of Options).
	Skipped map[string]int
	// First holds the line of the first row skipped for each reason, where
	// it is known: duplicates that only sorting finds have no line.
	First map[string]int
	// Lines holds the lines of the first ListedLines rows skipped for each
	// reason by the reader, for -v.
	Lines map[string][]int
}

// ListedLines is how many lines of skipped rows Stats keeps per reason.
const ListedLines = 5

// Details lists, one line per reason, the lines of the first rows skipped
// for it: "unknown kind at lines 17, 20, 33, 41, 52 and 3 more".
func (s Stats) Details() []string {
	reasons := slices.Sorted(maps.Keys(s.Lines))
	var out []string
	for _, r := range reasons {
		lines := s.Lines[r]
		if len(lines) == 0 || s.Skipped[r] == 0 {
			continue
		}
		parts := make([]string, len(lines))
		for i, l := range lines {
			parts[i] = fmt.Sprint(l)
		}
		word := "lines"
		if len(lines) == 1 {
			word = "line"
		}
		d := fmt.Sprintf("%s at %s %s", r, word, strings.Join(parts, ", "))
		if more := s.Skipped[r] - len(lines); more > 0 {
			d += fmt.Sprintf(" and %d more", more)
		}
		out = append(out, d)
	}
	return out
}

// Skip records that n rows counted as used were dropped later for reason,
// at lines not known, such as duplicates found by the store after sorting:
// Used goes down by n. A line kept in First for reason may no longer name
// the first such row, so it is forgotten.
func (s *Stats) Skip(reason string, n int) { s.SkipAt(reason, n, 0) }

// SkipAt is Skip for n rows of which the first is at line first.
func (s *Stats) SkipAt(reason string, n, first int) {
	if n <= 0 {
		return
	}
	if s.Skipped == nil {
		s.Skipped = make(map[string]int)
	}
	switch f, known := s.First[reason]; {
	case first <= 0:
		delete(s.First, reason)
	case s.Skipped[reason] == 0:
		if s.First == nil {
			s.First = make(map[string]int)
		}
		s.First[reason] = first
	case known && first < f:
		s.First[reason] = first
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

// String summarizes the counts on one line, reasons by count, most first,
// then the first line of each reason where known: "read 1000 rows, used 990,
// skipped 10 (6 unknown kind, 4 negative value): first unknown kind at line
// 17, first negative value at line 230".
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
	reasons = slices.DeleteFunc(reasons, func(r string) bool { return s.Skipped[r] == 0 })
	for i, r := range reasons {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%d %s", sep, s.Skipped[r], r)
	}
	if len(reasons) > 0 {
		b.WriteString(")")
	}
	sep := ": "
	for _, r := range reasons {
		if line, ok := s.First[r]; ok && line > 0 {
			fmt.Fprintf(&b, "%sfirst %s at line %d", sep, r, line)
			sep = ", "
		}
	}
	return b.String()
}
