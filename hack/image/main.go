// Command image writes the rightsize container image (the controller's and
// the report CronJob's) without a container engine: a static linux binary on
// an empty base, a non-root user, the build machine's CA bundle, written as a
// docker-archive tarball and optionally pushed to a registry. Two builds of
// one commit give the same digest. make image runs it:
//
//	go run . -binary ../../bin/linux-amd64/rightsize -arch amd64 \
//		-version v1.2.3 -revision $(git rev-parse HEAD) -created $(git log -1 --format=%ct) \
//		-tag rightsize:dev -out ../../bin/rightsize-image.tar [-push registry/rightsize:v1.2.3]
//
// It lives in a module of its own so that go-containerregistry never reaches
// rightsize's build.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	var (
		binary   = flag.String("binary", "", "the static linux `executable` to put at /rightsize")
		arch     = flag.String("arch", "amd64", "the binary's GOARCH: the image's platform is linux/`arch`")
		ca       = flag.String("ca", "/etc/ssl/certs/ca-certificates.crt", "the CA bundle to copy into the image, left out when absent")
		version  = flag.String("version", "dev", "the version label")
		revision = flag.String("revision", "", "the revision label (the git commit)")
		source   = flag.String("source", "", "the source label (where the code is)")
		created  = flag.Int64("created", 0, "the image's time in `seconds` since 1970 (SOURCE_DATE_EPOCH: the commit's time)")
		tag      = flag.String("tag", "rightsize:dev", "the tag the archive carries")
		out      = flag.String("out", "rightsize-image.tar", "the docker-archive tarball to write")
		pushRef  = flag.String("push", "", "also push the image to this `reference` (registry/repository:tag)")
	)
	flag.Parse()
	if err := run(*binary, *arch, *ca, *tag, *out, *pushRef, spec{
		Arch:     *arch,
		Version:  *version,
		Revision: *revision,
		Source:   *source,
		Created:  time.Unix(*created, 0),
	}); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(binary, arch, ca, tag, out, pushRef string, s spec) error {
	if binary == "" {
		return fmt.Errorf("no -binary given")
	}
	if err := checkBinary(binary, arch); err != nil {
		return err
	}
	var err error
	if s.Binary, err = os.ReadFile(binary); err != nil {
		return err
	}
	if s.CACerts, err = readCACerts(ca); err != nil {
		return err
	}
	if len(s.CACerts) == 0 {
		s.CACerts = nil
		fmt.Fprintf(os.Stderr, "image: no CA bundle at %s: the image carries none and cannot verify TLS "+
			"(to Prometheus, a webhook) unless given a CA file (--prometheus-ca-file) or SSL_CERT_FILE on a mounted bundle\n", ca)
	}
	img, err := build(s)
	if err != nil {
		return err
	}
	if err := writeArchive(out, tag, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var compressed int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return err
		}
		compressed += n
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Printf("image %s linux/%s %s\n", tag, arch, digest)
	fmt.Printf("  %s: %.1f MB, %d layer of %.1f MB compressed (binary %.1f MB)\n",
		out, mb(fi.Size()), len(layers), mb(compressed), mb(int64(len(s.Binary))))
	if pushRef != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := push(ctx, pushRef, img); err != nil {
			return fmt.Errorf("push %s: %w", pushRef, err)
		}
		fmt.Printf("  pushed %s@%s\n", pushRef, digest)
	}
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }
