package patch

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"

	"rightsize.dev/rightsize/recommender/workload"
)

// documents decodes every YAML document in data.
func documents(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%v in\n%s", err, data)
		}
		docs = append(docs, doc)
	}
}

// injected is a name that, written into the header comment, would end it
// and add a ConfigMap of its own to the patch file.
const injected = "api\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pwned\n  namespace: kube-system\ndata:\n  x: y\n#"

// TestWriteRejectsInvalidNames: a workload whose namespace, name, kind or
// container name is not valid in Kubernetes gets no patch file and no
// kustomization entry, is listed as skipped with its key quoted, and cannot
// inject YAML into any file Write produces.
func TestWriteRejectsInvalidNames(t *testing.T) {
	long := strings.Repeat("a", 200) // a valid name, but too long for the file name
	for _, tc := range []struct {
		name      string
		mutate    func(*workload.WorkloadPlan)
		wantInMsg string
	}{
		{"newline in the name injects a ConfigMap", func(wp *workload.WorkloadPlan) { wp.Key.Name = injected }, `"payments/Deployment/api\n---\napiVersion: v1\nkind: ConfigMap`},
		{"newline in the namespace", func(wp *workload.WorkloadPlan) { wp.Key.Namespace = "payments\nkind: Secret" }, "invalid namespace"},
		{"newline in a container name", func(wp *workload.WorkloadPlan) { wp.Containers[1].Name = "app\n---\nkind: ConfigMap" }, `invalid container name "app\n---\nkind: ConfigMap"`},
		{"crafted kind", func(wp *workload.WorkloadPlan) { wp.Key.Kind = "Deployment\n---\nkind: ConfigMap" }, "unknown kind"},
		{"upper case", func(wp *workload.WorkloadPlan) { wp.Key.Name = "API" }, "invalid name"},
		{"path", func(wp *workload.WorkloadPlan) { wp.Key.Name = "../../etc" }, "invalid name"},
		{"terminal escape", func(wp *workload.WorkloadPlan) { wp.Key.Name = "api\x1b[2J" }, `\x1b[2J`},
		{"bidi override", func(wp *workload.WorkloadPlan) { wp.Key.Name = "api\u202egpj" }, `\u202e`},
		{"file name too long", func(wp *workload.WorkloadPlan) { wp.Key.Name = long + "." + long[:52] }, "bytes long"},
		{"huge name", func(wp *workload.WorkloadPlan) { wp.Key.Name = strings.Repeat("\n", 1<<16) }, `"… (65556 bytes)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := workloadPlan(apiKey)
			tc.mutate(&bad)
			plan := workload.Plan{Profile: "documents", Workloads: []workload.WorkloadPlan{bad, workloadPlan(dbKey)}}

			if _, _, ok, err := Render(bad); ok || err == nil {
				t.Errorf("Render = ok %v, err %v; want an error", ok, err)
			}
			dir := t.TempDir()
			written, skipped, err := Write(dir, plan)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{FileName(dbKey), KustomizationFile}
			if !slices.Equal(written, want) {
				t.Errorf("written = %q, want %q", written, want)
			}
			if len(skipped) != 1 || !strings.Contains(skipped[0], tc.wantInMsg) {
				t.Fatalf("skipped = %q, want one entry containing %q", skipped, tc.wantInMsg)
			}
			msg := skipped[0]
			if strings.IndexFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
				t.Errorf("skip reason has unescaped control characters: %q", msg)
			}
			if len(msg) > 1000 {
				t.Errorf("skip reason is %d bytes long", len(msg))
			}

			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(want) {
				t.Errorf("%d entries in the directory, want %d", len(entries), len(want))
			}
			for _, e := range entries {
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				docs := documents(t, data)
				if len(docs) != 1 {
					t.Fatalf("%s holds %d YAML documents, want 1:\n%s", e.Name(), len(docs), data)
				}
				switch e.Name() {
				case KustomizationFile:
					if docs[0]["kind"] != "Kustomization" || len(docs[0]) != 3 {
						t.Errorf("kustomization.yaml = %v", docs[0])
					}
				default:
					meta, _ := docs[0]["metadata"].(map[string]any)
					if docs[0]["kind"] != "StatefulSet" || meta["name"] != dbKey.Name {
						t.Errorf("%s = %v", e.Name(), docs[0])
					}
				}
			}
		})
	}
}

// TestKustomizationHeaderProfile: the profile name goes into a comment, so a
// line break in it must not end the comment.
func TestKustomizationHeaderProfile(t *testing.T) {
	dir := t.TempDir()
	plan := workload.Plan{Profile: "x\nresources: [../../evil]\n#", Workloads: []workload.WorkloadPlan{workloadPlan(dbKey)}}
	if _, _, err := Write(dir, plan); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	if err != nil {
		t.Fatal(err)
	}
	docs := documents(t, data)
	if len(docs) != 1 || docs[0]["resources"] != nil {
		t.Errorf("the profile injected into kustomization.yaml:\n%s", data)
	}
	if !strings.Contains(string(data), `(profile "x\nresources: [../../evil]\n#")`) {
		t.Errorf("profile not quoted:\n%s", data)
	}
}
