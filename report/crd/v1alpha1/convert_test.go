package v1alpha1

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

var (
	demoOnce sync.Once
	demoRun  workload.Plan
	demoErr  error
)

// demoPlan is the plan `rightsize plan` makes of the embedded demo data.
func demoPlan(t testing.TB) workload.Plan {
	t.Helper()
	demoOnce.Do(func() {
		p := &recommender.Pipeline{
			Source:      demo.Source{Options: usagecsv.DefaultOptions()},
			Recommender: recommender.Recommender{Profile: policy.Balanced()},
		}
		_, demoRun, demoErr = p.Run(context.Background(), time.Time{})
	})
	require.NoError(t, demoErr)
	return demoRun
}

func demoWorkload(t testing.TB, plan workload.Plan, key string) workload.WorkloadPlan {
	t.Helper()
	for _, wp := range plan.Workloads {
		if wp.Key.String() == key {
			return wp
		}
	}
	t.Fatalf("the demo plan has no %s", key)
	return workload.WorkloadPlan{}
}

// TestFromPlanDemoGolden: one demo workload, with an HPA recommendation,
// as the object the controller publishes.
func TestFromPlanDemoGolden(t *testing.T) {
	plan := demoPlan(t)
	r := FromPlan(demoWorkload(t, plan, "shop/Deployment/worker"), plan)
	b, err := yaml.Marshal(r)
	require.NoError(t, err)
	golden.Assert(t, "testdata/deployment-worker.yaml", b)
}

// TestFromPlanCarriesTheDocument: status.workload is, for every demo
// workload, the workload's entry of `rightsize plan -o json`.
func TestFromPlanCarriesTheDocument(t *testing.T) {
	plan := demoPlan(t)
	doc := report.NewPlanDocument(plan)
	require.Len(t, doc.Workloads, len(plan.Workloads))
	for _, wp := range plan.Workloads {
		t.Run(wp.Key.String(), func(t *testing.T) {
			var want []byte
			for _, d := range doc.Workloads {
				if d.Namespace == wp.Key.Namespace && d.Kind == string(wp.Key.Kind) && d.Name == wp.Key.Name {
					var err error
					want, err = json.Marshal(d)
					require.NoError(t, err)
				}
			}
			require.NotNil(t, want)
			got, err := json.Marshal(FromPlan(wp, plan).Status.Workload)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

// TestDocumentTypesMirrorReport: the API's document types have the plan
// document's fields, JSON names and Go kinds, all the way down, so a field
// added to the document cannot be left out of the resource unnoticed.
func TestDocumentTypesMirrorReport(t *testing.T) {
	// A Recommendation lives in the cluster of its workload: the report's
	// cluster, which names one of several, has no place in it.
	want := strings.Replace(jsonShape(reflect.TypeFor[report.WorkloadDocument]()), "cluster,omitempty:string, ", "", 1)
	assert.Equal(t, want, jsonShape(reflect.TypeFor[WorkloadDocument]()))
}

// jsonShape describes a type by its JSON names and the Go kinds under
// them; types from other packages (autoscaling/v2's) by their name.
func jsonShape(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + jsonShape(t.Elem())
	case reflect.Slice:
		return "[]" + jsonShape(t.Elem())
	}
	if t.Kind() != reflect.Struct || !strings.HasPrefix(t.PkgPath(), "rightsize.dev/") {
		return t.String()
	}
	var fields []string
	for f := range t.Fields() {
		fields = append(fields, f.Tag.Get("json")+":"+jsonShape(f.Type))
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

func TestName(t *testing.T) {
	long := strings.Repeat("a", 253)
	for _, tc := range []struct {
		name string
		key  workload.Key
		// want is the exact name; empty: only a valid one, hashed.
		want string
	}{
		{"plain", workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, "deployment-web"},
		{"dots stay", workload.Key{Kind: workload.StatefulSet, Name: "db.v2"}, "statefulset-db.v2"},
		{"longest name that fits", workload.Key{Kind: workload.Pod, Name: strings.Repeat("p", 249)}, "pod-" + strings.Repeat("p", 249)},
		{"too long with the kind", workload.Key{Kind: workload.Deployment, Name: long}, ""},
		{"upper case", workload.Key{Kind: workload.Deployment, Name: "Web"}, ""},
		{"unicode", workload.Key{Kind: workload.Deployment, Name: "wéb-🚀"}, ""},
		{"control characters", workload.Key{Kind: workload.Deployment, Name: "\x1b[31mred\u202e"}, ""},
		{"only symbols", workload.Key{Kind: workload.Job, Name: "¿¡"}, ""},
		{"underscores", workload.Key{Kind: workload.CronJob, Name: "nightly_report"}, ""},
		{"empty kind", workload.Key{Name: "_x_"}, ""},
		{"long unicode", workload.Key{Kind: workload.DaemonSet, Name: strings.Repeat("ü", 300)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Name(tc.key)
			assert.Empty(t, validation.IsDNS1123Subdomain(got), "%q", got)
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
				return
			}
			assert.Equal(t, hash(string(tc.key.Kind)+"/"+tc.key.Name), got[len(got)-hashLen:], "ends in the key's hash")
			assert.Equal(t, got, Name(tc.key), "stable")
		})
	}
}

// TestNameKeepsWorkloadsApart: names that clean to the same text still
// name different objects, and no cleaned name is another's plain one.
func TestNameKeepsWorkloadsApart(t *testing.T) {
	names := []string{"web", "Web", "WEB", "w_eb", "w-eb", "w.eb", "wéb", "w\u00e9b", "we\u0301b", "we b", strings.Repeat("x", 300), strings.Repeat("x", 301)}
	seen := map[string]string{}
	for _, kind := range []workload.Kind{workload.Deployment, workload.StatefulSet} {
		for _, n := range names {
			got := Name(workload.Key{Namespace: "ns", Kind: kind, Name: n})
			if prev, ok := seen[got]; ok && prev != string(kind)+"/"+n {
				t.Errorf("%s/%q and %s share the name %q", kind, n, prev, got)
			}
			seen[got] = string(kind) + "/" + n
		}
	}
}

func TestLabelValue(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"Deployment", "Deployment"},
		{"web", "web"},
		{"db.v2_x-y", "db.v2_x-y"},
		{strings.Repeat("a", 63), strings.Repeat("a", 63)},
		{"", ""},
		{strings.Repeat("a", 64), ""},
		{"-web", ""},
		{"wéb", ""},
		{"\x1b[31m", ""},
		{strings.Repeat("🚀", 100), ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := LabelValue(tc.in)
			assert.Empty(t, validation.IsValidLabelValue(got), "%q", got)
			if tc.want != "" || tc.in == "" {
				assert.Equal(t, tc.want, got)
				return
			}
			assert.True(t, strings.HasSuffix(got, hash(tc.in)), "%q ends in the hash of %q", got, tc.in)
		})
	}
}

func container(name string, cur, rec workload.Settings, conf float64) workload.ContainerPlan {
	return workload.ContainerPlan{
		Name: name, Current: cur, Samples: 100,
		Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: rec, Confidence: conf},
	}
}

