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

	"rightsize.dev/rightsize/controller/apply"
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
	// Apply, Window and the guards: writing recommendations into the
	// workloads that opted in.
	Apply, Window  string
	Guards         apply.Guards
	Rate           int
	RatePer, Watch time.Duration
	Force          bool
}

// NewFlags returns the flags at their defaults.
func NewFlags() *Flags {
	d := DefaultOptions
	return &Flags{Listen: ":8080", LeaseName: d.LeaseName,
		LeaseDuration: d.LeaseDuration, RenewDeadline: d.RenewDeadline, RetryPeriod: d.RetryPeriod,
		Interval: d.Interval, Recommend: d.Recommend, Checkpoint: d.Checkpoint, Retention: 14 * 24 * time.Hour,
		CheckpointMaxSize: d.CheckpointMaxSize, EventThreshold: d.EventThreshold, LogFormat: "json",
		Delay: promsource.DefaultFollowDelay, Backfill: 14 * 24 * time.Hour,
		Apply: string(DefaultApplyOptions.Switch), Guards: DefaultApplyOptions.Guards, Rate: DefaultApplyOptions.Rate, RatePer: DefaultApplyOptions.RatePer,
		Watch: DefaultApplyOptions.Watch}
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
	f.StringVar(&o.Apply, "apply", o.Apply, "write recommendations into the workloads that opted in ("+apply.Key+" on the workload or its namespace): off, dry-run (say what would be written, in Events and logs) or on")
	g := &o.Guards
	f.Float64Var(&g.MinConfidence, "apply-min-confidence", g.MinConfidence, "least confidence of a container's recommendation that is applied")
	f.Float64Var(&g.MaxDecrease, "apply-max-decrease", g.MaxDecrease, "largest cut of a request or limit in one apply, as a fraction of today's (0.3: 30 %)")
	f.Float64Var(&g.MaxIncrease, "apply-max-increase", g.MaxIncrease, "largest rise of a request or limit in one apply, as a fraction of today's (1: twice)")
	f.Float64Var(&g.MinChange, "apply-min-change", g.MinChange, "smallest change of a request worth an apply, as a fraction of today's")
	f.Var(cliflag.Duration(&g.Cooldown), "apply-cooldown", "least time between two applies to a workload")
	f.Var(cliflag.Duration(&g.RollbackCooldown), "apply-rollback-cooldown", "least time after a rollback before a workload is applied again")
	f.StringVar(&o.Window, "apply-window", "", `when applies are allowed, UTC, e.g. "Mon-Fri 22:00-02:00; Sat,Sun 01:00-05:00" (default always)`)
	f.IntVar(&o.Rate, "apply-rate", o.Rate, "most applies across the cluster within --apply-rate-per")
	f.Var(cliflag.Duration(&o.RatePer), "apply-rate-per", "the period of --apply-rate")
	f.Var(cliflag.Duration(&o.Watch), "apply-watch", "how long after an apply an OOM kill or a restart loop of a changed container, or fewer replicas ready once it rolled out, rolls it back")
	f.BoolVar(&o.Force, "force-conflicts", false, "take the resources over when another field manager (Argo CD, Flux, kubectl) owns them, instead of reporting the conflict")
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
	if _, err := apply.ParseSwitch(o.Apply); err != nil {
		errs = append(errs, err)
	}
	if err := o.Guards.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--apply-*: %w", err))
	}
	if _, err := apply.ParseWindow(o.Window); err != nil {
		errs = append(errs, fmt.Errorf("--apply-window: %w", err))
	}
	if o.Rate < 0 || o.RatePer <= 0 || o.Watch < 0 {
		errs = append(errs, errors.New("--apply-rate and --apply-watch must not be negative and --apply-rate-per must be positive"))
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
	sw, err := apply.ParseSwitch(o.Apply)
	if err != nil {
		return Options{}, err
	}
	guards := o.Guards
	if guards.Window, err = apply.ParseWindow(o.Window); err != nil {
		return Options{}, fmt.Errorf("--apply-window: %w", err)
	}
	return Options{
		Cluster: cc, Registry: reg, LeaseName: o.LeaseName,
		Namespace: LeaseNamespace(o.LeaseNamespace, os.Getenv), Identity: Identity(o.Identity, os.Getenv),
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		Interval: o.Interval, Recommend: o.Recommend, Checkpoint: o.Checkpoint, CheckpointMaxSize: o.CheckpointMaxSize,
		EventThreshold: o.EventThreshold, Retention: o.Retention,
		Prometheus: follow, Backfill: o.Backfill,
		Apply:       ApplyOptions{Switch: sw, Guards: guards, Rate: o.Rate, RatePer: o.RatePer, ForceConflicts: o.Force, Watch: o.Watch},
		Recommender: recommender.Recommender{Profile: profile, Logger: log},
		Log:         log,
	}, nil
}
