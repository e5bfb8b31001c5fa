package prometheus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
)

var (
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// Matcher is one label matcher of a series selector.
type Matcher struct {
	Name  string
	Op    string // =, !=, =~ or !~
	Value string
}

func (m Matcher) String() string { return m.Name + m.Op + strconv.Quote(m.Value) }

// ParseSelector parses label matchers as written inside a PromQL selector's
// braces: `cluster="prod", namespace=~"shop|cart"`. Braces around the list
// are allowed. Regular expressions are checked with Go's regexp, which
// accepts what Prometheus accepts.
func ParseSelector(s string) ([]Matcher, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var out []Matcher
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 {
			return nil, fmt.Errorf("expected a label name at %s", untrusted.Quote(s, untrusted.MaxQuoted))
		}
		m := Matcher{Name: s[:i]}
		s = strings.TrimLeft(s[i:], " \t")
		for _, op := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(s, op) {
				m.Op = op
				break
			}
		}
		if m.Op == "" {
			return nil, fmt.Errorf("label %s: expected =, !=, =~ or !~", untrusted.Clip(m.Name, untrusted.MaxQuoted))
		}
		s = strings.TrimLeft(s[len(m.Op):], " \t")
		if s == "" || !strings.ContainsRune("\"'`", rune(s[0])) {
			return nil, fmt.Errorf("label %s: expected a quoted value", untrusted.Clip(m.Name, untrusted.MaxQuoted))
		}
		end := closingQuote(s)
		if end < 0 {
			return nil, fmt.Errorf("label %s: unterminated value", untrusted.Clip(m.Name, untrusted.MaxQuoted))
		}
		lit := s[:end+1]
		if lit[0] == '\'' {
			// PromQL allows single quotes; Go's Unquote takes them for runes only.
			lit = `"` + strings.ReplaceAll(strings.ReplaceAll(lit[1:len(lit)-1], `\'`, `'`), `"`, `\"`) + `"`
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			return nil, fmt.Errorf("label %s: bad value %s", untrusted.Clip(m.Name, untrusted.MaxQuoted), untrusted.Clip(s[:end+1], untrusted.MaxQuoted))
		}
		m.Value = v
		if m.Op == "=~" || m.Op == "!~" {
			if _, err := regexp.Compile("^(?:" + v + ")$"); err != nil {
				return nil, fmt.Errorf("label %s: %w", untrusted.Clip(m.Name, untrusted.MaxQuoted), cleanError(err))
			}
		}
		out = append(out, m)
		s = strings.TrimLeft(s[end+1:], " \t")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected a comma before %s", untrusted.Quote(s, untrusted.MaxQuoted))
		}
		s = strings.TrimLeft(s[1:], " \t")
	}
	return out, nil
}

// closingQuote returns the index of the quote that ends the literal at the
// start of s, or -1.
func closingQuote(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// selector renders a series selector: the metric name, then the matchers.
func selector(metric string, ms ...Matcher) string {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// maxListBytes bounds the names one matcher lists. VictoriaMetrics refuses
// a query longer than 16 KB (-search.maxQueryLen, 16384 by default), and
// the longest queries repeat their selector, a group's namespaces and a
// list of its pods, four times.
const maxListBytes = 3000

// listBytes is what a name adds to a matcher listing it.
func listBytes(name string) int { return len(regexp.QuoteMeta(name)) + 1 }

// cutList cuts names into parts of at most maxN names and maxListBytes
// bytes as a matcher lists them; a name longer than that is a part alone.
func cutList(names []string, maxN int) [][]string { return cutListBytes(names, maxN, maxListBytes) }

// cutListBytes is cutList with a budget of maxBytes.
func cutListBytes(names []string, maxN, maxBytes int) [][]string {
	var out [][]string
	start, bytes := 0, 0
	for i, n := range names {
		b := listBytes(n)
		if i > start && (i-start >= maxN || bytes+b > maxBytes) {
			out = append(out, names[start:i])
			start, bytes = i, 0
		}
		bytes += b
	}
	if start < len(names) {
		out = append(out, names[start:])
	}
	return out
}

// withList returns ms with the matcher on label replaced by one listing
// names: a part of a group's pods stands for the group's own list.
func withList(ms []Matcher, label string, names []string) []Matcher {
	out := make([]Matcher, 0, len(ms)+1)
	for _, m := range ms {
		if m.Name != label {
			out = append(out, m)
		}
	}
	return append(out, anyOf(label, names))
}

// anyOf returns a matcher for label name equal to one of values: = for one,
// an anchored alternation of quoted literals for more.
func anyOf(name string, values []string) Matcher {
	if len(values) == 1 {
		return Matcher{Name: name, Op: "=", Value: values[0]}
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return Matcher{Name: name, Op: "=~", Value: strings.Join(quoted, "|")}
}
