package report

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"rightsize.dev/rightsize/recommender/workload"
)

// Names and reasons come from input files and clusters: a workload called
// "\x1b[2J" must not clear the reader's terminal, nor U+202E reverse the
// rest of a line. The table and markdown formats print names through
// workload.PrintableName (quoted when they hold such characters, unchanged
// otherwise) and free text through escapeText; json escapes them in its
// strings (EscapeJSON), yaml too or it falls back to json.

// escapeText replaces each character of s that does not print as itself
// (see workload.IsPrintable) with its Go escape, leaving the rest as it is:
// "a\x1b[31mb" becomes `a\x1b[31mb`.
func escapeText(s string) string {
	if workload.IsPrintable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// EscapeJSON rewrites encoded JSON so that every character a terminal could
// act on is a \u escape. encoding/json already escapes ASCII controls but
// writes DEL, C1 controls and format characters such as U+202E as they
// are. Those can only occur inside strings, where the escape decodes to the
// same character, so the document means exactly what it did.
func EscapeJSON(b []byte) []byte {
	if workload.IsPrintable(strings.ReplaceAll(string(b), "\n", "")) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= utf8.RuneSelf-1 && !strconv.IsPrint(r) {
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				out = appendU(appendU(out, r1), r2)
			} else {
				out = appendU(out, r)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func appendU(b []byte, r rune) []byte {
	return append(b, `\u`+strconv.FormatUint(uint64(r)|0x10000, 16)[1:]...)
}
