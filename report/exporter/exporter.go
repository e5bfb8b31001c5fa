// Package exporter publishes plans as Prometheus metrics: the recommended
// and current requests and limits of every container, the recommendation's
// bounds and confidence, and the health of the process that makes them.
//
// Plans are published as a snapshot (Collector) rather than as gauges set
// one by one, so a scrape never sees half of one plan and half of the next,
// and a workload that disappears from the plan disappears from /metrics
// with it. Everything registers on an injected prometheus.Registerer.
package exporter

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rightsize.dev/rightsize/recommender/workload"
)

// The label sets of the plan's metrics.
var (
	recommendationLabels = []string{"namespace", "kind", "workload", "container", "resource_type", "bound"}
	currentLabels        = []string{"namespace", "kind", "workload", "container", "resource_type"}
	containerLabels      = []string{"namespace", "kind", "workload", "container"}
)

var (
	recCPU = prometheus.NewDesc("rightsize_recommendation_cpu_cores",
		"Recommended CPU in cores: the target request and limit, and the request's lower and upper bounds.", recommendationLabels, nil)
	recMemory = prometheus.NewDesc("rightsize_recommendation_memory_bytes",
		"Recommended memory in bytes: the target request and limit, and the request's lower and upper bounds.", recommendationLabels, nil)
	curCPU = prometheus.NewDesc("rightsize_current_cpu_cores",
		"The container's CPU request and limit today, in cores; absent where unset.", currentLabels, nil)
	curMemory = prometheus.NewDesc("rightsize_current_memory_bytes",
		"The container's memory request and limit today, in bytes; absent where unset.", currentLabels, nil)
	confidence = prometheus.NewDesc("rightsize_confidence",
		"Confidence of the container's recommendation, 0 to 1: it grows with the span and density of history.", containerLabels, nil)
	generated = prometheus.NewDesc("rightsize_plan_generated_timestamp_seconds",
		"When the published plan was made (its newest sample for recorded history), in Unix seconds.", nil, nil)
	fleetPrice = prometheus.NewDesc("rightsize_fleet_cpu_price_cores",
		"The fleet's price of time short that raised CPU requests where it was cheap to avoid, per profile, in cores per unit share of time short.", []string{"profile"}, nil)
)

// Plans is a prometheus.Collector of the latest published plan.
type Plans struct {
	mu   sync.RWMutex
	plan workload.Plan
	set  bool
}

// Publish replaces the plan the collector reports.
func (p *Plans) Publish(plan workload.Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan, p.set = plan, true
}

// Describe implements prometheus.Collector.
func (p *Plans) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{recCPU, recMemory, curCPU, curMemory, confidence, generated, fleetPrice} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one series per container,
// resource, setting and bound that the plan sets.
func (p *Plans) Collect(ch chan<- prometheus.Metric) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.set {
		return
	}
	if !p.plan.Generated.IsZero() {
		ch <- prometheus.MustNewConstMetric(generated, prometheus.GaugeValue, float64(p.plan.Generated.UnixMilli())/1000)
	}
	for name, price := range p.plan.CPUPrices {
		ch <- prometheus.MustNewConstMetric(fleetPrice, prometheus.GaugeValue, price, label(name))
	}
	for _, wp := range p.plan.Workloads {
		for _, c := range wp.Containers {
			id := []string{label(wp.Key.Namespace), label(string(wp.Key.Kind)), label(wp.Key.Name), label(c.Name)}
			with := func(more ...string) []string { return append(append([]string{}, id...), more...) }
			cur := c.Current
			gauge(ch, curCPU, float64(cur.Requests.CPU.Cores()), cur.Requests.CPU > 0, with("request"))
			gauge(ch, curCPU, float64(cur.Limits.CPU.Cores()), cur.Limits.CPU > 0, with("limit"))
			gauge(ch, curMemory, float64(cur.Requests.Memory), cur.Requests.Memory > 0, with("request"))
			gauge(ch, curMemory, float64(cur.Limits.Memory), cur.Limits.Memory > 0, with("limit"))
			r := c.Recommendation
			if !r.HasCPU && !r.HasMemory {
				continue
			}
			ch <- prometheus.MustNewConstMetric(confidence, prometheus.GaugeValue, r.Confidence, id...)
			if r.HasCPU {
				gauge(ch, recCPU, float64(r.Target.Requests.CPU.Cores()), r.Target.Requests.CPU > 0, with("request", "target"))
				gauge(ch, recCPU, float64(r.Target.Limits.CPU.Cores()), r.Target.Limits.CPU > 0, with("limit", "target"))
				gauge(ch, recCPU, float64(r.LowerBound.CPU.Cores()), r.LowerBound.CPU > 0, with("request", "lower"))
				gauge(ch, recCPU, float64(r.UpperBound.CPU.Cores()), r.UpperBound.CPU > 0, with("request", "upper"))
			}
			if r.HasMemory {
				gauge(ch, recMemory, float64(r.Target.Requests.Memory), r.Target.Requests.Memory > 0, with("request", "target"))
				gauge(ch, recMemory, float64(r.Target.Limits.Memory), r.Target.Limits.Memory > 0, with("limit", "target"))
				gauge(ch, recMemory, float64(r.LowerBound.Memory), r.LowerBound.Memory > 0, with("request", "lower"))
				gauge(ch, recMemory, float64(r.UpperBound.Memory), r.UpperBound.Memory > 0, with("request", "upper"))
			}
		}
	}
}

