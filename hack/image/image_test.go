package main

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var commitTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// fake is a spec around a stand-in binary: the image does not look inside.
func fake() spec {
	return spec{
		Binary:   []byte("\x7fELF not really rightsize\n"),
		CACerts:  []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n"),
		Arch:     "arm64",
		Version:  "v1.2.3",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Created:  commitTime,
	}
}

func mustBuild(t *testing.T, s spec) v1.Image {
	t.Helper()
	img, err := build(s)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestImageConfig(t *testing.T) {
	cf, err := mustBuild(t, fake()).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("platform %s/%s, want linux/arm64", cf.OS, cf.Architecture)
	}
	if !cf.Created.Equal(commitTime) {
		t.Errorf("created %v, want the commit's time %v", cf.Created, commitTime)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/rightsize"}) {
		t.Errorf("entrypoint %q, want [/rightsize]", c.Entrypoint)
	}
	if c.Cmd != nil {
		t.Errorf("cmd %q, want none: the manifests' args choose the subcommand", c.Cmd)
	}
	if c.WorkingDir != "/" {
		t.Errorf("working directory %q, want /", c.WorkingDir)
	}
	if !slices.Equal(c.Env, []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}) {
		t.Errorf("env %q", c.Env)
	}
	want := map[string]string{
		"org.opencontainers.image.title":    "rightsize",
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.created":  "2026-03-14T09:26:53Z",
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if _, ok := c.Labels["org.opencontainers.image.source"]; ok {
		t.Errorf("source label %q set without a source", c.Labels["org.opencontainers.image.source"])
	}
	if len(cf.History) != 1 || !cf.History[0].Created.Equal(commitTime) {
		t.Errorf("history %+v, want one entry at the commit's time", cf.History)
	}
}

// file is a layer entry as the tests look at it.
type file struct {
	typ      byte
	mode     int64
	uid, gid int
	mtime    time.Time
	data     string
}

// files reads the image's only layer, in order.
func files(t *testing.T, img v1.Image) ([]string, map[string]file) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	m := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		m[h.Name] = file{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, gid: h.Gid, mtime: h.ModTime, data: string(b)}
	}
	return names, m
}

func TestImageLayer(t *testing.T) {
	s := fake()
	names, m := files(t, mustBuild(t, s))
	want := []string{
		"etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/",
		"etc/ssl/certs/ca-certificates.crt", "rightsize", "tmp/",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("layer holds %q, want %q (sorted)", names, want)
	}
	for _, n := range names {
		f := m[n]
		if f.uid != 0 || f.gid != 0 {
			t.Errorf("%s owned by %d:%d, want 0:0", n, f.uid, f.gid)
		}
		if !f.mtime.Equal(commitTime) {
			t.Errorf("%s dated %v, want the commit's time", n, f.mtime)
		}
		if isDir := strings.HasSuffix(n, "/"); isDir != (f.typ == tar.TypeDir) {
			t.Errorf("%s: type %c", n, f.typ)
		}
	}
	for n, want := range map[string]int64{"rightsize": 0o555, "tmp/": 0o1777, "etc/passwd": 0o644, "etc/group": 0o644} {
		if m[n].mode != want {
			t.Errorf("%s mode %o, want %o", n, m[n].mode, want)
		}
	}
	if m["rightsize"].data != string(s.Binary) {
		t.Error("/rightsize is not the binary")
	}
	if m["etc/ssl/certs/ca-certificates.crt"].data != string(s.CACerts) {
		t.Error("the CA bundle is not the one given")
	}
	if !strings.Contains(m["etc/passwd"].data, "\nnonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user:\n%s", m["etc/passwd"].data)
	}
	if !strings.Contains(m["etc/group"].data, "\nnonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot group:\n%s", m["etc/group"].data)
	}
}

