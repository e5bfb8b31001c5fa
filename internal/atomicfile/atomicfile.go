// Package atomicfile replaces files so that a reader, or the next run after
// a crash, sees either the old contents or the new ones, never a mix: the
// data goes to a temporary file beside the target (so the rename stays on
// one file system), is synced, gets its permissions, is renamed over the
// target, and the directory is synced so the rename itself survives a
// crash.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile replaces path with data, with permissions perm whatever the
// umask. Errors name path.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write replaces path with what write writes, as WriteFile does.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	p, err := Prepare(path, perm, write)
	if err != nil {
		return err
	}
	return p.Commit()
}

// Pending is new contents for a file, written and synced beside it but not
// yet in its place: a caller can act between the two steps (the state store
// keeps the old file as its previous copy) and then Commit or Discard.
type Pending struct {
	path, tmp string
}

// Prepare writes what write writes to a temporary file beside path, with
// permissions perm, and syncs it. On error nothing is left behind.
func Prepare(path string, perm fs.FileMode, write func(io.Writer) error) (_ *Pending, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	// CreateTemp made the file 0600; the target's readers may need more.
	if err := f.Chmod(perm); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &Pending{path: path, tmp: f.Name()}, nil
}

// Commit renames the new contents over the target and syncs its directory.
func (p *Pending) Commit() error {
	if err := os.Rename(p.tmp, p.path); err != nil {
		os.Remove(p.tmp)
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := SyncDir(filepath.Dir(p.path)); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	return nil
}

// CreateSynced creates path, which must not exist, with data, and flushes
// it to disk, so that once it is renamed into place a crash cannot leave
// it empty (a caller staging several files to rename together). perm is
// subject to the umask unless exact: a file that replaces one with those
// permissions gets them, as os.WriteFile over it would have kept them.
func CreateSynced(path string, data []byte, perm fs.FileMode, exact bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if exact {
		if err := f.Chmod(perm); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RemoveLeftovers removes the temporary files Prepare made beside path
// and a crash left there, and returns how many. Only a caller that alone
// writes path may call it (another writer's pending file looks the same):
// the state store, under its lock.
func RemoveLeftovers(path string) (int, error) {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return 0, fmt.Errorf("looking for leftovers of %s: %w", path, err)
	}
	n := 0
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// tempPattern is the name pattern of path's temporary files: hidden, so
// that a directory listing does not show them.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".*.tmp" }

// Discard removes the new contents; the target stays as it was.
func (p *Pending) Discard() { os.Remove(p.tmp) }

// SyncDir flushes dir's entries to disk, making renames into it durable.
// Where a directory cannot be synced (Windows cannot open one for it, some
// file systems refuse) the renames still happened, so that is no error.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
