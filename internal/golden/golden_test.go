package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got string
		has       []string
	}{
		{"equal", "a\nb\n", "a\nb\n", nil},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", []string{"first difference at line 2", "  a\n", "- b\n", "+ B\n"}},
		{"missing newline", "a\n", "a", []string{"+ a⏎ (no newline at end)"}},
		{"binary", "\x00\x01\x02", "\x00\x01\x03", []string{"binary contents differ at byte 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diff([]byte(tc.want), []byte(tc.got))
			if tc.has == nil && d != "" {
				t.Errorf("Diff = %q, want none", d)
			}
			for _, s := range tc.has {
				if !strings.Contains(d, s) {
					t.Errorf("Diff = %q, want it to contain %q", d, s)
				}
			}
		})
	}
}

func TestAssertMatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Assert(t, path, []byte("same\n"))
}
