package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint says how to get the binaries.
const InstallHint = "install them with `apt-get install -y prometheus` (Debian and Ubuntu; the package ships promtool too), " +
	"or put prometheus and promtool from https://prometheus.io/download/ on PATH"

// Binaries returns the paths of prometheus and promtool, found on PATH.
func Binaries() (prometheus, promtool string, err error) {
	var missing []string
	if prometheus, err = exec.LookPath("prometheus"); err != nil {
		missing = append(missing, "prometheus")
	}
	if promtool, err = exec.LookPath("promtool"); err != nil {
		missing = append(missing, "promtool")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%s not found on PATH: %s", strings.Join(missing, " and "), InstallHint)
	}
	return prometheus, promtool, nil
}

// Require returns the binaries; when they are missing it fails the test
// with how to install them. Integration tests must not pass silently on a
// machine without Prometheus.
func Require(t testing.TB) (prometheus, promtool string) {
	t.Helper()
	prometheus, promtool, err := Binaries()
	if err != nil {
		t.Fatal(err)
	}
	return prometheus, promtool
}

// Backfill writes the OpenMetrics text write produces to a file and turns it
// into TSDB blocks in dir with promtool. maxBlock is the longest block
// promtool may write (it rounds down to Prometheus's block ranges: 2 h
// times a power of 3); promtool reads the whole file once per block, so
// long blocks load long histories faster.
func Backfill(ctx context.Context, promtool, dir string, maxBlock time.Duration, write func(io.Writer) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "backfill-*.om")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("rendering openmetrics: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return CreateBlocks(ctx, promtool, f.Name(), dir, maxBlock)
}

// CreateBlocks runs promtool tsdb create-blocks-from openmetrics.
func CreateBlocks(ctx context.Context, promtool, file, dir string, maxBlock time.Duration) error {
	cmd := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
		"--max-block-duration="+strconv.FormatInt(int64(maxBlock/time.Hour), 10)+"h", file, dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool create-blocks-from openmetrics: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Server is a running Prometheus or VictoriaMetrics.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL  string
	name string // the binary's, for messages
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs prometheus over the TSDB in dir, listening on a free loopback
// port, without anything to scrape, and waits until it is ready. args are
// added to the command line (e.g. --query.max-samples=1000).
func Start(ctx context.Context, prometheus, dir string, args ...string) (*Server, error) {
	return StartWithConfig(ctx, prometheus, dir, "global:\n  scrape_interval: 1m\n", args...)
}

// StartWithConfig is Start with a configuration file of the caller's, to
// scrape targets.
func StartWithConfig(ctx context.Context, prometheus, dir, config string, args ...string) (*Server, error) {
	return onFreePort(func() (*Server, error) { return start(ctx, prometheus, dir, config, args) })
}

// onFreePort starts a server, again if the free port it was given was
// taken between the probe and the start (up to three times).
func onFreePort(start func() (*Server, error)) (*Server, error) {
	var lastErr error
	for range 3 {
		s, err := start()
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, prometheus, dir, config string, args []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "prometheus-test.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(prometheus, append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + dir,
		// Test data lies in the past: keep it, whatever its age.
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}, args...)...)
	s := &Server{URL: "http://" + addr, name: "prometheus", cmd: cmd, done: make(chan struct{}), logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, "/-/ready"); err != nil {
		return nil, err
	}
	return s, nil
}

// Stop ends the server and waits for it.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New(s.name + " did not stop on SIGTERM; killed")
	}
}

// Logs returns what the server logged.
func (s *Server) Logs() string { return s.logs.String() }

// Run starts a server for a test and stops it when the test ends.
func Run(t testing.TB, dir string, args ...string) *Server {
	t.Helper()
	prometheus, _ := Require(t)
	s, err := Start(context.Background(), prometheus, dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s, "prometheus")
	return s
}

// stopAtCleanup stops the server when the test ends, showing the tail of
// its logs (named by what) if the test failed.
func stopAtCleanup(t testing.TB, s *Server, what string) {
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", what, tail(s.Logs()))
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
