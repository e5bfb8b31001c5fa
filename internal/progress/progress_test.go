package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func prom(done, total int, bytes int64) Update {
	return Update{Source: "prometheus", Done: done, Total: total, Detail: Bytes(bytes)}
}

func TestBar(t *testing.T) {
	t.Run("terminal: redraws one line, at most five times a second", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		b := &Bar{W: &out, Interactive: true, Now: clk.now}
		b.Report(prom(0, 4, 0)) // the first is drawn at once
		clk.t = clk.t.Add(100 * time.Millisecond)
		b.Report(prom(1, 4, 1000)) // too soon: not drawn
		clk.t = clk.t.Add(200 * time.Millisecond)
		b.Report(prom(2, 4, 2_500_000))
		b.Report(prom(4, 4, 5_000_000)) // the last one always
		b.Finish()
		assert.Equal(t, 3, strings.Count(out.String(), "\r"))
		assert.Contains(t, out.String(), "\rprometheus [===============               ]  50%, 2.5 MB, 0s")
		assert.True(t, strings.HasSuffix(out.String(), "] 100%, 5.0 MB, 0s\n"))
	})
	t.Run("log: silent for a short run", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		b := &Bar{W: &out, Now: clk.now}
		b.Report(prom(0, 2, 0))
		clk.t = clk.t.Add(3 * time.Second)
		b.Report(prom(2, 2, 10))
		b.Finish()
		assert.Empty(t, out.String())
	})
	t.Run("log: a line every interval for a long run", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		b := &Bar{W: &out, Now: clk.now}
		for i := range 31 {
			b.Report(prom(i, 30, int64(i)*1e6))
			clk.t = clk.t.Add(time.Second)
		}
		b.Finish()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		assert.Len(t, lines, 3, "at 10 s, 20 s and the end at 30 s")
		assert.NotContains(t, out.String(), "\r")
		assert.Contains(t, lines[len(lines)-1], "100%, 30.0 MB, 30s")
	})
	t.Run("units and a shorter line padded over the longer one", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		b := &Bar{W: &out, Interactive: true, Now: clk.now}
		b.Report(Update{Source: "metrics-server", Done: 1, Total: 4, Unit: "polls", Detail: "12 pods, 40 samples, 1m30s left"})
		b.Report(Update{Source: "metrics-server", Done: 4, Total: 4, Unit: "polls", Detail: "12 pods"})
		b.Finish()
		frames := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\r")[1:]
		assert.Equal(t, "metrics-server [=======                       ]  25%, 1/4 polls, 12 pods, 40 samples, 1m30s left, 0s", frames[0])
		assert.Equal(t, "metrics-server [==============================] 100%, 4/4 polls, 12 pods, 0s", strings.TrimRight(frames[1], " "))
		assert.Len(t, frames[1], len(frames[0]), "blanks cover the longer line drawn before")
	})
	t.Run("counts out of range draw a sane bar", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		b := &Bar{W: &out, Interactive: true, Now: clk.now}
		b.Report(Update{Source: "x", Done: 9, Total: 4})
		clk.t = clk.t.Add(time.Second)
		b.Report(Update{Source: "x", Done: -3, Total: 0})
		assert.Contains(t, out.String(), "100%")
		assert.Contains(t, out.String(), "  0%")
	})
}

func TestNilFuncIsSilent(t *testing.T) {
	var f Func
	f.Report(Update{Source: "x"}) // must not panic
	var got []Update
	f = func(u Update) { got = append(got, u) }
	f.Report(Update{Source: "y"})
	assert.Equal(t, []Update{{Source: "y"}}, got)
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 2_500_000: "2.5 MB", 3_210_000_000: "3.21 GB"} {
		assert.Equal(t, want, Bytes(n))
	}
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, IsTerminal(&bytes.Buffer{}), "a buffer")
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f), "a regular file")
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		assert.True(t, IsTerminal(tty), "the controlling terminal")
	}
}
