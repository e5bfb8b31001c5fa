package hpaobject

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/workload"
)

const corpusDir = "testdata/fuzz/FuzzRead"

// readSeeds are the seed corpus of FuzzRead, beside testdata's files.
var readSeeds = map[string]string{
	"one": hpaYAML("web", 4),
	"behavior": strings.Replace(hpaYAML("web", 4), "maxReplicas: 4", `maxReplicas: 4
  minReplicas: 2
  metrics:
  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}
  - {type: Pods, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: 1k}}}
  - {type: External, external: {metric: {name: q, selector: {matchLabels: {a: b}}}, target: {type: Value, value: "30"}}}
  - {type: ContainerResource, containerResource: {name: memory, container: app, target: {type: AverageValue, averageValue: 1Gi}}}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 0, selectPolicy: Max, policies: [{type: Percent, value: 100, periodSeconds: 30}]}
    scaleDown: {tolerance: 50m}`, 1),
	"json-stream": hpaJSON("web", 4) + "\n" + hpaJSON("api", 6),
	"list":        "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(hpaYAML("web", 4), "\n", "\n  ") + "\n- {kind: HorizontalPodAutoscaler}\n",
	"hpa-list":    `{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscalerList", "items": [{"metadata": {"name": "web", "namespace": "shop"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 4}}]}`,
	"v1":          "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, targetCPUUtilizationPercentage: 60}\n",
	"duplicates":  hpaYAML("web", 4) + "---\n" + hpaYAML("web", 5) + "---\n" + strings.Replace(hpaYAML("web", 6), "metadata: {name: web", "metadata: {name: other", 1),
	"dup-keys":    hpaYAML("web", 4) + "  maxReplicas: 40\n",
	"case-keys":   hpaYAML("web", 4) + "  MaxReplicas: 40\n",
	"markers":     "---\n--- # c\n...\n--- {kind: List}\n---\t\n",
	"crlf-bom":    "\ufeff" + strings.ReplaceAll(hpaYAML("web", 4), "\n", "\r\n"),
	"alias-bomb":  "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nkind: List\nitems: *d\n",
	"deep":        strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
	"crafted":     hpaYAML(`"a\n---\nkind: Secret\e[2J"`, 4),
	"bad-json":    `{"kind": "List", "items": [` + "\n" + `{"kind": }]}` + "\n{}",
	"numbers":     strings.Replace(hpaYAML("web", 4), "maxReplicas: 4", "maxReplicas: 99999999999\n  minReplicas: -1\n  behavior: {scaleDown: {stabilizationWindowSeconds: 1e3, policies: [{type: Pods, value: 1.5, periodSeconds: 0x10}]}}", 1),
}

// TestSeedCorpus checks that the seed corpus holds readSeeds; -update
// writes it again.
func TestSeedCorpus(t *testing.T) {
	file := func(s string) string { return "go test fuzz v1\n[]byte(" + strconv.Quote(s) + ")\n" }
	if golden.Update() {
		require.NoError(t, os.MkdirAll(corpusDir, 0o755))
		for name, s := range readSeeds {
			require.NoError(t, os.WriteFile(filepath.Join(corpusDir, name), []byte(file(s)), 0o644))
		}
	}
	for name, s := range readSeeds {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		require.NoError(t, err, "run go test -run TestSeedCorpus ./metrics/hpaobject/ -args -update")
		assert.Equal(t, file(s), string(b))
	}
}

// FuzzRead reads whole files. Whatever the bytes, Read ends without a
// panic and within a bound of allocation; each HPA it keeps is one the API
// server would take (Validate), on its own workload and under its own
// name; each error names the file and the document and prints as one
// short line.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"kubectl.yaml", "kubectl.json", "bad.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			hpas    []workload.HPA
			skipped []error
			err     error
		)
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() {
			hpas, skipped, err = Read(bytes.NewReader(data), "fuzz.yaml")
		})
		if err != nil {
			checkMessage(t, err.Error(), "fuzz.yaml: ")
			if hpas != nil || skipped != nil {
				t.Fatalf("results beside the error %v", err)
			}
			return
		}
		for _, e := range skipped {
			var de *DocumentError
			if !errors.As(e, &de) {
				t.Fatalf("skipped %T %v", e, e)
			}
			checkMessage(t, e.Error(), "fuzz.yaml: document ")
		}
		if len(hpas)+len(skipped) > MaxObjects {
			t.Fatalf("%d HPAs and %d skipped, more than %d objects", len(hpas), len(skipped), MaxObjects)
		}
		names, targets := map[string]bool{}, map[workload.Key]bool{}
		for _, h := range hpas {
			if err := Validate(h); err != nil {
				t.Fatalf("kept an HPA Validate refuses: %v\n%+v", err, h)
			}
			id := h.Target.Namespace + "/" + h.Name
			if names[id] || targets[h.Target] {
				t.Fatalf("two HPAs named %s or on %s", id, h.Target)
			}
			names[id], targets[h.Target] = true, true
		}
	})
}

func checkMessage(t *testing.T, msg, prefix string) {
	t.Helper()
	if !strings.HasPrefix(msg, prefix) {
		t.Fatalf("message %q does not start with %q", msg, prefix)
	}
	if strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
		t.Fatalf("message with a character that does not print: %q", msg)
	}
	if len(msg) > 4096 {
		t.Fatalf("message of %d bytes", len(msg))
	}
}
