package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// complete runs cobra's hidden __complete command, as the shell scripts
// of `rightsize completion` do, and returns the completions and the
// directive line that ends them.
func complete(t *testing.T, args ...string) (completions []string, directive string) {
	t.Helper()
	code, out, errOut := run(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines[len(lines)-1], "no directive line in %q", out)
	completions, directive = lines[:len(lines)-1], lines[len(lines)-1]
	if len(completions) == 0 {
		completions = nil
	}
	return completions, directive
}

// directiveLine is the line __complete ends with for d.
func directiveLine(d cobra.ShellCompDirective) string { return fmt.Sprintf(":%d", d) }

// profileNames are the built-in profiles, the default first.
var profileNames = []string{"balanced", "documents", "guaranteed", "krr", "reliability", "savings", "vpa"}

func TestCompletionFlagValues(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	noFile := directiveLine(cobra.ShellCompDirectiveNoFileComp)
	list := directiveLine(cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace)
	ext := directiveLine(cobra.ShellCompDirectiveFilterFileExt)
	dirs := directiveLine(cobra.ShellCompDirectiveFilterDirs)
	anyFile := directiveLine(cobra.ShellCompDirectiveDefault)
	backtestProfiles := append(append([]string{"current"}, profileNames...), "oracle")
	for _, c := range []struct {
		name      string
		args      []string
		want      []string
		directive string
	}{
		{"plan --profile", []string{"plan", "--profile", ""}, profileNames, noFile},
		{"plan --profile=", []string{"plan", "--profile="}, profileNames, noFile},
		{"report --profile", []string{"report", "--profile", ""}, profileNames, noFile},
		{"controller --profile", []string{"controller", "--profile", ""}, profileNames, noFile},
		{"backtest --profile", []string{"backtest", "--profile", ""}, backtestProfiles, list},
		{"backtest --profile after one", []string{"backtest", "--profile", "krr,"},
			[]string{"krr,current", "krr,balanced", "krr,documents", "krr,guaranteed", "krr,reliability", "krr,savings", "krr,vpa", "krr,oracle"}, list},
		{"backtest --profile after two", []string{"backtest", "--profile", "krr,vpa,b"},
			[]string{"krr,vpa,current", "krr,vpa,balanced", "krr,vpa,documents", "krr,vpa,guaranteed", "krr,vpa,reliability", "krr,vpa,savings", "krr,vpa,oracle"}, list},

		{"plan -o", []string{"plan", "-o", ""}, []string{"table", "json", "yaml", "csv", "markdown"}, noFile},
		{"plan --output", []string{"plan", "--output", ""}, []string{"table", "json", "yaml", "csv", "markdown"}, noFile},
		{"backtest -o", []string{"backtest", "-o", ""}, []string{"table", "json", "yaml", "csv"}, noFile},
		{"report --format", []string{"report", "--format", ""}, []string{"markdown", "html", "csv", "json"}, noFile},

		{"plan --source", []string{"plan", "--source", ""}, []string{"auto", "file", "prometheus", "metrics-server", "demo", "controller"}, noFile},
		{"report --source", []string{"report", "--source", ""}, []string{"auto", "file", "prometheus", "metrics-server", "demo"}, noFile},
		{"backtest --source", []string{"backtest", "--source", ""}, []string{"auto", "file", "prometheus", "demo"}, noFile},

		{"controller --log-format", []string{"controller", "--log-format", ""}, []string{"json", "text"}, noFile},
		{"plan --prometheus-compression", []string{"plan", "--prometheus-compression", ""}, []string{"auto", "on", "off"}, noFile},

		{"plan --input", []string{"plan", "--input", ""}, []string{"csv", "csv.gz", "gz"}, ext},
		{"backtest --input", []string{"backtest", "--input", "us"}, []string{"csv", "csv.gz", "gz"}, ext},
		{"plan --hpa", []string{"plan", "--hpa", ""}, []string{"yaml", "yml", "json"}, ext},
		{"backtest --hpa-file", []string{"backtest", "--hpa-file", ""}, []string{"yaml", "yml", "json"}, ext},
		{"report --pricing", []string{"report", "--pricing", ""}, []string{"yaml", "yml"}, ext},
		{"report --out", []string{"report", "--out", ""}, []string{"md", "html", "csv", "json"}, ext},
		{"plan --prometheus-http-config-file", []string{"plan", "--prometheus-http-config-file", ""}, []string{"yaml", "yml"}, ext},
		{"report --webhook-url-file", []string{"report", "--webhook-url-file", ""}, nil, anyFile},
		{"plan --kubeconfig", []string{"plan", "--kubeconfig", ""}, nil, anyFile},

		{"plan --patches", []string{"plan", "--patches", ""}, nil, dirs},
		{"plan --state-dir", []string{"plan", "--state-dir", ""}, nil, dirs},
		{"report --state-dir", []string{"report", "--state-dir", ""}, nil, dirs},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, directive := complete(t, c.args...)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.directive, directive)
		})
	}
}

// writeKubeconfig writes a kubeconfig with the contexts dev and prod, the
// clusters dev-cluster (at server, the current context's) and
// prod-cluster and the users alice and bob, and returns its path.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: prod-cluster
  cluster:
    server: https://prod.invalid:6443
- name: dev-cluster
  cluster:
    server: `+server+`
users:
- name: bob
  user:
    token: b
- name: alice
  user:
    token: a
contexts:
- name: prod
  context:
    cluster: prod-cluster
    user: bob
- name: dev
  context:
    cluster: dev-cluster
    user: alice
    namespace: team-a
`), 0o600))
	return path
}

func TestCompletionKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	kubeconfig := writeKubeconfig(t, "https://dev.invalid:6443")
	noFile := directiveLine(cobra.ShellCompDirectiveNoFileComp)
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"plan --context", []string{"plan", "--kubeconfig", kubeconfig, "--context", ""}, []string{"dev", "prod"}},
		{"plan --cluster", []string{"plan", "--kubeconfig", kubeconfig, "--cluster", ""}, []string{"dev-cluster", "prod-cluster"}},
		{"plan --user", []string{"plan", "--kubeconfig", kubeconfig, "--user", ""}, []string{"alice", "bob"}},
		{"backtest --context", []string{"backtest", "--kubeconfig", kubeconfig, "--context", ""}, []string{"dev", "prod"}},
		{"report --cluster", []string{"report", "--kubeconfig", kubeconfig, "--cluster", ""}, []string{"dev-cluster", "prod-cluster"}},
		{"controller --user", []string{"controller", "--kubeconfig", kubeconfig, "--user", ""}, []string{"alice", "bob"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, directive := complete(t, c.args...)
			assert.Equal(t, c.want, got)
			assert.Equal(t, noFile, directive)
		})
	}
}
