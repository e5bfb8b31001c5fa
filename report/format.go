package report

import (
	"fmt"
	"io"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// Format names an output format for a plan.
type Format string

// The plan formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	YAML     Format = "yaml"
	CSV      Format = "csv"
	Markdown Format = "markdown"
)

// PlanFormats lists every format WritePlan accepts, the default first.
var PlanFormats = []Format{Table, JSON, YAML, CSV, Markdown}

// ParseFormat returns the format named s (case-insensitive; "md" and "yml"
// are accepted as aliases).
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch name {
	case "md":
		return Markdown, nil
	case "yml":
		return YAML, nil
	}
	for _, f := range PlanFormats {
		if string(f) == name {
			return f, nil
		}
	}
	names := make([]string, len(PlanFormats))
	for i, f := range PlanFormats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown output format %q: valid formats are %s", s, strings.Join(names, ", "))
}

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
		err = writeJSON(w, NewPlanDocument(p))
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
