package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/metrics/metricsserver"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/statestore"
	"rightsize.dev/rightsize/recommender/workload"
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
	fs.Var(durationValue{&k.Duration}, "duration", "how long to sample metrics-server")
	fs.Var(durationValue{&k.Interval}, "interval", "time between metrics-server samples")
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

// clusterData is what a cluster adds to a run besides usage: the specs and
// the objects that bound recommendations.
type clusterData struct {
	inv *kube.Inventory
}

// constrain applies the cluster's LimitRanges, ResourceQuotas, VPAs, HPAs
// and JVM rules (R13–R16, R10) to a plan; store supplies the observed
// memory peaks R16 needs.
func (c *clusterData) constrain(plan workload.Plan, store *history.Store) workload.Plan {
	if c == nil || c.inv == nil {
		return plan
	}
	in := c.inv.Constraints()
	if store != nil {
		in.MemoryPeaks = constraints.MemoryPeaks(store)
	}
	return constraints.Apply(plan, in)
}

// hpas returns the cluster's HorizontalPodAutoscalers for the cost report.
func (c *clusterData) hpas() []constraints.HPA {
	if c == nil || c.inv == nil {
		return nil
	}
	return c.inv.HPAs
}

// loadSource reads the usage the flags ask for, and the cluster's specs
// and bounds where a cluster is used. It is what sourceOptions.load does
// once the cluster flags are part of sourceOptions.
func loadSource(ctx context.Context, s *sourceOptions, k *kubeFlags, streams IOStreams, log *slog.Logger) (*usageData, *clusterData, error) {
	if k == nil {
		// No cluster flags registered: no cluster, whatever the environment.
		k = newKubeFlags()
		k.getenv = func(string) string { return "" }
	}
	src, err := k.choose(s.Input != "", s.prom.enabled())
	if err != nil {
		return nil, nil, err
	}
	switch src {
	case sourcePrometheus:
		end := s.End
		if end.IsZero() {
			end = time.Now()
		}
		d, err := s.prom.load(ctx, end, s.History, streams, log)
		if err != nil {
			return nil, nil, err
		}
		if !k.clusterConfigured() {
			return d, nil, nil
		}
		// Prometheus supplies the history, the cluster the specs.
		cd, warnings, err := k.discover(ctx, log)
		if err != nil {
			d.warnings = append(d.warnings, "cluster: "+err.Error()+"; workload specs come from Prometheus alone")
			return d, nil, nil
		}
		d.warnings = append(d.warnings, warnings...)
		d.specs = cd.inv.Specs
		return d, cd, nil
	case sourceMetricsServer:
		return k.sample(ctx, streams, log)
	default:
		d, err := loadUsageWith(s.Input, s.readerOptions())
		return d, nil, err
	}
}

// restConfig returns the client configuration: kubeconfig (flags,
// $KUBECONFIG, ~/.kube/config) or the pod's service account.
func (k *kubeFlags) restConfig() (*rest.Config, error) {
	cfg, err := k.config.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster configuration: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	// Discovery lists a dozen kinds at once; client-go's default of 5
	// requests a second would throttle it for seconds.
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "rightsize"
	return cfg, nil
}

func (k *kubeFlags) discoverOptions() (kube.Options, error) {
	ns, _, err := k.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return kube.Options{}, fmt.Errorf("namespace: %w", err)
	}
	return kube.Options{Namespace: ns, AllNamespaces: k.AllNamespaces, Selector: k.Selector}, nil
}

func kubeClients(cfg *rest.Config) (kube.Clients, error) {
	typed := rest.CopyConfig(cfg)
	// Protobuf is smaller on the wire and cheaper to decode than JSON
	// (docs/benchmarks.md has the figures).
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	typed.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	kc, err := kubernetes.NewForConfig(typed)
	if err != nil {
		return kube.Clients{}, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return kube.Clients{}, err
	}
	return kube.Clients{Kube: kc, Dynamic: dc}, nil
}

// discover reads the cluster's workloads; warnings are one line each.
func (k *kubeFlags) discover(ctx context.Context, log *slog.Logger) (*clusterData, []string, error) {
	cfg, err := k.restConfig()
	if err != nil {
		return nil, nil, err
	}
	return discoverWith(ctx, cfg, k, log)
}

