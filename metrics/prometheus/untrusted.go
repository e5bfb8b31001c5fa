package prometheus

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text from the server (error strings, response bodies, warnings, label
// values) may hold anything, terminal escape sequences included: ESC [2J
// clears the screen, OSC sequences set the window title or the clipboard.
// None of it reaches a message unescaped.

const (
	// maxQuoted is how much of one piece of server text a message cites.
	maxQuoted = 200
	// maxMessage bounds a whole error message: a library's message (TLS,
	// HTTP parsing) may cite the server at length.
	maxMessage = 1000
)

// untrusted renders server text for a message: control and other
// non-printable characters and invalid UTF-8 escaped Go-style (\x1b, \a,
// \n, \u202e), at most maxQuoted bytes of it, with an ellipsis and the
// length when cut.
func untrusted(s string) string { return escapeText(strings.TrimSpace(s), maxQuoted) }

// escapeText escapes what is not printable in s and cuts it after limit
// bytes of the original.
func escapeText(s string, limit int) string {
	if len(s) <= limit && printableASCII(s) {
		return s
	}
	cut := s
	if len(s) > limit {
		// Do not split a character.
		n := limit
		for i := 0; i < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); i++ {
			n--
		}
		cut = s[:n]
	}
	var b strings.Builder
	for i := 0; i < len(cut); {
		r, size := utf8.DecodeRuneInString(cut[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, cut[i])
		case strconv.IsPrint(r):
			b.WriteString(cut[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\a', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	if len(cut) < len(s) {
		fmt.Fprintf(&b, "… (%d bytes)", len(s))
	}
	return b.String()
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// cleanError returns err with its message escaped and bounded, unwrapping
// to err; messages that need nothing done come back as they are.
func cleanError(err error) error {
	msg := err.Error()
	if clean := escapeText(msg, maxMessage); clean != msg {
		return &cleanedError{msg: clean, err: err}
	}
	return err
}

type cleanedError struct {
	msg string
	err error
}

func (e *cleanedError) Error() string { return e.msg }
func (e *cleanedError) Unwrap() error { return e.err }

// kubeName reports whether s can be the name of a namespace, pod,
// container or workload: Kubernetes allows lower-case letters, digits, '-'
// and '.', at most 253 of them, starting and ending with a letter or digit.
// Series naming anything else are not from Kubernetes; they are skipped, so
// that no such text reaches a table or a message.
func kubeName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(s)-1 || c != '-' && c != '.') {
			return false
		}
	}
	return true
}
