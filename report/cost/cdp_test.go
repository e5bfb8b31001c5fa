package cost

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a headless Chromium driven over the DevTools protocol on
// --remote-debugging-pipe: commands go in on the child's fd 3, answers and
// events come back on fd 4, each a JSON message ended by a NUL byte. A pipe
// needs no port, no WebSocket and no HTTP endpoint, and it closes with the
// process, so a crashed browser fails the test instead of hanging it.
type browser struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *strings.Builder

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	events  []cdpMessage
	notify  chan struct{}
	done    chan struct{}
	readErr error
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// chromiumFlags are the flags for a headless run as root on a closed
// network: without the background-networking ones Chromium keeps trying to
// reach Google services.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
	"--remote-debugging-pipe",
}

// findChromium returns the browser binary, "" when none is installed.
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	toChrome, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{in: in, pending: map[int]chan cdpMessage{}, notify: make(chan struct{}, 1), done: make(chan struct{}), stderr: &strings.Builder{}}
	b.cmd = exec.Command(bin, append(chromiumFlags, "--user-data-dir="+t.TempDir(), "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3 and fd 4
	b.cmd.Stderr = &lockedWriter{b: b.stderr}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toChrome.Close()
	fromChrome.Close()
	go b.read(out)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = b.call(ctx, "", "Browser.close", nil)
		in.Close()
		wait := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(wait) }()
		select {
		case <-wait:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-wait
		}
	})
	return b
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else {
			b.events = append(b.events, m)
			select {
			case b.notify <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
}

// call sends one command (to the browser, or to a page with sessionID) and
// waits for its answer.
func (b *browser) call(ctx context.Context, sessionID, method string, params any, result ...any) (json.RawMessage, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if sessionID != "" {
		msg["sessionId"] = sessionID
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		for _, r := range result {
			if err := json.Unmarshal(m.Result, r); err != nil {
				return nil, fmt.Errorf("%s: decoding result: %w", method, err)
			}
		}
		return m.Result, nil
	case <-b.done:
		return nil, fmt.Errorf("%s: browser went away: %v; stderr:\n%s", method, b.readErr, b.stderr.String())
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// waitEvent waits for an event of a session after index from of the event
// list and returns its index.
func (b *browser) waitEvent(ctx context.Context, sessionID, method string, from int) (int, error) {
	for {
		b.mu.Lock()
		for i := from; i < len(b.events); i++ {
			if e := b.events[i]; e.Method == method && e.SessionID == sessionID {
				b.mu.Unlock()
				return i, nil
			}
		}
		b.mu.Unlock()
		select {
		case <-b.notify:
		case <-b.done:
			return 0, errors.New("browser went away waiting for " + method)
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

func (b *browser) eventCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// eventsSince returns the events from index from on.
func (b *browser) eventsSince(from int) []cdpMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cdpMessage(nil), b.events[from:]...)
}

// openPage creates a tab and attaches to it, with the domains whose events
// the test reads enabled.
func (b *browser) openPage(ctx context.Context) (string, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if _, err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return "", err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if _, err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return "", err
	}
	for _, domain := range []string{"Page", "Runtime", "Log", "Network"} {
		if _, err := b.call(ctx, att.SessionID, domain+".enable", nil); err != nil {
			return "", err
		}
	}
	return att.SessionID, nil
}
