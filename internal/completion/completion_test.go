package completion

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// testCommand is a command with the cluster flags, a file flag, a
// directory flag, a switch named like a file flag and two flags of its
// own, their completions registered by Register.
func testCommand() *cobra.Command {
	root := &cobra.Command{Use: "rightsize", SilenceUsage: true, SilenceErrors: true}
	cmd := &cobra.Command{Use: "plan", RunE: func(*cobra.Command, []string) error { return nil }}
	cf := genericclioptions.NewConfigFlags(true)
	f := cmd.Flags()
	cf.AddFlags(f)
	f.String("input", "", "")
	f.String("state-dir", "", "")
	f.Bool("hpa", false, "")
	f.String("profile", "", "")
	f.StringSlice("profiles", nil, "")
	f.String("prometheus-compression", "", "")
	f.String("lease-namespace", "", "")
	Register(cmd, cf, Funcs{"profile": Fixed("b", "a"), "profiles": List("x", "y", "z")})
	root.AddCommand(cmd)
	return root
}

// complete runs cobra's hidden __complete command, as the shell scripts
// do, and returns the completions and the directive line that ends them.
func complete(t *testing.T, args ...string) (completions []string, directive string) {
	t.Helper()
	cmd := testCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	require.NoError(t, cmd.Execute())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.NotEmpty(t, lines[len(lines)-1], "no directive line in %q", out.String())
	completions, directive = lines[:len(lines)-1], lines[len(lines)-1]
	if len(completions) == 0 {
		completions = nil
	}
	return completions, directive
}

// directiveLine is the line __complete ends with for d.
func directiveLine(d cobra.ShellCompDirective) string { return fmt.Sprintf(":%d", d) }

func TestRegister(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	noFile := directiveLine(cobra.ShellCompDirectiveNoFileComp)
	list := directiveLine(cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace)
	for _, c := range []struct {
		name      string
		args      []string
		want      []string
		directive string
	}{
		{"own values, in their order", []string{"plan", "--profile", ""}, []string{"b", "a"}, noFile},
		{"shared values", []string{"plan", "--prometheus-compression", ""}, []string{"auto", "on", "off"}, noFile},
		{"file of a kind", []string{"plan", "--input", ""}, []string{"csv", "csv.gz", "gz"}, directiveLine(cobra.ShellCompDirectiveFilterFileExt)},
		{"any file", []string{"plan", "--kubeconfig", ""}, nil, directiveLine(cobra.ShellCompDirectiveDefault)},
		{"directory", []string{"plan", "--state-dir", ""}, nil, directiveLine(cobra.ShellCompDirectiveFilterDirs)},
		{"list", []string{"plan", "--profiles", ""}, []string{"x", "y", "z"}, list},
		{"list after one", []string{"plan", "--profiles", "y,"}, []string{"y,x", "y,z"}, list},
		{"list after two", []string{"plan", "--profiles", "z,x,"}, []string{"z,x,y"}, list},
		{"a value typed twice is offered no more", []string{"plan", "--profiles", "x,x,"}, []string{"x,x,y", "x,x,z"}, list},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, directive := complete(t, c.args...)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.directive, directive)
		})
	}
}

// A switch named like a file flag is not marked as one.
func TestRegisterSkipsSwitches(t *testing.T) {
	cmd := testCommand().Commands()[0]
	assert.Empty(t, cmd.Flags().Lookup("hpa").Annotations[cobra.BashCompFilenameExt])
	assert.NotNil(t, cmd.Flags().Lookup("input").Annotations[cobra.BashCompFilenameExt])
}

func TestOneOf(t *testing.T) {
	type format string
	got, d := OneOf([]format{"table", "json"})(nil, nil, "")
	assert.Equal(t, []cobra.Completion{"table", "json"}, got)
	assert.Equal(t, cobra.ShellCompDirectiveNoFileComp, d)
}

// writeKubeconfig writes a kubeconfig whose current context is dev, at
// server, and returns its path.
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
`), 0o600))
	return path
}

func TestKubeconfigNames(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	kubeconfig := writeKubeconfig(t, "https://dev.invalid:6443")
	missing := filepath.Join(t.TempDir(), "missing")
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"--context, sorted", []string{"plan", "--kubeconfig", kubeconfig, "--context", ""}, []string{"dev", "prod"}},
		{"--cluster", []string{"plan", "--kubeconfig", kubeconfig, "--cluster", ""}, []string{"dev-cluster", "prod-cluster"}},
		{"--user", []string{"plan", "--kubeconfig", kubeconfig, "--user", ""}, []string{"alice", "bob"}},
		{"missing kubeconfig", []string{"plan", "--kubeconfig", missing, "--context", ""}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, directive := complete(t, c.args...)
			assert.Equal(t, c.want, got)
			assert.Equal(t, directiveLine(cobra.ShellCompDirectiveNoFileComp), directive)
		})
	}
}

// closedPort returns the address of a local port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// silentPort returns the address of a local port that accepts
// connections and never answers.
func silentPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// namespaceServer is an API server that lists the namespaces team-b and
// team-a, in that order.
func namespaceServer(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[` +
			`{"metadata":{"name":"team-b"}},{"metadata":{"name":"team-a"}}]}`))
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func TestNamespaces(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for _, c := range []struct {
		name   string
		server func(*testing.T) string
		flag   string
		want   []string
	}{
		{"from the cluster, sorted", namespaceServer, "-n", []string{"team-a", "team-b"}},
		{"from the cluster, long flag", namespaceServer, "--namespace", []string{"team-a", "team-b"}},
		{"the controller's lease namespace", namespaceServer, "--lease-namespace", []string{"team-a", "team-b"}},
		// Refused at once: none, without waiting.
		{"closed port", func(t *testing.T) string { return "https://" + closedPort(t) }, "-n", nil},
		// Takes the request and never answers: none once namespaceTimeout
		// has passed. Plain HTTP, as no TLS handshake timeout applies:
		// without namespaceTimeout the test hangs until go test's -timeout.
		{"silent server", func(t *testing.T) string { return "http://" + silentPort(t) }, "--namespace", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			kubeconfig := writeKubeconfig(t, c.server(t))
			got, directive := complete(t, "plan", "--kubeconfig", kubeconfig, c.flag, "")
			assert.Equal(t, c.want, got)
			assert.Equal(t, directiveLine(cobra.ShellCompDirectiveNoFileComp), directive)
		})
	}
}
