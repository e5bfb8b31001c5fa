// Package golden compares test output with files kept in testdata and,
// run with -update, rewrites them: one -update flag and one way of showing
// a difference for every test of the module.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files, seed corpora and generated docs instead of comparing with them")

// Update reports whether the test binary runs with -update, for tests that
// regenerate something other than one golden file (a seed corpus, a part of
// the README).
func Update() bool { return *update }

// Assert fails t unless got equals the contents of the file at path; with
// -update it writes got there instead. The failure shows where the two first
// differ and how to refresh the file; hint, when given, says what a change
// means (e.g. that a file format needs a new version).
func Assert(t testing.TB, path string, got []byte, hint ...string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden file: %v", err)
		}
		return
	}
	refresh := fmt.Sprintf("run go test -run '^%s$' -update in the package to refresh it", strings.SplitN(t.Name(), "/", 2)[0])
	if len(hint) > 0 {
		refresh = strings.Join(hint, " ") + "; " + refresh
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (%s)", err, refresh)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (%s):\n%s", path, refresh, Diff(want, got))
	}
}

// context is how many equal lines Diff shows before the first difference.
const context = 3

// Diff describes where got first departs from want: for text, the line
// number with a few lines of context, then the rest of both sides marked
// "-" (want) and "+" (got), each cut at 20 lines; for binary data, the byte
// offset. It returns "" when they are equal.
func Diff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	if !isText(want) || !isText(got) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		return fmt.Sprintf("binary contents differ at byte %d (want %d bytes, got %d)", i, len(want), len(got))
	}
	wl, gl := strings.SplitAfter(string(want), "\n"), strings.SplitAfter(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d)\n", i+1, len(wl), len(gl))
	for _, l := range wl[max(0, i-context):i] {
		b.WriteString("  " + lineOf(l))
	}
	for _, side := range []struct {
		mark  string
		lines []string
	}{{"- ", wl[i:]}, {"+ ", gl[i:]}} {
		for n, l := range side.lines {
			if n == 20 {
				fmt.Fprintf(&b, "%s… %d more lines\n", side.mark, len(side.lines)-n)
				break
			}
			b.WriteString(side.mark + lineOf(l))
		}
	}
	return b.String()
}

// lineOf ends a line with exactly one newline, marking a missing one so
// that a difference in the last newline shows.
func lineOf(l string) string {
	if strings.HasSuffix(l, "\n") {
		return l
	}
	return l + "⏎ (no newline at end)\n"
}

func isText(b []byte) bool {
	return !bytes.ContainsRune(b, 0) && strings.ToValidUTF8(string(b), "\uFFFD") == string(b)
}
