package app

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/internal/golden"
)

// run executes the command line and returns its exit code and streams.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main("rightsize", args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func TestPlanOnDemoData(t *testing.T) {
	code, out, errOut := run(t, "plan")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 1, "one line on stderr says the demo data is used")
	assert.Contains(t, lines[0], "using embedded demo data")
	for _, want := range []string{"CPU REQ", "shop/StatefulSet/orders-db (critical)", "Burstable → Guaranteed", "CPU requests:", "GiB"} {
		assert.Contains(t, out, want)
	}
}

// TestREADMESampleOutput keeps the README's sample output true.
func TestREADMESampleOutput(t *testing.T) {
	readme := filepath.Join("..", "..", "..", "README.md")
	data, err := os.ReadFile(readme)
	require.NoError(t, err)
	re := regexp.MustCompile("(?s)(<!-- sample-output: rightsize plan -->\n```text\n)(.*?)(```\n)")
	m := re.FindSubmatchIndex(data)
	require.NotNil(t, m, "README.md has no sample-output block")
	code, out, errOut := run(t, "plan")
	require.Equal(t, 0, code, errOut)
	want := "$ rightsize plan\n" + errOut + out
	if golden.Update() {
		data = append(data[:m[4]:m[4]], append([]byte(want), data[m[5]:]...)...)
		require.NoError(t, os.WriteFile(readme, data, 0o644))
		return
	}
	assert.Equal(t, want, string(data[m[4]:m[5]]), "README sample output is stale: go test ./cmd/rightsize/app -run README -update")
}

func TestPlanJSONDocument(t *testing.T) {
	code, out, errOut := run(t, "plan", "-o", "json", "--profile", "krr")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Profile    string `json:"profile"`
		Source     string `json:"source"`
		Workloads  []struct {
			Namespace  string `json:"namespace"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Containers []struct {
				Name        string         `json:"name"`
				Recommended map[string]any `json:"recommended"`
				Reasons     []string       `json:"reasons"`
			} `json:"containers"`
		} `json:"workloads"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "rightsize.dev/v1alpha1", doc.APIVersion)
	assert.Equal(t, "Plan", doc.Kind)
	assert.Equal(t, "krr", doc.Profile)
	assert.Equal(t, "demo", doc.Source)
	require.NotEmpty(t, doc.Workloads)
	for _, w := range doc.Workloads {
		for _, c := range w.Containers {
			assert.NotEmpty(t, c.Reasons, "%s/%s", w.Name, c.Name)
		}
	}
}

func TestPlanWritesPatches(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, "plan", "--patches", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "patch file(s) and kustomization.yaml to "+dir)
	kust, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(kust), "shop-deployment-web.yaml")
	web, err := os.ReadFile(filepath.Join(dir, "shop-deployment-web.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(web), "kind: Deployment")
	assert.Contains(t, string(web), "resources:")
}

func writeGzip(t *testing.T, path, content string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func TestPlanInputFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("timestamp,namespace,kind,workload,pod,container,cpu_cores,memory_bytes,cpu_request_cores\n")
	for i := 0; i < 200; i++ {
		ts := 1700000000 + i*300
		b.WriteString(strings.Join([]string{strconv.Itoa(ts), "ns", "Deployment", "app", "app-1", "main", "0.25", "268435456", "1"}, ",") + "\n")
	}
	b.WriteString("1700099999,ns,Gadget,app,app-1,main,0.25,268435456,1\n")    // unknown kind: skipped
	b.WriteString("1700000000,ns,Deployment,app,app-1,main,0.5,268435456,1\n") // duplicate: skipped
	path := filepath.Join(dir, "usage.csv")
	writeGzip(t, path, b.String())

	code, out, errOut := run(t, "plan", "--input", path, "-o", "csv")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, path+": read 202 rows, used 200, skipped 2 (1 duplicate, 1 unknown kind)")
	assert.Contains(t, out, "ns,Deployment,app,main")
}