func discoverWith(ctx context.Context, cfg *rest.Config, k *kubeFlags, log *slog.Logger) (*clusterData, []string, error) {
	opts, err := k.discoverOptions()
	if err != nil {
		return nil, nil, err
	}
	clients, err := kubeClients(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster clients: %w", err)
	}
	inv, warns, err := kube.Discover(ctx, clients, opts, log)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", cfg.Host, err)
	}
	lines := make([]string, len(warns))
	for i, w := range warns {
		lines[i] = w.String()
	}
	return &clusterData{inv: inv}, lines, nil
}

// sample discovers the workloads, then samples metrics-server for
// --duration, adding to and keeping the history in the state store.
func (k *kubeFlags) sample(ctx context.Context, streams IOStreams, log *slog.Logger) (*usageData, *clusterData, error) {
	cfg, err := k.restConfig()
	if err != nil {
		return nil, nil, err
	}
	cd, warnings, err := discoverWith(ctx, cfg, k, log)
	if err != nil {
		return nil, nil, err
	}
	inv := cd.inv
	d := &usageData{name: "metrics-server at " + cfg.Host, specs: inv.Specs, store: history.NewStore(), warnings: warnings}

	selected := func(ck workload.ContainerKey) (workload.Settings, bool) {
		s, ok := inv.Specs[ck.Workload]
		if !ok || s.Ignore {
			return workload.Settings{}, false
		}
		for _, c := range s.Containers {
			if c.Name == ck.Container {
				return c.Settings, true
			}
		}
		return workload.Settings{}, false
	}
	settings := func(ck workload.ContainerKey) workload.Settings {
		s, _ := selected(ck)
		return s
	}

	sinks := []metricsserver.Sink{d.store}
	var state *statestore.Store
	kept := 0
	dir := k.StateDir
	if dir == "" {
		dir = defaultStateDir(k.getenv)
	}
	if dir == "" {
		d.warnings = append(d.warnings, "no state directory (set --state-dir): history is not kept between runs")
	} else {
		st, swarn, err := statestore.Open(statestore.Options{Dir: dir, Name: clusterName(cfg.Host), Now: k.now})
		d.warnings = append(d.warnings, swarn...)
		if err != nil {
			d.warnings = append(d.warnings, err.Error()+": history is not kept by this run")
		} else {
			state = st
			defer state.Close()
			state.Touch(inv.ContainerKeys()...)
			kept = state.Fill(d.store, selected)
			sinks = append(sinks, state)
		}
	}

	mc, err := metricsclient.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics client: %w", err)
	}
	sampler := &metricsserver.Sampler{
		API: mc.MetricsV1beta1(), Namespace: inv.Namespace, Resolver: inv, Settings: settings, Sinks: sinks,
		Interval: k.Interval, Duration: k.Duration, Now: k.now, After: k.after, Log: log,
	}
	if isTerminal(streams.ErrOut) {
		sampler.Progress = streams.ErrOut
	}
	res, runErr := sampler.Run(ctx)
	if state != nil {
		// Saved even when interrupted: what was sampled is history.
		if err := state.Save(); err != nil {
			d.warnings = append(d.warnings, "history not saved: "+err.Error())
		}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		d.warnings = append(d.warnings, runErr.Error()+"; recommending from the history kept so far")
	}
	if res.FailedPolls > 0 {
		d.warnings = append(d.warnings, fmt.Sprintf("%d of %d metrics-server polls failed (last: %v)", res.FailedPolls, res.Polls, res.LastError))
	}
	d.store.Finalize()
	d.summary = fmt.Sprintf("%s: %d workloads; sampled every %s for %s: %d polls, %d pods, %d new samples; %d samples kept from earlier runs",
		d.name, len(inv.Specs), k.Interval, k.Duration, res.Polls, res.Pods, res.Samples, kept)
	if state != nil {
		d.summary += " (" + state.Path() + ")"
	}
	return d, cd, nil
}

// defaultStateDir follows the XDG base directory convention for state.
func defaultStateDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "rightsize")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "rightsize")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rightsize")
	}
	return ""
}

// clusterName names a cluster's state file: readable host and port plus a
// hash of the full server URL, so that clusters never share history.
func clusterName(server string) string {
	host := server
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		host = u.Host
	}
	var b strings.Builder
	for _, r := range host {
		if r == '.' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(server))
	return b.String() + "-" + hex.EncodeToString(sum[:4])
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
