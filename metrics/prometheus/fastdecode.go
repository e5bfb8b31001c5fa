package prometheus

import (
	"strings"
	"unicode/utf8"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The answers a collection reads are gigabytes of one shape: a success with
// a matrix of plain label sets and [timestamp, "value"] points. fastAnswer
// reads that shape in one pass over the bytes, where encoding/json scans
// every byte three times (validation, the value's extent, then the point
// list's own parser). It takes nothing it is not sure of: an escape, a
// duplicate or case-folded key, an error answer, any other result type
// sends the whole answer to the general decoder, which says what is wrong
// with it. FuzzDecodeAnswer holds the two to the same result.

// maxSkipDepth bounds the nesting of the values fastAnswer skips (warnings'
// companions such as VictoriaMetrics' "stats"); deeper goes to the general
// decoder, which has its own bound.
const maxSkipDepth = 32

// fastDecoder is a cursor over an answer.
type fastDecoder struct {
	b []byte
	i int
	// guess is the previous series' number of points: a range answer's
	// series are mostly of one length.
	guess int
	// strs holds one copy of each label name and value read.
	strs map[string]string
}

// fastAnswer decodes body as a success holding a want result; ok is false
// for anything it does not read with certainty.
func fastAnswer(body []byte, want model.ValueType) ([]apiSeries, v1.Warnings, bool) {
	d := &fastDecoder{b: body}
	var (
		series             []apiSeries
		warnings           []string
		status, resultType string
		seen               [3]bool // status, data, warnings
		haveResult         bool
	)
	ok := d.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "status":
			ok = once(&seen[0])
			status, ok = d.strIf(ok)
		case "data":
			if ok = once(&seen[1]); ok {
				series, resultType, haveResult, ok = d.data()
			}
		case "warnings":
			if ok = once(&seen[2]); ok {
				warnings, ok = d.stringList()
			}
		default:
			// errorType and error belong to error answers; a key that
			// differs from a field only in case is one to encoding/json.
			ok = !folds(string(key), "status", "data", "warnings", "errorType", "error") && d.skip(0)
		}
		return ok
	})
	d.ws()
	if !ok || d.i != len(d.b) || status != "success" || resultType != want.String() || !haveResult {
		return nil, nil, false
	}
	return series, v1.Warnings(warnings), true
}

// once marks a key seen; false if it was: encoding/json would merge a key
// given twice where a map is, which is left to it.
func once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

// folds reports whether key matches one of names in case only.
func folds(key string, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// data reads the answer's data object.
func (d *fastDecoder) data() (series []apiSeries, resultType string, haveResult, ok bool) {
	var seenType bool
	ok = d.object(func(key []byte) bool {
		switch string(key) {
		case "resultType":
			var ok bool
			resultType, ok = d.strIf(once(&seenType))
			return ok
		case "result":
			var ok bool
			if ok = once(&haveResult); ok {
				series, ok = d.result()
			}
			return ok
		}
		return !folds(string(key), "resultType", "result") && d.skip(0)
	})
	return series, resultType, haveResult, ok
}

// result reads the list of series.
func (d *fastDecoder) result() ([]apiSeries, bool) {
	out := []apiSeries{}
	ok := d.array(func() bool {
		s, ok := d.series()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// series reads one series object.
func (d *fastDecoder) series() (apiSeries, bool) {
	var s apiSeries
	var seenMetric, seenValues bool
	ok := d.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "metric":
			if ok = once(&seenMetric); ok {
				s.Metric, ok = d.metric()
			}
		case "values":
			if ok = once(&seenValues); ok {
				s.Values, ok = d.points()
			}
		case "value":
			if s.Value != nil {
				return false
			}
			p, n, ok := d.point()
			if !ok {
				return false
			}
			d.i += n
			ap := apiPoint(p)
			s.Value = &ap
			return true
		default:
			ok = !folds(string(key), "metric", "values", "value") && d.skip(0)
		}
		return ok
	})
	return s, ok
}

// metric reads a label set of plain strings.
func (d *fastDecoder) metric() (model.Metric, bool) {
	m := model.Metric{}
	ok := d.object(func(k []byte) bool {
		if _, dup := m[model.LabelName(k)]; dup {
			return false
		}
		name := d.intern(k)
		value, ok := d.interned()
		m[model.LabelName(name)] = model.LabelValue(value)
		return ok
	})
	return m, ok
}

// points reads a series' values.
func (d *fastDecoder) points() (pointList, bool) {
	out := make(pointList, 0, d.guess)
	ok := d.array(func() bool {
		p, n, ok := d.point()
		d.i += n
		out = append(out, p)
		return ok
	})
	d.guess = len(out)
	return out, ok
}

// object reads an object, member reading each value after its key.
func (d *fastDecoder) object(member func(key []byte) bool) bool {
	return d.seq('{', '}', func() bool {
		key, ok := d.key()
		return ok && member(key)
	})
}

// array reads an array, elem reading each element.
func (d *fastDecoder) array(elem func() bool) bool { return d.seq('[', ']', elem) }

// seq reads elements separated by commas between open and end.
func (d *fastDecoder) seq(open, end byte, elem func() bool) bool {
	d.ws()
	if !d.lit(open) {
		return false
	}
	d.ws()
	if d.lit(end) {
		return true
	}
	for {
		d.ws()
		if !elem() {
			return false
		}
		d.ws()
		if d.lit(end) {
			return true
		}
		if !d.lit(',') {
			return false
		}
	}
}

// point reads [timestamp, "value"] at the cursor without moving it and
// returns the bytes it took. The numbers mean what parsePoint makes of
// them.
func (d *fastDecoder) point() (model.SamplePair, int, bool) {
	var p model.SamplePair
	b := d.b[d.i:]
	if len(b) == 0 || b[0] != '[' {
		return p, 0, false
	}
	i := skipSpace(b, 1)
	ts, n, ok := jsonTimestamp(b[i:])
	if !ok {
		return p, 0, false
	}
	p.Timestamp = ts
	i = skipSpace(b, i+n)
	if i >= len(b) || b[i] != ',' {
		return p, 0, false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return p, 0, false
	}
	j := i + 1
	for j < len(b) && b[j] != '"' {
		// An escape, a control character or a byte beyond ASCII: the
		// general decoder's case.
		if c := b[j]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return p, 0, false
		}
		j++
	}
	if j >= len(b) {
		return p, 0, false
	}
	p.Value = model.SampleValue(fastValue(b[i+1 : j]))
	i = skipSpace(b, j+1)
	if i >= len(b) || b[i] != ']' {
		return p, 0, false
	}
	return p, i + 1, true
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastValue is parseValue, with plain decimals of up to 15 digits (what
// servers print for usage) computed directly: the digits and the power of
// ten are exact in a float64, so their quotient is the correctly rounded
// value strconv.ParseFloat returns.
func fastValue(b []byte) float64 {
	var m uint64
	digits, frac := 0, -1
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i++
	}
	start := i
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
		case c == '.' && frac < 0:
			frac = i
		default:
			return parseValue(b)
		}
	}
	if digits == 0 || digits > 15 || frac == start || frac == len(b)-1 {
		// No digit, too many for the shortcut, or "1." and ".5", which
		// ParseFloat takes but may differ on elsewhere.
		return parseValue(b)
	}
	v := float64(m)
	if frac >= 0 {
		v /= pow10[len(b)-1-frac]
	}
	if neg {
		v = -v
	}
	return v
}

