package cluster

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"rightsize.dev/rightsize/internal/cliflag"
)

// Flags are the command-line flags that choose a cluster (kubectl's,
// through cli-runtime), the workloads to read and how metrics-server is
// sampled, as prometheus.Flags are for Prometheus.
type Flags struct {
	// ConfigFlags are kubectl's flags: kubeconfig, context, namespace, …
	ConfigFlags   *genericclioptions.ConfigFlags
	AllNamespaces bool
	Selector      string
	// Duration and Interval drive metrics-server sampling.
	Duration, Interval time.Duration
	StateDir           string

	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
	// Now and After are the sampler's clock; nil means the wall clock.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// NewFlags returns the flags with their defaults: 30 minutes of sampling
// every 30 seconds.
func NewFlags() *Flags {
	cf := genericclioptions.NewConfigFlags(true)
	// Only the flags that choose a cluster, a user and a namespace: the
	// others (tokens, certificates, basic auth) belong in a kubeconfig.
	cf.CacheDir, cf.APIServer, cf.TLSServerName, cf.Insecure = nil, nil, nil, nil
	cf.CertFile, cf.KeyFile, cf.CAFile, cf.BearerToken = nil, nil, nil, nil
	cf.ImpersonateUID, cf.Username, cf.Password, cf.DisableCompression = nil, nil, nil, nil
	return &Flags{ConfigFlags: cf, Duration: 30 * time.Minute, Interval: 30 * time.Second, Getenv: os.Getenv}
}

// AddFlags registers the cluster flags and --state-dir.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.ConfigFlags.AddFlags(fs)
	fs.BoolVarP(&f.AllNamespaces, "all-namespaces", "A", false, "read workloads in every namespace")
	fs.StringVarP(&f.Selector, "selector", "l", "", "label selector on workloads (bare pods: on the pod), e.g. app=web,tier!=batch")
	fs.StringVar(&f.StateDir, "state-dir", "", "directory of the history kept between metrics-server runs (default $XDG_STATE_HOME/rightsize or ~/.local/state/rightsize)")
}

// AddSamplingFlags registers --duration and --interval. They are apart
// because backtest has an --interval of its own.
func (f *Flags) AddSamplingFlags(fs *pflag.FlagSet) {
	fs.Var(cliflag.Duration(&f.Duration), "duration", "how long to sample metrics-server")
	fs.Var(cliflag.Duration(&f.Interval), "interval", "time between metrics-server samples")
}

// Configured tells whether the user pointed at a cluster: a cluster flag,
// $KUBECONFIG, or running in a pod. A ~/.kube/config alone does not count,
// so that a plain `rightsize plan` stays on the demo data.
func (f *Flags) Configured() bool {
	set := func(p *string) bool { return p != nil && *p != "" }
	c := f.ConfigFlags
	return set(c.KubeConfig) || set(c.Context) || set(c.ClusterName) || set(c.AuthInfoName) || set(c.Namespace) || set(c.Impersonate) ||
		f.AllNamespaces || f.Selector != "" ||
		f.Getenv("KUBECONFIG") != "" || (f.Getenv("KUBERNETES_SERVICE_HOST") != "" && f.Getenv("KUBERNETES_SERVICE_PORT") != "")
}

// Config returns the cluster the flags point at, with the namespace and
// selector to read: kubeconfig (flags, $KUBECONFIG, ~/.kube/config) or the
// pod's service account.
func (f *Flags) Config(log *slog.Logger) (Config, error) {
	cfg, err := f.ConfigFlags.ToRESTConfig()
	if err != nil {
		return Config{}, fmt.Errorf("cluster configuration: %w", err)
	}
	ns, _, err := f.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return Config{}, fmt.Errorf("namespace: %w", err)
	}
	return Config{REST: Tune(cfg), Namespace: ns, AllNamespaces: f.AllNamespaces, Selector: f.Selector, Log: log}, nil
}

// MetricsServer returns the metrics-server source: --duration of sampling
// every --interval, history kept in --state-dir.
func (f *Flags) MetricsServer(log *slog.Logger) (MetricsServer, error) {
	c, err := f.Config(log)
	if err != nil {
		return MetricsServer{}, err
	}
	dir := f.StateDir
	if dir == "" {
		dir = StateDir(f.Getenv)
	}
	return MetricsServer{Cluster: c, Interval: f.Interval, Duration: f.Duration, StateDir: dir, Now: f.Now, After: f.After}, nil
}
