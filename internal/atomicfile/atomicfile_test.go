package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  string // "" for no file yet
		perm os.FileMode
	}{
		{"new file", "", 0o644},
		{"replaces a file", "old contents", 0o644},
		{"private file", "old", 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.txt")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new"), tc.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != "new" {
				t.Fatalf("contents %q, %v; want %q", got, err, "new")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tc.perm {
				t.Errorf("permissions %v, want %v", fi.Mode().Perm(), tc.perm)
			}
			assertOnly(t, dir, "out.txt")
		})
	}
}

func TestFailedWriteKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Write(path, 0o600, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("encoder broke")
	})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "encoder broke") {
		t.Fatalf("error %v, want one naming %s and the cause", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("contents %q, want the old ones", got)
	}
	assertOnly(t, dir, "state")
}

func TestPendingDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	p, err := Prepare(path, 0o644, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err })
	if err != nil {
		t.Fatal(err)
	}
	p.Discard()
	assertOnly(t, dir)
}

func TestMissingDirectoryNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "file")
	if err := WriteFile(path, nil, 0o644); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}

// assertOnly fails unless dir holds exactly names: no temporary file left.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %q, want %q", got, names)
	}
}

func TestCreateSynced(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new")
	if err := CreateSynced(p, []byte("x"), 0o640, true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("exact permissions: %v %v", fi.Mode(), err)
	}
	if err := CreateSynced(p, []byte("y"), 0o640, false); err == nil {
		t.Fatal("an existing file was overwritten")
	}
	if b, _ := os.ReadFile(p); string(b) != "x" {
		t.Fatalf("contents %q", b)
	}
}

// TestRemoveLeftovers: the temporary files a crash left beside a path go;
// the path, its other files and other paths' temporary files stay.
func TestRemoveLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		// Prepared, never committed: what a crash between the two leaves.
		if _, err := Prepare(path, 0o600, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Prepare(filepath.Join(dir, "other"), 0o600, func(io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"state.prev", "state.tmp", ".state.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := RemoveLeftovers(path)
	if err != nil || n != 2 {
		t.Fatalf("removed %d (%v), want the 2 pending files", n, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 5 || !slices.Contains(left, "state") || !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, ".other.") }) {
		t.Errorf("left %v, want state, state.prev, state.tmp, .state.tmp and other's pending file", left)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("contents %q, want the old ones", got)
	}
}
