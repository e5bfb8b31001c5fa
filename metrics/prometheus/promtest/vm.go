package promtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// VMInstallHint says how to get VictoriaMetrics.
const VMInstallHint = "install it with `apt-get install -y victoria-metrics` (Debian and Ubuntu), " +
	"or put victoria-metrics (the single-node binary, victoria-metrics-prod in upstream releases) from " +
	"https://github.com/VictoriaMetrics/VictoriaMetrics/releases on PATH"

// VMBinary returns the path of the single-node VictoriaMetrics binary:
// victoria-metrics as Debian names it, or victoria-metrics-prod as the
// upstream release archives do.
func VMBinary() (string, error) {
	for _, name := range []string{"victoria-metrics", "victoria-metrics-prod"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("victoria-metrics not found on PATH: %s", VMInstallHint)
}

// RequireVM returns the VictoriaMetrics binary; when it is missing it
// fails the test with how to install it, as Require does for Prometheus.
func RequireVM(t testing.TB) string {
	t.Helper()
	bin, err := VMBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// StartVM runs single-node VictoriaMetrics with its data in dir, listening
// on a free loopback port, and waits until it is healthy. args are added
// to the command line (e.g. -search.maxPointsPerTimeseries=1000); with
// -http.pathPrefix the server's URL ends in the prefix.
func StartVM(ctx context.Context, bin, dir string, args ...string) (*Server, error) {
	return onFreePort(func() (*Server, error) { return startVM(ctx, bin, dir, args) })
}

func startVM(ctx context.Context, bin, dir string, args []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, append([]string{
		"-storageDataPath=" + dir,
		// Test data lies in the past: keep it, whatever its age.
		"-retentionPeriod=100y",
		"-httpListenAddr=" + addr,
		"-loggerLevel=WARN",
		// Answer up to the newest sample: test data may end just now, and
		// its last steps must not be held back for 30 s.
		"-search.latencyOffset=0s",
	}, args...)...)
	s := &Server{URL: "http://" + addr + pathPrefix(args), name: "victoria-metrics", cmd: cmd, done: make(chan struct{}), logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting victoria-metrics: %w", err)
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, "/health"); err != nil {
		return nil, err
	}
	return s, nil
}

// pathPrefix is the -http.pathPrefix among args, under which
// VictoriaMetrics serves everything (as behind a proxy).
func pathPrefix(args []string) string {
	prefix := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "http.pathPrefix="); ok {
			prefix = v
		}
	}
	return strings.TrimSuffix(prefix, "/")
}

// RunVM starts VictoriaMetrics over a fresh data directory of the test's
// and stops it when the test ends.
func RunVM(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := RequireVM(t)
	s, err := StartVM(context.Background(), bin, t.TempDir(), args...)
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, s, "victoria-metrics")
	return s
}

// DemoVM starts VictoriaMetrics for a test with the samples of DemoTSDB
// imported (the same OpenMetrics text promtool backfills), flushed so that
// queries see them.
func DemoVM(t testing.TB, args ...string) *Server {
	t.Helper()
	s := RunVM(t, args...)
	f, err := demoText()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return s
}

var demoOM struct {
	once sync.Once
	path string
	err  error
}

// demoText opens the demo's OpenMetrics text, rendered once per test
// binary (Cleanup removes it).
func demoText() (*os.File, error) {
	demoOM.once.Do(func() {
		f, err := os.CreateTemp("", "rightsize-demo-*.om")
		if err != nil {
			demoOM.err = err
			return
		}
		demoOM.path = f.Name()
		if err := WriteDemo(f); err != nil {
			f.Close()
			demoOM.err = fmt.Errorf("rendering demo openmetrics: %w", err)
			return
		}
		demoOM.err = f.Close()
	})
	if demoOM.err != nil {
		return nil, demoOM.err
	}
	return os.Open(demoOM.path)
}

// Import loads OpenMetrics text (as openmetrics.Write renders it) into
// VictoriaMetrics through /api/v1/import/prometheus and flushes it so that
// the next query sees every sample. That endpoint reads the Prometheus
// text format, whose timestamps are milliseconds where OpenMetrics' are
// seconds: the timestamps are converted on the way.
func (s *Server) Import(ctx context.Context, om io.Reader) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(toPrometheusText(pw, om)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/import/prometheus", pr)
	if err != nil {
		return err
	}
	if err := s.call(req); err != nil {
		return fmt.Errorf("importing into victoria-metrics: %w", err)
	}
	return s.Flush(ctx)
}

// Flush makes VictoriaMetrics write what it buffers, so that queries see
// every sample imported (it otherwise does within a second or so).
func (s *Server) Flush(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/internal/force_flush", nil)
	if err != nil {
		return err
	}
	if err := s.call(req); err != nil {
		return fmt.Errorf("flushing victoria-metrics: %w", err)
	}
	return nil
}

func (s *Server) call(req *http.Request) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// toPrometheusText copies sample lines, their timestamps turned from
// seconds into milliseconds, and leaves out comments (# TYPE, # EOF).
func toPrometheusText(w io.Writer, om io.Reader) error {
	sc := bufio.NewScanner(om)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// The timestamp is the last field: label values are quoted, and
		// the value and timestamp follow the closing brace.
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || i < strings.LastIndexByte(line, '}') {
			return fmt.Errorf("sample without a timestamp: %.80q", line)
		}
		sec, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return fmt.Errorf("timestamp of %.80q: %w", line, err)
		}
		bw.WriteString(line[:i+1])
		bw.WriteString(strconv.FormatInt(int64(sec*1000+0.5), 10))
		bw.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// waitReady polls path until it answers 200, the process ends or a minute
// passes.
func (s *Server) waitReady(ctx context.Context, path string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited before it was ready: %s", s.name, tail(s.logs.String()))
		case <-ctx.Done():
			_ = s.Stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.URL + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return errors.New(s.name + " not ready after 60 s: " + tail(s.logs.String()))
		}
	}
}