func TestImageWithoutCABundle(t *testing.T) {
	s := fake()
	s.CACerts = nil
	img := mustBuild(t, s)
	names, _ := files(t, img)
	if slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "etc/ssl") }) {
		t.Errorf("layer holds %q: no CA bundle was given", names)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Config.Env) != 0 {
		t.Errorf("env %q, want none: SSL_CERT_FILE would name a missing file", cf.Config.Env)
	}
}

func TestImageReproducible(t *testing.T) {
	a, b := digest(t, mustBuild(t, fake())), digest(t, mustBuild(t, fake()))
	if a != b {
		t.Fatalf("two builds of one spec: %s and %s", a, b)
	}
	later := fake()
	later.Created = commitTime.Add(time.Second)
	if c := digest(t, mustBuild(t, later)); c == a {
		t.Errorf("another commit time gave the same digest %s", c)
	}
	other := fake()
	other.Binary = append(other.Binary, '!')
	if c := digest(t, mustBuild(t, other)); c == a {
		t.Errorf("another binary gave the same digest %s", c)
	}
}

// The archive make image writes loads as the image it was built from, under
// its tag, as docker load and kind load image-archive read it.
func TestArchiveLoads(t *testing.T) {
	img := mustBuild(t, fake())
	out := filepath.Join(t.TempDir(), "rightsize-image.tar")
	if err := writeArchive(out, "rightsize:dev", img); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("rightsize:dev")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(t, loaded), digest(t, img); got != want {
		t.Errorf("loaded %s, built %s", got, want)
	}
	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, []string{"/rightsize"}) {
		t.Errorf("loaded config %+v", cf.Config)
	}
	names, _ := files(t, loaded)
	if !slices.Contains(names, "rightsize") {
		t.Errorf("loaded layer holds %q", names)
	}

	// docker load names the image after manifest.json's RepoTags.
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !slices.Equal(m[0].RepoTags, []string{"rightsize:dev"}) {
		b, _ := json.Marshal(m)
		t.Errorf("manifest.json %s, want one image tagged rightsize:dev", b)
	}

	// Written twice, the archive is the same bytes.
	again := filepath.Join(t.TempDir(), "again.tar")
	if err := writeArchive(again, "rightsize:dev", mustBuild(t, fake())); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(out)
	y, _ := os.ReadFile(again)
	if string(x) != string(y) {
		t.Error("two archives of one spec differ")
	}
}

func TestPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/rightsize:v1.2.3"
	img := mustBuild(t, fake())
	if err := push(context.Background(), ref, img); err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(r, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := digest(t, pulled), digest(t, img); got != want {
		t.Errorf("pulled %s, pushed %s", got, want)
	}
}

func TestCheckBinary(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// For the build machine's architecture: its standard library is most
	// likely in the build cache already.
	arch, other := runtime.GOARCH, "arm64"
	if arch == other {
		other = "amd64"
	}
	bin := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-o", bin, src) // go test puts its go first in PATH
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := checkBinary(bin, arch); err != nil {
		t.Errorf("a static linux/%s executable: %v", arch, err)
	}
	if err := checkBinary(bin, other); err == nil || !strings.Contains(err.Error(), "not "+other) {
		t.Errorf("a %s executable for %s: %v", arch, other, err)
	}
	if err := checkBinary(bin, "mips"); err == nil {
		t.Error("an unknown architecture passed")
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkBinary(script, "amd64"); err == nil {
		t.Error("a shell script passed")
	}
	// A dynamically linked executable of the build machine, when it has one.
	found := false
	if runtime.GOOS == "linux" {
		if sh, err := exec.LookPath("sh"); err == nil {
			if real, err := filepath.EvalSymlinks(sh); err == nil && isDynamic(real) {
				found = true
				if err := checkBinary(real, runtime.GOARCH); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
					t.Errorf("%s, dynamically linked: %v", real, err)
				}
			}
		}
	}
	if !found {
		t.Log("no dynamically linked sh here: that refusal is not checked")
	}
}

func isDynamic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
}
