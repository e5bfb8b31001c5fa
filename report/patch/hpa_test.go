package patch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/metrics/hpaobject"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// apiHPA is the HPA payments/Deployment/api runs today: below the rules'
// bounds and targets, with a slow scale-down of its own.
func apiHPA() *workload.HPA {
	return &workload.HPA{Name: "api", Target: apiKey, MinReplicas: 2, MaxReplicas: 10,
		Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 80}},
		Behavior: workload.Behavior{ScaleDown: &workload.ScalingRules{StabilizationWindow: 10 * time.Minute,
			Policies: []workload.ScalingPolicy{{Type: workload.PercentPolicy, Value: 10, Period: time.Minute}}}},
	}
}

// hpaPlan is testPlan with autoscaling: api's HPA changes (a patch),
// frontend gets a new one (a manifest), db's stays as it is (no file).
func hpaPlan() workload.Plan {
	p := testPlan()
	dbHPA := hpa.Defaults(dbKey, true)
	dbHPA.Name = "db"
	for i := range p.Workloads {
		wp := &p.Workloads[i]
		switch wp.Key {
		case apiKey:
			rec := hpa.Defaults(apiKey, false)
			wp.Autoscaling = &workload.Autoscaling{Current: apiHPA(), Recommended: &rec,
				Reasons: []string{"minReplicas 2, R9/R10 ask for at least 3", "CPU target 80 %, R10 says 70 %"}}
		case frontendKey:
			rec := hpa.Defaults(frontendKey, false)
			wp.Autoscaling = &workload.Autoscaling{Recommended: &rec,
				Reasons: []string{"CPU load from 0.4 to 3.1 cores: bursty (R10)"}}
		case dbKey:
			cur, rec := dbHPA, dbHPA
			wp.Autoscaling = &workload.Autoscaling{Current: &cur, Recommended: &rec}
		}
	}
	return p
}

// autoscalingOf returns the autoscaling of hpaPlan's workload k.
func autoscalingOf(k workload.Key) *workload.Autoscaling {
	for _, wp := range hpaPlan().Workloads {
		if wp.Key == k {
			return wp.Autoscaling
		}
	}
	panic("no workload " + k.String())
}

// hpaObject is the cluster's HPA for h, with what a patch must leave alone:
// labels, an annotation, a status.
func hpaObject(h workload.HPA) *autoscalingv2.HorizontalPodAutoscaler {
	obj := hpaobject.ToObject(h)
	obj.Labels = map[string]string{"app": h.Target.Name}
	obj.Annotations = map[string]string{"team": "platform"}
	return obj
}

// wantAPIHPA is api's HPA once patched: the recommendation under the
// current name.
func wantAPIHPA() *autoscalingv2.HorizontalPodAutoscaler {
	rec := hpa.Defaults(apiKey, false)
	rec.Name = "api"
	return hpaObject(rec)
}

func TestWriteHPAGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rightsize")
	written, skipped, err := Write(dir, hpaPlan())
	require.NoError(t, err)
	assert.Equal(t, []string{
		"batch-cronjob-nightly-report.yaml",
		"payments-deployment-api.yaml",
		"payments-horizontalpodautoscaler-api.yaml",
		"shop-statefulset-db.yaml",
		"web-deployment-frontend.yaml",
		"web-horizontalpodautoscaler-frontend.yaml",
		KustomizationFile,
	}, written, "no file for db's HPA, which stays as it is")
	require.Len(t, skipped, 1)
	for _, name := range []string{"payments-horizontalpodautoscaler-api.yaml", "web-horizontalpodautoscaler-frontend.yaml", KustomizationFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		golden.Assert(t, filepath.Join("testdata", "hpa", name), data)
	}

	// A second run changes nothing; the files are listed once.
	_, _, err = Write(dir, hpaPlan())
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	require.NoError(t, err)
	golden.Assert(t, filepath.Join("testdata", "hpa", KustomizationFile), data)
}