func settings(cpu workload.Millicores, mem workload.Bytes) workload.Settings {
	return workload.Settings{Requests: workload.Resources{CPU: cpu, Memory: mem}}
}

func TestFromPlanSummary(t *testing.T) {
	gen := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	key := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	noRec := workload.ContainerPlan{Name: "app", Current: settings(500, 512*workload.MiB),
		Recommendation: workload.Recommendation{Reasons: []string{"cpu: no recommendation: too little history"}}}
	for _, tc := range []struct {
		name                   string
		wp                     workload.WorkloadPlan
		cpu, memory, qos, conf string
		condition              metav1.ConditionStatus
	}{
		{
			name: "smaller",
			wp: workload.WorkloadPlan{Key: key, Replicas: 3, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{container("app", settings(1000, workload.GiB), settings(650, 768*workload.MiB), 0.99)}},
			cpu: "-35%", memory: "-25%", qos: "Burstable", conf: "99%", condition: metav1.ConditionTrue,
		},
		{
			name: "pod total, QoS change, lowest confidence",
			wp: workload.WorkloadPlan{Key: key, Replicas: 1, QoSCurrent: workload.Burstable, QoSRecommended: workload.Guaranteed,
				Containers: []workload.ContainerPlan{
					container("app", settings(100, 100*workload.MiB), settings(150, 100*workload.MiB), 0.9),
					container("sidecar", settings(100, 100*workload.MiB), settings(100, 100*workload.MiB+workload.MiB/4), 0.42),
				}},
			cpu: "+25%", memory: "~0%", qos: "Burstable → Guaranteed", conf: "low 42%", condition: metav1.ConditionTrue,
		},
		{
			name: "nothing requested today",
			wp: workload.WorkloadPlan{Key: key, QoSCurrent: workload.BestEffort, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{container("app", workload.Settings{}, settings(250, 64*workload.MiB), 0.5)}},
			cpu: "none → 250m", memory: "none → 64Mi", qos: "BestEffort → Burstable", conf: "50%", condition: metav1.ConditionTrue,
		},
		{
			name: "no recommendation",
			wp:   workload.WorkloadPlan{Key: key, QoSCurrent: workload.Burstable, Containers: []workload.ContainerPlan{noRec}},
			cpu:  "—", memory: "—", qos: "Burstable", conf: "—", condition: metav1.ConditionFalse,
		},
		{
			name: "no containers, no QoS",
			wp:   workload.WorkloadPlan{Key: key},
			cpu:  "—", memory: "—", qos: "—", conf: "—", condition: metav1.ConditionFalse,
		},
		{
			name: "confidence that is not a number",
			wp: workload.WorkloadPlan{Key: key, QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{container("app", settings(100, workload.MiB), settings(100, workload.MiB), math.NaN())}},
			cpu: "~0%", memory: "~0%", qos: "Burstable", conf: "low 0%", condition: metav1.ConditionTrue,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := workload.Plan{Profile: "balanced", Source: "usage.csv", Generated: gen, Workloads: []workload.WorkloadPlan{tc.wp}}
			r := FromPlan(tc.wp, plan)
			s := r.Status
			assert.Equal(t, tc.cpu, s.CPUChange, "cpu")
			assert.Equal(t, tc.memory, s.MemoryChange, "memory")
			assert.Equal(t, tc.qos, s.QoS, "qos")
			assert.Equal(t, tc.conf, s.Confidence, "confidence")
			assert.Equal(t, "Deployment/web", s.Target)
			assert.Equal(t, "balanced", s.Profile)
			assert.Equal(t, "usage.csv", s.Source)
			require.NotNil(t, s.Generated)
			assert.True(t, s.Generated.Equal(&metav1.Time{Time: gen}))
			require.Len(t, s.Conditions, 1)
			assert.Equal(t, ConditionRecommended, s.Conditions[0].Type)
			assert.Equal(t, tc.condition, s.Conditions[0].Status)
			// The reason's pattern in metav1.Condition's schema.
			assert.Regexp(t, `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`, s.Conditions[0].Reason)

			assert.Equal(t, "rightsize.dev/v1alpha1", r.APIVersion)
			assert.Equal(t, "Recommendation", r.Kind)
			assert.Equal(t, "deployment-web", r.Name)
			assert.Equal(t, "shop", r.Namespace)
			assert.Equal(t, map[string]string{LabelManagedBy: "rightsize", LabelKind: "Deployment", LabelName: "web"}, r.Labels)
			assert.Equal(t, TargetRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}, r.Spec.TargetRef)
			_, err := json.Marshal(r)
			assert.NoError(t, err, "encodable")
		})
	}
}

