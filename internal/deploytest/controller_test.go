package deploytest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/metrics/prometheus/promtest"
)

// The controller's base and the files next to it.
const (
	baseDir        = "../../deploy/controller"
	applyDir       = baseDir + "/overlays/apply"
	rulesFile      = baseDir + "/base/rules/rightsize.rules.yaml"
	rulesTestFile  = baseDir + "/base/rules/rightsize.rules.test.yaml"
	ruleObjectFile = baseDir + "/base/prometheusrule.yaml"
	dashboardFile  = baseDir + "/base/dashboards/rightsize.json"
	docsFile       = "../../docs/controller.md"

	namespace      = "rightsize-system"
	serviceAccount = "rightsize-controller"
)

// rendered is what `kubectl kustomize deploy/controller` makes of the base.
type rendered struct {
	objects     []*unstructured.Unstructured
	deployments []appsv1.Deployment
	roles       map[string]rbacv1.ClusterRole // ClusterRoles and Roles by kind/namespace/name
	bindings    []rbacv1.ClusterRoleBinding   // RoleBindings too, with their kind and namespace
}

// render runs kustomize in-process on the base, as `kubectl apply -k`
// would.
func render(t *testing.T) rendered { return renderDir(t, baseDir) }

// renderDir runs kustomize in-process on dir.
func renderDir(t *testing.T, dir string) rendered {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	r := rendered{roles: map[string]rbacv1.ClusterRole{}}
	for _, res := range m.Resources() {
		data, err := res.AsYAML()
		require.NoError(t, err)
		decode := func(into any) {
			t.Helper()
			require.NoError(t, yaml.UnmarshalStrict(data, into), "%s %s", res.GetKind(), res.GetName())
		}
		var u unstructured.Unstructured
		decode(&u.Object)
		r.objects = append(r.objects, &u)
		switch res.GetKind() {
		case "Deployment":
			var o appsv1.Deployment
			decode(&o)
			r.deployments = append(r.deployments, o)
		case "ClusterRole", "Role":
			var o rbacv1.ClusterRole
			decode(&o)
			r.roles[res.GetKind()+"/"+o.Namespace+"/"+o.Name] = o
		case "ClusterRoleBinding", "RoleBinding":
			var o rbacv1.ClusterRoleBinding
			decode(&o)
			r.bindings = append(r.bindings, o)
		}
	}
	return r
}

// find returns the one rendered object of that kind and name.
func (r rendered) find(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "%s %s in the base", kind, name)
	return found[0]
}

