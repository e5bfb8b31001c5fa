package report

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"rightsize.dev/rightsize/internal/untrusted"
)

// Names and reasons come from input files and clusters: a workload called
// "\x1b[2J" must not clear the reader's terminal, nor U+202E reverse the
// rest of a line. The table and markdown formats print names through
// workload.PrintableName (quoted when they hold such characters, unchanged
// otherwise) and free text through untrusted.Escape; json escapes them in
// its strings (EscapeJSON), yaml too or it falls back to json.

// EscapeJSON rewrites encoded JSON so that every character a terminal could
// act on is a \u escape. encoding/json already escapes ASCII controls but
// writes DEL, C1 controls and format characters such as U+202E as they
// are. Those can only occur inside strings, where the escape decodes to the
// same character, so the document means exactly what it did.
func EscapeJSON(b []byte) []byte {
	if untrusted.PrintableText(b) {
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
