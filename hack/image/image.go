package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Paths and identities inside the image.
const (
	binaryPath = "/rightsize"
	caPath     = "/etc/ssl/certs/ca-certificates.crt"
	// nonroot is the user and group the image runs as, the uid and gid the
	// manifests in deploy/ set (runAsUser, runAsGroup: 65532).
	nonroot = 65532
)

// spec is what goes into the image.
type spec struct {
	Binary  []byte // the linux executable, at /rightsize
	CACerts []byte // the CA bundle at /etc/ssl/certs/ca-certificates.crt; nil: none
	Arch    string // GOARCH: the image's platform is linux/Arch

	Version  string    // org.opencontainers.image.version
	Revision string    // org.opencontainers.image.revision (git commit); "" leaves it out
	Source   string    // org.opencontainers.image.source; "" leaves it out
	Created  time.Time // the commit's time: the image's and every file's time
}

// build assembles the image: one layer on nothing, a non-root user, the
// binary as the entrypoint and no Cmd, so a Deployment's or CronJob's args
// choose the subcommand. The same spec always gives the same digest.
func build(s spec) (v1.Image, error) {
	if len(s.Binary) == 0 {
		return nil, errors.New("no binary")
	}
	if s.Arch == "" {
		return nil, errors.New("no architecture")
	}
	created := s.Created.UTC().Truncate(time.Second)
	layerTar, err := rootfs(s, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "make image: rightsize " + s.Version,
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = s.Arch
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{binaryPath},
		WorkingDir: "/",
		Labels:     labels(s, created),
	}
	if s.CACerts != nil {
		cf.Config.Env = []string{"SSL_CERT_FILE=" + caPath}
	}
	return mutate.ConfigFile(img, cf)
}

// labels are the OCI annotations the config carries.
func labels(s spec, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "rightsize",
		"org.opencontainers.image.description": "rightsize: Kubernetes requests, limits and HPAs from usage history; the CLI, the controller and the cost report",
		"org.opencontainers.image.version":     s.Version,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if s.Revision != "" {
		l["org.opencontainers.image.revision"] = s.Revision
	}
	if s.Source != "" {
		l["org.opencontainers.image.source"] = s.Source
	}
	return l
}

// rootfs is the layer's tar: its entries sorted by path, owned by 0:0 and
// dated created, so that it depends on nothing but the spec.
func rootfs(s spec, created time.Time) ([]byte, error) {
	type entry struct {
		name string
		mode int64
		data []byte // nil: a directory
	}
	entries := []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", nonroot)},
		{name: "etc/passwd", mode: 0o644, data: fmt.Appendf(nil,
			"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot)},
		{name: "rightsize", mode: 0o555, data: s.Binary},
		// The sticky bit, as on any /tmp; the manifests mount an emptyDir
		// here as the root filesystem is read-only.
		{name: "tmp/", mode: 0o1777},
	}
	if s.CACerts != nil {
		entries = append(entries,
			entry{name: "etc/ssl/", mode: 0o755},
			entry{name: "etc/ssl/certs/", mode: 0o755},
			entry{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o444, data: s.CACerts})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			ModTime: created,
			Format:  tar.FormatPAX,
		}
		if e.data == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes img as a docker-archive tarball tagged tag: what
// docker load -i, podman load, kind load image-archive and crane push take.
func writeArchive(path, tag string, img v1.Image) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	return tarball.WriteToFile(path, t, img)
}

// push writes img to a registry with the credentials docker login, crane
// auth login or a credential helper left (the default keychain).
func push(ctx context.Context, ref string, img v1.Image) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	return remote.Write(r, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// machines are the ELF machines of the architectures an image can be built
// for.
var machines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// checkBinary makes sure path is a static linux executable for arch: the
// image has no dynamic loader nor C library to run anything else.
func checkBinary(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a linux executable: %w", path, err)
	}
	defer f.Close()
	if m, ok := machines[arch]; !ok {
		return fmt.Errorf("architecture %q: not one of the image's (amd64, arm64, arm, 386, ppc64le, s390x, riscv64)", arch)
	} else if f.Machine != m {
		return fmt.Errorf("%s: built for %v, not %s", path, f.Machine, arch)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s: %v, not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: dynamically linked (build it with CGO_ENABLED=0)", path)
		}
	}
	return nil
}

// readCACerts reads the CA bundle; a missing file is nil without error.
func readCACerts(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
