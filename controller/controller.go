package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/metrics/metricsserver"
	promsource "rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/exporter"
)

// FieldManager names the controller in server-side apply and as the
// source of its Events.
const FieldManager = "rightsize-controller"

// Watcher is the cluster's objects as the controller sees them: informers
// in a cluster (kube.Watcher).
type Watcher interface {
	Start(ctx context.Context) error
	Inventory() (*kube.Inventory, []kube.Warning)
	OOMKills() []kube.OOMKill
}

// Options configure a controller. Durations that are zero take the
// defaults of DefaultOptions.
type Options struct {
	// Cluster is the cluster and the workloads to recommend for, as plan's
	// flags choose them.
	Cluster cluster.Config
	// Registry is where the metrics are registered.
	Registry prometheus.Registerer

	// Namespace holds the Lease and the checkpoint; Identity names this
	// replica in the Lease.
	Namespace, LeaseName, Identity            string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration

	// Interval is how often usage is sampled; Recommend how often the plan
	// is made and published; Checkpoint how often the state is written.
	Interval, Recommend, Checkpoint time.Duration
	// Retention is how long usage history is kept (default 14 days).
	Retention time.Duration
	// CheckpointMaxSize bounds the checkpoint, in bytes.
	CheckpointMaxSize int64
	// EventThreshold is the relative change of a container's recommended
	// CPU or memory request that makes an Event (0.1: 10 %).
	EventThreshold float64

	// Prometheus, when set, is where usage is read from instead of
	// metrics-server: each cycle reads the steps completed since the last
	// (the state's cursor, checkpointed with it). Backfill is how far back
	// a leader without a checkpoint of it reads first (default Retention).
	Prometheus *promsource.Follower
	Backfill   time.Duration

	Recommender recommender.Recommender
	Autoscaling hpa.Options

	// Apply says whether and how recommendations are written into the
	// workloads that opted in; the zero value writes nothing.
	Apply ApplyOptions

	Log *slog.Logger
	Now func() time.Time
}

// DefaultOptions are the defaults of the durations and thresholds.
var DefaultOptions = Options{
	LeaseName:         "rightsize-controller",
	LeaseDuration:     15 * time.Second,
	RenewDeadline:     10 * time.Second,
	RetryPeriod:       2 * time.Second,
	Interval:          30 * time.Second,
	Recommend:         5 * time.Minute,
	Checkpoint:        5 * time.Minute,
	CheckpointMaxSize: 64 << 20,
	EventThreshold:    0.1,
}

// Controller is one replica.
type Controller struct {
	o        Options
	kube     kubernetes.Interface
	lease    kubernetes.Interface
	dynamic  dynamic.Interface
	metrics  metricsserver.API
	plans    *exporter.Plans
	health   *exporter.Health
	applies  *prometheus.CounterVec
	state    livestate.Options
	host     string
	recorder record.EventRecorder
	// leading is true while this replica leads; ready once a leader's
	// caches synced (a standby is ready at once).
	leading, ready atomic.Bool
	healthz        *leaderelection.HealthzAdaptor
}

