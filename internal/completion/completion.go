// Package completion completes the values of rightsize's flags in the
// shell (rightsize completion bash|zsh|fish|powershell), as kubectl does:
// the names a flag accepts, files of the kind a flag reads, directories,
// and the kubeconfig's contexts, clusters and users and the cluster's
// namespaces.
package completion

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// namespaceTimeout bounds listing the namespaces while completing -n: an
// unreachable cluster completes nothing rather than hanging the shell.
const namespaceTimeout = 2 * time.Second

// fileFlags are the flags that read a file, with the extensions it is
// completed with (none: any file).
var fileFlags = map[string][]string{
	"input":                        {"csv", "csv.gz", "gz"},
	"hpa":                          {"yaml", "yml", "json"},
	"hpa-file":                     {"yaml", "yml", "json"},
	"pricing":                      {"yaml", "yml"},
	"out":                          {"md", "html", "csv", "json"},
	"webhook-url-file":             nil,
	"kubeconfig":                   nil,
	"prometheus-http-config-file":  {"yaml", "yml"},
	"prometheus-bearer-token-file": nil,
	"prometheus-password-file":     nil,
	"prometheus-ca-file":           nil,
	"prometheus-cert-file":         nil,
	"prometheus-key-file":          nil,
}

// dirFlags are the flags that name a directory.
var dirFlags = []string{"patches", "state-dir"}

// Funcs map a flag's name to how its values complete.
type Funcs map[string]cobra.CompletionFunc

// Register registers the value completions of cmd's flags: the file and
// directory flags and --prometheus-compression wherever they are, the
// cluster flags of cf (nil for none) and the command's own, which win over
// the shared ones.
func Register(cmd *cobra.Command, cf *genericclioptions.ConfigFlags, own Funcs) {
	fs := cmd.Flags()
	for name, exts := range fileFlags {
		// backtest's --hpa is a switch, not a file.
		if f := fs.Lookup(name); f != nil && f.Value.Type() != "bool" && own[name] == nil {
			_ = cmd.MarkFlagFilename(name, exts...)
		}
	}
	for _, name := range dirFlags {
		if fs.Lookup(name) != nil && own[name] == nil {
			_ = cmd.MarkFlagDirname(name)
		}
	}
	funcs := Funcs{"prometheus-compression": Fixed("auto", "on", "off")}
	if cf != nil {
		for name, fn := range cluster(cf) {
			funcs[name] = fn
		}
	}
	for name, fn := range own {
		funcs[name] = fn
	}
	for name, fn := range funcs {
		if fs.Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, fn)
		}
	}
}

// Fixed completes one of values and no file.
func Fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// OneOf completes one of values, named by a string type (formats).
func OneOf[S ~string](values []S) cobra.CompletionFunc {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return Fixed(s...)
}

// List completes a comma-separated list of values: each value not yet in
// the list, after what was typed up to the last comma.
func List(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		prefix, typed := "", strings.Split(toComplete, ",")
		if len(typed) > 1 {
			prefix = strings.Join(typed[:len(typed)-1], ",") + ","
		}
		var out []cobra.Completion
		for _, v := range values {
			if !slices.Contains(typed[:len(typed)-1], v) {
				out = append(out, prefix+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// cluster completes the cluster flags as kubectl does: --context,
// --cluster and --user from the kubeconfig the flags point at, -n from the
// cluster's namespaces.
func cluster(cf *genericclioptions.ConfigFlags) Funcs {
	fromConfig := func(names func(*clientcmdapi.Config) []string) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return kubeconfigNames(cf, names), cobra.ShellCompDirectiveNoFileComp
		}
	}
	return Funcs{
		"context":         fromConfig(func(c *clientcmdapi.Config) []string { return keys(c.Contexts) }),
		"cluster":         fromConfig(func(c *clientcmdapi.Config) []string { return keys(c.Clusters) }),
		"user":            fromConfig(func(c *clientcmdapi.Config) []string { return keys(c.AuthInfos) }),
		"namespace":       inNamespace(cf),
		"lease-namespace": inNamespace(cf), // the controller's Lease and checkpoint
	}
}

// inNamespace completes a namespace of the cluster cf points at.
func inNamespace(cf *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return namespaces(cmd.Context(), cf), cobra.ShellCompDirectiveNoFileComp
	}
}

// kubeconfigNames returns names from the kubeconfig cf points at, none if
// it cannot be read.
func kubeconfigNames(cf *genericclioptions.ConfigFlags, names func(*clientcmdapi.Config) []string) []string {
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	return names(&raw)
}

func keys[V any](m map[string]V) []string {
	s := make([]string, 0, len(m))
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// namespaces lists the namespaces of the cluster cf points at within
// namespaceTimeout; none if the cluster cannot be reached or refuses.
func namespaces(ctx context.Context, cf *genericclioptions.ConfigFlags) []string {
	cfg, err := cf.ToRESTConfig()
	if err != nil {
		return nil
	}
	cfg.Timeout = namespaceTimeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, namespaceTimeout)
	defer cancel()
	l, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	names := make([]string, len(l.Items))
	for i, ns := range l.Items {
		names[i] = ns.Name
	}
	sort.Strings(names)
	return names
}
