package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// Names a usage file may carry: a colour change, a bell, a line break, a
// carriage return that overwrites the line, a right-to-left override that
// reverses what follows, and a window-title sequence.
const (
	red      = "\x1b[31mred"
	bell     = "bell\a"
	newline  = "two\nlines"
	carriage = "ok\rEVIL"
	rtlo     = "app\u202egpj.exe"
	title    = "\x1b]0;owned\a"
)

// untrustedPlan is a plan whose names, reasons, notes and source carry
// terminal control sequences, beside an ordinary workload.
func untrustedPlan() workload.Plan {
	rec := workload.Recommendation{
		HasCPU: true, HasMemory: true, Confidence: 0.9,
		Target:     settings(res(200, 256*workload.MiB), res(0, 512*workload.MiB)),
		LowerBound: res(100, 128*workload.MiB), UpperBound: res(300, 512*workload.MiB),
		Reasons: []string{"cpu request: p98 here \x1b[2J200m (R1)", "memory: container " + rtlo + " grew"},
	}
	return workload.Plan{
		Profile: "balanced", Source: "usage-\x1b[1mbold.csv",
		Workloads: []workload.WorkloadPlan{
			{
				Key:      workload.Key{Namespace: red, Kind: workload.Deployment, Name: bell},
				Replicas: 1, QoSCurrent: workload.BestEffort, QoSRecommended: workload.Burstable,
				Notes: []string{"container " + newline + " sets no requests or limits today (R5)", "QoS class changes " + title},
				Autoscaling: &workload.Autoscaling{
					Current: &workload.HPA{Name: title, Target: workload.Key{Namespace: red, Kind: workload.Deployment, Name: bell}, MinReplicas: 1, MaxReplicas: 4,
						Metrics: []workload.MetricTarget{{Resource: red, AverageValue: "1k" + carriage}, {Resource: "cpu", AverageUtilization: 60}}},
					Reasons: []string{"current HPA " + title + ": on " + red},
				},
				Containers: []workload.ContainerPlan{
					{Name: newline, Samples: 100, Recommendation: rec},
					{Name: carriage, Samples: 100, Recommendation: rec},
					{Name: rtlo, Sidecar: true, Init: true, Samples: 3, Recommendation: workload.Recommendation{Reasons: []string{"cpu: no recommendation: too few samples of " + rtlo}}},
				},
			},
			{
				Key:      workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web|`tick`"},
				Replicas: 2, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{{Name: "app", Samples: 100, Current: settings(res(500, workload.GiB), res(0, 0)), Recommendation: rec}},
			},
		},
	}
}

// unprintable returns the first character of s, besides line breaks
// between lines, that a terminal would act on instead of print.
func unprintable(s string) (rune, bool) {
	for _, line := range strings.Split(s, "\n") {
		for _, r := range line {
			if r == utf8.RuneError || !untrusted.Printable(string(r)) {
				return r, true
			}
		}
	}
	return 0, false
}

// TestUntrustedNames: names, reasons and notes from a file reach the
// terminal escaped in the table and markdown formats (quoted where they
// hold control or format characters, unchanged otherwise); json and yaml
// escape them inside their strings and still decode to the exact names.
// Before, the table printed "\x1b[31m" and U+202E as they were.
func TestUntrustedNames(t *testing.T) {
	p := untrustedPlan()
	for _, f := range []Format{Table, Markdown} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePlan(&buf, p, f); err != nil {
				t.Fatal(err)
			}
			if r, bad := unprintable(buf.String()); bad {
				t.Errorf("%U reaches the terminal:\n%s", r, buf.String())
			}
			golden.Assert(t, filepath.Join("testdata", "untrusted."+map[Format]string{Table: "txt", Markdown: "md"}[f]), buf.Bytes())
		})
	}
	for _, f := range []Format{JSON, YAML} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePlan(&buf, p, f); err != nil {
				t.Fatal(err)
			}
			if r, bad := unprintable(buf.String()); bad {
				t.Errorf("%U reaches the terminal:\n%s", r, buf.String())
			}
			var got, want map[string]any
			if err := yaml.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("does not decode: %v\n%s", err, buf.String())
			}
			j, err := json.Marshal(NewPlanDocument(p))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(j, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decodes to another document:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestJSONEscapesWhatEncodingJSONLeaves: encoding/json writes DEL, C1
// controls and format characters raw; EscapeJSON turns them into escapes
// that decode to the same string, and leaves ordinary text alone.
func TestJSONEscapesWhatEncodingJSONLeaves(t *testing.T) {
	for _, s := range []string{"plain → ≥ ü", "del\x7f", "csi\u009b[31m", "rtl\u202e", "zw\u200b", "emoji😀", "tag\U000E0041"} {
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out := EscapeJSON(enc)
		if r, bad := unprintable(string(out)); bad {
			t.Errorf("%q: %U left in %s", s, r, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Errorf("%q: %s decodes to %q, %v", s, out, back, err)
		}
		if untrusted.Printable(s) && !bytes.Equal(out, enc) {
			t.Errorf("%q: printable text rewritten: %s", s, out)
		}
	}
}

func TestMarkdownCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web", "`web`"},
		{"a`b", "`a'b`"},
		{"``x", "`''x`"},
		{"a\nb", "`a\\nb`"},
		{"", ""},
	} {
		if got := mdCode(tc.in); got != tc.want {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := mdCodeCell("a|b"); got != "`a\\|b`" {
		t.Errorf("mdCodeCell(a|b) = %q", got)
	}
}

// TestJSONPlanStreamedAsWhole: the plan's JSON, written a workload at a
// time, is byte for byte what encoding the whole document gives, for no
// workload, one, several and names needing escapes.
func TestJSONPlanStreamedAsWhole(t *testing.T) {
	one := testPlan()
	one.Workloads = one.Workloads[:1]
	for name, p := range map[string]workload.Plan{
		"empty":     {Profile: "balanced", Source: "none"},
		"one":       one,
		"golden":    testPlan(),
		"untrusted": untrustedPlan(),
	} {
		t.Run(name, func(t *testing.T) {
			var streamed bytes.Buffer
			require.NoError(t, WritePlan(&streamed, p, JSON))
			var whole bytes.Buffer
			require.NoError(t, WriteJSON(&whole, NewPlanDocument(p)))
			assert.Equal(t, whole.String(), streamed.String())
		})
	}
}
