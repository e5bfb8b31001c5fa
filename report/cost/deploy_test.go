package cost

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// deployDir is the CronJob's kustomize base.
const deployDir = "../../deploy/report-cronjob"

// built is what `kustomize build` makes of a kustomization, by kind.
type built struct {
	cronJobs        []batchv1.CronJob
	serviceAccounts []corev1.ServiceAccount
	secrets         []corev1.Secret
	pvcs            []corev1.PersistentVolumeClaim
	roles           map[string]rbacv1.ClusterRole // ClusterRoles and Roles by kind/namespace/name
	bindings        []rbacv1.ClusterRoleBinding   // RoleBindings too, with their namespace
}

// kustomizeBuild runs kustomize in-process, as `kubectl apply -k` would.
func kustomizeBuild(t *testing.T, dir string) built {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	b := built{roles: map[string]rbacv1.ClusterRole{}}
	for _, res := range m.Resources() {
		data, err := res.AsYAML()
		require.NoError(t, err)
		decode := func(into any) {
			t.Helper()
			require.NoError(t, yaml.UnmarshalStrict(data, into), "%s %s", res.GetKind(), res.GetName())
		}
		switch res.GetKind() {
		case "CronJob":
			var o batchv1.CronJob
			decode(&o)
			b.cronJobs = append(b.cronJobs, o)
		case "ServiceAccount":
			var o corev1.ServiceAccount
			decode(&o)
			b.serviceAccounts = append(b.serviceAccounts, o)
		case "Secret":
			var o corev1.Secret
			decode(&o)
			b.secrets = append(b.secrets, o)
		case "PersistentVolumeClaim":
			var o corev1.PersistentVolumeClaim
			decode(&o)
			b.pvcs = append(b.pvcs, o)
		case "ClusterRole", "Role":
			var o rbacv1.ClusterRole
			decode(&o)
			b.roles[res.GetKind()+"/"+o.Namespace+"/"+o.Name] = o
		case "ClusterRoleBinding", "RoleBinding":
			var o rbacv1.ClusterRoleBinding
			decode(&o)
			b.bindings = append(b.bindings, o)
		}
	}
	return b
}