// TestControllerBase checks the rendered base: what it holds, and that the
// controller's pods run restricted, with requests and limits (R5), probes
// and replicas spread over nodes.
func TestControllerBase(t *testing.T) {
	r := render(t)

	kinds := map[string]bool{}
	for _, o := range r.objects {
		kinds[o.GetKind()] = true
		if o.GetKind() != "Namespace" && o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "CustomResourceDefinition" {
			assert.Equal(t, namespace, o.GetNamespace(), "%s %s is in %s", o.GetKind(), o.GetName(), namespace)
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Deployment", "PodDisruptionBudget", "Service", "ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		assert.True(t, kinds[k], "the base has a %s", k)
	}
	// The Recommendation CRD, where the base lists its directory.
	var kust struct {
		Resources []string `json:"resources"`
	}
	kdata, err := os.ReadFile(filepath.Join(baseDir, "base", "kustomization.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(kdata, &kust))
	if slices.Contains(kust.Resources, "../crd") {
		crd := r.find(t, "CustomResourceDefinition", "recommendations.rightsize.dev")
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		assert.Equal(t, "rightsize.dev", group)
	}

	require.Len(t, r.deployments, 1)
	d := r.deployments[0]
	require.NotNil(t, d.Spec.Replicas)
	assert.Equal(t, int32(2), *d.Spec.Replicas, "two replicas, one leads")
	pod := d.Spec.Template.Spec
	assert.Equal(t, serviceAccount, pod.ServiceAccountName)
	psc := pod.SecurityContext
	require.NotNil(t, psc)
	require.NotNil(t, psc.RunAsNonRoot)
	assert.True(t, *psc.RunAsNonRoot)
	require.NotNil(t, psc.RunAsUser)
	assert.NotZero(t, *psc.RunAsUser)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
	assert.False(t, pod.HostNetwork || pod.HostPID || pod.HostIPC)

	spread := slices.ContainsFunc(pod.TopologySpreadConstraints, func(c corev1.TopologySpreadConstraint) bool {
		return c.TopologyKey == corev1.LabelHostname
	})
	anti := pod.Affinity != nil && pod.Affinity.PodAntiAffinity != nil &&
		(len(pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) > 0 ||
			len(pod.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0)
	assert.True(t, spread || anti, "the replicas are spread across nodes")

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		assert.Nil(t, v.HostPath, "no hostPath volume")
	}
	all := append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...)
	require.NotEmpty(t, all)
	for _, c := range all {
		t.Run(c.Name, func(t *testing.T) {
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
				assert.False(t, req.IsZero(), "R5: %s request set", res)
				assert.False(t, lim.IsZero(), "R5: %s limit set", res)
				assert.LessOrEqual(t, req.Cmp(lim), 0, "%s request within its limit", res)
			}
			sc := c.SecurityContext
			require.NotNil(t, sc)
			nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && *psc.RunAsNonRoot)
			assert.True(t, nonRoot, "runs as non-root")
			require.NotNil(t, sc.ReadOnlyRootFilesystem)
			assert.True(t, *sc.ReadOnlyRootFilesystem, "read-only root filesystem")
			require.NotNil(t, sc.AllowPrivilegeEscalation)
			assert.False(t, *sc.AllowPrivilegeEscalation)
			assert.True(t, sc.Privileged == nil || !*sc.Privileged)
			require.NotNil(t, sc.Capabilities)
			assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
			assert.Empty(t, sc.Capabilities.Add)
			for _, m := range c.VolumeMounts {
				assert.Contains(t, volumes, m.Name, "mount %s has a volume", m.Name)
			}
		})
	}

	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "rightsize:dev", c.Image)
	assert.Equal(t, []string{"controller", "--all-namespaces"}, c.Args)
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	assert.Equal(t, "metadata.namespace", env["POD_NAMESPACE"], "POD_NAMESPACE from the downward API")
	assert.Equal(t, "metadata.name", env["POD_NAME"], "POD_NAME from the downward API")
	require.Len(t, c.Ports, 1)
	assert.Equal(t, "http-metrics", c.Ports[0].Name)
	assert.Equal(t, int32(8080), c.Ports[0].ContainerPort)
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
		require.NotNil(t, probe, path)
		require.NotNil(t, probe.HTTPGet, path)
		assert.Equal(t, path, probe.HTTPGet.Path)
		assert.Equal(t, "http-metrics", probe.HTTPGet.Port.String())
	}

	// The PodDisruptionBudget, the Service and the ServiceMonitor select
	// the Deployment's pods; the ServiceMonitor keeps the controller's own
	// namespace and container labels.
	podLabels := d.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	var pdb policyv1.PodDisruptionBudget
	require.NoError(t, convert(r.find(t, "PodDisruptionBudget", "rightsize-controller"), &pdb))
	require.NotNil(t, pdb.Spec.Selector)
	assert.True(t, selects(pdb.Spec.Selector.MatchLabels), "the PodDisruptionBudget selects the controller")
	var svc corev1.Service
	require.NoError(t, convert(r.find(t, "Service", "rightsize-controller"), &svc))
	assert.True(t, selects(svc.Spec.Selector), "the Service selects the controller")
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, "http-metrics", svc.Spec.Ports[0].Name)
	assert.Equal(t, "http-metrics", svc.Spec.Ports[0].TargetPort.String())
	sm := r.find(t, "ServiceMonitor", "rightsize-controller")
	assert.Equal(t, "monitoring.coreos.com/v1", sm.GetAPIVersion())
	smSel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range smSel {
		assert.Equal(t, v, svc.Labels[k], "the ServiceMonitor selects the Service")
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	require.Len(t, endpoints, 1)
	ep := endpoints[0].(map[string]any)
	assert.Equal(t, "http-metrics", ep["port"])
	assert.Equal(t, true, ep["honorLabels"], "the controller's namespace and container labels are the workload's")

	// The dashboard's ConfigMap, for Grafana's sidecar.
	cm := r.find(t, "ConfigMap", "rightsize-dashboard")
	assert.Equal(t, "1", cm.GetLabels()["grafana_dashboard"])
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	want, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	assert.Equal(t, string(want), data["rightsize.json"])
}

// convert decodes a rendered object into a typed one.
func convert(u *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// ruleObject is the PrometheusRule made from the rules file: the file's
// groups, text and comments as they are, under spec.
func ruleObject(t *testing.T) []byte {
	t.Helper()
	rules, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	_, groups, ok := bytes.Cut(rules, []byte("\ngroups:\n"))
	require.True(t, ok, "%s has a top-level groups:", rulesFile)
	var b bytes.Buffer
	b.WriteString(`# Generated from rules/rightsize.rules.yaml: edit that file, then run
#   go test ./internal/deploytest -run TestPrometheusRule -update
# The Prometheus Operator loads it where its ruleSelector matches these labels
# (see docs/controller.md#alerts).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: rightsize
  namespace: rightsize-system
  labels:
    app.kubernetes.io/name: rightsize
    app.kubernetes.io/component: controller
spec:
  groups:
`)
	for _, line := range strings.SplitAfter(string(groups), "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("  ")
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// TestPrometheusRule keeps prometheusrule.yaml generated from the rules
// file, and checks that the PrometheusRule the base renders carries exactly
// the file's groups.
func TestPrometheusRule(t *testing.T) {
	golden.Assert(t, ruleObjectFile, ruleObject(t), "prometheusrule.yaml is generated from rules/rightsize.rules.yaml")

	var file struct {
		Groups []any `json:"groups"`
	}
	data, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(data, &file))
	require.NotEmpty(t, file.Groups)
	pr := render(t).find(t, "PrometheusRule", "rightsize")
	assert.Equal(t, "monitoring.coreos.com/v1", pr.GetAPIVersion())
	groups, ok, err := unstructured.NestedSlice(pr.Object, "spec", "groups")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, file.Groups, groups, "the PrometheusRule's groups are the rules file's")
}

// rule is one rule of the rules file.
type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	var file struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	data, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(data, &file))
	var rules []rule
	for _, g := range file.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// TestAlertsDocumented checks every alert's labels and annotations: a
