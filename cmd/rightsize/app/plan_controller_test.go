package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
	"rightsize.dev/rightsize/report/patch"
)

// recommendationsCRD is the Recommendation CRD the controller's base installs.
const recommendationsCRD = "../../../deploy/controller/crd/rightsize.dev_recommendations.yaml"

// unreachableKubeconfig writes a kubeconfig whose cluster nobody listens
// at: a command that gets as far as reading it fails there, not on its
// flags.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: shop}}]
current-context: c
`), 0o600))
	return path
}

// TestPlanControllerSourceFlags: --source controller takes the cluster
// flags, -o and --patches, and refuses with a usage error (exit 2) every
// flag that feeds the pipeline, --profile even at its default: the
// controller chose the profile, read the history and ran with its own
// settings.
func TestPlanControllerSourceFlags(t *testing.T) {
	kubeconfig := unreachableKubeconfig(t)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	const refused = "--source controller writes the plans the rightsize controller made from its own history, profile and settings: "
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a profile", []string{"--profile", "krr"}, 2, refused + "--profile does not apply"},
		{"the default profile, named", []string{"--profile", "balanced"}, 2, refused + "--profile does not apply"},
		{"an input file", []string{"--input", "usage.csv"}, 2, refused + "--input does not apply"},
		{"sampling", []string{"--duration", "1m", "--interval", "5s", "--state-dir", "/s"}, 2, refused + "--duration, --interval, --state-dir do not apply"},
		{"the history's window and end", []string{"--history", "1d", "--end", "2026-01-01T00:00:00Z"}, 2, refused + "--end, --history do not apply"},
		{"Prometheus", []string{"--prometheus-url", "http://p:9090"}, 2, refused + "--prometheus-url does not apply"},
		{"an HPA file and critical workloads", []string{"--hpa", "hpas.yaml", "--critical", "shop/Deployment/web"}, 2, refused + "--critical, --hpa do not apply"},
		{"a usage file's bounds", []string{"--accept-max-cpu", "4", "--strict"}, 2, refused + "--accept-max-cpu, --strict do not apply"},
		{"an unknown output format", []string{"-o", "html"}, 2, `unknown output format "html"`},
		{"patches into a file", []string{"--patches", file}, 2, "--patches " + file + " is a file, not a directory"},
		{"an argument", []string{"shop"}, 2, `unknown command "shop"`},
		// These get as far as the cluster, which does not answer.
		{"cluster flags", []string{"-n", "shop", "--context", "c", "--request-timeout", "1s"}, 1, "127.0.0.1:1"},
		{"every namespace, selected", []string{"-A", "-l", "rightsize.dev/kind=Deployment", "--request-timeout", "1s"}, 1, "127.0.0.1:1"},
		{"outputs and verbose", []string{"-o", "json", "--patches", t.TempDir(), "-v", "--request-timeout", "1s"}, 1, "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"plan", "--source", "controller", "--kubeconfig", kubeconfig}, tc.args...)
			code, out, errOut := run(t, args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
			assert.Empty(t, out)
		})
	}
}

// TestPlanControllerSourceIsPlans: plan lists controller among its
// sources; backtest and report, which need a history, do not take it.
func TestPlanControllerSourceIsPlans(t *testing.T) {
	code, _, errOut := run(t, "plan", "--source", "pigeon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--source "pigeon": want one of auto, file, prometheus, metrics-server, demo, controller`)
	code, out, _ := run(t, "plan", "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "auto|file|prometheus|metrics-server|demo|controller")
	for _, cmd := range []string{"backtest", "report"} {
		code, _, errOut := run(t, cmd, "--source", "controller")
		assert.Equal(t, 2, code, cmd)
		assert.Contains(t, errOut, `--source "controller": want one of auto, file, prometheus, metrics-server, demo`, cmd)
		code, out, _ := run(t, cmd, "--help")
		require.Equal(t, 0, code)
		assert.NotContains(t, out, "|controller", cmd)
	}
}

