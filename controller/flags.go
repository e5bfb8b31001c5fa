package controller

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/metrics/cluster"
	promsource "rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
)

// Flags are the command-line flags of `rightsize controller` beyond the
// cluster's and the profile: the election, the cycles, the checkpoint,
// the endpoints and where usage is read from, as prometheus.Flags are for
// a collection.
type Flags struct {
	Listen string
	// LeaseNamespace holds the Lease and the checkpoint (default: the
	// pod's namespace, else rightsize-system).
	LeaseNamespace, LeaseName, Identity       string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Interval, Recommend, Checkpoint           time.Duration
	Retention                                 time.Duration
	CheckpointMaxSize                         int64
	EventThreshold                            float64
	LogFormat                                 string
	// Prometheus, Backfill and Delay: usage from Prometheus instead of
	// metrics-server.
	Prometheus      promsource.Flags
	Backfill, Delay time.Duration
}

// NewFlags returns the flags at their defaults.
func NewFlags() *Flags {
	d := DefaultOptions
	return &Flags{Listen: ":8080", LeaseName: d.LeaseName,
		LeaseDuration: d.LeaseDuration, RenewDeadline: d.RenewDeadline, RetryPeriod: d.RetryPeriod,
		Interval: d.Interval, Recommend: d.Recommend, Checkpoint: d.Checkpoint, Retention: 14 * 24 * time.Hour,
		CheckpointMaxSize: d.CheckpointMaxSize, EventThreshold: d.EventThreshold, LogFormat: "json",
		Delay: promsource.DefaultFollowDelay, Backfill: 14 * 24 * time.Hour}
}

// AddFlags registers the flags on fs.
func (o *Flags) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Listen, "listen", o.Listen, "address of /metrics, /healthz and /readyz")
	f.StringVar(&o.LeaseNamespace, "lease-namespace", "", "namespace of the Lease and the checkpoint ConfigMaps (default $POD_NAMESPACE, else "+DefaultLeaseNamespace+")")
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
	o.Prometheus.AddFlags(f)
	f.Var(cliflag.Duration(&o.Backfill), "prometheus-backfill", "history read from Prometheus by a leader without a checkpoint of it, at most --retention")
	f.Var(cliflag.Duration(&o.Delay), "prometheus-delay", "how long after a step ends it is read: the time a scrape takes to reach the store")
}

// Validate checks the flags.
func (o *Flags) Validate() error {
	var errs []error
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
	if o.CheckpointMaxSize < PartSize {
		errs = append(errs, fmt.Errorf("--checkpoint-max-size must be at least %d", PartSize))
	}
	if !(o.EventThreshold > 0 && o.EventThreshold < 100) {
		errs = append(errs, fmt.Errorf("--event-threshold %v: want a positive fraction, e.g. 0.1 for 10 %%", o.EventThreshold))
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format %q: want json or text", o.LogFormat))
	}
	if err := o.Prometheus.Validate(); err != nil {
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

// Logger is the controller's structured log on w, JSON unless the flags
// say text; debug lines when verbose.
func (o *Flags) Logger(w io.Writer, verbose bool) *slog.Logger {
	ho := &slog.HandlerOptions{Level: slog.LevelInfo}
	if verbose {
		ho.Level = slog.LevelDebug
	}
	if o.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, ho))
	}
	return slog.New(slog.NewJSONHandler(w, ho))
}

// Options turns validated flags into a controller's options for the
// cluster, the profile and the registry given.
func (o *Flags) Options(cc cluster.Config, profile policy.Profile, reg prometheus.Registerer, log *slog.Logger) (Options, error) {
	var follow *promsource.Follower
	if o.Prometheus.Enabled() {
		po, err := o.Prometheus.Options()
		if err != nil {
			return Options{}, err
		}
		follow = &promsource.Follower{Options: po, Delay: o.Delay, Log: log}
	}
	return Options{
		Cluster: cc, Registry: reg, LeaseName: o.LeaseName,
		Namespace: LeaseNamespace(o.LeaseNamespace, os.Getenv), Identity: Identity(o.Identity, os.Getenv),
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		Interval: o.Interval, Recommend: o.Recommend, Checkpoint: o.Checkpoint, CheckpointMaxSize: o.CheckpointMaxSize,
		EventThreshold: o.EventThreshold, Retention: o.Retention,
		Prometheus: follow, Backfill: o.Backfill,
		Recommender: recommender.Recommender{Profile: profile, Logger: log},
		Log:         log,
	}, nil
}
