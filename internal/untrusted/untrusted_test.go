package untrusted

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"rightsize.dev/rightsize/internal/alloclimit"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]bool{
		"":                    true,
		"shop/Deployment/web": true,
		"a b":                 true,
		"café €":              true,
		"\ufffd":              true, // the character itself, not an invalid byte
		"a\tb":                false,
		"a\nb":                false,
		"\x1b[31m":            false,
		"del \x7f":            false,
		"C1 \u009b":           false,
		"x\u202ey":            false,
		"zero\u200bwidth":     false,
		"no\u00a0break":       false,
		"bad\xffutf8":         false,
		"cut \xe2\x82":        false,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %v, want %v", in, got, want)
		}
		// PrintableText takes newlines, and nothing else more.
		if in == "a\nb" {
			want = true
		}
		if got := PrintableText([]byte(in + "\n")); got != want {
			t.Errorf("PrintableText(%q) = %v, want %v", in+"\n", got, want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"ünïcödé ok", "ünïcödé ok"},
		{"\ufffd", "\ufffd"},
		{`quotes " and \ kept`, `quotes " and \ kept`},
		{"\x1b[2J\x07", `\x1b[2J\a`},
		{"a\nb\r\tc\x00", `a\nb\r\tc\x00`},
		{"\x1b]0;pwned\a", `\x1b]0;pwned\a`},
		{"bidi \u202e and zero width \u200b", `bidi \u202e and zero width \u200b`},
		{"bad \xff utf-8 \xe2\x82", `bad \xff utf-8 \xe2\x82`},
		{"del \x7f and C1 \u009b", `del \x7f and C1 \u009b`},
		{"tag \U000e0001", `tag \U000e0001`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", MaxQuoted, "plain"},
		{"\x1b[2J", MaxQuoted, `\x1b[2J`},
		{strings.Repeat("a", MaxQuoted), MaxQuoted, strings.Repeat("a", MaxQuoted)},
		{strings.Repeat("a", 201), MaxQuoted, strings.Repeat("a", MaxQuoted) + "… (201 bytes)"},
		{strings.Repeat("é", 150), MaxQuoted, strings.Repeat("é", 100) + "… (300 bytes)"},
		{strings.Repeat("a", 199) + "é", MaxQuoted, strings.Repeat("a", 199) + "… (201 bytes)"},
		{strings.Repeat("\n", 300), MaxQuoted, strings.Repeat(`\n`, MaxQuoted) + "… (300 bytes)"},
		{"ab€cd", 3, "ab… (7 bytes)"},
		{"ab\xff\xfecd", 3, `ab\xff… (6 bytes)`},
		{"abc", 0, "… (3 bytes)"},
		{"abc", -1, "… (3 bytes)"},
	} {
		if got := Clip(tc.in, tc.max); got != tc.want {
			t.Errorf("Clip(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"", MaxQuoted, `""`},
		{"shop/Deployment/web", MaxQuoted, `"shop/Deployment/web"`},
		{`a"b\c`, MaxQuoted, `"a\"b\\c"`},
		{"a\nb\tc\x00", MaxQuoted, `"a\nb\tc\x00"`},
		{"\xff\xfe", MaxQuoted, `"\xff\xfe"`},
		{"café", MaxQuoted, `"café"`},
		{"\u202e", MaxQuoted, `"\u202e"`},
		{strings.Repeat("x", 300), MaxQuoted, `"` + strings.Repeat("x", MaxQuoted) + `"… (300 bytes)`},
		{strings.Repeat("é", 300_000), MaxQuoted, `"` + strings.Repeat("é", 100) + `"… (600000 bytes)`},
		{strings.Repeat("a", 199) + "é", MaxQuoted, `"` + strings.Repeat("a", 199) + `"… (201 bytes)`},
		{"ab€cd", 4, `"ab"… (7 bytes)`},
		{"abc", 0, `""… (3 bytes)`},
	} {
		if got := Quote(tc.in, tc.max); got != tc.want {
			t.Errorf("Quote(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestPrintableTextDoesNotAllocate: the common case, a plain name or
// message, costs nothing.
func TestPrintableTextDoesNotAllocate(t *testing.T) {
	s := "shop/Deployment/web: café"
	b := []byte(s + "\nline €")
	for name, f := range map[string]func(){
		"Printable":     func() { Printable(s) },
		"PrintableText": func() { PrintableText(b) },
		"Escape":        func() { Escape(s) },
		"Clip":          func() { Clip(s, MaxQuoted) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s of printable text: %v allocations", name, n)
		}
	}
}

var seeds = []string{
	"", "plain", "\x1b[2J\x07", "ünï\u202e\xff", "\t\r\n", `"quoted\"`, "\ufffd\xef\xbf",
	strings.Repeat("é", 150), strings.Repeat("a", 199) + "€", strings.Repeat("\xff", 300),
}

// FuzzEscape: the result is printable, and the text itself when that is.
func FuzzEscape(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out string
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { out = Escape(s) })
		if !Printable(out) {
			t.Fatalf("Escape(%q) = %q is not printable", s, out)
		}
		if (out == s) != Printable(s) {
			t.Fatalf("Escape(%q) = %q, Printable %v", s, out, Printable(s))
		}
		if len(out) > 4*len(s) {
			t.Fatalf("Escape of %d bytes gave %d", len(s), len(out))
		}
	})
}

// FuzzClip: the result is printable, bounded by a multiple of max, the
// escaped start of the text, and says the length when it is cut.
func FuzzClip(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, uint8(MaxQuoted))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, max uint8) {
		var out string
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { out = Clip(s, int(max)) })
		if !Printable(out) {
			t.Fatalf("Clip(%q, %d) = %q is not printable", s, max, out)
		}
		if len(out) > 4*int(max)+32 {
			t.Fatalf("Clip of %d bytes to %d gave %d", len(s), max, len(out))
		}
		if len(s) <= int(max) {
			if out != Escape(s) {
				t.Fatalf("Clip(%q, %d) = %q, not Escape", s, max, out)
			}
			return
		}
		suffix := "… (" + strconv.Itoa(len(s)) + " bytes)"
		head, ok := strings.CutSuffix(out, suffix)
		if !ok || !strings.HasPrefix(Escape(s), head) {
			t.Fatalf("Clip(%q, %d) = %q", s, max, out)
		}
	})
}

// FuzzQuote: the result is printable and unquotes to the start of the
// text, all of it unless it says the length.
func FuzzQuote(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, uint8(MaxQuoted))
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, max uint8) {
		var out string
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() { out = Quote(s, int(max)) })
		if !Printable(out) {
			t.Fatalf("Quote(%q, %d) = %q is not printable", s, max, out)
		}
		quoted := out[:strings.LastIndexByte(out, '"')+1]
		u, err := strconv.Unquote(quoted)
		if err != nil || !strings.HasPrefix(s, u) || len(u) > int(max) {
			t.Fatalf("Quote(%q, %d) = %q: unquoted %q, %v", s, max, out, u, err)
		}
		if cut := len(u) < len(s); cut != (quoted != out) {
			t.Fatalf("Quote(%q, %d) = %q: cut %v", s, max, out, cut)
		}
		if quoted != out && out[len(quoted):] != "… ("+strconv.Itoa(len(s))+" bytes)" {
			t.Fatalf("Quote(%q, %d) = %q", s, max, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(u) {
			t.Fatalf("Quote(%q, %d) = %q split a character", s, max, out)
		}
	})
}
