// Package progress carries how loading advances from a collector to the one
// display the command draws: collectors report updates, they never draw, so
// a run shows one bar whichever collector feeds it.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Update is one report of a collection's progress.
type Update struct {
	// Source names the collector: "prometheus", "metrics-server".
	Source string
	// Done of Total units of work; Unit names them ("polls"), or is
	// empty when they are not worth naming (Prometheus's steps).
	Done, Total int
	Unit        string
	// Detail is what else a user wants to see: bytes received, pods seen,
	// time left.
	Detail string
}

// Func is told each update. A nil Func is silence.
type Func func(Update)

// Report calls f with u when f is set.
func (f Func) Report(u Update) {
	if f != nil {
		f(u)
	}
}

// Bar draws updates on a stream. On a terminal it redraws one line at most
// five times a second; elsewhere (a log file, CI) it writes a plain line
// every Interval, and nothing at all for runs shorter than that, so that
// logs hold progress only where it helps.
type Bar struct {
	W           io.Writer
	Interactive bool
	// Interval is the time between lines when not interactive (default 10 s).
	Interval time.Duration
	// Now is the clock (default: the wall clock).
	Now func() time.Time

	mu      sync.Mutex
	start   time.Time
	last    time.Time
	drawn   bool
	lastMsg string
}

// Report draws u if it is time to; the last update of a run (Done ≥
// Total) is always drawn once anything was.
func (b *Bar) Report(u Update) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.start.IsZero() {
		b.start, b.last = now, now
	}
	every := 200 * time.Millisecond
	if !b.Interactive {
		every = b.Interval
		if every <= 0 {
			every = 10 * time.Second
		}
	}
	final := u.Done >= u.Total
	if now.Sub(b.last) < every && !final && (b.drawn || !b.Interactive) {
		return
	}
	if !b.Interactive && !b.drawn && final {
		return // a short run: say nothing
	}
	b.last = now
	msg := line(u, now.Sub(b.start))
	if b.Interactive {
		fmt.Fprintf(b.W, "\r%s", msg)
		if pad := len(b.lastMsg) - len(msg); pad > 0 {
			fmt.Fprint(b.W, strings.Repeat(" ", pad))
		}
	} else {
		fmt.Fprintln(b.W, msg)
	}
	b.lastMsg = msg
	b.drawn = true
}

// Func returns the bar as a Func.
func (b *Bar) Func() Func { return b.Report }

// Finish ends the line a terminal was redrawing, so that what follows
// starts on a line of its own.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Interactive && b.drawn {
		fmt.Fprintln(b.W)
	}
	b.start, b.drawn, b.lastMsg = time.Time{}, false, ""
}

func (b *Bar) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

const width = 30

func line(u Update, elapsed time.Duration) string {
	filled, pct := 0, 0
	if u.Total > 0 {
		done := min(max(u.Done, 0), u.Total)
		filled, pct = width*done/u.Total, 100*done/u.Total
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s%s] %3d%%", u.Source, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pct)
	if u.Unit != "" {
		fmt.Fprintf(&b, ", %d/%d %s", u.Done, u.Total, u.Unit)
	}
	if u.Detail != "" {
		b.WriteString(", " + u.Detail)
	}
	fmt.Fprintf(&b, ", %s", elapsed.Round(time.Second))
	return b.String()
}

// Bytes renders a byte count in a human unit ("12.3 MB").
func Bytes(n int64) string {
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

// IsTerminal reports whether w is a terminal, where a Bar redraws its
// line (Interactive).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
