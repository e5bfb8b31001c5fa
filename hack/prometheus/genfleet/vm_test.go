package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
)

// TestIntegrationPlansMatch loads the test fleet into two VictoriaMetrics:
// one through genfleet's import, in slices and chunks that cut the window
// anywhere, the other as the OpenMetrics text of the same fleet (as the
// collector's tests load theirs). `rightsize plan --prometheus-url` must
// plan the same from both: the plans differ in the server's URL only, and
// so do the summary lines but for the bytes received.
func TestIntegrationPlansMatch(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a real VictoriaMetrics (skipped with -short)")
	}
	if _, err := promtest.VMBinary(); err != nil {
		t.Skip(err)
	}
	rightsize := buildRightsize(t)
	ctx := context.Background()

	streamed := promtest.RunVM(t)
	imp := &importer{url: streamed.URL, jobs: 3, chunk: 7}
	_, err := imp.load(ctx, testFleet(), 5*time.Hour+7*time.Minute)
	require.NoError(t, err)
	require.NoError(t, streamed.Flush(ctx))

	rendered := promtest.RunVM(t)
	var om bytes.Buffer
	require.NoError(t, renderOM(&om, testFleet()))
	require.NoError(t, rendered.Import(ctx, &om))

	a, aLog := plan(t, rightsize, streamed.URL)
	b, bLog := plan(t, rightsize, rendered.URL)
	for _, p := range []map[string]any{a, b} {
		delete(p, "generated")
		delete(p, "source")
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.MarshalIndent(a, "", " ")
		jb, _ := json.MarshalIndent(b, "", " ")
		t.Errorf("the plans differ:\n%s", firstDifference(string(ja), string(jb)))
	}
	if n := len(a["workloads"].([]any)); n < 10 {
		t.Errorf("%d workloads planned: want the fleet's", n)
	}
	aLog = strings.ReplaceAll(aLog, streamed.URL, "URL")
	bLog = strings.ReplaceAll(bLog, rendered.URL, "URL")
	t.Logf("imported:    %s", aLog)
	t.Logf("OpenMetrics: %s", bLog)
	if withoutBytes(aLog) != withoutBytes(bLog) {
		t.Errorf("the summary lines differ beyond the bytes received")
	}
}

func buildRightsize(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH: ", err)
	}
	bin := filepath.Join(t.TempDir(), "rightsize")
	out, err := exec.Command(gobin, "build", "-o", bin, "rightsize.dev/rightsize/cmd/rightsize").CombinedOutput()
	if err != nil {
		t.Fatalf("building rightsize: %v\n%s", err, out)
	}
	return bin
}

// plan runs rightsize plan against url over the test fleet's window and
// returns the plan and the summary line it logs.
func plan(t *testing.T, bin, url string) (map[string]any, string) {
	t.Helper()
	cmd := exec.Command(bin, "plan", "--prometheus-url", url, "--end", testEnd.Format(time.RFC3339), "--history", "2d", "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rightsize plan: %v\n%s", err, stderr.String())
	}
	var p map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &p))
	summary := ""
	for line := range strings.Lines(stderr.String()) {
		if strings.HasPrefix(line, "prometheus ") {
			summary = strings.TrimSpace(line)
		}
	}
	if summary == "" {
		t.Fatalf("no summary line in:\n%s", stderr.String())
	}
	return p, summary
}

// withoutBytes drops what follows the queries count: the bytes received
// depend on how the server's answers are encoded.
func withoutBytes(s string) string {
	if i := strings.Index(s, " queries"); i >= 0 {
		return s[:i]
	}
	return s
}

// firstDifference shows the lines around where a and b first differ.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(la), len(lb)); i++ {
		if la[i] != lb[i] {
			from := max(0, i-5)
			return "imported:\n" + strings.Join(la[from:min(len(la), i+5)], "\n") +
				"\nOpenMetrics:\n" + strings.Join(lb[from:min(len(lb), i+5)], "\n")
		}
	}
	return "one is longer"
}
