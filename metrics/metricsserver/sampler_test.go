package metricsserver

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

var (
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	web = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
)

// answers is a scripted PodMetrics API: poll i gets answers[i] (the last
// one repeats).
type answers struct {
	lists []*metricsv1beta1.PodMetricsList
	errs  []error
	calls int
	ns    []string
}

func (a *answers) PodMetricses(ns string) metricsclient.PodMetricsInterface {
	a.ns = append(a.ns, ns)
	return a
}

func (a *answers) List(context.Context, metav1.ListOptions) (*metricsv1beta1.PodMetricsList, error) {
	i := min(a.calls, len(a.lists)-1)
	a.calls++
	if i < len(a.errs) && a.errs[i] != nil {
		return nil, a.errs[i]
	}
	return a.lists[i], nil
}

func (a *answers) Get(context.Context, string, metav1.GetOptions) (*metricsv1beta1.PodMetrics, error) {
	return nil, errors.New("not used")
}

func (a *answers) Watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	return nil, errors.New("not used")
}

func pm(name string, at time.Time, cpu, mem string) metricsv1beta1.PodMetrics {
	return metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Timestamp:  metav1.NewTime(at), Window: metav1.Duration{Duration: 10 * time.Second},
		Containers: []metricsv1beta1.ContainerMetrics{{Name: "app", Usage: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}},
	}
}

func list(items ...metricsv1beta1.PodMetrics) *metricsv1beta1.PodMetricsList {
	return &metricsv1beta1.PodMetricsList{Items: items}
}

type resolver map[string]workload.Key

func (r resolver) Workload(_, pod string) (workload.Key, bool) {
	k, ok := r[pod]
	return k, ok
}

// fakeClock advances by exactly what the sampler waits for.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func sampler(api API, c *fakeClock, sinks ...Sink) *Sampler {
	return &Sampler{
		API: api, Namespace: "shop", Resolver: resolver{"web-1": web, "web-2": web},
		Sinks: sinks, Interval: 30 * time.Second, Duration: 90 * time.Second, Now: c.now, After: c.after,
		Settings: func(workload.ContainerKey) workload.Settings {
			return workload.Settings{Requests: workload.Resources{CPU: 500}}
		},
	}
}

func TestRun(t *testing.T) {
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{
		list(pm("web-1", t0, "250m", "300Mi"), pm("web-2", t0, "260m", "310Mi"), pm("other-1", t0, "1m", "1Mi")),
		// web-2 was not scraped again: its sample is not repeated.
		list(pm("web-1", t0.Add(30*time.Second), "270m", "300Mi"), pm("web-2", t0, "260m", "310Mi")),
		list(pm("web-1", t0.Add(60*time.Second), "280m", "305Mi"), pm("web-2", t0.Add(60*time.Second), "240m", "320Mi")),
		list(pm("web-1", t0.Add(90*time.Second), "290m", "306Mi")),
	}}
	h := history.NewStore()
	c := &fakeClock{t0}
	res, err := sampler(api, c, h).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Result{Polls: 4, Samples: 6, Pods: 2, Unattributed: 1}, res)
	assert.Equal(t, t0.Add(90*time.Second), c.t, "the last poll is at the duration")
	assert.Equal(t, []string{"shop", "shop", "shop", "shop"}, api.ns)

	h.Finalize()
	ck := workload.ContainerKey{Workload: web, Container: "app"}
	require.Equal(t, []workload.ContainerKey{ck}, h.Containers())
	ser := h.Series(ck)
	require.Len(t, ser, 2)
	assert.Equal(t, 4, ser[0].Len())
	s := ser[0].At(1)
	assert.Equal(t, t0.Add(30*time.Second), s.Time)
	assert.InDelta(t, 0.27, float64(s.CPU), 1e-9)
	assert.Equal(t, 300*workload.MiB, s.Memory)
	assert.Equal(t, workload.Millicores(500), s.Settings.Requests.CPU)
}

func TestRunFailures(t *testing.T) {
	gr := schema.GroupResource{Group: "metrics.k8s.io", Resource: "pods"}
	tests := []struct {
		name string
		errs []error
		want string
	}{
		{name: "no metrics API", errs: []error{apierrors.NewNotFound(gr, "")}, want: "the metrics API (metrics.k8s.io) is not available: is metrics-server installed?"},
		{name: "metrics-server down", errs: []error{apierrors.NewServiceUnavailable("the server is currently unable to handle the request")}, want: "the metrics API (metrics.k8s.io) is not available"},
		{name: "forbidden", errs: []error{apierrors.NewForbidden(gr, "", errors.New("no"))}, want: "cannot list pods.metrics.k8s.io: forbidden (RBAC)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &answers{lists: []*metricsv1beta1.PodMetricsList{nil}, errs: tt.errs}
			_, err := sampler(api, &fakeClock{t0}).Run(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, 1, api.calls, "no retries of a permanent failure")
		})
	}
}