// TestHPAStrategicMergePatch applies api's HPA patch the way kubectl patch
// --type strategic does: the HPA ends up as recommended — spec.metrics and
// the policies replaced, not merged — and its labels, annotations and
// status stay.
func TestHPAStrategicMergePatch(t *testing.T) {
	p := hpaPlan()
	files, skips := renderHPAs(p.Workloads)
	require.Empty(t, skips)
	require.Len(t, files, 2)
	var patchYAML []byte
	for _, f := range files {
		if !f.resource {
			patchYAML = f.data
		}
	}
	require.NotNil(t, patchYAML)
	patchJSON, err := yaml.YAMLToJSON(patchYAML)
	require.NoError(t, err)

	orig := hpaObject(*apiHPA())
	orig.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 2}
	origJSON, err := json.Marshal(orig)
	require.NoError(t, err)
	merged, err := strategicpatch.StrategicMergePatch(origJSON, patchJSON, &autoscalingv2.HorizontalPodAutoscaler{})
	require.NoError(t, err, "patch: %s", patchJSON)
	var got autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, json.Unmarshal(merged, &got))

	want := wantAPIHPA()
	want.Status = orig.Status
	if !equality.Semantic.DeepEqual(&got, want) {
		gy, _ := yaml.Marshal(&got)
		wy, _ := yaml.Marshal(want)
		t.Errorf("patched HPA differs\n--- got\n%s\n--- want\n%s", gy, wy)
	}
	h, notes := hpaobject.FromObject(&got)
	assert.Empty(t, notes)
	rec := hpa.Defaults(apiKey, false)
	rec.Name = "api"
	rec.Replicas = int(orig.Status.CurrentReplicas) // the status is the cluster's
	assert.Equal(t, rec, h)
}