// jsonTimestamp reads a JSON number at the start of b as parseTimestamp
// reads it, and the bytes it took; ok is false where b holds no JSON
// number.
func jsonTimestamp(b []byte) (model.Time, int, bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	intStart := i
	var n int64
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-intStart < 15 {
				n = n*10 + int64(b[i]-'0')
			}
			i++
		}
	default:
		return 0, 0, false
	}
	intDigits := i - intStart
	plain := intDigits <= 12 // within ±2^53 ms whatever the fraction
	fracDigits := 0
	var frac int64
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i-s < 3 {
				frac = frac*10 + int64(b[i]-'0')
			}
			i++
		}
		if i == s {
			return 0, 0, false
		}
		fracDigits = i - s
		plain = plain && fracDigits <= 3
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return 0, 0, false
		}
		plain = false
	}
	if !plain {
		return parseTimestamp(b[:i]), i, true
	}
	for range 3 - fracDigits {
		frac *= 10
	}
	ms := n*1000 + frac
	if b[0] == '-' {
		ms = -ms
	}
	return model.Time(ms), i, true
}

// ws skips whitespace.
func (d *fastDecoder) ws() { d.i = skipSpace(d.b, d.i) }

// lit takes byte c if it is next.
func (d *fastDecoder) lit(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key reads an object key, its colon and the space before the value.
func (d *fastDecoder) key() ([]byte, bool) {
	k, ok := d.raw()
	if !ok {
		return nil, false
	}
	d.ws()
	if !d.lit(':') {
		return nil, false
	}
	d.ws()
	return k, true
}

// str reads a string without escapes or control characters, of valid
// UTF-8.
func (d *fastDecoder) str() (string, bool) {
	b, ok := d.raw()
	return string(b), ok
}

// strIf reads a string if ok.
func (d *fastDecoder) strIf(ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	return d.str()
}

// intern returns one copy of b for the answer.
func (d *fastDecoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if d.strs == nil {
		d.strs = map[string]string{}
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// interned is str for strings that repeat across an answer (label names,
// namespaces, containers): one copy each.
func (d *fastDecoder) interned() (string, bool) {
	b, ok := d.raw()
	if !ok {
		return "", false
	}
	return d.intern(b), true
}

// raw reads a string without escapes or control characters, of valid
// UTF-8, and returns its bytes in the answer.
func (d *fastDecoder) raw() ([]byte, bool) {
	if !d.lit('"') {
		return nil, false
	}
	s := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			v := d.b[s:d.i]
			d.i++
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

// stringList reads an array of plain strings.
func (d *fastDecoder) stringList() ([]string, bool) {
	out := []string{}
	ok := d.array(func() bool {
		s, ok := d.str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// skip passes over one JSON value, checking its grammar: a value it
// cannot vouch for makes it fail.
func (d *fastDecoder) skip(depth int) bool {
	if depth > maxSkipDepth {
		return false
	}
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; c {
	case '"':
		_, ok := d.raw()
		return ok
	case '{':
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case '[':
		return d.array(func() bool { return d.skip(depth + 1) })
	case 't':
		return d.word("true")
	case 'f':
		return d.word("false")
	case 'n':
		return d.word("null")
	default:
		_, n, ok := jsonTimestamp(d.b[d.i:])
		d.i += n
		return ok
	}
}

// word takes the literal w.
func (d *fastDecoder) word(w string) bool {
	if !strings.HasPrefix(string(d.b[d.i:min(d.i+len(w), len(d.b))]), w) {
		return false
	}
	d.i += len(w)
	return true
}