func TestRunGoesOnAfterALaterFailure(t *testing.T) {
	boom := errors.New("connection reset")
	api := &answers{
		lists: []*metricsv1beta1.PodMetricsList{list(pm("web-1", t0, "250m", "300Mi")), nil, list(pm("web-1", t0.Add(60*time.Second), "250m", "300Mi"))},
		errs:  []error{nil, boom},
	}
	res, err := sampler(api, &fakeClock{t0}).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, res.Polls)
	assert.Equal(t, 1, res.FailedPolls)
	assert.Equal(t, boom, res.LastError)
	assert.Equal(t, 2, res.Samples)
}

func TestRunStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &fakeClock{t0}
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{list(pm("web-1", t0, "250m", "300Mi"))}}
	s := sampler(api, c)
	s.After = func(time.Duration) <-chan time.Time { cancel(); return make(chan time.Time) }
	res, err := s.Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, res.Samples, "what was sampled is reported")
}

func TestProgress(t *testing.T) {
	var got []progress.Update
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{list(pm("web-1", t0, "250m", "300Mi"))}}
	s := sampler(api, &fakeClock{t0})
	s.Progress = func(u progress.Update) { got = append(got, u) }
	_, err := s.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, got, 4, "one update per poll")
	assert.Equal(t, progress.Update{Source: "metrics-server", Done: 1, Total: 4, Unit: "polls", Detail: "1 pods, 1 samples, 1m30s left"}, got[0])
	assert.Equal(t, progress.Update{Source: "metrics-server", Done: 4, Total: 4, Unit: "polls", Detail: "1 pods, 1 samples, 0s left"}, got[3])
}

func TestRunRejectsBadTiming(t *testing.T) {
	s := sampler(&answers{}, &fakeClock{t0})
	s.Interval = 0
	_, err := s.Run(context.Background())
	assert.Error(t, err)
}

// TestPoll: successive polls count a pod's sample once, however often
// metrics-server repeats it, and forget pods that left.
func TestPoll(t *testing.T) {
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{
		list(pm("web-1", t0, "100m", "10Mi"), pm("web-2", t0, "100m", "10Mi"), pm("other", t0, "1m", "1Mi")),
		list(pm("web-1", t0, "100m", "10Mi"), pm("web-2", t0.Add(15*time.Second), "200m", "20Mi")),
		list(pm("web-1", t0.Add(15*time.Second), "100m", "10Mi")),
		{Items: nil},
	}, errs: []error{nil, nil, nil, apierrors.NewForbidden(schema.GroupResource{Group: "metrics.k8s.io", Resource: "pods"}, "", errors.New("no"))}}
	h := history.NewStore()
	s := &Sampler{API: api, Resolver: resolver{"web-1": web, "web-2": web}, Sinks: []Sink{h}}
	for i, want := range []struct{ samples, pods, unattributed int }{{2, 2, 1}, {1, 2, 0}, {1, 1, 0}} {
		n, err := s.Poll(context.Background())
		require.NoError(t, err, "poll %d", i)
		assert.Equal(t, want.samples, n, "poll %d samples", i)
		assert.Equal(t, want.pods, s.Pods(), "poll %d pods", i)
		assert.Equal(t, want.unattributed, s.Unattributed(), "poll %d unattributed", i)
	}
	_, err := s.Poll(context.Background())
	require.ErrorContains(t, err, "forbidden (RBAC)")
	h.Finalize()
	assert.Equal(t, 4, h.Samples())
}

// TestPollCountsTheLastListing: a pod is counted as the last Poll saw it,
// attributed or not, whatever it was before.
func TestPollCountsTheLastListing(t *testing.T) {
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{
		list(pm("web-1", t0, "100m", "10Mi"), pm("new-1", t0, "1m", "1Mi")),
		list(pm("web-1", t0.Add(15*time.Second), "100m", "10Mi"), pm("new-1", t0.Add(15*time.Second), "1m", "1Mi")),
	}}
	r := resolver{"web-1": web}
	s := &Sampler{API: api, Resolver: r, Sinks: []Sink{history.NewStore()}}
	n, err := s.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1}, []int{n, s.Pods(), s.Unattributed()})
	// new-1's workload is known now, web-1's no longer.
	r["new-1"] = web
	delete(r, "web-1")
	n, err = s.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1}, []int{n, s.Pods(), s.Unattributed()})
}

// BenchmarkPoll is the controller's poll of 10,000 pods in 1,000
// Deployments, each with a new sample, into a sink that keeps nothing.
func BenchmarkPoll(b *testing.B) {
	var items []metricsv1beta1.PodMetrics
	r := resolver{}
	for i := range 10000 {
		name := "svc-" + strconv.Itoa(i/10) + "-" + strconv.Itoa(i)
		items = append(items, pm(name, t0, "100m", "10Mi"))
		r[name] = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "svc-" + strconv.Itoa(i/10)}
	}
	api := &answers{lists: []*metricsv1beta1.PodMetricsList{list(items...)}}
	s := &Sampler{API: api, Resolver: r, Sinks: []Sink{discard{}}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range items {
			items[j].Timestamp = metav1.NewTime(t0.Add(time.Duration(i) * 30 * time.Second))
		}
		if n, err := s.Poll(context.Background()); err != nil || n != len(items) {
			b.Fatalf("%d samples, %v", n, err)
		}
	}
}

type discard struct{}

func (discard) Add(workload.ContainerKey, workload.Sample) {}
