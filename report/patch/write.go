package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"rightsize.dev/rightsize/internal/atomicfile"
	"rightsize.dev/rightsize/recommender/workload"
)

// Write writes one strategic-merge patch per workload whose settings change,
// one per existing HPA whose recommendation differs from it and one
// manifest per recommended HPA that does not exist yet, plus
// kustomization.yaml listing them, into dir (created if missing). An
// existing kustomization.yaml keeps everything it holds; the patch files it
// does not list yet are added to its patches, the new HPAs to its
// resources.
// written holds the file names in name order and the kustomization last;
// skipped names each workload that changes but cannot be patched, with the
// reason: a bare Pod, names that are not valid in Kubernetes (never
// rendered), an HPA that cannot be written (or only in part). Other files
// in dir stay as they are.
//
// The files are written all or nothing: each is staged in a temporary
// directory inside dir and moved into place, kustomization.yaml last; if a
// step fails the files already moved are put back, so dir is left as it
// was.
func Write(dir string, p workload.Plan) (written, skipped []string, err error) {
	kpath := filepath.Join(dir, KustomizationFile)
	k, err := readKustomization(kpath)
	if err != nil {
		return nil, nil, err
	}

	files := map[string][]byte{}
	owner := map[string]workload.Key{}
	// invalid holds the workloads already skipped for their names, which
	// their HPA need not say again.
	invalid := map[workload.Key]bool{}
	for _, wp := range p.Workloads {
		data, skip, err := render(wp)
		var bad *invalidError
		if errors.As(err, &bad) {
			skipped = append(skipped, bad.Error())
			invalid[wp.Key] = true
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if skip != "" {
			skipped = append(skipped, wp.Key.String()+": "+skip)
			continue
		}
		if data == nil {
			continue
		}
		name := FileName(wp.Key)
		if prev, dup := owner[name]; dup {
			return nil, nil, fmt.Errorf("patch file %s for both %s and %s", name, prev, wp.Key)
		}
		owner[name], files[name] = wp.Key, data
	}
	var patches, resources []string
	for name := range files {
		patches = append(patches, name)
	}
	hpas, hpaSkipped := renderHPAs(p.Workloads)
	for _, f := range hpas {
		if prev, dup := owner[f.name]; dup {
			return nil, nil, fmt.Errorf("patch file %s for both %s and %s", f.name, prev, f.key)
		}
		owner[f.name], files[f.name] = f.key, f.data
		if f.resource {
			resources = append(resources, f.name)
		} else {
			patches = append(patches, f.name)
		}
	}
	for _, s := range hpaSkipped {
		if !invalid[s.key] {
			skipped = append(skipped, s.msg)
		}
	}
	slices.Sort(skipped)
	slices.Sort(patches)
	slices.Sort(resources)

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)

	body, err := k.withFiles(patches, resources, p.Profile)
	if err != nil {
		return nil, nil, fmt.Errorf("update %s: %w", kpath, err)
	}
	files[KustomizationFile] = body
	written = append(names, KustomizationFile)

	if err := writeFiles(dir, written, files); err != nil {
		return nil, nil, err
	}
	return written, skipped, nil
}

// rename moves a staged file into place; tests replace it to fail part-way.
var rename = os.Rename

// writeFiles writes files[name] for each name, in order, into dir, all or
// nothing. The staging directory is inside dir rather than beside it so
// that it is on the same file system even when dir is a mount point: the
// moves are then renames, each atomic. A file being replaced is first
// copied into the staging directory, so that undoing a move is a rename
// too. Only a crash between two moves can leave a mix; kustomization.yaml
// moves last, so until then it still lists the earlier set.
func writeFiles(dir string, names []string, files map[string][]byte) (err error) {
	created, err := mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("create patch directory %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			// Undo the directories this call created; Remove keeps any
			// that something else has put files into since.
			for _, d := range created {
				_ = os.Remove(d)
			}
		}
	}()
	stage, err := os.MkdirTemp(dir, ".rightsize-")
	if err != nil {
		return fmt.Errorf("write patches to %s: %w", dir, err)
	}
	defer os.RemoveAll(stage)
	for _, sub := range []string{"new", "old"} {
		if err := os.Mkdir(filepath.Join(stage, sub), 0o700); err != nil {
			return fmt.Errorf("write patches to %s: %w", dir, err)
		}
	}

	backedUp := map[string]bool{}
	for _, name := range names {
		target := filepath.Join(dir, name)
		perm, exists, err := backup(target, filepath.Join(stage, "old", name))
		if err != nil {
			return err
		}
		backedUp[name] = exists
		if err := atomicfile.CreateSynced(filepath.Join(stage, "new", name), files[name], perm, exists); err != nil {
			return fmt.Errorf("write %s: %w", target, err)
		}
	}

	var moved []string
	undo := func(cause error) error {
		errs := []error{cause}
		for i := len(moved) - 1; i >= 0; i-- {
			name := moved[i]
			target := filepath.Join(dir, name)
			var err error
			if backedUp[name] {
				err = rename(filepath.Join(stage, "old", name), target)
			} else {
				err = os.Remove(target)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("could not restore %s: %w", target, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, name := range names {
		if err := rename(filepath.Join(stage, "new", name), filepath.Join(dir, name)); err != nil {
			return undo(fmt.Errorf("write %s: %w", filepath.Join(dir, name), err))
		}
		moved = append(moved, name)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return undo(fmt.Errorf("write patches to %s: %w", dir, err))
	}
	return nil
}

// mkdirAll creates dir and its missing parents and returns those it
// created, the deepest first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		for _, d := range missing {
			_ = os.Remove(d)
		}
		return nil, err
	}
	return missing, nil
}

// backup copies an existing regular file at target to dst and returns the
// permissions for its replacement: the file's own, or 0644 for a new one.
// Anything else at target (a directory, a symbolic link) is an error:
// replacing it is not Write's call to make.
func backup(target, dst string) (fs.FileMode, bool, error) {
	fi, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return 0o644, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("write %s: %w", target, err)
	}
	if !fi.Mode().IsRegular() {
		what := "not a regular file"
		switch {
		case fi.IsDir():
			what = "a directory"
		case fi.Mode()&fs.ModeSymlink != 0:
			what = "a symbolic link"
		}
		return 0, false, fmt.Errorf("write %s: it is %s; move it away first", target, what)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return 0, false, fmt.Errorf("write %s: keeping the old file: %w", target, err)
	}
	if err := atomicfile.CreateSynced(dst, data, fi.Mode().Perm(), true); err != nil {
		return 0, false, fmt.Errorf("write %s: keeping the old file: %w", target, err)
	}
	return fi.Mode().Perm(), true, nil
}
