package report

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// Format names an output format: one family for every command, each of
// which writes a subset (Formats).
type Format string

// The output formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	YAML     Format = "yaml"
	CSV      Format = "csv"
	Markdown Format = "markdown"
	HTML     Format = "html"
)

// aliases are other names ParseFormat accepts, for the formats a command
// allows.
var aliases = map[string]Format{"md": Markdown, "yml": YAML, "htm": HTML}

// Formats is the set of formats one command writes.
type Formats struct {
	// Noun names the output in errors ("output", "report").
	Noun string
	// List holds every format, the default first.
	List []Format
}

var (
	// PlanOutput is what rightsize plan writes (WritePlan).
	PlanOutput = Formats{Noun: "output", List: []Format{Table, JSON, YAML, CSV, Markdown}}
	// CostOutput is what rightsize report writes (report/cost).
	CostOutput = Formats{Noun: "report", List: []Format{Markdown, HTML, CSV, JSON}}
)

// PlanFormats lists every format WritePlan accepts, the default first.
var PlanFormats = PlanOutput.List

// Parse returns the format named s among the set (case-insensitive; "md",
// "yml" and "htm" are accepted as aliases).
func (fs Formats) Parse(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	f, ok := aliases[name]
	if !ok {
		f = Format(name)
	}
	if slices.Contains(fs.List, f) {
		return f, nil
	}
	names := make([]string, len(fs.List))
	for i, f := range fs.List {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown %s format %q: valid formats are %s", fs.Noun, s, strings.Join(names, ", "))
}

// ForFile guesses the format from a file name's extension; false when the
// extension names none of the set.
func (fs Formats) ForFile(name string) (Format, bool) {
	ext := strings.TrimPrefix(filepath.Ext(name), ".")
	if ext == "" {
		return "", false
	}
	f, err := fs.Parse(ext)
	return f, err == nil
}

// ParseFormat returns the plan format named s (see Formats.Parse).
func ParseFormat(s string) (Format, error) { return PlanOutput.Parse(s) }

// WritePlan writes p to w in format f. A plan holding a negative amount or
// a confidence outside [0, 1] is refused before anything is written.
func WritePlan(w io.Writer, p workload.Plan, f Format) error {
	switch f {
	case Table, JSON, YAML, CSV, Markdown:
		if err := checkPlan(p); err != nil {
			return fmt.Errorf("write %s plan: %w", f, err)
		}
	}
	var err error
	switch f {
	case Table:
		err = writeTable(w, p)
	case JSON:
		err = writeJSON(w, p)
	case YAML:
		err = writeYAML(w, NewPlanDocument(p))
	case CSV:
		err = writeCSV(w, p)
	case Markdown:
		err = writeMarkdown(w, p)
	default:
		// Accept aliases and other spellings ParseFormat knows.
		parsed, perr := ParseFormat(string(f))
		if perr != nil {
			return perr
		}
		return WritePlan(w, p, parsed)
	}
	if err != nil {
		return fmt.Errorf("write %s plan: %w", f, err)
	}
	return nil
}
