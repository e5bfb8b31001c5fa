package prometheus

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestProgressBar(t *testing.T) {
	t.Run("terminal: redraws one line, at most five times a second", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		p := &ProgressBar{W: &out, Interactive: true, Now: clk.now}
		p.Update(0, 4, 0) // the first is drawn at once
		clk.t = clk.t.Add(100 * time.Millisecond)
		p.Update(1, 4, 1000) // too soon: not drawn
		clk.t = clk.t.Add(200 * time.Millisecond)
		p.Update(2, 4, 2_500_000)
		p.Update(4, 4, 5_000_000) // the last one always
		p.Finish()
		assert.Equal(t, 3, strings.Count(out.String(), "\r"))
		assert.Contains(t, out.String(), "\rprometheus [===============               ]  50%, 2.5 MB, 0s")
		assert.True(t, strings.HasSuffix(out.String(), "] 100%, 5.0 MB, 0s\n"))
	})
	t.Run("log: silent for a short run", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		p := &ProgressBar{W: &out, Now: clk.now}
		p.Update(0, 2, 0)
		clk.t = clk.t.Add(3 * time.Second)
		p.Update(2, 2, 10)
		p.Finish()
		assert.Empty(t, out.String())
	})
	t.Run("log: a line every interval for a long run", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{time.Unix(0, 0)}
		p := &ProgressBar{W: &out, Now: clk.now}
		for i := range 31 {
			p.Update(i, 30, int64(i)*1e6)
			clk.t = clk.t.Add(time.Second)
		}
		p.Finish()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		assert.Len(t, lines, 3, "at 10 s, 20 s and the end at 30 s")
		assert.NotContains(t, out.String(), "\r")
		assert.Contains(t, lines[len(lines)-1], "100%, 30.0 MB, 30s")
	})
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 2_500_000: "2.5 MB", 3_210_000_000: "3.21 GB"} {
		assert.Equal(t, want, FormatBytes(n))
	}
}
