package source

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

// flagsFor parses args into fresh source flags with the given
// environment, the sampling flags registered too.
func flagsFor(t *testing.T, env map[string]string, args ...string) *Flags {
	t.Helper()
	s := &Flags{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	s.AddFlags(fs)
	s.Cluster.AddSamplingFlags(fs)
	s.Cluster.Getenv = func(name string) string { return env[name] }
	require.NoError(t, fs.Parse(args))
	return s
}

func TestChoose(t *testing.T) {
	inCluster := map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
	tests := []struct {
		name              string
		args              []string
		env               map[string]string
		hasInput, hasProm bool
		want              string
		err               string
	}{
		{name: "nothing: demo, even with a ~/.kube/config", env: map[string]string{"HOME": "/home/me"}, want: Demo},
		{name: "input", hasInput: true, want: File},
		{name: "input wins over a cluster", hasInput: true, env: map[string]string{"KUBECONFIG": "/k"}, want: File},
		{name: "prometheus", hasProm: true, want: Prometheus},
		{name: "prometheus wins over a cluster", hasProm: true, args: []string{"--context", "prod"}, want: Prometheus},
		{name: "KUBECONFIG", env: map[string]string{"KUBECONFIG": "/k"}, want: MetricsServer},
		{name: "--kubeconfig", args: []string{"--kubeconfig", "/k"}, want: MetricsServer},
		{name: "--context", args: []string{"--context", "prod"}, want: MetricsServer},
		{name: "-n", args: []string{"-n", "shop"}, want: MetricsServer},
		{name: "-A", args: []string{"-A"}, want: MetricsServer},
		{name: "-l", args: []string{"-l", "app=web"}, want: MetricsServer},
		{name: "in a pod", env: inCluster, want: MetricsServer},
		{name: "half an in-cluster environment is none", env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, want: Demo},
		{name: "explicit metrics-server", args: []string{"--source", "metrics-server"}, want: MetricsServer},
		{name: "explicit demo beside a cluster", args: []string{"--source", "demo"}, env: inCluster, want: Demo},
		{name: "explicit file needs --input", args: []string{"--source", "file"}, err: "--source file needs --input"},
		{name: "explicit prometheus needs a URL", args: []string{"--source", "prometheus"}, err: "--source prometheus needs --prometheus-url"},
		{name: "metrics-server and --input", args: []string{"--source", "metrics-server"}, hasInput: true, err: "--source metrics-server and --input exclude each other"},
		{name: "unknown source", args: []string{"--source", "carrier-pigeon"}, err: `--source "carrier-pigeon": want one of auto, file, prometheus, metrics-server, demo`},
		{name: "bad interval", args: []string{"--interval", "0s"}, err: "--interval must be positive"},
		{name: "negative duration", args: []string{"--duration=-1m"}, err: "--duration must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := flagsFor(t, tt.env, tt.args...)
			if tt.hasInput {
				s.Input = "usage.csv"
			}
			if tt.hasProm {
				s.Prometheus.URL = "http://prometheus:9090"
			}
			got, err := s.Choose()
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestFlagsBesidePlanFlags registers the source flags on a command with
// plan's own flags: no name or shorthand may clash.
func TestFlagsBesidePlanFlags(t *testing.T) {
	cmd := &cobra.Command{Use: "plan", RunE: func(*cobra.Command, []string) error { return nil }}
	cmd.PersistentFlags().BoolP("verbose", "v", false, "")
	var out string
	cmd.Flags().StringVarP(&out, "output", "o", "table", "")
	s := &Flags{}
	s.AddFlags(cmd.Flags())
	s.AddHPAFlag(cmd.Flags())
	s.Cluster.AddSamplingFlags(cmd.Flags())
	cmd.SetArgs([]string{"-n", "shop", "-A", "-l", "app=web", "-o", "json", "-v", "--context", "prod", "--kubeconfig", "/k",
		"--cluster", "c", "--user", "u", "--as", "someone", "--request-timeout", "10s",
		"--source", "metrics-server", "--duration", "1h", "--interval", "10s", "--state-dir", "/s", "--hpa", "hpa.yaml"})
	require.NoError(t, cmd.Execute())
	k := s.Cluster
	assert.Equal(t, "shop", *k.ConfigFlags.Namespace)
	assert.True(t, k.AllNamespaces)
	assert.Equal(t, "app=web", k.Selector)
	assert.Equal(t, "prod", *k.ConfigFlags.Context)
	assert.Equal(t, time.Hour, k.Duration)
	assert.Equal(t, 10*time.Second, k.Interval)
	assert.Equal(t, "/s", k.StateDir)
	assert.Equal(t, MetricsServer, s.Source)
	assert.Equal(t, "hpa.yaml", s.HPAFile)
	assert.Equal(t, "json", out)
	for _, absent := range []string{"token", "server", "insecure-skip-tls-verify", "password"} {
		assert.Nil(t, cmd.Flags().Lookup(absent), "--%s belongs in a kubeconfig", absent)
	}
}

// TestOpenWithoutCluster keeps `rightsize plan` with no flags on the
// demo data on a machine with a kubeconfig in the default place.
func TestOpenWithoutCluster(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".kube"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".kube", "config"), []byte("apiVersion: v1\nkind: Config\n"), 0o600))
	src, err := flagsFor(t, map[string]string{"HOME": home}).Open(slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	assert.IsType(t, demo.Source{}, src)
}

// planFromCluster runs what `rightsize plan` runs once the cluster flags
// are wired: load, recommend with each profile, apply the cluster's
// constraints. It returns the JSON documents by profile and the loaded data.
func planFromCluster(t *testing.T, s *Flags, profiles ...string) (map[string]report.PlanDocument, map[string]string, *recommender.Data) {
	t.Helper()
	ctx := context.Background()
	src, err := s.Open(slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	d, err := (&recommender.Pipeline{Source: src}).Load(ctx)
	require.NoError(t, err)
	docs, raw := map[string]report.PlanDocument{}, map[string]string{}
	for _, name := range profiles {
		p, err := policy.ByName(name)
		require.NoError(t, err)
		plan, err := (&recommender.Pipeline{Recommender: recommender.Recommender{Profile: p}}).Plan(ctx, d, time.Time{})
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, report.WritePlan(&buf, plan, report.JSON))
		var doc report.PlanDocument
		require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
		docs[name], raw[name] = doc, buf.String()
	}
	return docs, raw, d
}

func findContainer(t *testing.T, doc report.PlanDocument, kind, name, ctr string) (report.WorkloadDocument, report.ContainerDocument) {
	t.Helper()
	for _, w := range doc.Workloads {
		if w.Kind == kind && w.Name == name {
			for _, c := range w.Containers {
				if c.Name == ctr {
					return w, c
				}
			}
		}
	}
	t.Fatalf("%s/%s container %s not in the plan", kind, name, ctr)
	return report.WorkloadDocument{}, report.ContainerDocument{}
}

func millicores(t *testing.T, q string) float64 {
	t.Helper()
	return float64(parseQuantityT(t, q).MilliValue())
}

func mebibytes(t *testing.T, q string) float64 {
	t.Helper()
	return float64(parseQuantityT(t, q).Value()) / float64(workload.MiB)
}

// TestIntegrationPlanFromCluster samples metrics-server in the local test
// cluster and checks the plan end to end: every workload with its owner and
// settings, requests converging on the emulated usage, and the LimitRange,
// VPA, JVM, ResourceQuota and HPA rules in the reasons and notes. A second
// run finds the first run's samples in the state store.
func TestIntegrationPlanFromCluster(t *testing.T) {
	kubeconfig := kubetest.Kubeconfig(t)
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := kubetest.Namespace(t, cs, "plan")
	f := kubetest.CreateWorkloads(t, cfg, ns, true)
	f.WaitForPods(t, cfg)
	f.WaitForMetrics(t, cfg)

	state := t.TempDir()
	k := flagsFor(t, nil, "--kubeconfig", kubeconfig, "-n", ns, "--source", "metrics-server",
		"--duration", "40s", "--interval", "5s", "--state-dir", state)
	docs, raw, d := planFromCluster(t, k, "documents", "vpa", "balanced")
	assert.Empty(t, d.Warnings)
	assert.Contains(t, d.Summary, "9 workloads; sampled every 5s for 40s: 9 polls")
	assert.Contains(t, d.Summary, "0 samples kept from earlier runs")

	doc := docs["documents"]
	var names []string
	for _, w := range doc.Workloads {
		names = append(names, w.Kind+"/"+w.Name)
	}
	assert.ElementsMatch(t, []string{"CronJob/report", "DaemonSet/agent", "Deployment/billing", "Deployment/hungry", "Deployment/web",
		"Job/backfill", "Pod/debug", "ReplicaSet/legacy", "StatefulSet/db"}, names)

	// documents: request = mean usage (R1), limit = peak × 1.5 (R2); the
	// emulated usage is constant, so both converge on it.
	for ck, use := range f.Usage {
		if ck.Container == "proxy" {
			continue // kwok reports no usage for native sidecars
		}
		w, c := findContainer(t, doc, string(ck.Workload.Kind), ck.Workload.Name, ck.Container)
		require.NotNil(t, c.Recommended, "%s: %v", ck, c.Reasons)
		require.NotNil(t, c.Recommended.Requests, "%s", ck)
		cpu := millicores(t, c.Recommended.Requests.CPU)
		mem := mebibytes(t, c.Recommended.Requests.Memory)
		wantCPU := float64(min(use.CPU, 1000)) // LimitRange max 1
		if ck.Workload.Name == "web" && ck.Container == "app" {
			// web's HPA scales on CPU and forty seconds of aggregate
			// load cannot size the two together: its request stays.
			wantCPU = 100
			assert.True(t, hasPart(c.Reasons, "kept at the current request: HPA web scales on CPU", "(R10)"), "%v", c.Reasons)
		}
		// 5 %, plus the millicore a recommendation rounds up to.
		assert.InDelta(t, wantCPU, cpu, 0.05*wantCPU+1, "%s cpu request (reasons %v)", ck, c.Reasons)
		wantMem := use.Memory.MiB()
		if ck.Workload.Name == "db" {
			wantMem = 600 // VPA minAllowed
		}
		assert.InEpsilon(t, wantMem, mem, 0.01, "%s memory request (reasons %v)", ck, c.Reasons)
		replicas := map[string]int{"web": 3, "billing": 2, "agent": f.RunningPods - 9, "hungry": 1, "db": 1, "legacy": 1, "debug": 1}
		assert.Equal(t, replicas[w.Name], w.Replicas, "%s replicas", ck)
	}
	_, hungry := findContainer(t, doc, "Deployment", "hungry", "app")
	assert.Contains(t, hungry.Reasons, "cpu request: clamped to LimitRange "+ns+"/limits max 1 (R13)")
	assert.Contains(t, hungry.Reasons, "cpu limit: clamped to LimitRange "+ns+"/limits max 1 (R13)")
	assert.Contains(t, raw["documents"], "clamped to LimitRange "+ns+"/limits max 1 (R13)", "the clamp is in the output")
	_, db := findContainer(t, doc, "StatefulSet", "db", "postgres")
	assert.Contains(t, db.Reasons, "memory request: raised to VPA "+ns+"/db minAllowed 600Mi (R15)")
	_, billing := findContainer(t, doc, "Deployment", "billing", "app")
	assert.True(t, hasPart(billing.Reasons, "for the JVM", "(R16)") || hasPart(billing.Reasons, "covers the JVM", "(R16)"), "%v", billing.Reasons)
	hungryW, _ := findContainer(t, doc, "Deployment", "hungry", "app")
	assert.True(t, hasPart(hungryW.Notes, "ResourceQuota "+ns+"/compute: requests.cpu would total", "(R14)"), "%v", hungryW.Notes)
	webW, webInit := findContainer(t, doc, "Deployment", "web", "migrate")
	assert.True(t, webInit.Init)
	assert.False(t, hasPart(webW.Notes, "HPA "+ns+"/web scales on cpu", "moves its scaling point"), "the request its HPA scales on stays: %v", webW.Notes)
	// The cluster's HPA is the current one; forty seconds of aggregate
	// load are too little to recommend from.
	require.NotNil(t, webW.HPA)
	require.NotNil(t, webW.HPA.Current)
	assert.Equal(t, "web", webW.HPA.Current.Name)
	assert.Equal(t, int32(3), webW.HPA.Current.MaxReplicas)
	assert.Nil(t, webW.HPA.Recommended)
	assert.True(t, hasPart(webW.HPA.Reasons, "current HPA web: 3–3 pods", "[cpu]"), "%v", webW.HPA.Reasons)
	assert.True(t, hasPart(webW.HPA.Reasons, "of aggregate load history", "needed: no HPA recommendation"), "%v", webW.HPA.Reasons)
	assert.False(t, hasPart(webW.HPA.Reasons, "does not say which HPAs exist"), "a cluster knows its HPAs")
	_, proxy := findContainer(t, doc, "Deployment", "web", "proxy")
	assert.True(t, proxy.Sidecar)
	assert.Equal(t, &report.ResourcesDocument{CPU: "10m", Memory: "32Mi"}, proxy.Current.Requests)
	dbW, _ := findContainer(t, doc, "StatefulSet", "db", "postgres")
	assert.True(t, dbW.Critical)

	// vpa: p90 of the decaying histograms + 15 %. A histogram quantile is
	// the upper end of its bucket: it never under-estimates and
	// over-estimates by at most (growth − 1) + first bucket / value.
	vpaHist := policy.VPA().History
	tolerance := func(o sketch.Options, v float64) float64 { return 1 + (o.Growth - 1) + o.FirstBucket/v }
	for _, c := range []struct {
		kind, name, ctr string
		cpu, mem        float64 // millicores, MiB
	}{{"Deployment", "web", "app", 200, 300}, {"Deployment", "billing", "app", 300, 700}} {
		_, got := findContainer(t, docs["vpa"], c.kind, c.name, c.ctr)
		require.NotNil(t, got.Recommended, "%v", got.Reasons)
		cpu, mem := millicores(t, got.Recommended.Requests.CPU), mebibytes(t, got.Recommended.Requests.Memory)
		if c.name == "web" {
			assert.Equal(t, 100.0, cpu, "web's request stays with its HPA on CPU (R10)")
		} else {
			// 3 % below: metrics-server's rate of kwok's counter is not exact.
			assert.GreaterOrEqual(t, cpu, 0.97*1.15*c.cpu, "%s cpu", c.name)
			assert.LessOrEqual(t, cpu, 1.15*c.cpu*tolerance(vpaHist.CPU, c.cpu/1000)+1, "%s cpu", c.name)
		}
		assert.GreaterOrEqual(t, mem, 1.15*c.mem, "%s memory", c.name)
		assert.LessOrEqual(t, mem, 1.15*c.mem*tolerance(vpaHist.Memory, c.mem*float64(workload.MiB))+1, "%s memory", c.name)
		assert.Less(t, got.Confidence, 0.05, "forty seconds of history deserve little confidence")
	}

	// balanced asks for 20 minutes of history: no guess from 40 seconds.
	_, bal := findContainer(t, docs["balanced"], "Deployment", "web", "app")
	assert.Nil(t, bal.Recommended)
	assert.True(t, hasPart(bal.Reasons, "no recommendation: too little history"), "%v", bal.Reasons)

	// A second, one-poll run starts from the first run's history.
	k2 := flagsFor(t, nil, "--kubeconfig", kubeconfig, "-n", ns, "--source", "metrics-server", "--duration", "0s", "--state-dir", state)
	_, _, d2 := planFromCluster(t, k2)
	assert.NotContains(t, d2.Summary, " 0 samples kept from earlier runs")
	entries, err := os.ReadDir(state)
	require.NoError(t, err)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	assert.Len(t, files, 3, "the history, its previous copy and the lock: %v", files)
}

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

// TestIntegrationPlanDegradesWithoutPermissions runs the plan as a service
// account, then revokes its right to list ReplicaSets and to read metrics:
// the next run says so in one line each and still plans every workload,
// attributing pods to Deployments by name.
func TestIntegrationPlanDegradesWithoutPermissions(t *testing.T) {
	cfg := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	ns := kubetest.Namespace(t, cs, "rbac")
	f := kubetest.CreateWorkloads(t, cfg, ns, false)
	f.WaitForPods(t, cfg)

	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "limitranges", "resourcequotas"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"autoscaling.k8s.io"}, Resources: []string{"verticalpodautoscalers"}, Verbs: []string{"get", "list", "watch"}},
	}
	_, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "rightsize"}, Rules: rules}, metav1.CreateOptions{})
	require.NoError(t, err)
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: "rightsize", Namespace: ns}
	_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rightsize"},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "rightsize"}, Subjects: []rbacv1.Subject{sa}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rightsize-metrics"},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "system:aggregated-metrics-reader"}, Subjects: []rbacv1.Subject{sa}}, metav1.CreateOptions{})
	require.NoError(t, err)
	kubeconfig := kubetest.ServiceAccountKubeconfig(t, cfg, ns, "rightsize")

	plan := func() (report.PlanDocument, *recommender.Data) {
		k := flagsFor(t, nil, "--kubeconfig", kubeconfig, "--source", "metrics-server", "--duration", "0s", "--state-dir", t.TempDir())
		docs, _, d := planFromCluster(t, k, "documents")
		return docs["documents"], d
	}
	// With every permission only the VPA API may be missing (another test
	// may have installed its CRD).
	_, d := plan()
	for _, w := range d.Warnings {
		assert.True(t, strings.HasPrefix(w, "cannot list verticalpodautoscalers in namespace "+ns+": "), w)
	}

	rules[1].Resources = []string{"deployments", "statefulsets", "daemonsets"}
	_, err = cs.RbacV1().Roles(ns).Update(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "rightsize"}, Rules: rules}, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, cs.RbacV1().RoleBindings(ns).Delete(ctx, "rightsize-metrics", metav1.DeleteOptions{}))

	var doc report.PlanDocument
	kubetest.Eventually(t, 30*time.Second, "the revoked permissions to take effect", func(context.Context) (bool, error) {
		doc, d = plan()
		all := strings.Join(d.Warnings, "\n")
		return strings.Contains(all, "cannot list replicasets") && strings.Contains(all, "pods.metrics.k8s.io"), nil
	})
	warnings := strings.Join(d.Warnings, "\n")
	assert.Contains(t, warnings, "cannot list replicasets in namespace "+ns+": forbidden (RBAC); pods of Deployments are attributed by name")
	assert.Contains(t, warnings, "cannot list pods.metrics.k8s.io: forbidden (RBAC)")
	assert.Contains(t, warnings, "recommending from the history kept so far")
	for _, w := range d.Warnings {
		assert.NotContains(t, w, "\n", "one line each")
	}
	assert.Len(t, doc.Workloads, 9, "every workload is still planned")
	web, _ := findContainer(t, doc, "Deployment", "web", "app")
	assert.Equal(t, 3, web.Replicas)
}

func parseQuantityT(t *testing.T, s string) *resource.Quantity {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	require.NoError(t, err, s)
	return &q
}
