package hpaobject

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestReadGolden reads the files of testdata: what kubectl get hpa -A -o
// yaml prints (every HPA kept) and a hand-written file with one defect per
// document (each skipped with its place and field, the rest kept). The
// HPAs go to <file>.hpas.json, the skipped documents to <file>.skipped.
func TestReadGolden(t *testing.T) {
	for _, tc := range []struct {
		file    string
		hpas    int
		skipped int
	}{
		{"kubectl.yaml", 3, 0},
		{"kubectl.json", 3, 0},
		{"bad.yaml", 2, 13},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			hpas, skipped, err := ReadFile(path)
			require.NoError(t, err)
			assert.Len(t, hpas, tc.hpas)
			assert.Len(t, skipped, tc.skipped)

			got, err := json.MarshalIndent(hpas, "", "  ")
			require.NoError(t, err)
			golden.Assert(t, path+".hpas.json", append(got, '\n'))
			var lines strings.Builder
			for _, e := range skipped {
				var de *DocumentError
				require.ErrorAs(t, e, &de)
				assert.Equal(t, path, de.File)
				lines.WriteString(e.Error() + "\n")
			}
			golden.Assert(t, path+".skipped", []byte(lines.String()))
		})
	}
}

// TestReadJSONMatchesYAML: kubectl's JSON and YAML of the same HPAs read
// the same.
func TestReadJSONMatchesYAML(t *testing.T) {
	y, _, err := ReadFile(filepath.Join("testdata", "kubectl.yaml"))
	require.NoError(t, err)
	j, _, err := ReadFile(filepath.Join("testdata", "kubectl.json"))
	require.NoError(t, err)
	assert.Equal(t, y, j)
}

const hpaDoc = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %[1]s, namespace: shop}
spec:
  scaleTargetRef: {kind: Deployment, name: %[1]s}
  maxReplicas: %[2]d
`

func hpaYAML(name string, maxReplicas int) string { return fmt.Sprintf(hpaDoc, name, maxReplicas) }

func hpaJSON(name string, maxReplicas int) string {
	return fmt.Sprintf(`{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": %q, "namespace": "shop"},
 "spec": {"scaleTargetRef": {"kind": "Deployment", "name": %[1]q}, "maxReplicas": %d}}`, name, maxReplicas)
}

func TestRead(t *testing.T) {
	cpu80 := []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 80}}
	web := workload.HPA{Name: "web", Target: webKey, MinReplicas: 1, MaxReplicas: 4, Metrics: cpu80}
	api := workload.HPA{Name: "api", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api"}, MinReplicas: 1, MaxReplicas: 6, Metrics: cpu80}
	tests := []struct {
		name    string
		in      string
		want    []workload.HPA
		skipped []string
	}{
		{"empty", "", nil, nil},
		{"comments and markers only", "# nothing\n---\n---\n# still nothing\n...\n", nil, nil},
		{"one document, no metric: the API server's CPU target", hpaYAML("web", 4), []workload.HPA{web}, nil},
		{"leading marker, BOM and CRLF", "\ufeff---\r\n" + strings.ReplaceAll(hpaYAML("web", 4), "\n", "\r\n"), []workload.HPA{web}, nil},
		{"content after the marker", "--- " + strings.Replace(hpaJSON("web", 4), "\n", "", 1) + "\n", []workload.HPA{web}, nil},
		{"JSON stream", hpaJSON("web", 4) + "\n" + hpaJSON("api", 6), []workload.HPA{web, api}, nil},
		{"JSON documents between markers", hpaJSON("web", 4) + "\n---\n" + hpaJSON("api", 6), []workload.HPA{web, api}, nil},
		{"JSON stream broken part-way", hpaJSON("web", 4) + "\n\n" + `{"apiVersion": }` + hpaJSON("api", 6), []workload.HPA{web},
			[]string{`f.yaml: document 2 (line 4): invalid JSON: invalid character '}' looking for beginning of value; the rest of the file is not read`}},
		{"a YAML flow mapping is not JSON", "{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: web, namespace: shop}, spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 4}}",
			[]workload.HPA{web}, nil},
		{"HorizontalPodAutoscalerList items without apiVersion and kind",
			`{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscalerList", "items": [{"metadata": {"name": "web", "namespace": "shop"},
			  "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 4}}]}`, []workload.HPA{web}, nil},
		{"list items: the bad one named by index and line",
			"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(hpaYAML("web", 4), "\n", "\n  ") + "\n- " + strings.ReplaceAll(hpaYAML("api", 0), "\n", "\n  ") + "\n- kind: List\n",
			[]workload.HPA{web}, []string{
				"f.yaml: document 1 (line 1): items[1] (line 11): spec.maxReplicas 0 is below spec.minReplicas 1",
				"f.yaml: document 1 (line 1): items[2] (line 18): a List inside a List",
			}},
		{"not an object", "- a\n- b\n---\n~\n---\n42\n", nil, []string{
			"f.yaml: document 1 (line 1): not an object: want a HorizontalPodAutoscaler or a List of them",
			"f.yaml: document 2 (line 4): not an object: want a HorizontalPodAutoscaler or a List of them",
			"f.yaml: document 3 (line 6): not an object: want a HorizontalPodAutoscaler or a List of them",
		}},
		{"kind and apiVersion", "kind: HorizontalPodAutoscaler\n---\napiVersion: autoscaling/v2\n---\nkind: [x]\n", nil, []string{
			"f.yaml: document 1 (line 1): apiVersion is missing",
			"f.yaml: document 2 (line 3): kind is missing",
			"f.yaml: document 3 (line 5): kind: an array where a string is wanted",
		}},
		{"case and unknown fields anywhere", strings.Replace(hpaYAML("web", 4), "maxReplicas: 4", "maxReplicas: 4\n  behavior: {scaleUp: {Policies: []}}", 1) +
			"---\n" + strings.Replace(hpaYAML("api", 4), "metadata: {", "metadata: {Name: x, ", 1) + "---\n" + hpaYAML("api", 6) + "extra: 1\n",
			nil, []string{
				`f.yaml: document 1 (line 1): spec.behavior.scaleUp: unknown field "Policies"`,
				`f.yaml: document 2 (line 9): metadata: unknown field "Name"`,
				`f.yaml: document 3 (line 16): the object: unknown field "extra"`,
			}},
		{"a bad quantity", strings.Replace(hpaYAML("web", 4), "maxReplicas: 4", "maxReplicas: 4\n  metrics: [{type: Pods, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: lots}}}]", 1), nil, []string{
			"f.yaml: document 1 (line 1): the object: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
		}},
		{"targets and sources that do not match", strings.Replace(hpaYAML("web", 4), "maxReplicas: 4", `maxReplicas: 4
  metrics:
  - {type: Resource, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: "1"}}}
  - {type: External}
  - {type: Object, object: {metric: {name: "a/b"}, describedObject: {kind: Ingress}, target: {type: Value, value: "-1"}}}
  - {type: Resource, resource: {name: cpu, target: {type: AverageValue}}}
  - {type: ""}`, 1), nil, []string{
			`f.yaml: document 1 (line 1): spec.metrics[0]: type "Resource" with a pods source; spec.metrics[1].external is missing (type External); ` +
				`spec.metrics[2].object.metric.name "a/b" is not valid: may not contain '/'; spec.metrics[2].object.describedObject needs a kind and a name; ` +
				`spec.metrics[2].object.target.value -1 is not positive; and 2 more`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hpas, skipped, err := Read(strings.NewReader(tc.in), "f.yaml")
			require.NoError(t, err)
			assert.Equal(t, tc.want, hpas)
			var msgs []string
			for _, e := range skipped {
				msgs = append(msgs, e.Error())
			}
			assert.Equal(t, tc.skipped, msgs)
		})
	}
}