// TestFromPlanWithoutTime: a plan with no time has no generated time, and
// no condition, whose transition time it would need.
func TestFromPlanWithoutTime(t *testing.T) {
	wp := workload.WorkloadPlan{Key: workload.Key{Namespace: "ns", Kind: workload.Job, Name: "j"}}
	r := FromPlan(wp, workload.Plan{Workloads: []workload.WorkloadPlan{wp}})
	assert.Nil(t, r.Status.Generated)
	assert.Empty(t, r.Status.Conditions)
	assert.Equal(t, TargetRef{APIVersion: "batch/v1", Kind: "Job", Name: "j"}, r.Spec.TargetRef)
}

// TestFromPlanHostileName: a name from a usage file reaches the object's
// name and labels valid, the spec as it is, the Workload column escaped.
func TestFromPlanHostileName(t *testing.T) {
	name := "\x1b[31mWeb\u202e" + strings.Repeat("ß", 200)
	wp := workload.WorkloadPlan{Key: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: name}}
	r := FromPlan(wp, workload.Plan{Workloads: []workload.WorkloadPlan{wp}})
	assert.Empty(t, validation.IsDNS1123Subdomain(r.Name))
	for k, v := range r.Labels {
		assert.Empty(t, validation.IsValidLabelValue(v), "label %s=%q", k, v)
	}
	assert.Equal(t, name, r.Spec.TargetRef.Name)
	assert.Equal(t, name, r.Status.Workload.Name)
	assert.NotContains(t, r.Status.Target, "\x1b")
	assert.NotContains(t, r.Status.Target, "\u202e")
}

// TestDeepCopy: a copy shares nothing with the original.
func TestDeepCopy(t *testing.T) {
	plan := demoPlan(t)
	r := FromPlan(demoWorkload(t, plan, "shop/Deployment/worker"), plan)
	require.NotNil(t, r.Status.Workload.HPA)
	c := r.DeepCopy()
	assert.Equal(t, r, *c)
	c.Labels[LabelName] = "x"
	c.Status.Workload.Containers[0].Recommended.Requests.CPU = "1"
	*c.Status.Workload.HPA.Recommended.MinReplicas = 99
	assert.NotEqual(t, "x", r.Labels[LabelName])
	assert.NotEqual(t, "1", r.Status.Workload.Containers[0].Recommended.Requests.CPU)
	assert.NotEqual(t, int32(99), *r.Status.Workload.HPA.Recommended.MinReplicas)
	var list RecommendationList
	list.Items = append(list.Items, r)
	assert.Equal(t, list, *list.DeepCopyObject().(*RecommendationList))
}
