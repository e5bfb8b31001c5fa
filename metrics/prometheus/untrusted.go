package prometheus

import (
	"strings"

	"rightsize.dev/rightsize/internal/untrusted"
)

// Text from the server (error strings, response bodies, warnings, label
// values) may hold anything, terminal escape sequences included; it reaches
// a message only through serverText or cleanError.

// maxMessage bounds a whole error message: a library's message (TLS, HTTP
// parsing) may cite the server at length.
const maxMessage = 1000

// serverText renders server text for a message, surrounding space trimmed,
// escaped and cut to untrusted.MaxQuoted bytes (untrusted.Clip).
func serverText(s string) string {
	return untrusted.Clip(strings.TrimSpace(s), untrusted.MaxQuoted)
}

// cleanError returns err with its message escaped and bounded, unwrapping
// to err; messages that need nothing done come back as they are.
func cleanError(err error) error {
	msg := err.Error()
	if clean := untrusted.Clip(msg, maxMessage); clean != msg {
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