func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("timestamp,namespace,kind,workload,pod,container,cpu_cores\n1700000000,ns,Pod,p,p,c,abc\n"), 0o644))
	mixed := filepath.Join(dir, "mixed.csv")
	require.NoError(t, os.WriteFile(mixed, []byte("timestamp,namespace,kind,workload,pod,container,cpu_cores\n1700000000,ns,Widget,p,p,c,0.5\n1700000000,ns,Pod,q,q,c,0.5\n"), 0o644))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"plan", "--input", filepath.Join(dir, "nope.csv")}, 1, "nope.csv"},
		{"unparsable number names line and column", []string{"plan", "--input", bad}, 1, `bad.csv:2: column "cpu_cores"`},
		{"strict fails on a skipped row", []string{"plan", "--input", mixed, "--strict"}, 1, `mixed.csv:2: unknown kind (--strict skips no row)`},
		{"a skipped row is counted", []string{"plan", "--input", mixed}, 0, `read 2 rows, used 1, skipped 1 (1 unknown kind): first unknown kind at line 2`},
		{"-v lists the lines skipped", []string{"plan", "--input", mixed, "-v"}, 0, `msg="skipped rows" file=` + mixed + ` rows="unknown kind at line 2"`},
		{"unknown profile", []string{"plan", "--profile", "fast"}, 2, `unknown profile "fast"`},
		{"unknown format", []string{"plan", "-o", "xml"}, 2, "xml"},
		{"bad critical", []string{"plan", "--critical", "shop/web"}, 2, "NAMESPACE/KIND/NAME"},
		{"bad end", []string{"plan", "--end", "yesterday"}, 2, "RFC 3339"},
		{"backtest unknown profile", []string{"backtest", "--profile", "vpa,nope"}, 2, `unknown profile "nope"`},
		{"backtest from metrics-server", []string{"backtest", "--source", "metrics-server"}, 2, "backtest needs days of history"},
		{"backtest profiles listed whole", []string{"backtest", "--profile", "nonsense"}, 2, "(known: current, balanced"},
		{"backtest oracle listed", []string{"backtest", "--profile", "nonsense"}, 2, ", oracle)"},
		{"backtest without a decision", []string{"backtest", "--warmup", "30d", "--profile", "balanced"}, 1,
			"0 decisions: the history spans 335h55m0s, the warm-up is 30d and a decision comes every 1d; try --warmup 1h --interval 1h"},
		{"plan with an argument", []string{"plan", "extra-arg"}, 2, `unknown command "extra-arg"`},
		{"patches into a file", []string{"plan", "--patches", bad}, 2, "--patches " + bad + " is a file, not a directory"},
		{"backtest with an argument", []string{"backtest", "extra-arg"}, 2, `unknown command "extra-arg"`},
		{"report with an argument", []string{"report", "extra-arg"}, 2, `unknown command "extra-arg"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestBacktestOnDemoData(t *testing.T) {
	code, out, errOut := run(t, "backtest", "--profile", "balanced,vpa,oracle", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var res []struct {
		Profile string `json:"profile"`
		Covered int    `json:"covered"`
		CPU     struct {
			Slack float64 `json:"slack"`
		} `json:"cpu"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res, 3)
	for _, r := range res {
		assert.Positive(t, r.Covered, r.Profile)
		assert.Greater(t, r.CPU.Slack, 0.0, r.Profile)
	}
}

func TestBacktestTop(t *testing.T) {
	code, out, errOut := run(t, "backtest", "--profile", "balanced", "--top", "2", "--headroom=false")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "balanced: most idle CPU\n  CONTAINER ")
	assert.Contains(t, out, "balanced: most CPU time short\n")
	idle := out[strings.Index(out, "most idle CPU"):strings.Index(out, "most CPU time short")]
	assert.Equal(t, 4, strings.Count(idle, "\n"), "a header, two containers and the next title's line: %s", idle)

	code, out, errOut = run(t, "backtest", "--profile", "balanced", "--top", "2", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var res struct {
		ByContainer []struct {
			Container string  `json:"container"`
			Idle      float64 `json:"cpu_idle_core_hours"`
		} `json:"by_container"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.NotEmpty(t, res.ByContainer)
	assert.LessOrEqual(t, len(res.ByContainer), 4)
	assert.Positive(t, res.ByContainer[0].Idle)

	code, _, errOut = run(t, "backtest", "--top", "-1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--top must not be negative")
}

// TestPlanGolden pins the whole plan document for a small file with every
// kind of skipped row, a container with too little history, an OOM kill and
// throttling.
func TestPlanGolden(t *testing.T) {
	input := filepath.Join("..", "..", "..", "testdata", "usage", "shop-small.csv")
	goldenPath := filepath.Join("..", "..", "..", "testdata", "golden", "plan-shop-small.json")
	code, out, errOut := run(t, "plan", "--input", input, "-o", "json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "read 1824 rows, used 1820, skipped 4 (1 duplicate, 1 negative value, 1 not a number, 1 unknown kind)")
	golden.Assert(t, goldenPath, []byte(out))
	assert.Contains(t, out, "no recommendation: too little history (20 samples")
}

func TestKubectlPluginName(t *testing.T) {
	var out bytes.Buffer
	code := Main(KubectlPlugin, []string{"--help"}, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	require.Equal(t, 0, code)
	assert.Contains(t, out.String(), "kubectl rightsize [command]")

	for _, sub := range []string{"plan", "backtest", "report", "version"} {
		out.Reset()
		code = Main(KubectlPlugin, []string{sub, "--help"}, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
		require.Equal(t, 0, code)
		assert.Contains(t, out.String(), "  kubectl rightsize "+sub, "examples as a plugin")
		assert.NotContains(t, out.String(), "\n  rightsize ", "no example without kubectl")
	}
}

// hasPart tells whether one of lines holds every part.
func hasPart(lines []string, parts ...string) bool {
	for _, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func millicores(t *testing.T, q string) float64 {
	t.Helper()
	v, err := resource.ParseQuantity(q)
	require.NoError(t, err, q)
	return float64(v.MilliValue())
}