// New checks the options, makes the clients and registers the metrics.
func New(o Options) (*Controller, error) {
	d := DefaultOptions
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.LeaseDuration, d.LeaseDuration}, {&o.RenewDeadline, d.RenewDeadline}, {&o.RetryPeriod, d.RetryPeriod},
		{&o.Interval, d.Interval}, {&o.Recommend, d.Recommend}, {&o.Checkpoint, d.Checkpoint}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	if o.LeaseName == "" {
		o.LeaseName = d.LeaseName
	}
	if o.CheckpointMaxSize <= 0 {
		o.CheckpointMaxSize = d.CheckpointMaxSize
	}
	if o.EventThreshold <= 0 {
		o.EventThreshold = d.EventThreshold
	}
	if o.Retention <= 0 {
		o.Retention = livestate.DefaultLoadRetention
	}
	if o.Backfill <= 0 || o.Backfill > o.Retention {
		o.Backfill = o.Retention
	}
	var errs []error
	if o.Cluster.REST == nil {
		errs = append(errs, errors.New("controller: no cluster configuration"))
	}
	if o.Registry == nil {
		errs = append(errs, errors.New("controller: no metrics registry"))
	}
	if o.Namespace == "" || o.Identity == "" {
		errs = append(errs, errors.New("controller: the namespace and identity of the lease are required"))
	}
	if o.RenewDeadline >= o.LeaseDuration || o.RetryPeriod >= o.RenewDeadline {
		errs = append(errs, fmt.Errorf("controller: want retry period (%s) < renew deadline (%s) < lease duration (%s)", o.RetryPeriod, o.RenewDeadline, o.LeaseDuration))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Recommender.Logger == nil {
		o.Recommender.Logger = o.Log
	}
	c := &Controller{o: o, host: o.Cluster.REST.Host, healthz: leaderelection.NewLeaderHealthzAdaptor(o.RenewDeadline + o.RetryPeriod)}
	var err error
	if c.kube, err = kubernetes.NewForConfig(o.Cluster.REST); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	// The election has a client of its own: a busy cycle must not keep
	// the lease's renewal waiting on the shared client's rate limiter.
	if c.lease, err = kubernetes.NewForConfig(rest.CopyConfig(o.Cluster.REST)); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(o.Cluster.REST); err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	mc, err := metricsclient.NewForConfig(o.Cluster.REST)
	if err != nil {
		return nil, fmt.Errorf("metrics client: %w", err)
	}
	c.metrics = mc.MetricsV1beta1()
	c.plans = &exporter.Plans{}
	if err := o.Registry.Register(c.plans); err != nil {
		return nil, fmt.Errorf("registering the plan metrics: %w", err)
	}
	if c.health, err = exporter.NewHealth(o.Registry, o.Now); err != nil {
		return nil, fmt.Errorf("registering the health metrics: %w", err)
	}
	if c.applies, err = newApplyCounter(o.Registry); err != nil {
		return nil, fmt.Errorf("registering the apply metrics: %w", err)
	}
	// The history is kept as the profile's sketches, not samples: memory
	// stays flat however long the controller runs.
	c.state = livestate.Options{History: o.Recommender.Profile.History, LoadRetention: o.Retention}
	if _, err := livestate.New(c.state); err != nil {
		return nil, fmt.Errorf("controller: profile %s: %w", o.Recommender.Profile.Name, err)
	}
	c.recorder = newRecorder(c.kube, o.Identity)
	return c, nil
}

// scope is the discovery scope of the cluster configuration.
func (c *Controller) scope() kube.Options {
	cc := c.o.Cluster
	return kube.Options{Namespace: cc.Namespace, AllNamespaces: cc.AllNamespaces, Selector: cc.Selector}
}

// ErrLostLease is returned by Run when another replica took the lease
// while this one led: the process should exit and start over as a standby.
var ErrLostLease = errors.New("lost the leader lease")

// Run takes part in the election until ctx ends; while this replica leads
// it samples, recommends, publishes and checkpoints. When ctx ends, a
// leader checkpoints before it releases the Lease, so that the next leader
// reads everything learned. Run returns nil after ctx ended and
// ErrLostLease when the lease was lost.
func (c *Controller) Run(ctx context.Context) error {
	o := c.o
	// The election's context outlives ctx while a leader checkpoints.
	elCtx, elCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer elCancel()
	started := make(chan struct{})
	done := make(chan struct{})
	var leadErr error
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.Namespace, Name: o.LeaseName},
		Client:     c.lease.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity, EventRecorder: c.recorder},
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: o.LeaseName,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        c.healthz,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				close(started)
				defer close(done)
				// Stop leading when ctx ends (graceful: checkpoint) or
				// the lease is lost (lctx: another replica may lead
				// already, so write nothing more).
				leadCtx, cancel := context.WithCancel(lctx)
				defer cancel()
				go func() {
					select {
					case <-ctx.Done():
						cancel()
					case <-leadCtx.Done():
					}
				}()
				leadErr = c.lead(leadCtx, func() bool { return lctx.Err() == nil })
				// Release the lease only now, after the checkpoint.
				elCancel()
			},
			OnStoppedLeading: func() {
				o.Log.Info("stopped leading", "lease", o.Namespace+"/"+o.LeaseName, "identity", o.Identity)
			},
			OnNewLeader: func(id string) {
				if id != o.Identity {
					o.Log.Info("standing by", "leader", id, "lease", o.Namespace+"/"+o.LeaseName)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	c.ready.Store(true)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case <-started: // the leader releases after its checkpoint
			default:
				elCancel()
			}
		case <-elCtx.Done():
		}
	}()
	le.Run(elCtx)
	select {
	case <-started:
		<-done
	default:
	}
	if leadErr != nil && ctx.Err() == nil {
		return leadErr
	}
	if ctx.Err() != nil {
		return nil
	}
	return ErrLostLease
}

