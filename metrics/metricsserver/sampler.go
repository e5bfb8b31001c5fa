package metricsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender/workload"
)

// API is the part of the metrics clientset the sampler uses.
type API interface {
	PodMetricses(namespace string) metricsclient.PodMetricsInterface
}

// Resolver attributes a pod to its workload; pods it does not know are
// skipped (other workloads, ignored ones).
type Resolver interface {
	Workload(namespace, pod string) (workload.Key, bool)
}

// Sink receives samples; history.Store and statestore.Store are sinks.
type Sink interface {
	Add(workload.ContainerKey, workload.Sample)
}

// ErrNoMetricsAPI says the cluster serves no metrics.k8s.io API.
var ErrNoMetricsAPI = errors.New("the metrics API (metrics.k8s.io) is not available: is metrics-server installed?")

// Sampler polls PodMetrics. Interval and Duration must be positive; the
// first poll is immediate and the last one at Duration.
type Sampler struct {
	API API
	// Namespace is polled; "" polls all namespaces.
	Namespace string
	Resolver  Resolver
	// Settings, when set, stamps each sample with the container's current
	// settings.
	Settings func(workload.ContainerKey) workload.Settings
	Sinks    []Sink

	Interval, Duration time.Duration
	// Now and After are the clock (default: the wall clock).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Progress, when set, is told of each poll.
	Progress progress.Func
	Log      *slog.Logger

	// last and unknown are what Poll remembers between calls; polls counts
	// the calls.
	last    map[podRef]seenPod
	unknown map[podRef]uint64
	polls   uint64
}

// Result counts what a run saw.
type Result struct {
	Polls, FailedPolls int
	// Samples are the new container samples recorded.
	Samples int
	// Pods is the number of distinct attributed pods seen.
	Pods int
	// Unattributed counts pods whose workload was unknown (once each).
	Unattributed int
	// LastError is the last failed poll's error.
	LastError error
}

type podRef struct{ ns, name string }

// seenPod is what a Sampler remembers of an attributed pod.
type seenPod struct {
	// at is the time of its last sample recorded (Unix nanoseconds).
	at int64
	// poll is the last poll that listed it.
	poll uint64
}

// Run samples until Duration has passed or ctx ends. It fails at once when
// the first poll finds no metrics API or no permission; later failures are
// counted and the run goes on.
func (s *Sampler) Run(ctx context.Context) (Result, error) {
	var res Result
	if s.Interval <= 0 || s.Duration < 0 {
		return res, fmt.Errorf("sampling: interval must be positive and duration not negative")
	}
	now, after := s.Now, s.After
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := now()
	end := start.Add(s.Duration)
	total := int(s.Duration/s.Interval) + 1
	last := map[podRef]seenPod{}
	unknown := map[podRef]uint64{}
	for i := 0; ; i++ {
		n, err := s.poll(ctx, last, unknown, uint64(i))
		res.Polls++
		res.Samples += n
		if err != nil {
			if i == 0 && fatal(err) {
				return res, classify(err)
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.FailedPolls++
			res.LastError = err
			log.Debug("poll failed", "err", err)
		}
		res.Pods, res.Unattributed = len(last), len(unknown)
		s.progress(i+1, total, res, end.Sub(now()))
		next := start.Add(time.Duration(i+1) * s.Interval)
		if next.After(end) {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-after(next.Sub(now())):
		}
	}
	return res, nil
}

// Poll lists PodMetrics once, for a caller that keeps its own schedule
// (the controller), and returns the samples newer than the pod's previous
// one seen by an earlier Poll. Resolver and Settings are read at each call.
// Pods that have gone are forgotten once they leave the listing.
func (s *Sampler) Poll(ctx context.Context) (samples int, err error) {
	if s.last == nil {
		s.last, s.unknown = map[podRef]seenPod{}, map[podRef]uint64{}
	}
	s.polls++
	n, err := s.poll(ctx, s.last, s.unknown, s.polls)
	if err != nil {
		return n, classify(err)
	}
	// What this poll did not mark was not listed, or not as such (a pod
	// attributed before and not now, or the other way round).
	for ref, p := range s.last {
		if p.poll != s.polls {
			delete(s.last, ref)
		}
	}
	for ref, poll := range s.unknown {
		if poll != s.polls {
			delete(s.unknown, ref)
		}
	}
	return n, nil
}

// Pods and Unattributed count the pods the last Poll listed: attributed to
// a workload, and not.
func (s *Sampler) Pods() int         { return len(s.last) }
func (s *Sampler) Unattributed() int { return len(s.unknown) }

// poll lists PodMetrics once, records every container sample newer than
// the pod's previous one, and marks the pods listed with the poll's
// number.
func (s *Sampler) poll(ctx context.Context, last map[podRef]seenPod, unknown map[podRef]uint64, poll uint64) (int, error) {
	// metrics-server answers a list whole, whatever its limit (v0.9.0
	// returns every pod with no continue token): the list is not paged.
	// The generated client asks for protobuf, which metrics-server serves:
	// a third of JSON's bytes.
	list, err := s.API.PodMetricses(s.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		pm := &list.Items[i]
		ref := podRef{pm.Namespace, pm.Name}
		k, ok := s.Resolver.Workload(pm.Namespace, pm.Name)
		if !ok {
			unknown[ref] = poll
			continue
		}
		ts := pm.Timestamp.Time
		at := ts.UnixNano()
		prev, seen := last[ref]
		last[ref] = seenPod{at: max(at, prev.at), poll: poll}
		if seen && at <= prev.at {
			continue // the same scrape as last time
		}
		for _, c := range pm.Containers {
			ck := workload.ContainerKey{Workload: k, Container: c.Name}
			smp := workload.Sample{Time: ts.UTC(), Pod: pm.Name}
			if q, ok := c.Usage["cpu"]; ok {
				smp.CPU, smp.HasCPU = workload.Cores(q.AsApproximateFloat64()), true
			}
			if q, ok := c.Usage["memory"]; ok {
				smp.Memory, smp.HasMemory = workload.Bytes(q.Value()), true
			}
			if s.Settings != nil {
				smp.Settings = s.Settings(ck)
			}
			for _, sink := range s.Sinks {
				sink.Add(ck, smp)
			}
			n++
		}
	}
	return n, nil
}

// fatal tells errors that will not go away by polling again.
func fatal(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) ||
		apierrors.IsServiceUnavailable(err)
}

func classify(err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("cannot list pods.metrics.k8s.io: forbidden (RBAC): %w", err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("cannot list pods.metrics.k8s.io: unauthorized: %w", err)
	case apierrors.IsNotFound(err), apierrors.IsServiceUnavailable(err):
		return fmt.Errorf("%w (%v)", ErrNoMetricsAPI, err)
	}
	return err
}

func (s *Sampler) progress(done, total int, res Result, left time.Duration) {
	s.Progress.Report(progress.Update{
		Source: "metrics-server", Done: done, Total: total, Unit: "polls",
		Detail: fmt.Sprintf("%d pods, %d samples, %s left", res.Pods, res.Samples, max(left, 0).Round(time.Second)),
	})
}