// TestIntegrationPlanFromControllerRecommendations publishes a plan as
// the controller does — a Recommendation per workload, its status written
// through the status subresource — and reads it back with plan --source
// controller: the JSON is the plan's own, its source the controller's in
// the cluster; the patches are those the plan itself writes; -l selects by
// the Recommendations' labels; a namespace without any says so.
func TestIntegrationPlanFromControllerRecommendations(t *testing.T) {
	kubeconfig := kubetest.Kubeconfig(t)
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	kubetest.ApplyCRD(t, cfg, recommendationsCRD)
	ns := kubetest.Namespace(t, cs, "rsrec-plan")
	ctx := context.Background()
	recs := dynamic.NewForConfigOrDie(cfg).Resource(v1alpha1.GroupVersionResource).Namespace(ns)

	web := workload.Key{Namespace: ns, Kind: workload.Deployment, Name: "web"}
	db := workload.Key{Namespace: ns, Kind: workload.StatefulSet, Name: "db"}
	res := func(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
		return workload.Resources{CPU: cpu, Memory: mem}
	}
	plan := workload.Plan{Profile: "balanced", Source: "metrics-server at https://10.96.0.1", Generated: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Workloads: []workload.WorkloadPlan{
			{Key: web, Replicas: 3, Profile: "balanced", QoSCurrent: workload.Burstable, QoSRecommended: workload.Burstable,
				Containers: []workload.ContainerPlan{{Name: "app", Samples: 4032,
					Current: workload.Settings{Requests: res(1000, workload.GiB), Limits: res(2000, workload.GiB)},
					Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Confidence: 0.97,
						Target:     workload.Settings{Requests: res(250, 384*workload.MiB), Limits: res(0, 512*workload.MiB)},
						LowerBound: res(200, 300*workload.MiB), UpperBound: res(400, 450*workload.MiB),
						Reasons: []string{"cpu request: mean usage (R1)", "cpu limit: none (R4)"}}}},
				Autoscaling: &workload.Autoscaling{
					Recommended: &workload.HPA{Target: web, MinReplicas: 3, MaxReplicas: 12, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}},
					Reasons:     []string{"recommend an HPA (R9, R10)"}, PodCPU: 250,
					Load: workload.AggregateLoad{Trough: 0.2, Median: 0.5, Peak: 1.9, Rise: 1.1, Reaction: 90 * time.Second, Samples: 4032},
					Replays: []workload.Replay{
						{Setup: "fixed", PodCPU: 250, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 2688, CoreHours: 672, PeakReplicas: 8}},
						{Setup: "recommended", PodCPU: 250, ReplayFigures: workload.ReplayFigures{Duration: 336 * time.Hour, ReplicaHours: 1400.5, CoreHours: 350.1, Saturated: 0.0012, Events: 300, PeakReplicas: 11}},
					}}},
			{Key: db, Replicas: 1, Profile: "balanced", Critical: true, QoSCurrent: workload.Burstable, QoSRecommended: workload.Guaranteed,
				Notes: []string{"QoS Burstable → Guaranteed: critical service (R8)"},
				Containers: []workload.ContainerPlan{{Name: "postgres", Samples: 4032,
					Current: workload.Settings{Requests: res(2000, 8*workload.GiB), Limits: res(4000, 8*workload.GiB)},
					Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Confidence: 0.99,
						Target:     workload.Settings{Requests: res(500, 6*workload.GiB), Limits: res(500, 6*workload.GiB)},
						LowerBound: res(400, 5*workload.GiB), UpperBound: res(700, 7*workload.GiB)}}}},
		}}
	for _, wp := range plan.Workloads {
		r := v1alpha1.FromPlan(wp, plan)
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&r)
		require.NoError(t, err)
		created, err := recs.Create(ctx, &unstructured.Unstructured{Object: m}, metav1.CreateOptions{})
		require.NoError(t, err, "creating %s", r.Name)
		m["metadata"] = created.Object["metadata"]
		_, err = recs.UpdateStatus(ctx, &unstructured.Unstructured{Object: m}, metav1.UpdateOptions{})
		require.NoError(t, err, "updating the status of %s", r.Name)
	}

	// The plan as the controller's, read back.
	want := plan
	want.Source = "controller Recommendations in " + cfg.Host
	var buf bytes.Buffer
	require.NoError(t, report.WritePlan(&buf, want, report.JSON))
	dir := t.TempDir()
	code, out, errOut := run(t, "plan", "--source", "controller", "--kubeconfig", kubeconfig, "-n", ns, "-o", "json", "--patches", dir)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, buf.String(), out)
	assert.Contains(t, errOut, "controller Recommendations in "+cfg.Host+": 2 workloads in namespace "+ns+", the newest planned as of 2026-03-02T10:00:00Z\n")
	assert.NotContains(t, errOut, "warning:")

	// The patches are the plan's own.
	wantDir := t.TempDir()
	_, _, err := patch.Write(wantDir, want)
	require.NoError(t, err)
	assert.Equal(t, readDir(t, wantDir), readDir(t, dir))
	files := readDir(t, dir)
	require.Contains(t, files, patch.FileName(web))
	assert.Contains(t, files[patch.FileName(web)], "cpu: 250m")
	assert.Contains(t, errOut, "patch file(s) and kustomization.yaml to "+dir)

	// -l selects by the Recommendations' labels.
	code, out, errOut = run(t, "plan", "--source", "controller", "--kubeconfig", kubeconfig, "-n", ns, "-l", v1alpha1.LabelKind+"=StatefulSet", "-o", "csv")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "StatefulSet,db")
	assert.NotContains(t, out, "Deployment")
	assert.Contains(t, errOut, ": 1 workloads in namespace "+ns+" matching "+v1alpha1.LabelKind+"=StatefulSet")

	// A namespace without Recommendations.
	empty := kubetest.Namespace(t, cs, "rsrec-none")
	code, out, errOut = run(t, "plan", "--source", "controller", "--kubeconfig", kubeconfig, "-n", empty)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "no Recommendations in namespace "+empty+" at "+cfg.Host)
}

// readDir returns the files of dir by name.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	return files
}