// TestReadBounds: a file too large or with too many objects is refused as
// a whole, with an error that says which bound it passed.
func TestReadBounds(t *testing.T) {
	many := func(n int, sep string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(`{"kind": "HorizontalPodAutoscaler"}`)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, in, err string
	}{
		{"size", "# " + strings.Repeat("x", MaxFileSize), "f.yaml: larger than 16 MiB, the limit of an HPA file"},
		{"YAML documents", many(MaxObjects+1, "\n---\n"), "f.yaml: more than 10000 documents, the limit of an HPA file"},
		{"JSON documents", many(MaxObjects+1, "\n"), "f.yaml: more than 10000 documents, the limit of an HPA file"},
		{"list items", `{"kind": "List", "items": [` + many(MaxObjects+1, ",") + "]}", "f.yaml: more than 10000 objects, the limit of an HPA file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hpas, skipped, err := Read(strings.NewReader(tc.in), "f.yaml")
			assert.EqualError(t, err, tc.err)
			assert.Nil(t, hpas)
			assert.Nil(t, skipped)
		})
	}
	// At the bound, every object is read.
	_, skipped, err := Read(strings.NewReader(many(MaxObjects, "\n---\n")), "f.yaml")
	require.NoError(t, err)
	assert.Len(t, skipped, MaxObjects)
}

func TestReadErrors(t *testing.T) {
	_, _, err := ReadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	boom := errors.New("boom")
	_, _, err = Read(iotest.ErrReader(boom), "f\x1b.yaml")
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), `f\x1b.yaml`, "the name is escaped")
}

// TestReadQuotesOutsideText: names and values from the file cannot forge
// lines or drive the terminal in the messages that cite them, nor flood
// them.
func TestReadQuotesOutsideText(t *testing.T) {
	in := hpaYAML(`"web\n---\nkind: Secret\e]0;pwned\a"`, 4) + "---\n" + hpaYAML(`"`+strings.Repeat("a", 1<<16)+`"`, 4) +
		"---\napiVersion: \"autoscaling/v2\\u202e\"\nkind: HorizontalPodAutoscaler\n"
	_, skipped, err := Read(strings.NewReader(in), "f.yaml")
	require.NoError(t, err)
	require.Len(t, skipped, 3)
	for _, e := range skipped {
		msg := e.Error()
		assert.NotContains(t, msg, "\n")
		assert.NotContains(t, msg, "\x1b")
		assert.NotContains(t, msg, "\u202e")
		assert.Less(t, len(msg), 2048)
	}
	assert.Contains(t, skipped[0].Error(), `metadata.name "web\n---\nkind: Secret\x1b]0;pwned\a" is not valid`)
	assert.Contains(t, skipped[1].Error(), "… (65536 bytes)")
}