// severity, a summary and description, the rule ID where the alert is about
// a container's settings, and a runbook_url whose anchor is a heading of
// docs/controller.md. Every alert is also tested by the promtool test file.
func TestAlertsDocumented(t *testing.T) {
	doc, err := os.ReadFile(docsFile)
	require.NoError(t, err)
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors[anchor(strings.TrimLeft(h, "# "))] = true
		}
	}
	tests, err := os.ReadFile(rulesTestFile)
	require.NoError(t, err)
	alerts := 0
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		alerts++
		t.Run(r.Alert, func(t *testing.T) {
			assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"])
			assert.NotEmpty(t, r.Annotations["summary"])
			assert.NotEmpty(t, r.Annotations["description"])
			if strings.HasPrefix(r.Alert, "RightsizeContainer") {
				assert.Regexp(t, `\bR[0-9]+\b`, r.Annotations["description"], "names the rule it is about")
			}
			url := r.Annotations["runbook_url"]
			_, frag, ok := strings.Cut(url, "/docs/controller.md#")
			require.True(t, ok, "runbook_url %q points into docs/controller.md", url)
			assert.Equal(t, strings.ToLower(r.Alert), frag)
			assert.True(t, anchors[frag], "docs/controller.md has a heading for #%s", frag)
			assert.Contains(t, string(tests), "alertname: "+r.Alert+"\n", "the promtool tests cover %s", r.Alert)
		})
	}
	assert.GreaterOrEqual(t, alerts, 10)
}

// anchor is the fragment GitHub makes of a Markdown heading.
func anchor(heading string) string {
	h := strings.ToLower(strings.TrimSpace(heading))
	h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

// promtool returns promtool's path. It is a quick local run, so it runs
// under -short too where promtool is installed; without it the test skips
// under -short and fails otherwise (make test installs it).
func promtool(t *testing.T) string {
	t.Helper()
	_, path, err := promtest.Binaries()
	if err != nil {
		if testing.Short() {
			t.Skipf("skipped with -short: %v", err)
		}
		t.Fatal(err)
	}
	return path
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = filepath.Dir(rulesFile)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
}

// TestRulesPromtool runs `promtool check rules` on the rules file and the
// generated PrometheusRule's groups, and `promtool test rules` on the test
// file, whose series make every alert fire and leave the near misses
// silent.
func TestRulesPromtool(t *testing.T) {
	runPromtool(t, "check", "rules", filepath.Base(rulesFile))
	runPromtool(t, "test", "rules", filepath.Base(rulesTestFile))
}

// TestDashboard checks the Grafana dashboard: it parses, every panel the
// design asks for is there, and every query is valid PromQL (promtool
// checks them as recording rules, with the template variables filled in).
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	assert.NotEmpty(t, dash.UID)
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.Expr, "panel %q", p.Title)
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, metric := range []string{
		"rightsize_recommendation_cpu_cores", "rightsize_recommendation_memory_bytes",
		"rightsize_current_cpu_cores", "rightsize_current_memory_bytes", "rightsize_confidence",
		"rightsize_oom_kills_total", "rightsize_cycle_duration_seconds_bucket", "rightsize_collection_errors_total",
		"rightsize_checkpoint_age_seconds", "rightsize_leader", "rightsize_samples_ingested_total", "rightsize_apply_total",
	} {
		assert.Contains(t, all, metric, "a panel shows %s", metric)
	}

	// The queries as recording rules, for promtool to parse.
	vars := strings.NewReplacer("$namespace", ".*", "$workload", ".*", "$container", ".*")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, err := json.Marshal(vars.Replace(e))
		require.NoError(t, err)
		rules.WriteString("      - record: dashboard:query" + strings.Repeat("_", i+1) + ":check\n        expr: " + string(q) + "\n")
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(rules.String()), 0o644))
	out, err := exec.Command(promtool(t), "check", "rules", path).CombinedOutput()
	require.NoError(t, err, "the dashboard's queries:\n%s", out)
}
