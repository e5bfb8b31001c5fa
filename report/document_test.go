package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/recommender/workload"
)

// decodeJSON writes the plan as json and decodes it into generic maps, as a
// consumer such as jq sees it.
func decodeJSON(t *testing.T, p workload.Plan) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePlan(&buf, p, JSON); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("json does not decode: %v\n%s", err, buf.String())
	}
	return m
}

// at follows a dotted path ("workloads.0.containers.1.name") through decoded
// json; ok is false when some step is absent.
func at(v any, path string) (any, bool) {
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[step]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestJSONPaths(t *testing.T) {
	m := decodeJSON(t, testPlan())
	// Workloads are in key order: batch, default, monitoring, payments, shop.
	want := map[string]any{
		"apiVersion":                      "rightsize.dev/v1alpha1",
		"kind":                            "Plan",
		"profile":                         "documents",
		"source":                          "testdata/usage.csv",
		"generated":                       "2025-03-14T09:30:00Z",
		"summary.workloads":               5.0,
		"summary.containers":              7.0,
		"summary.recommended":             6.0,
		"summary.qosChanges":              2.0,
		"summary.cpuRequests.current":     "7300m",
		"summary.cpuRequests.recommended": "5900m",
		"summary.memoryRequests.current":  "12480Mi",

		"workloads.3.namespace":                              "payments",
		"workloads.3.kind":                                   "Deployment",
		"workloads.3.name":                                   "api",
		"workloads.3.replicas":                               3.0,
		"workloads.3.critical":                               true,
		"workloads.3.qos.current":                            "Burstable",
		"workloads.3.qos.recommended":                        "Guaranteed",
		"workloads.3.qos.changed":                            true,
		"workloads.3.notes.0":                                "QoS Burstable → Guaranteed: critical service (R8)",
		"workloads.3.containers.0.name":                      "envoy",
		"workloads.3.containers.0.init":                      true,
		"workloads.3.containers.0.sidecar":                   true,
		"workloads.3.containers.1.name":                      "app",
		"workloads.3.containers.1.current.requests.cpu":      "500m",
		"workloads.3.containers.1.current.limits.cpu":        "1",
		"workloads.3.containers.1.current.limits.memory":     "1Gi",
		"workloads.3.containers.1.recommended.requests.cpu":  "750m",
		"workloads.3.containers.1.recommended.limits.memory": "768Mi",
		"workloads.3.containers.1.lowerBound.cpu":            "600m",
		"workloads.3.containers.1.upperBound.memory":         "1Gi",
		"workloads.3.containers.1.confidence":                0.92,
		"workloads.3.containers.1.samples":                   8640.0,
		"workloads.3.containers.1.reasons.0":                 "cpu 750m = p95 usage (R1) and limit = request for Guaranteed (R7, R8)",

		// The removed CPU limit is absent; the memory limit stays.
		"workloads.4.containers.1.name":                      "postgres",
		"workloads.4.containers.1.current.limits.cpu":        "4",
		"workloads.4.containers.1.recommended.limits.memory": "6Gi",
		"workloads.4.qos.changed":                            false,

		// A partial recommendation keeps the current memory request.
		"workloads.0.containers.0.recommended.requests.memory": "2Gi",
		"workloads.0.containers.0.recommended.requests.cpu":    "250m",
		"workloads.0.containers.0.confidence":                  0.35,

		"workloads.4.containers.0.init":      true,
		"workloads.4.containers.0.reasons.0": "only 3 samples over 15m; need at least 30 spanning 24h",

		// The HPA before and after, under autoscaling/v2's field names.
		"workloads.3.hpa.current.name":                                              "api",
		"workloads.3.hpa.current.minReplicas":                                       2.0,
		"workloads.3.hpa.current.maxReplicas":                                       10.0,
		"workloads.3.hpa.current.metrics.0.resource.target.averageUtilization":      50.0,
		"workloads.3.hpa.current.metrics.1.pods.target.averageValue":                "1k",
		"workloads.3.hpa.recommended.minReplicas":                                   5.0,
		"workloads.3.hpa.recommended.maxReplicas":                                   20.0,
		"workloads.3.hpa.recommended.metrics.0.type":                                "Resource",
		"workloads.3.hpa.recommended.metrics.0.resource.name":                       "cpu",
		"workloads.3.hpa.recommended.metrics.0.resource.target.type":                "Utilization",
		"workloads.3.hpa.recommended.metrics.0.resource.target.averageUtilization":  70.0,
		"workloads.3.hpa.recommended.metrics.1.resource.name":                       "memory",
		"workloads.3.hpa.recommended.metrics.1.resource.target.averageUtilization":  80.0,
		"workloads.3.hpa.recommended.behavior.scaleUp.policies.0.type":              "Percent",
		"workloads.3.hpa.recommended.behavior.scaleUp.policies.0.value":             100.0,
		"workloads.3.hpa.recommended.behavior.scaleUp.policies.0.periodSeconds":     30.0,
		"workloads.3.hpa.recommended.behavior.scaleDown.stabilizationWindowSeconds": 300.0,
		"workloads.3.hpa.reasons.0":                                                 "minReplicas 5: critical workload (R9, R10)",
		"workloads.3.hpa.podCPU":                                                    "900m",
		"workloads.3.hpa.replays.2.setup":                                           "recommended",
		"workloads.3.hpa.replays.2.replicaHours":                                    1720.5,
		"workloads.4.hpa.reasons.0":                                                 "no HPA: a StatefulSet without one keeps a fixed replica count (R9)",
	}
	for path, w := range want {
		got, ok := at(m, path)
		if !ok {
			t.Errorf("%s: absent, want %v", path, w)
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}

	absent := []string{
		"workloads.0.critical",                            // false is omitted
		"workloads.3.containers.1.init",                   // false is omitted
		"workloads.3.containers.1.sidecar",                // false is omitted
		"workloads.4.containers.1.recommended.limits.cpu", // removed limit
		"workloads.4.containers.0.recommended",            // no recommendation
		"workloads.4.containers.0.lowerBound",
		"workloads.4.containers.0.upperBound",
		"workloads.4.containers.0.current.limits", // nothing set: no empty object
		"workloads.0.containers.0.current.limits",
		"workloads.0.containers.0.lowerBound.memory", // unset, never "0"
		"workloads.1.containers.0.current",           // BestEffort: no settings at all
		"workloads.1.containers.0.recommended.limits.cpu",
		"workloads.0.hpa",                        // a CronJob: no HPA can scale it
		"workloads.4.hpa.current",                // no HPA today
		"workloads.4.hpa.recommended",            // better left at a fixed count
		"workloads.3.hpa.current.scaleTargetRef", // the workload the document is about
	}
	for _, path := range absent {
		if got, ok := at(m, path); ok {
			t.Errorf("%s = %#v, want it absent", path, got)
		}
	}
}

func TestJSONFieldOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePlan(&buf, testPlan(), JSON); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	order := []string{`"apiVersion"`, `"kind"`, `"profile"`, `"source"`, `"generated"`, `"summary"`, `"workloads"`,
		`"namespace"`, `"kind"`, `"name"`, `"replicas"`, `"qos"`, `"containers"`,
		`"name"`, `"current"`, `"recommended"`, `"lowerBound"`, `"upperBound"`, `"confidence"`, `"samples"`, `"reasons"`}
	pos := 0
	for _, key := range order {
		i := strings.Index(s[pos:], key)
		if i < 0 {
			t.Fatalf("%s not found after offset %d", key, pos)
		}
		pos += i + len(key)
	}
}

func TestYAMLMatchesJSON(t *testing.T) {
	var y bytes.Buffer
	if err := WritePlan(&y, testPlan(), YAML); err != nil {
		t.Fatal(err)
	}
	var fromYAML map[string]any
	if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if want := decodeJSON(t, testPlan()); !reflect.DeepEqual(fromYAML, want) {
		t.Errorf("yaml and json documents differ:\nyaml %v\njson %v", fromYAML, want)
	}
}

// TestQuantities checks that every amount in the document is a valid
// Kubernetes quantity equal to the amount in the plan, and that no amount is
// written as zero.
func TestQuantities(t *testing.T) {
	p := testPlan()
	d := NewPlanDocument(p)
	byKey := map[workload.Key]workload.WorkloadPlan{}
	for _, wp := range p.Workloads {
		byKey[wp.Key] = wp
	}
	checked := 0
	check := func(where, q string, want int64, milli bool) {
		t.Helper()
		if want <= 0 {
			if q != "" {
				t.Errorf("%s = %q, want absent", where, q)
			}
			return
		}
		qq, err := resource.ParseQuantity(q)
		if err != nil {
			t.Errorf("%s = %q: %v", where, q, err)
			return
		}
		got := qq.Value()
		if milli {
			got = qq.MilliValue()
		}
		if got != want {
			t.Errorf("%s = %q = %d, want %d", where, q, got, want)
		}
		checked++
	}
	checkRes := func(where string, r *ResourcesDocument, want workload.Resources) {
		t.Helper()
		if r == nil {
			r = &ResourcesDocument{}
		}
		check(where+".cpu", r.CPU, int64(want.CPU), true)
		check(where+".memory", r.Memory, int64(want.Memory), false)
	}
	checkSettings := func(where string, s *SettingsDocument, want workload.Settings) {
		t.Helper()
		if s == nil {
			s = &SettingsDocument{}
		}
		checkRes(where+".requests", s.Requests, want.Requests)
		checkRes(where+".limits", s.Limits, want.Limits)
	}

	tot := totalsOf(p)
	checkRes("summary.current", &ResourcesDocument{CPU: d.Summary.CPURequests.Current, Memory: d.Summary.MemoryRequests.Current}, tot.current)
	checkRes("summary.recommended", &ResourcesDocument{CPU: d.Summary.CPURequests.Recommended, Memory: d.Summary.MemoryRequests.Recommended}, tot.recommendedReq)
	for _, wd := range d.Workloads {
		wp := byKey[workload.Key{Namespace: wd.Namespace, Kind: workload.Kind(wd.Kind), Name: wd.Name}]
		if len(wd.Containers) != len(wp.Containers) {
			t.Fatalf("%s/%s: %d containers, want %d", wd.Namespace, wd.Name, len(wd.Containers), len(wp.Containers))
		}
		for i, cd := range wd.Containers {
			c := wp.Containers[i]
			where := fmt.Sprintf("%s/%s/%s", wd.Namespace, wd.Name, cd.Name)
			checkSettings(where+".current", cd.Current, c.Current)
			if !hasRecommendation(c) {
				continue
			}
			checkSettings(where+".recommended", cd.Recommended, c.Recommended())
			checkRes(where+".lowerBound", cd.LowerBound, c.Recommendation.LowerBound)
			checkRes(where+".upperBound", cd.UpperBound, c.Recommendation.UpperBound)
		}
	}
	if checked < 40 {
		t.Errorf("only %d quantities checked", checked)
	}
}

func TestEmptyPlanDocument(t *testing.T) {
	m := decodeJSON(t, workload.Plan{})
	if ws, ok := at(m, "workloads"); !ok || len(ws.([]any)) != 0 {
		t.Errorf("workloads = %v, want an empty list", ws)
	}
	for _, path := range []string{"generated", "summary.cpuRequests.current", "summary.memoryRequests.recommended"} {
		if v, ok := at(m, path); ok {
			t.Errorf("%s = %v, want absent", path, v)
		}
	}
}
