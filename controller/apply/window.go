package apply

import (
	"fmt"
	"strings"
	"time"
)

// Window is a maintenance window: the weekly times applies are allowed,
// in UTC. The zero Window allows every time.
type Window struct {
	spans []span
	text  string
}

// span is one day set and time range: minutes since midnight, [from, to);
// to < from crosses midnight into the next day.
type span struct {
	days     [7]bool // by time.Weekday
	from, to int
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWindow reads windows such as "Mon-Fri 22:00-02:00" or
// "Sat,Sun 01:00-05:00; * 03:00-04:00" (UTC; * is every day; a range that
// ends before it starts runs past midnight, counted to the day it
// starts). "" is no window: every time is allowed.
func ParseWindow(s string) (Window, error) {
	w := Window{text: strings.TrimSpace(s)}
	if w.text == "" {
		return w, nil
	}
	for part := range strings.SplitSeq(w.text, ";") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return Window{}, fmt.Errorf("window %q: want DAYS HH:MM-HH:MM, e.g. Mon-Fri 22:00-02:00", strings.TrimSpace(part))
		}
		sp, err := parseDays(f[0])
		if err != nil {
			return Window{}, fmt.Errorf("window %q: %w", strings.TrimSpace(part), err)
		}
		from, to, ok := strings.Cut(f[1], "-")
		if sp.from, err = parseClock(from); ok && err == nil {
			sp.to, err = parseClock(to)
		}
		if !ok || err != nil || sp.from == sp.to {
			return Window{}, fmt.Errorf("window %q: want a time range HH:MM-HH:MM of some length", strings.TrimSpace(part))
		}
		w.spans = append(w.spans, sp)
	}
	return w, nil
}

func parseDays(s string) (span, error) {
	var sp span
	if s == "*" {
		sp.days = [7]bool{true, true, true, true, true, true, true}
		return sp, nil
	}
	for item := range strings.SplitSeq(strings.ToLower(s), ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, ok1 := weekdays[a]
		to, ok2 := weekdays[b]
		if !isRange {
			to, ok2 = from, ok1
		}
		if !ok1 || !ok2 {
			return sp, fmt.Errorf("days %q: want Mon, Mon-Fri, Sat,Sun or *", s)
		}
		for d := from; ; d = (d + 1) % 7 {
			sp.days[d] = true
			if d == to {
				break
			}
		}
	}
	return sp, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Allows says whether t is within the window.
func (w Window) Allows(t time.Time) bool {
	if len(w.spans) == 0 {
		return true
	}
	t = t.UTC()
	m := t.Hour()*60 + t.Minute()
	day, yesterday := t.Weekday(), (t.Weekday()+6)%7
	for _, sp := range w.spans {
		if sp.from < sp.to {
			if sp.days[day] && m >= sp.from && m < sp.to {
				return true
			}
			continue
		}
		// Past midnight: the evening of a listed day, or the morning
		// after one.
		if (sp.days[day] && m >= sp.from) || (sp.days[yesterday] && m < sp.to) {
			return true
		}
	}
	return false
}

// String is the window as given; "always" for none.
func (w Window) String() string {
	if w.text == "" {
		return "always"
	}
	return w.text
}
