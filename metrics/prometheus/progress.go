package prometheus

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is told how a collection advances.
type Progress interface {
	// Update reports done of total units of work (steps of the window
	// times groups) and the bytes received so far.
	Update(done, total int, bytes int64)
	// Finish ends the display.
	Finish()
}

// ProgressBar draws progress on a stream. On a terminal it redraws one line
// at most five times a second; elsewhere (a log file, CI) it writes a plain
// line every Interval, and nothing at all for runs shorter than that.
type ProgressBar struct {
	W           io.Writer
	Interactive bool
	// Interval is the time between lines when not interactive (default 10 s).
	Interval time.Duration
	Now      func() time.Time

	mu      sync.Mutex
	start   time.Time
	last    time.Time
	drawn   bool
	lastMsg string
}

// Update implements Progress.
func (p *ProgressBar) Update(done, total int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.start.IsZero() {
		p.start, p.last = now, now
	}
	every := 200 * time.Millisecond
	if !p.Interactive {
		every = p.Interval
		if every <= 0 {
			every = 10 * time.Second
		}
	}
	if now.Sub(p.last) < every && done < total && (p.drawn || !p.Interactive) {
		return
	}
	if !p.Interactive && !p.drawn && done >= total {
		return // a short run: say nothing
	}
	p.last = now
	msg := progressLine(done, total, bytes, now.Sub(p.start))
	if p.Interactive {
		fmt.Fprintf(p.W, "\r%s", msg)
		if pad := len(p.lastMsg) - len(msg); pad > 0 {
			fmt.Fprint(p.W, strings.Repeat(" ", pad))
		}
	} else {
		fmt.Fprintln(p.W, msg)
	}
	p.lastMsg = msg
	p.drawn = true
}

// Finish implements Progress.
func (p *ProgressBar) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Interactive && p.drawn {
		fmt.Fprintln(p.W)
	}
}

func (p *ProgressBar) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func progressLine(done, total int, bytes int64, elapsed time.Duration) string {
	const width = 30
	filled, pct := 0, 0
	if total > 0 {
		filled, pct = width*done/total, 100*done/total
	}
	return fmt.Sprintf("prometheus [%s%s] %3d%%, %s, %s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pct, FormatBytes(bytes), elapsed.Round(time.Second))
}

// FormatBytes renders a byte count in a human unit ("12.3 MB").
func FormatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	default:
		return fmt.Sprintf("%d B", n)
	}
}
