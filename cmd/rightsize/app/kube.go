package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/metrics/cluster"
)

// The values of --source.
const (
	sourceAuto          = "auto"
	sourceFile          = "file"
	sourcePrometheus    = "prometheus"
	sourceMetricsServer = "metrics-server"
	sourceDemo          = "demo"
)

var sources = []string{sourceAuto, sourceFile, sourcePrometheus, sourceMetricsServer, sourceDemo}

// kubeFlags are the cluster flags (kubectl's, through cli-runtime) and the
// choice of the usage source.
type kubeFlags struct {
	config        *genericclioptions.ConfigFlags
	AllNamespaces bool
	Selector      string
	Source        string
	// Duration and Interval drive metrics-server sampling.
	Duration, Interval time.Duration
	StateDir           string

	// getenv reads the environment; tests replace it.
	getenv func(string) string
	// now and after are the sampler's clock; nil means the wall clock.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func newKubeFlags() *kubeFlags {
	cf := genericclioptions.NewConfigFlags(true)
	// Only the flags that choose a cluster, a user and a namespace: the
	// others (tokens, certificates, basic auth) belong in a kubeconfig.
	cf.CacheDir, cf.APIServer, cf.TLSServerName, cf.Insecure = nil, nil, nil, nil
	cf.CertFile, cf.KeyFile, cf.CAFile, cf.BearerToken = nil, nil, nil, nil
	cf.ImpersonateUID, cf.Username, cf.Password, cf.DisableCompression = nil, nil, nil, nil
	return &kubeFlags{
		config:   cf,
		Source:   sourceAuto,
		Duration: 30 * time.Minute,
		Interval: 30 * time.Second,
		getenv:   os.Getenv,
	}
}

// addFlags registers the cluster flags and --source and --state-dir.
func (k *kubeFlags) addFlags(fs *pflag.FlagSet) {
	k.config.AddFlags(fs)
	fs.BoolVarP(&k.AllNamespaces, "all-namespaces", "A", false, "read workloads in every namespace")
	fs.StringVarP(&k.Selector, "selector", "l", "", "label selector on workloads (bare pods: on the pod), e.g. app=web,tier!=batch")
	fs.StringVar(&k.Source, "source", k.Source, "usage source: "+strings.Join(sources, "|")+"; auto picks --input, then --prometheus-url, then a configured cluster (metrics-server), then the demo data")
	fs.StringVar(&k.StateDir, "state-dir", "", "directory of the history kept between metrics-server runs (default $XDG_STATE_HOME/rightsize or ~/.local/state/rightsize)")
}

// addSamplingFlags registers --duration and --interval. They are separate
// because backtest has an --interval of its own.
func (k *kubeFlags) addSamplingFlags(fs *pflag.FlagSet) {
	fs.Var(cliflag.Duration(&k.Duration), "duration", "how long to sample metrics-server")
	fs.Var(cliflag.Duration(&k.Interval), "interval", "time between metrics-server samples")
}

// validate checks the flags against the other sources' flags.
func (k *kubeFlags) validate(hasInput, hasProm bool) error {
	_, err := k.choose(hasInput, hasProm)
	return err
}

// clusterConfigured tells whether the user pointed at a cluster: a cluster
// flag, $KUBECONFIG, or running in a pod. A ~/.kube/config alone does not
// count, so that a plain `rightsize plan` stays on the demo data.
func (k *kubeFlags) clusterConfigured() bool {
	set := func(p *string) bool { return p != nil && *p != "" }
	c := k.config
	return set(c.KubeConfig) || set(c.Context) || set(c.ClusterName) || set(c.AuthInfoName) || set(c.Namespace) || set(c.Impersonate) ||
		k.AllNamespaces || k.Selector != "" ||
		k.getenv("KUBECONFIG") != "" || (k.getenv("KUBERNETES_SERVICE_HOST") != "" && k.getenv("KUBERNETES_SERVICE_PORT") != "")
}

// choose resolves --source against the other flags.
func (k *kubeFlags) choose(hasInput, hasProm bool) (string, error) {
	var errs []error
	if k.Duration < 0 {
		errs = append(errs, errors.New("--duration must not be negative"))
	}
	if k.Interval <= 0 {
		errs = append(errs, errors.New("--interval must be positive"))
	}
	src := k.Source
	switch src {
	case sourceAuto:
		switch {
		case hasInput:
			src = sourceFile
		case hasProm:
			src = sourcePrometheus
		case k.clusterConfigured():
			src = sourceMetricsServer
		default:
			src = sourceDemo
		}
	case sourceFile:
		if !hasInput {
			errs = append(errs, errors.New("--source file needs --input"))
		}
	case sourcePrometheus:
		if !hasProm {
			errs = append(errs, errors.New("--source prometheus needs --prometheus-url"))
		}
	case sourceMetricsServer, sourceDemo:
		if hasInput {
			errs = append(errs, fmt.Errorf("--source %s and --input exclude each other", src))
		}
	default:
		errs = append(errs, fmt.Errorf("--source %q: want one of %s", src, strings.Join(sources, ", ")))
	}
	return src, errors.Join(errs...)
}

// cluster returns the cluster the flags point at, with the namespace and
// selector to read: kubeconfig (flags, $KUBECONFIG, ~/.kube/config) or the
// pod's service account.
func (k *kubeFlags) cluster(log *slog.Logger) (cluster.Config, error) {
	cfg, err := k.config.ToRESTConfig()
	if err != nil {
		return cluster.Config{}, fmt.Errorf("cluster configuration: %w", err)
	}
	ns, _, err := k.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return cluster.Config{}, fmt.Errorf("namespace: %w", err)
	}
	return cluster.Config{
		REST:      cluster.Tune(cfg),
		Namespace: ns, AllNamespaces: k.AllNamespaces, Selector: k.Selector,
		Log: log,
	}, nil
}

// metricsServer returns the metrics-server source: --duration of sampling
// every --interval, history kept in --state-dir.
func (k *kubeFlags) metricsServer(log *slog.Logger) (cluster.MetricsServer, error) {
	c, err := k.cluster(log)
	if err != nil {
		return cluster.MetricsServer{}, err
	}
	dir := k.StateDir
	if dir == "" {
		dir = cluster.StateDir(k.getenv)
	}
	return cluster.MetricsServer{Cluster: c, Interval: k.Interval, Duration: k.Duration, StateDir: dir, Now: k.now, After: k.after}, nil
}