func TestRenderHPA(t *testing.T) {
	rules := hpa.R11()
	cpu := func(u int) workload.MetricTarget {
		return workload.MetricTarget{Resource: "cpu", AverageUtilization: u}
	}
	queue := workload.MetricTarget{Resource: "queue_messages_ready", AverageValue: "30"}
	base := func() workload.HPA {
		return workload.HPA{Name: "api", Target: apiKey, MinReplicas: 3, MaxReplicas: 20, Metrics: []workload.MetricTarget{cpu(70)}, Behavior: rules}
	}
	tests := []struct {
		name     string
		cur, rec func() *workload.HPA
		file     string // the file name, "" for none
		contains []string
		skip     string
	}{
		{name: "no recommendation", cur: func() *workload.HPA { h := base(); return &h }, rec: func() *workload.HPA { return nil }},
		{name: "same, but in other words", cur: func() *workload.HPA {
			h := base()
			h.Behavior.ScaleUp = &workload.ScalingRules{Policies: rules.ScaleUp.Policies} // Select "" is Max
			h.Metrics = []workload.MetricTarget{cpu(70), {Resource: "memory", AverageValue: "1024Mi"}}
			return &h
		}, rec: func() *workload.HPA {
			h := base()
			h.Name = ""
			h.Metrics = []workload.MetricTarget{{Resource: "memory", AverageValue: "1Gi"}, cpu(70)}
			return &h
		}},
		{name: "behavior back to the defaults", cur: func() *workload.HPA { h := base(); return &h }, rec: func() *workload.HPA {
			h := base()
			h.Behavior.ScaleDown = nil
			return &h
		}, file: "payments-horizontalpodautoscaler-api.yaml", contains: []string{"spec:\n  behavior:\n    scaleDown: null\n", "#   behavior.scaleDown 300 s window, 50 % per 60 s → 300 s window, 100 % per 15 s\n"}},
		{name: "custom metric kept: metrics left out, bounds patched", cur: func() *workload.HPA {
			h := base()
			h.Metrics = []workload.MetricTarget{cpu(80), queue}
			return &h
		}, rec: func() *workload.HPA {
			h := base()
			h.MaxReplicas = 30
			h.Metrics = []workload.MetricTarget{cpu(70), queue}
			return &h
		}, file: "payments-horizontalpodautoscaler-api.yaml", contains: []string{"spec:\n  maxReplicas: 30\n"},
			skip: `payments/Deployment/api: HPA spec.metrics left as they are: they would change to cpu 70 %, queue_messages_ready 30, but api keeps "queue_messages_ready" whose source type is not known here; change them by hand`},
		{name: "custom metric kept, nothing else changes", cur: func() *workload.HPA {
			h := base()
			h.Metrics = []workload.MetricTarget{cpu(80), queue}
			return &h
		}, rec: func() *workload.HPA {
			h := base()
			h.Metrics = []workload.MetricTarget{cpu(70), queue}
			return &h
		}, skip: "payments/Deployment/api: HPA spec.metrics left as they are"},
		{name: "a new custom metric is a Pods metric", cur: func() *workload.HPA { h := base(); return &h }, rec: func() *workload.HPA {
			h := base()
			h.Metrics = append(h.Metrics, workload.MetricTarget{Resource: "http_requests_per_second", AverageValue: "1k"})
			return &h
		}, file: "payments-horizontalpodautoscaler-api.yaml", contains: []string{"- pods:\n      metric:\n        name: http_requests_per_second\n", "type: Pods"}},
		{name: "crafted current name", cur: func() *workload.HPA { h := base(); h.Name = "api\n---\nkind: Secret"; return &h }, rec: func() *workload.HPA { h := base(); return &h },
			skip: `payments/Deployment/api: HPA not written: invalid name "api\n---\nkind: Secret" of the current HPA`},
		{name: "invalid recommendation", cur: func() *workload.HPA { return nil }, rec: func() *workload.HPA { h := base(); h.MaxReplicas = 1; return &h },
			skip: "payments/Deployment/api: HPA not written: spec.maxReplicas 1 is below spec.minReplicas 3"},
		{name: "recommendation for another workload", cur: func() *workload.HPA { return nil }, rec: func() *workload.HPA { h := base(); h.Target = dbKey; return &h },
			skip: `payments/Deployment/api: HPA not written: the recommended HPA scales "shop/StatefulSet/db"`},
		{name: "new, named by the recommendation", cur: func() *workload.HPA { return nil }, rec: func() *workload.HPA { h := base(); h.Name = "api-autoscaler"; return &h },
			file: "payments-horizontalpodautoscaler-api-autoscaler.yaml", contains: []string{"metadata:\n  name: api-autoscaler\n  namespace: payments\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wp := workloadPlan(apiKey)
			wp.Autoscaling = &workload.Autoscaling{Current: tc.cur(), Recommended: tc.rec()}
			f, skip := renderHPA(wp, map[string]workload.Key{})
			if tc.skip == "" {
				assert.Empty(t, skip)
			} else {
				assert.Contains(t, skip, tc.skip)
				assert.False(t, strings.ContainsAny(skip, "\n\x1b"), "skip line %q", skip)
			}
			if tc.file == "" {
				assert.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			assert.Equal(t, tc.file, f.name)
			for _, c := range tc.contains {
				assert.Contains(t, string(f.data), c)
			}
			assert.Len(t, documents(t, f.data), 1)
		})
	}
}

// TestWriteHPANames: a new HPA does not take the name of one that exists,
// and a workload skipped for its names is not reported again for its HPA.
func TestWriteHPANames(t *testing.T) {
	rsKey := workload.Key{Namespace: "payments", Kind: workload.ReplicaSet, Name: "api"}
	recAPI := hpa.Defaults(apiKey, false)
	recRS := hpa.Defaults(rsKey, false) // named api too
	cur := apiHPA()
	bad := workloadPlan(dbKey)
	bad.Key.Name = "DB"
	recBad := hpa.Defaults(bad.Key, false)
	bad.Autoscaling = &workload.Autoscaling{Recommended: &recBad}
	p := workload.Plan{Workloads: []workload.WorkloadPlan{
		{Key: rsKey, Autoscaling: &workload.Autoscaling{Recommended: &recRS}},
		{Key: apiKey, Autoscaling: &workload.Autoscaling{Current: cur, Recommended: &recAPI}},
		bad,
	}}
	written, skipped, err := Write(t.TempDir(), p)
	require.NoError(t, err)
	assert.Equal(t, []string{"payments-horizontalpodautoscaler-api.yaml", KustomizationFile}, written)
	require.Len(t, skipped, 2)
	assert.True(t, strings.HasPrefix(skipped[0], `"shop/StatefulSet/DB": invalid name`), skipped[0])
	assert.Contains(t, skipped[1], "payments/ReplicaSet/api: HPA not written: its name payments/api is the HPA of payments/Deployment/api's")
}

// TestWriteHPAKustomization: an existing kustomization gets the new HPA
// under resources: once, after the user's, and the patch under patches:;
// a header of the previous version is refreshed.
func TestWriteHPAKustomization(t *testing.T) {
	dir := t.TempDir()
	old := "# Generated by rightsize (profile documents): one patch per workload whose\n" +
		"# resources change. Add the manifests they apply to under resources:\n" +
		"# (e.g. - ../base); rightsize adds its patches and keeps the rest.\n" +
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, KustomizationFile), []byte(old), 0o644))
	for range 2 {
		_, _, err := Write(dir, hpaPlan())
		require.NoError(t, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, KustomizationFile))
	require.NoError(t, err)
	want := kustomizationHeader("documents") + "\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\n" +
		"- web-horizontalpodautoscaler-frontend.yaml\npatches:\n" +
		"- path: batch-cronjob-nightly-report.yaml\n- path: payments-deployment-api.yaml\n- path: payments-horizontalpodautoscaler-api.yaml\n" +
		"- path: shop-statefulset-db.yaml\n- path: web-deployment-frontend.yaml\n"
	assert.Equal(t, want, string(got))
	k, err := decodeTyped(got)
	require.NoError(t, err)
	assert.True(t, slices.Contains(k.Resources, "web-horizontalpodautoscaler-frontend.yaml"))
}