// Healthz answers /healthz: it fails when this replica leads but has not
// renewed its lease in time.
func (c *Controller) Healthz(w http.ResponseWriter, r *http.Request) {
	if err := c.healthz.Check(r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Readyz answers /readyz: ready once the election runs and, on the leader,
// once the caches synced.
func (c *Controller) Readyz(w http.ResponseWriter, _ *http.Request) {
	if !c.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Leading says whether this replica leads.
func (c *Controller) Leading() bool { return c.leading.Load() }

// lead is the leader's loop. holds reports whether the lease is still
// held: a checkpoint is written on the way out only then.
func (c *Controller) lead(ctx context.Context, holds func() bool) error {
	o := c.o
	log := o.Log.With("identity", o.Identity)
	c.leading.Store(true)
	c.health.Leader.Set(1)
	defer func() {
		c.leading.Store(false)
		c.health.Leader.Set(0)
	}()
	log.Info("leading", "lease", o.Namespace+"/"+o.LeaseName)

	c.ready.Store(false)
	w, err := kube.NewWatcher(kube.WatchClients{Kube: c.kube, Dynamic: c.dynamic}, c.scope(), o.Log)
	if err != nil {
		return err
	}
	start := o.Now()
	if err := w.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("starting informers: %w", err)
	}
	c.ready.Store(true)
	log.Info("caches synced", "took", o.Now().Sub(start).String())

	state, _ := livestate.New(c.state) // checked by New
	l := &leader{c: c, log: log, state: state, watcher: w,
		cp:      &Checkpoints{ConfigMaps: c.kube.CoreV1(), Namespace: o.Namespace, FieldManager: FieldManager, MaxSize: o.CheckpointMaxSize},
		written: map[workload.Key]written{}, baseline: map[workload.Key]workload.WorkloadPlan{},
		started: o.Now(), ooms: map[oomID]int32{}}
	l.applier = &applier{l: l, told: map[workload.Key]string{}, budget: apply.Budget{N: o.Apply.Rate, Per: o.Apply.RatePer}}
	l.restore(ctx)

	ticker := time.NewTicker(o.Interval)
	defer ticker.Stop()
	for {
		l.cycle(ctx)
		select {
		case <-ctx.Done():
			if holds() {
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.RenewDeadline)
				l.checkpoint(sctx)
				cancel()
			} else {
				log.Warn("lease lost: not checkpointing, another replica may lead")
			}
			return nil
		case <-ticker.C:
		}
	}
}

// leader is the state of one term as leader.
type leader struct {
	c       *Controller
	log     *slog.Logger
	state   *livestate.State
	watcher Watcher
	sampler *metricsserver.Sampler
	cp      *Checkpoints
	applier *applier

	started, lastPlan, lastCheckpoint time.Time
	// ooms are the restart counts of the OOM kills counted.
	ooms map[oomID]int32
	// written says what was last written per workload; baseline is the
	// plan each workload's changes are measured from for Events.
	written  map[workload.Key]written
	baseline map[workload.Key]workload.WorkloadPlan
}

// restore reads the checkpoint into the state.
func (l *leader) restore(ctx context.Context) {
	cp, problems, err := l.cp.Load(ctx, func(b []byte) error {
		probe, _ := livestate.New(l.c.state)
		_, err := probe.Restore(b)
		return err
	})
	for _, p := range problems {
		l.log.Warn("checkpoint passed over", "problem", p)
	}
	if err != nil {
		l.c.health.CollectionErrors.WithLabelValues("checkpoint").Inc()
		l.log.Error("reading the checkpoint; starting with empty history", "err", err)
		return
	}
	if cp == nil {
		l.log.Info("no checkpoint: starting with empty history")
		return
	}
	warnings, err := l.state.Restore(cp.State) // checked above
	if err != nil {
		l.log.Error("restoring the checkpoint", "err", err)
		return
	}
	for _, w := range warnings {
		l.log.Warn("checkpoint", "problem", w)
	}
	st := l.state.Stats()
	l.log.Info("restored the checkpoint", "generation", cp.Generation, "slot", cp.Slot, "saved", cp.Saved,
		"bytes", len(cp.State), "containers", st.Containers, "workloads", st.Workloads, "samples", st.Samples)
	l.c.health.Checkpointed(cp.Saved)
}

// cycle samples once and, when due, recommends and checkpoints.
func (l *leader) cycle(ctx context.Context) {
	o := l.c.o
	start := o.Now()
	inv, warnings := l.watcher.Inventory()
	for _, w := range warnings {
		l.log.Debug("cluster object not watched", "warning", w.String())
	}
	var attrs []any
	if l.c.o.Prometheus != nil {
		attrs = l.follow(ctx, inv, start)
	} else {
		attrs = l.sample(ctx, inv)
	}
	if ctx.Err() != nil {
		return
	}
	l.state.Touch(o.Now(), inv.ContainerKeys()...)
	l.countOOMKills(inv)

	now := o.Now()
	if l.lastPlan.IsZero() || now.Sub(l.lastPlan) >= o.Recommend {
		l.lastPlan = now
		written, err := l.recommend(ctx, inv, now)
		if err != nil && ctx.Err() == nil {
			l.c.health.CollectionErrors.WithLabelValues("publish").Inc()
			l.log.Error("recommending", "err", err)
		}
		attrs = append(attrs, "written", written)
	}
	if now.Sub(l.lastCheckpoint) >= o.Checkpoint {
		l.checkpoint(ctx)
	}
	took := o.Now().Sub(start)
	l.c.health.CycleDuration.Observe(took.Seconds())
	l.log.Info("cycle", append(attrs, "took", took.String())...)
}

// sample polls metrics-server into the state.
func (l *leader) sample(ctx context.Context, inv *kube.Inventory) []any {
	// One sampler for the term: it remembers each pod's last sample, so
	// a sample metrics-server repeats is neither stored nor counted twice.
	if l.sampler == nil {
		l.sampler = &metricsserver.Sampler{API: l.c.metrics, Namespace: inv.Namespace, Sinks: []metricsserver.Sink{l.state}, Log: l.log}
	}
	l.sampler.Resolver = inv
	l.sampler.Settings = func(ck workload.ContainerKey) workload.Settings {
		s, _ := workload.ContainerSettings(inv.Specs, ck)
		return s
	}
	n, err := l.sampler.Poll(ctx)
	if err != nil && ctx.Err() == nil {
		l.c.health.CollectionErrors.WithLabelValues("metrics-server").Inc()
		l.log.Warn("sampling metrics-server", "err", err)
	}
	l.c.health.SamplesIngested.Add(float64(n))
	return []any{"workloads", len(inv.Specs), "pods", l.sampler.Pods(), "samples", n, "unattributed pods", l.sampler.Unattributed()}
}

// followDay bounds the history one cycle reads from Prometheus while it
// catches up (a backfill, a leader that was away): the cycles, and so the
// recommendations and checkpoints, go on meanwhile.
const followDay = 24 * time.Hour

// follow reads the steps Prometheus completed since the state's cursor
// into the state, for the containers of the workloads in the cluster, and
// moves the cursor. Without a cursor of this source it starts Backfill
// before now if the state holds nothing, else now: what another source
// (metrics-server) gave is not counted twice.
func (l *leader) follow(ctx context.Context, inv *kube.Inventory, now time.Time) []any {
	f := l.c.o.Prometheus
	cur := l.state.Cursor()
	since := cur.Until
	// A cursor older than the history kept (or none) reads the backfill:
	// what is older would be dropped at once.
	stale := since.Before(now.Add(-l.c.o.Retention))
	if cur.Source != f.Source() || stale {
		from := now
		if l.state.Stats().Containers == 0 || (cur.Source == f.Source() && stale) {
			from = now.Add(-l.c.o.Backfill)
		}
		since = f.Align(from)
		attrs := []any{"since", since, "source", f.Source()}
		if cur.Source != "" {
			attrs = append(attrs, "cursor of", cur.Source, "cursor", cur.Until)
		}
		l.log.Info("reading Prometheus from", attrs...)
		l.state.SetCursor(livestate.Cursor{Source: f.Source(), Until: since})
	}
	until := now
	if until.Sub(since) > followDay+f.Delay {
		until = since.Add(followDay + f.Delay)
	}
	var added int
	read, st, err := f.Read(ctx, since, until, func(r *promsource.Result) { added += l.state.AddStore(r.Store, planned(inv)) })
	l.state.SetCursor(livestate.Cursor{Source: f.Source(), Until: read})
	for _, w := range st.Warnings {
		l.log.Warn("prometheus", "warning", w)
	}
	if err != nil && ctx.Err() == nil {
		l.c.health.CollectionErrors.WithLabelValues("prometheus").Inc()
		l.log.Warn("reading Prometheus", "err", err, "from", read)
	}
	l.c.health.SamplesIngested.Add(float64(added))
	return []any{"workloads", len(inv.Specs), "samples", added, "samples read", st.Samples, "queries", st.Queries,
		"bytes", st.BytesReceived, "read until", read}
}

// planned says whether a container is one of a workload the informers see
// (and the scope selects): the containers the history keeps and the plan
// covers.
func planned(inv *kube.Inventory) func(workload.ContainerKey) bool {
	return func(ck workload.ContainerKey) bool {
		_, ok := workload.ContainerSettings(inv.Specs, ck)
		return ok
	}
}

// countOOMKills counts, in rightsize_oom_kills_total, the OOM kills the
// pods' statuses show that this term has not counted yet. A kill is known
// by its container and restart count. Kills from before the term (less a
// lease duration, the longest a failover leaves uncounted) are left out:
// the previous leader counted them.
func (l *leader) countOOMKills(inv *kube.Inventory) {
	for _, k := range l.watcher.OOMKills() {
		id := oomID{k.Namespace, k.Pod, k.Container}
		if n, ok := l.ooms[id]; ok && n >= k.Restarts {
			continue
		}
		l.ooms[id] = k.Restarts
		wk, ok := inv.Workload(k.Namespace, k.Pod)
		if !ok {
			continue
		}
		ck := workload.ContainerKey{Workload: wk, Container: k.Container}
		// Into the history whenever it was: the history counts a kill
		// told again once, and one between the last checkpoint and a
		// failover is not lost. metrics-server does not report kills;
		// Prometheus's samples carry kube-state-metrics' (at their step,
		// not the status's time: they would count twice).
		if l.c.o.Prometheus == nil {
			settings, _ := workload.ContainerSettings(inv.Specs, ck)
			l.state.AddOOM(ck, history.OOMEvent{Time: k.At, Pod: k.Pod, Limit: settings.Limits.Memory})
		}
		if k.At.Before(l.started.Add(-l.c.o.LeaseDuration)) {
			continue
		}
		l.c.health.OOMKilled(ck, 1)
		l.log.Info("OOM kill", "workload", wk.String(), "container", k.Container, "pod", k.Pod, "at", k.At)
	}
}

// oomID names a container of a pod.
type oomID struct{ namespace, pod, container string }

// recommend runs the pipeline on the state and publishes the plan.
func (l *leader) recommend(ctx context.Context, inv *kube.Inventory, now time.Time) (int, error) {
	o := l.c.o
	l.state.Expire(now)
	states := l.state.Select(planned(inv))
	b := inv.Constraints()
	name := "controller (metrics-server at " + l.c.host + ")"
	if f := o.Prometheus; f != nil {
		name = "controller (" + f.Source() + ")"
	}
	d := &recommender.Data{Name: name, States: states, Loads: l.state.Loads(),
		Specs: inv.Specs, Bounds: &b, HPAs: inv.HPAs, HPAsKnown: true}
	p := &recommender.Pipeline{Recommender: o.Recommender, Autoscaling: o.Autoscaling}
	plan, err := p.Plan(ctx, d, now)
	if err != nil {
		return 0, err
	}
	plan.Generated = now
	l.log.Debug("planned", "containers", states.Len(), "workloads", len(plan.Workloads))
	n, err := l.publish(ctx, plan, inv.Specs, now)
	l.applier.run(ctx, plan, inv, now)
	return n, err
}

// checkpoint writes the state; failures are counted and logged, and the
// next cycle tries again.
func (l *leader) checkpoint(ctx context.Context) {
	o := l.c.o
	now := o.Now()
	l.lastCheckpoint = now
	l.state.Expire(now)
	b := l.state.Encode()
	var err error
	if int64(len(b)) > o.CheckpointMaxSize {
		err = fmt.Errorf("the state is %d bytes, more than the checkpoint's limit of %d", len(b), o.CheckpointMaxSize)
	}
	if err == nil {
		var parts int
		var warnings []string
		parts, warnings, err = l.cp.Save(ctx, b, now)
		for _, w := range warnings {
			l.log.Warn("checkpoint clean-up", "problem", w)
		}
		if err == nil {
			l.c.health.Checkpointed(now)
			st := l.state.Stats()
			l.log.Info("checkpointed", "bytes", len(b), "parts", parts, "containers", st.Containers, "workloads", st.Workloads, "samples", st.Samples)
			return
		}
	}
	l.c.health.CollectionErrors.WithLabelValues("checkpoint").Inc()
	l.log.Error("checkpointing", "err", err)
}

// newRecorder records Events through the core API.
func newRecorder(cs kubernetes.Interface, identity string) record.EventRecorder {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: FieldManager, Host: identity})
}
