package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"rightsize.dev/rightsize/controller"
	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/metrics/cluster"
	promsource "rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
)

// ControllerOptions are the flags of `rightsize controller`.
type ControllerOptions struct {
	kube *cluster.Flags
	prom promsource.Flags
	// Backfill and Delay shape the reading of Prometheus.
	Backfill, Delay time.Duration
	Profile         string
	Listen          string
	// LeaseNamespace holds the Lease and the checkpoint (default: the
	// pod's namespace, else rightsize-system).
	LeaseNamespace, LeaseName, Identity       string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Interval, Recommend, Checkpoint           time.Duration
	Retention                                 time.Duration
	CheckpointMaxSize                         int64
	EventThreshold                            float64
	LogFormat                                 string

	profile policy.Profile
}

func newControllerCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	d := controller.DefaultOptions
	o := &ControllerOptions{kube: cluster.NewFlags(), Profile: policy.DefaultName, Listen: ":8080", LeaseName: d.LeaseName,
		LeaseDuration: d.LeaseDuration, RenewDeadline: d.RenewDeadline, RetryPeriod: d.RetryPeriod,
		Interval: d.Interval, Recommend: d.Recommend, Checkpoint: d.Checkpoint, Retention: 14 * 24 * time.Hour,
		CheckpointMaxSize: d.CheckpointMaxSize, EventThreshold: d.EventThreshold, LogFormat: "json",
		Delay: promsource.DefaultFollowDelay, Backfill: 14 * 24 * time.Hour}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Keep recommendations current in the cluster, as Recommendation objects and metrics",
		Long: `controller runs in the cluster (or outside it, with a kubeconfig) and keeps
every workload's recommendation current: it samples metrics-server every
--interval (or, with --prometheus-url, reads the steps Prometheus completed
since the last read, after a first backfill), keeps the usage history as
sketches, and every --recommend writes one
Recommendation object per workload (kubectl get recommendations -A) and serves
the recommendations and its own health on /metrics. It changes no workload.

Replicas elect a leader on a Lease; only the leader samples and writes. The
history is checkpointed to ConfigMaps so that a restart or a new leader goes on
from it. Logs are JSON lines on stderr.`,
		Example: `  rightsize controller --kubeconfig ~/.kube/config -A --lease-namespace rightsize-system
  rightsize controller -A --prometheus-url http://prometheus.monitoring:9090 --prometheus-backfill 7d
  kubectl apply -k deploy/controller`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			return o.Run(cmd.Context(), streams, g)
		},
	}
	f := cmd.Flags()
	o.kube.ConfigFlags.AddFlags(f)
	f.BoolVarP(&o.kube.AllNamespaces, "all-namespaces", "A", false, "recommend for workloads in every namespace")
	f.StringVarP(&o.kube.Selector, "selector", "l", "", "label selector on workloads (bare pods: on the pod), e.g. app=web,tier!=batch")
	f.StringVar(&o.Profile, "profile", o.Profile, "recommendation profile: "+strings.Join(policy.Names(), ", "))
	f.StringVar(&o.Listen, "listen", o.Listen, "address of /metrics, /healthz and /readyz")
	f.StringVar(&o.LeaseNamespace, "lease-namespace", "", "namespace of the Lease and the checkpoint ConfigMaps (default $POD_NAMESPACE, else rightsize-system)")
	f.StringVar(&o.LeaseName, "lease-name", o.LeaseName, "name of the leader election Lease")
	f.StringVar(&o.Identity, "identity", "", "this replica's name in the Lease (default $POD_NAME or the host name, and a random suffix)")
	f.Var(cliflag.Duration(&o.LeaseDuration), "lease-duration", "how long a standby waits after the last renewal before it takes the lease")
	f.Var(cliflag.Duration(&o.RenewDeadline), "renew-deadline", "how long the leader tries to renew before it gives up leading")
	f.Var(cliflag.Duration(&o.RetryPeriod), "retry-period", "time between tries to take or renew the lease")
	f.Var(cliflag.Duration(&o.Interval), "interval", "time between cycles: metrics-server samples, or reads of the steps Prometheus completed since the last")
	f.Var(cliflag.Duration(&o.Recommend), "recommend", "time between recommendations written")
	f.Var(cliflag.Duration(&o.Checkpoint), "checkpoint", "time between checkpoints of the history")
	f.Var(cliflag.Duration(&o.Retention), "retention", "how long usage history is kept")
	f.Int64Var(&o.CheckpointMaxSize, "checkpoint-max-size", o.CheckpointMaxSize, "largest checkpoint written or read, in bytes")
	f.Float64Var(&o.EventThreshold, "event-threshold", o.EventThreshold, "relative change of a recommended request that records an Event on the workload")
	f.StringVar(&o.LogFormat, "log-format", o.LogFormat, "log format: json or text")
	o.prom.AddFlags(f)
	f.Var(cliflag.Duration(&o.Backfill), "prometheus-backfill", "history read from Prometheus by a leader without a checkpoint of it, at most --retention")
	f.Var(cliflag.Duration(&o.Delay), "prometheus-delay", "how long after a step ends it is read: the time a scrape takes to reach the store")
	registerCompletions(cmd, o.kube.ConfigFlags, completions{"profile": profiles(), "log-format": fixed("json", "text")})
	return cmd
}

