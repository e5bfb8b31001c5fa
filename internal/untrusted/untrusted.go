// Package untrusted renders text from outside (names from files and
// clusters, a server's error strings, values quoted in errors) for a
// terminal or a message. Such text may hold escape sequences (ESC [2J
// clears the screen, OSC sets the window title or the clipboard), line
// breaks that forge lines, format characters such as U+202E that reorder
// them, or megabytes of one field. Every place that shows it goes through
// here, so that it is escaped and cut the same way everywhere.
package untrusted

import (
	"strconv"
	"unicode/utf8"
)

// MaxQuoted is how many bytes of one piece of outside text a message cites:
// enough to recognize it, not a screenful of a field that runs for
// megabytes.
const MaxQuoted = 200

// Printable reports whether s is valid UTF-8 whose every character prints
// as itself (strconv.IsPrint): no control, format (bidirectional override,
// zero-width) or separator characters besides the ASCII space.
func Printable(s string) bool {
	return unprintable(s, false) == len(s)
}

// PrintableText reports whether b, its newlines aside, is Printable: for
// documents of many lines (a fleet's plan as JSON), read without a copy.
func PrintableText(b []byte) bool {
	return unprintable(b, true) == len(b)
}

// unprintable returns the index of the first byte of s that is not part of
// a printable character (nor a newline, with newlines), or len(s).
func unprintable[S string | []byte](s S, newlines bool) int {
	for i := 0; i < len(s); {
		if c := s[i]; c >= ' ' && c < 0x7f || newlines && c == '\n' {
			i++
			continue
		}
		// A character is at most UTFMax bytes: no more is converted.
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n == 1 || !strconv.IsPrint(r) {
			return i
		}
		i += n
	}
	return len(s)
}

// Escape returns s with every character that is not printable written as
// its Go escape (\x1b, \a, \n, \u202e) and every invalid byte as \xNN, the
// rest as it is; s itself when it is Printable. Quotes and backslashes are
// kept: the result is for reading, not for unquoting.
func Escape(s string) string {
	i := unprintable(s, false)
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	return string(appendEscaped(append(b, s[:i]...), s[i:]))
}

// Clip returns Escape of at most max bytes of s, cut between characters,
// followed by "… (N bytes)" with the length of s when it was cut.
func Clip(s string, max int) string {
	n := cut(s, max)
	if n == len(s) {
		return Escape(s)
	}
	b := make([]byte, 0, n+32)
	return string(appendLength(appendEscaped(b, s[:n]), len(s)))
}

// Quote returns at most max bytes of s, cut between characters, in Go
// quotes (strconv.Quote), followed by "… (N bytes)" with the length of s
// when it was cut.
func Quote(s string, max int) string {
	n := cut(s, max)
	if n == len(s) {
		if plainASCII(s) {
			return `"` + s + `"`
		}
		return strconv.Quote(s)
	}
	b := make([]byte, 0, n+32)
	return string(appendLength(strconv.AppendQuote(b, s[:n]), len(s)))
}

// plainASCII reports whether s is printable ASCII that strconv.Quote would
// leave as it is.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// cut returns how many bytes of s to keep for at most max: max, or less so
// as not to split a character.
func cut(s string, max int) int {
	if max >= len(s) {
		return len(s)
	}
	if max <= 0 {
		return 0
	}
	// Only a valid character whose first byte is among the last
	// utf8.UTFMax-1 kept can run past max.
	for i := max - 1; i >= 0 && i > max-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if _, n := utf8.DecodeRuneInString(s[i:]); i+n > max {
				return i
			}
			break
		}
	}
	return max
}

const hexDigits = "0123456789abcdef"

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c >= ' ' && c < 0x7f {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, '\\', 'x', hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
		case strconv.IsPrint(r):
			b = append(b, s[i:i+n]...)
		default:
			// QuoteRune's escapes, without the quotes: '\x1b', '\a', '\u202e'.
			var q [16]byte
			e := strconv.AppendQuoteRune(q[:0], r)
			b = append(b, e[1:len(e)-1]...)
		}
		i += n
	}
	return b
}

func appendLength(b []byte, n int) []byte {
	b = append(b, "… ("...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " bytes)"...)
}