// TestDeployReportCronJob checks the security properties of the CronJob
// base as kustomize builds it, with and without the webhook component, so
// that the manifest cannot silently regress.
func TestDeployReportCronJob(t *testing.T) {
	abs, err := filepath.Abs(deployDir)
	require.NoError(t, err)
	overlay := t.TempDir()
	rel, err := filepath.Rel(overlay, abs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - "+rel+
			"\ncomponents:\n  - "+filepath.Join(rel, "webhook")+"\n"), 0o644))

	for _, tc := range []struct {
		name    string
		dir     string
		webhook bool
	}{
		{"base", deployDir, false},
		{"with webhook", overlay, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := kustomizeBuild(t, tc.dir)
			require.Len(t, b.cronJobs, 1)
			cj := b.cronJobs[0]
			assert.Equal(t, "0 6 * * 1", cj.Spec.Schedule, "weekly, Monday 06:00")
			assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)
			assert.Empty(t, b.secrets, "no Secret in git: the webhook URL is created by hand")

			pod := cj.Spec.JobTemplate.Spec.Template.Spec
			assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
			psc := pod.SecurityContext
			require.NotNil(t, psc)
			require.NotNil(t, psc.RunAsNonRoot)
			assert.True(t, *psc.RunAsNonRoot, "pod runs as non-root")
			require.NotNil(t, psc.RunAsUser)
			assert.NotZero(t, *psc.RunAsUser)
			require.NotNil(t, psc.SeccompProfile)
			assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)

			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			sc := c.SecurityContext
			require.NotNil(t, sc)
			require.NotNil(t, sc.ReadOnlyRootFilesystem)
			assert.True(t, *sc.ReadOnlyRootFilesystem, "read-only root filesystem")
			require.NotNil(t, sc.AllowPrivilegeEscalation)
			assert.False(t, *sc.AllowPrivilegeEscalation)
			require.NotNil(t, sc.Capabilities)
			assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
			assert.Empty(t, sc.Capabilities.Add)
			assert.True(t, sc.Privileged == nil || !*sc.Privileged)
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
				assert.False(t, req.IsZero(), "%s request set", r)
				assert.False(t, lim.IsZero(), "%s limit set", r)
				assert.LessOrEqual(t, req.Cmp(lim), 0, "%s request within limit", r)
			}
			assert.LessOrEqual(t, c.Resources.Limits.Memory().Cmp(resource.MustParse("2Gi")), 0, "memory limit stays modest")

			mounts := map[string]corev1.VolumeMount{}
			for _, m := range c.VolumeMounts {
				mounts[m.Name] = m
			}
			volumes := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			for name := range mounts {
				assert.Contains(t, volumes, name, "mount %s has a volume", name)
			}

			require.NotEmpty(t, c.Args)
			assert.Equal(t, "report", c.Args[0])
			out := flagValue(c.Args, "--out")
			require.NotEmpty(t, out, "the report is written to a file")
			outMount := mountFor(c.VolumeMounts, out)
			require.NotNil(t, outMount, "--out %s is on a mounted volume", out)
			assert.False(t, outMount.ReadOnly)
			ov := volumes[outMount.Name]
			assert.True(t, ov.PersistentVolumeClaim != nil || ov.EmptyDir != nil, "output volume is a PVC or an emptyDir")
			if ov.PersistentVolumeClaim != nil {
				assert.True(t, slices.ContainsFunc(b.pvcs, func(p corev1.PersistentVolumeClaim) bool {
					return p.Name == ov.PersistentVolumeClaim.ClaimName && p.Namespace == cj.Namespace
				}), "the claim %s is part of the base", ov.PersistentVolumeClaim.ClaimName)
			}

			hook := flagValue(c.Args, "--webhook-url-file")
			if !tc.webhook {
				assert.Empty(t, hook)
			} else {
				require.NotEmpty(t, hook, "the component adds --webhook-url-file")
				m := mountFor(c.VolumeMounts, hook)
				require.NotNil(t, m, "the webhook URL file %s is on a mounted volume", hook)
				assert.True(t, m.ReadOnly, "the secret is mounted read-only")
				v := volumes[m.Name]
				require.NotNil(t, v.Secret, "the webhook URL comes from a Secret")
				assert.Equal(t, filepath.Base(hook), "url")
				require.NotNil(t, v.Secret.DefaultMode)
				assert.Zero(t, *v.Secret.DefaultMode&0o007, "the URL file is not world-readable")
			}

			// The ServiceAccount exists and every role it is bound to reads only.
			assert.True(t, slices.ContainsFunc(b.serviceAccounts, func(sa corev1.ServiceAccount) bool {
				return sa.Name == pod.ServiceAccountName && sa.Namespace == cj.Namespace
			}), "the ServiceAccount %s is part of the base", pod.ServiceAccountName)
			bound := 0
			for _, rb := range b.bindings {
				for _, s := range rb.Subjects {
					if s.Kind != "ServiceAccount" || s.Name != pod.ServiceAccountName || s.Namespace != cj.Namespace {
						continue
					}
					ns := ""
					if rb.Kind == "RoleBinding" {
						ns = rb.Namespace
					}
					role, ok := b.roles[rb.RoleRef.Kind+"/"+ns+"/"+rb.RoleRef.Name]
					require.True(t, ok, "role %s %s is part of the base", rb.RoleRef.Kind, rb.RoleRef.Name)
					assertReadOnly(t, role)
					bound++
				}
			}
			assert.Positive(t, bound, "the ServiceAccount is bound to a role")
		})
	}
}

// assertReadOnly fails on any verb but get, list and watch, on wildcards and
// on access to Secrets.
func assertReadOnly(t *testing.T, role rbacv1.ClusterRole) {
	t.Helper()
	read := []string{"get", "list", "watch"}
	for _, rule := range role.Rules {
		for _, v := range rule.Verbs {
			assert.Contains(t, read, v, "role %s grants %q", role.Name, v)
		}
		for _, r := range rule.Resources {
			assert.NotEqual(t, "*", r, "role %s grants every resource", role.Name)
			assert.NotEqual(t, "secrets", r, "role %s reads Secrets", role.Name)
		}
		assert.NotContains(t, rule.APIGroups, "*", "role %s grants every API group", role.Name)
		assert.Empty(t, rule.NonResourceURLs, "role %s grants non-resource URLs", role.Name)
	}
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// mountFor returns the mount that holds path.
func mountFor(mounts []corev1.VolumeMount, path string) *corev1.VolumeMount {
	for i, m := range mounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return &mounts[i]
		}
	}
	return nil
}