// Validate checks the flags.
func (o *ControllerOptions) Validate() error {
	var errs []error
	var err error
	if o.profile, err = policy.ByName(o.Profile); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--lease-duration", o.LeaseDuration}, {"--renew-deadline", o.RenewDeadline}, {"--retry-period", o.RetryPeriod},
		{"--interval", o.Interval}, {"--recommend", o.Recommend}, {"--checkpoint", o.Checkpoint}, {"--retention", o.Retention}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.name))
		}
	}
	if !(o.RetryPeriod < o.RenewDeadline && o.RenewDeadline < o.LeaseDuration) {
		errs = append(errs, fmt.Errorf("want --retry-period (%s) < --renew-deadline (%s) < --lease-duration (%s)", o.RetryPeriod, o.RenewDeadline, o.LeaseDuration))
	}
	if o.CheckpointMaxSize < controller.PartSize {
		errs = append(errs, fmt.Errorf("--checkpoint-max-size must be at least %d", controller.PartSize))
	}
	if !(o.EventThreshold > 0 && o.EventThreshold < 100) {
		errs = append(errs, fmt.Errorf("--event-threshold %v: want a positive fraction, e.g. 0.1 for 10 %%", o.EventThreshold))
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format %q: want json or text", o.LogFormat))
	}
	if err := o.prom.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Backfill < 0 || o.Delay <= 0 {
		errs = append(errs, errors.New("--prometheus-backfill must not be negative and --prometheus-delay must be positive"))
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", o.Listen, err))
	}
	return errors.Join(errs...)
}

func (o *ControllerOptions) logger(streams IOStreams, g *globalOptions) *slog.Logger {
	level := slog.LevelInfo
	if g.verbose {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if o.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(streams.ErrOut, ho))
	}
	return slog.New(slog.NewJSONHandler(streams.ErrOut, ho))
}

// Run serves the endpoints and runs the controller until ctx ends.
func (o *ControllerOptions) Run(ctx context.Context, streams IOStreams, g *globalOptions) error {
	log := o.logger(streams, g)
	// client-go's own messages (leader election, watches) go to the same
	// JSON log.
	klog.SetSlogLogger(log)
	controller.TuneRuntime(log, os.LookupEnv)
	cc, err := o.kube.Config(log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ns := o.LeaseNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		ns = "rightsize-system"
	}
	id := o.Identity
	if id == "" {
		id = os.Getenv("POD_NAME")
		if id == "" {
			id, _ = os.Hostname()
		}
		id += "_" + uuid.NewString()
	}
	var follow *promsource.Follower
	if o.prom.Enabled() {
		po, err := o.prom.Options()
		if err != nil {
			return err
		}
		follow = &promsource.Follower{Options: po, Delay: o.Delay, Log: log}
	}
	c, err := controller.New(controller.Options{
		Prometheus: follow, Backfill: o.Backfill,
		Cluster: cc, Registry: reg, Namespace: ns, LeaseName: o.LeaseName, Identity: id,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		Interval: o.Interval, Recommend: o.Recommend, Checkpoint: o.Checkpoint, CheckpointMaxSize: o.CheckpointMaxSize,
		EventThreshold: o.EventThreshold, Retention: o.Retention,
		Recommender: recommender.Recommender{Profile: o.profile, Logger: log},
		Log:         log,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", c.Healthz)
	mux.HandleFunc("/readyz", c.Readyz)
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	log.Info("serving", "address", ln.Addr().String(), "identity", id, "lease", ns+"/"+o.LeaseName)

	runErr := c.Run(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if runErr != nil {
		log.Error("controller stopped", "err", runErr)
	}
	return runErr
}
