package cost

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format names an output format of the report.
type Format string

// The report formats.
const (
	HTML     Format = "html"
	Markdown Format = "markdown"
	CSV      Format = "csv"
	JSON     Format = "json"
)

// Formats lists every format, the default first.
var Formats = []Format{Markdown, HTML, CSV, JSON}

// ParseFormat returns the format named s (case-insensitive; "md" and "htm"
// are accepted).
func ParseFormat(s string) (Format, error) {
	switch name := strings.ToLower(strings.TrimSpace(s)); name {
	case "md":
		return Markdown, nil
	case "htm":
		return HTML, nil
	default:
		for _, f := range Formats {
			if string(f) == name {
				return f, nil
			}
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown report format %q: valid formats are %s", s, strings.Join(names, ", "))
}

// FormatForFile guesses the format from a file name's extension; false
// when the extension names none.
func FormatForFile(name string) (Format, bool) {
	ext := strings.TrimPrefix(filepath.Ext(name), ".")
	if ext == "" {
		return "", false
	}
	f, err := ParseFormat(ext)
	return f, err == nil
}

// Write writes r to w in format f.
func Write(w io.Writer, r *Report, f Format) error {
	var err error
	switch f {
	case HTML:
		err = WriteHTML(w, r)
	case Markdown:
		err = WriteMarkdown(w, r)
	case CSV:
		err = WriteCSV(w, r)
	case JSON:
		err = WriteJSON(w, r)
	default:
		return fmt.Errorf("unknown report format %q", f)
	}
	if err != nil {
		return fmt.Errorf("writing %s report: %w", f, err)
	}
	return nil
}