// gauge sends one series when the value is set: cores or bytes, as the
// metric's name says.
func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, ok bool, labels []string) {
	if ok {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
}

// label makes a name from the cluster a valid label value: Prometheus
// requires UTF-8.
func label(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// Health are the metrics of the process that makes the plans.
type Health struct {
	// CollectionErrors counts failed reads, by source.
	CollectionErrors *prometheus.CounterVec
	// SamplesIngested counts usage samples taken in.
	SamplesIngested prometheus.Counter
	// OOMKills counts the OOM kills seen, by container.
	OOMKills *prometheus.CounterVec
	// CycleDuration observes how long each collect-and-recommend cycle
	// took.
	CycleDuration prometheus.Histogram
	// Leader is 1 while this process leads, else 0.
	Leader prometheus.Gauge

	mu         sync.Mutex
	checkpoint time.Time
	now        func() time.Time
}

// NewHealth registers the health metrics on reg; now is the clock the
// checkpoint's age is measured with (nil: the wall clock).
func NewHealth(reg prometheus.Registerer, now func() time.Time) (*Health, error) {
	if now == nil {
		now = time.Now
	}
	h := &Health{
		CollectionErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rightsize_collection_errors_total",
			Help: "Failed reads of usage, specs or cluster objects, by source."}, []string{"source"}),
		SamplesIngested: prometheus.NewCounter(prometheus.CounterOpts{Name: "rightsize_samples_ingested_total",
			Help: "Usage samples taken into the containers' state."}),
		OOMKills: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rightsize_oom_kills_total",
			Help: "OOM kills seen, by container."}, containerLabels),
		CycleDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rightsize_cycle_duration_seconds",
			Help:    "Duration of a collect-and-recommend cycle.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rightsize_leader",
			Help: "1 while this process is the leader that collects and writes, else 0."}),
		now:        now,
		checkpoint: now(),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rightsize_checkpoint_age_seconds",
		Help: "Seconds since the state was last checkpointed (since the start before the first checkpoint)."}, h.checkpointAge)
	for _, c := range []prometheus.Collector{h.CollectionErrors, h.SamplesIngested, h.OOMKills, h.CycleDuration, h.Leader, age} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Checkpointed records that the state was checkpointed at t.
func (h *Health) Checkpointed(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checkpoint = t
}

// OOMKilled counts n OOM kills of a container.
func (h *Health) OOMKilled(ck workload.ContainerKey, n int) {
	if n <= 0 {
		return
	}
	k := ck.Workload
	h.OOMKills.WithLabelValues(label(k.Namespace), label(string(k.Kind)), label(k.Name), label(ck.Container)).Add(float64(n))
}

func (h *Health) checkpointAge() float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now().Sub(h.checkpoint).Seconds()
}
