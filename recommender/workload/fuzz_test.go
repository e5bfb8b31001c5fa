package workload_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// The seed corpora live in testdata/fuzz/<target>/.

// FuzzParseKind: a kind parses only as itself and only when known.
func FuzzParseKind(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() {
			k, ok := workload.ParseKind(s)
			switch {
			case ok && (string(k) != s || !slices.Contains(workload.Kinds, k) || k.APIVersion() == ""):
				t.Fatalf("ParseKind(%q) = %q, true", s, k)
			case !ok && k != "":
				t.Fatalf("ParseKind(%q) = %q, false; want the empty kind", s, k)
			}
		})
	})
}

// FuzzParseKey: whatever ParseKey accepts, Key.String writes back exactly;
// every key of a known kind whose parts hold no "/" survives the trip.
func FuzzParseKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() {
			if k, err := workload.ParseKey(s); err == nil && k.String() != s {
				t.Fatalf("ParseKey(%q) = %+v, which writes as %q", s, k, k.String())
			}
			parts := strings.SplitN(s, "/", 3)
			if len(parts) != 3 {
				return
			}
			k := workload.Key{Namespace: parts[0], Kind: workload.Kind(parts[1]), Name: parts[2]}
			_, known := workload.ParseKind(parts[1])
			valid := known && k.Namespace != "" && k.Name != "" && !strings.Contains(k.Name, "/")
			got, err := workload.ParseKey(k.String())
			switch {
			case valid && (err != nil || got != k):
				t.Fatalf("ParseKey(%q) = %+v, %v; want %+v", k.String(), got, err, k)
			case !valid && err == nil:
				t.Fatalf("ParseKey(%q) accepted an invalid key", k.String())
			}
		})
	})
}

// FuzzPrintableName: the result always prints as itself, is the name
// unchanged when that already did, and unquotes to the name otherwise.
func FuzzPrintableName(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		alloclimit.Check(t, alloclimit.Bound(len(s)), func() {
			p := workload.PrintableName(s)
			if !untrusted.Printable(p) {
				t.Fatalf("PrintableName(%q) = %q still holds unprintable characters", s, p)
			}
			if untrusted.Printable(s) {
				if p != s {
					t.Fatalf("PrintableName(%q) = %q changed a printable name", s, p)
				}
				return
			}
			if u, err := strconv.Unquote(p); err != nil || u != s {
				t.Fatalf("PrintableName(%q) = %q does not unquote to the name: %q, %v", s, p, u, err)
			}
		})
	})
}

// FuzzQuantityStrings: every int64 amount renders as a Kubernetes
// quantity that parses; a non-negative one has no sign and parses back to
// the same amount.
func FuzzQuantityStrings(f *testing.F) {
	f.Fuzz(func(t *testing.T, v int64) {
		alloclimit.Check(t, alloclimit.Bound(0), func() {
			for _, tc := range []struct {
				s     string
				value func(resource.Quantity) int64
			}{
				{workload.Millicores(v).String(), func(q resource.Quantity) int64 { return q.MilliValue() }},
				{workload.Bytes(v).String(), func(q resource.Quantity) int64 { return q.Value() }},
			} {
				if v >= 0 && strings.HasPrefix(tc.s, "-") {
					t.Fatalf("%d renders as %q", v, tc.s)
				}
				q, err := resource.ParseQuantity(tc.s)
				if err != nil {
					t.Fatalf("%d renders as %q, which does not parse: %v", v, tc.s, err)
				}
				// Near -2^63 the parser's own arithmetic wraps; no setting is
				// negative, so only the non-negative amounts must come back.
				if got := tc.value(q); got != v && v >= 0 {
					t.Fatalf("%d renders as %q, which parses as %d", v, tc.s, got)
				}
			}
		})
	})
}
