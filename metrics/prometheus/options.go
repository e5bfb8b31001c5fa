package prometheus

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"k8s.io/utils/clock"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Options say where and how to read history.
type Options struct {
	// URL is the base of the Prometheus HTTP API, without /api/v1
	// (e.g. http://prometheus:9090, https://thanos-query/, or
	// http://mimir/prometheus).
	URL string
	// End is the end of the window (default now); History its length
	// (default 14 days).
	End     time.Time
	History time.Duration
	// Step is the resolution of the samples (default 5 minutes). Steps
	// are aligned to multiples of Step since the Unix epoch, so the same
	// End and History always give the same samples.
	Step time.Duration
	// CPUResolution is the window of the CPU rates whose percentiles the
	// plan reads (default 1 minute; negative: none). Where it is shorter
	// than Step, the server computes each hour's quantiles of the rates
	// over such windows (history.CPUShape), so that the CPU percentiles
	// are those of the short windows while the bytes stay those of Step.
	// A window must hold two scrapes for Prometheus's rate: with a
	// one-minute scrape, give 2m.
	CPUResolution time.Duration

	// Concurrency bounds the requests in flight (default 4).
	Concurrency int
	// Timeout bounds each request, the server's evaluation included
	// (default 2 minutes).
	Timeout time.Duration
	// Retries is how often a request is retried after a 5xx or 429 answer,
	// a timeout or a connection error (default 3; negative for none).
	Retries int
	// RetryBackoff is the wait before the first retry; it doubles with each
	// further one up to a minute, with jitter (default 1 s).
	RetryBackoff time.Duration
	// MaxPoints bounds the points (series × steps) one range query may
	// return (default 200,000, a few megabytes of JSON).
	MaxPoints int
	// MaxSeries bounds the pod containers one query selects (default 500).
	MaxSeries int
	// MaxResponseSize bounds one response body after decompression
	// (default DefaultMaxResponseSize(MaxPoints)). A chunk whose answer is
	// larger is split in time like one the server refuses as too large;
	// other requests fail with an error naming them.
	MaxResponseSize workload.Bytes

	// HTTPConfigFile names a YAML file of Prometheus's HTTP client
	// configuration, the shape promtool's --http.config.file takes:
	// authentication (basic_auth, authorization, oauth2), tls_config,
	// http_headers, proxy_url and follow_redirects. The connection options
	// below are shorthands that fill in the same configuration; one that
	// sets what the file sets too is an error (ConflictError). Proxies come
	// from the environment unless the file names one; HTTP/2 is used only
	// if the file enables it.
	HTTPConfigFile string

	// BearerToken or BearerTokenFile authenticate with a bearer token; the
	// file is read again for every request, so rotated tokens work.
	BearerToken     config.Secret
	BearerTokenFile string
	// Username and Password (or PasswordFile) authenticate with HTTP basic
	// authentication.
	Username     string
	Password     config.Secret
	PasswordFile string
	// CAFile verifies the server; CertFile and KeyFile authenticate the
	// client; InsecureSkipVerify turns verification off.
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	// Headers are sent with every request (e.g. X-Scope-OrgID for Mimir
	// and Cortex). Their values are never logged. Headers the HTTP client
	// sets itself (Authorization, Content-Type, Accept-Encoding, ...;
	// config.ReservedHeaders) cannot be given.
	Headers http.Header
	// Params are added to every request's query string (e.g. Thanos
	// dedup=true, partial_response=false).
	Params url.Values
	// Compression says whether to ask for gzip-compressed responses (the
	// zero value is CompressionAuto).
	Compression Compression

	// Names are the metric and label names; zero fields take the defaults
	// of cAdvisor and kube-state-metrics.
	Names Names
	// Selector is added to every series selector: label matchers such as
	// cluster="prod" or namespace=~"shop|cart", for stores that hold
	// several clusters or to read a part of one.
	Selector string
	// Clusters, with Names.ClusterLabel, are the only clusters read: a
	// matcher on the label joins every selector, so that the store does
	// the filtering. "" stands for series without the label.
	Clusters []string

	// Transport, if set, carries the requests instead of the one the HTTP
	// client configuration builds, without its authentication, TLS and
	// headers (tests use it to inject faults). The defences of this package
	// (one host only, the size limit, the counters) hold either way.
	Transport http.RoundTripper
	// Now returns the wall clock (default time.Now): the default End and
	// Retry-After dates read it.
	Now func() time.Time
	// Clock runs the waits between retries (default the real clock):
	// tests make them instant.
	Clock clock.Clock
}

// Names are the metric and label names the collector reads.
type Names struct {
	CPU                  string // counter of CPU seconds, cAdvisor
	Memory               string // working set gauge, cAdvisor
	CFSPeriods           string // counter of CFS periods, cAdvisor
	CFSThrottledPeriods  string // counter of throttled CFS periods, cAdvisor
	Requests             string // kube-state-metrics, resource/unit labels
	Limits               string
	InitRequests         string
	InitLimits           string
	Restarts             string // counter of container restarts
	LastTerminatedReason string // reason label; value 1 while it holds
	ContainerInfo        string // one series per container of a pod
	InitContainerInfo    string // restart_policy="Always" marks a sidecar
	PodOwner             string // owner_kind, owner_name labels
	ReplicaSetOwner      string // replicaset, owner_kind, owner_name labels
	JobOwner             string // job_name, owner_kind, owner_name labels
	PodCreated           string // creation time in Unix seconds
	// kube-state-metrics v2's HorizontalPodAutoscaler series, labelled
	// namespace and horizontalpodautoscaler.
	HPAInfo            string // scaletargetref_kind, scaletargetref_name
	HPAMinReplicas     string
	HPAMaxReplicas     string
	HPATargetMetric    string // metric_name, metric_target_type
	HPACurrentReplicas string

	// Labels naming a container's namespace, pod and container on the
	// cAdvisor series, and on the kube-state-metrics series (they differ
	// where, say, kube-state-metrics is scraped without honor_labels and
	// its namespace label became exported_namespace).
	NamespaceLabel, PodLabel, ContainerLabel          string
	KSMNamespaceLabel, KSMPodLabel, KSMContainerLabel string

	// ClusterLabel, when set, tells clusters apart in a store that holds
	// several (an external label of Thanos, Mimir or VictoriaMetrics):
	// every aggregation keeps it, so that same-named pods of two clusters
	// never mix, and every workload read names its value as its cluster.
	// Empty, the default, reads one cluster. It is no key of SetName: a
	// default would turn it on.
	ClusterLabel string
}

// labelNames are the labels that name a pod container: the three on a
// series, and the cluster label where one is set.
type labelNames struct{ namespace, pod, container, cluster string }

func (n Names) cadvisorLabels() labelNames {
	return labelNames{n.NamespaceLabel, n.PodLabel, n.ContainerLabel, n.ClusterLabel}
}

func (n Names) ksmLabels() labelNames {
	return labelNames{n.KSMNamespaceLabel, n.KSMPodLabel, n.KSMContainerLabel, n.ClusterLabel}
}

// DefaultNames returns the names of cAdvisor (as the kubelet exports it) and
// kube-state-metrics v2.
func DefaultNames() Names {
	return Names{
		CPU:                  "container_cpu_usage_seconds_total",
		Memory:               "container_memory_working_set_bytes",
		CFSPeriods:           "container_cpu_cfs_periods_total",
		CFSThrottledPeriods:  "container_cpu_cfs_throttled_periods_total",
		Requests:             "kube_pod_container_resource_requests",
		Limits:               "kube_pod_container_resource_limits",
		InitRequests:         "kube_pod_init_container_resource_requests",
		InitLimits:           "kube_pod_init_container_resource_limits",
		Restarts:             "kube_pod_container_status_restarts_total",
		LastTerminatedReason: "kube_pod_container_status_last_terminated_reason",
		ContainerInfo:        "kube_pod_container_info",
		InitContainerInfo:    "kube_pod_init_container_info",
		PodOwner:             "kube_pod_owner",
		ReplicaSetOwner:      "kube_replicaset_owner",
		JobOwner:             "kube_job_owner",
		PodCreated:           "kube_pod_created",
		HPAInfo:              "kube_horizontalpodautoscaler_info",
		HPAMinReplicas:       "kube_horizontalpodautoscaler_spec_min_replicas",
		HPAMaxReplicas:       "kube_horizontalpodautoscaler_spec_max_replicas",
		HPATargetMetric:      "kube_horizontalpodautoscaler_spec_target_metric",
		HPACurrentReplicas:   "kube_horizontalpodautoscaler_status_current_replicas",
		NamespaceLabel:       "namespace",
		PodLabel:             "pod",
		ContainerLabel:       "container",
		KSMNamespaceLabel:    "namespace",
		KSMPodLabel:          "pod",
		KSMContainerLabel:    "container",
	}
}

// nameFields lists the names by the key used to override them
// (SetName, --prometheus-metric and --prometheus-label).
func (n *Names) nameFields() []struct {
	key   string
	field *string
} {
	return []struct {
		key   string
		field *string
	}{
		{"cpu", &n.CPU}, {"memory", &n.Memory},
		{"cfs-periods", &n.CFSPeriods}, {"cfs-throttled-periods", &n.CFSThrottledPeriods},
		{"requests", &n.Requests}, {"limits", &n.Limits},
		{"init-requests", &n.InitRequests}, {"init-limits", &n.InitLimits},
		{"restarts", &n.Restarts}, {"last-terminated-reason", &n.LastTerminatedReason},
		{"container-info", &n.ContainerInfo}, {"init-container-info", &n.InitContainerInfo},
		{"pod-owner", &n.PodOwner}, {"replicaset-owner", &n.ReplicaSetOwner},
		{"job-owner", &n.JobOwner}, {"pod-created", &n.PodCreated},
		{"hpa-info", &n.HPAInfo}, {"hpa-min-replicas", &n.HPAMinReplicas}, {"hpa-max-replicas", &n.HPAMaxReplicas},
		{"hpa-target-metric", &n.HPATargetMetric}, {"hpa-current-replicas", &n.HPACurrentReplicas},
		{"namespace", &n.NamespaceLabel}, {"pod", &n.PodLabel}, {"container", &n.ContainerLabel},
		{"ksm-namespace", &n.KSMNamespaceLabel}, {"ksm-pod", &n.KSMPodLabel}, {"ksm-container", &n.KSMContainerLabel},
	}
}

// metricNames is how many of the names are metric names; the rest are
// label names.
const metricNames = 21

// MetricKeys lists the metric keys SetName accepts.
func MetricKeys() []string { return nameKeys()[:metricNames] }

// LabelKeys lists the label keys SetName accepts.
func LabelKeys() []string { return nameKeys()[metricNames:] }

func nameKeys() []string {
	var n Names
	var keys []string
	for _, f := range n.nameFields() {
		keys = append(keys, f.key)
	}
	return keys
}

// SetName overrides the name with the given key (MetricKeys, LabelKeys).
func (n *Names) SetName(key, value string) error {
	for _, f := range n.nameFields() {
		if f.key == key {
			*f.field = value
			return nil
		}
	}
	return fmt.Errorf("unknown name %q (known: %s)", key, strings.Join(nameKeys(), ", "))
}

// withDefaults fills the empty names from DefaultNames.
func (n Names) withDefaults() Names {
	d := DefaultNames()
	df := d.nameFields()
	for i, f := range n.nameFields() {
		if *f.field == "" {
			*f.field = *df[i].field
		}
	}
	return n
}

func (n Names) validate() error {
	var errs []error
	for i, f := range n.nameFields() {
		v := *f.field
		if v == "" {
			continue
		}
		valid := metricNameRE.MatchString(v)
		if i >= metricNames {
			valid = labelNameRE.MatchString(v)
		}
		if !valid {
			errs = append(errs, fmt.Errorf("name %s: %q is not a valid name", f.key, v))
		}
	}
	if err := n.validateClusterLabel(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateClusterLabel checks the cluster label: a label name that is
// none of those the queries read or make themselves, which a grouping by
// it would clash with.
func (n Names) validateClusterLabel() error {
	l := n.ClusterLabel
	switch {
	case l == "":
		return nil
	case !labelNameRE.MatchString(l):
		return fmt.Errorf("cluster label %q is not a valid label name", l)
	}
	d := n.withDefaults()
	for i, f := range d.nameFields() {
		if i >= metricNames && *f.field == l {
			return fmt.Errorf("cluster label %q is the %s label already", l, f.key)
		}
	}
	if slices.Contains(fixedLabels, l) {
		return fmt.Errorf("cluster label %q is a label the queries read already", l)
	}
	return nil
}

// Compression is whether responses come gzip-compressed. Compression cuts
// the traffic about fivefold but costs the server a third of its CPU time
// for these queries: worth it over a slow link (another region, a hosted
// service), not with the server on the same machine or network.
type Compression string

// The compression choices.
const (
	// CompressionAuto compresses unless the URL's host is a loopback,
	// private or link-local address, localhost, or a cluster-internal
	// name (no dot, or ending in .svc, .svc.cluster.local, .local or
	// .internal). No name is resolved.
	CompressionAuto Compression = "auto"
	CompressionOn   Compression = "on"
	CompressionOff  Compression = "off"
)

// compress decides for a host.
func (c Compression) compress(host string) bool {
	switch c {
	case CompressionOn:
		return true
	case CompressionOff:
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || !strings.Contains(h, ".") {
		return false
	}
	for _, suffix := range []string{".svc", ".svc.cluster.local", ".local", ".internal", ".localhost"} {
		if strings.HasSuffix(h, suffix) {
			return false
		}
	}
	return true
}

// Defaults of the options.
const (
	DefaultHistory = 14 * 24 * time.Hour
	DefaultStep    = 5 * time.Minute
	// DefaultCPUResolution is the window of the CPU rates whose
	// percentiles the plan reads.
	DefaultCPUResolution = time.Minute
	DefaultConcurrency   = 4
	DefaultTimeout       = 2 * time.Minute
	DefaultRetries       = 3
	DefaultBackoff       = time.Second
	DefaultMaxPoints     = 200_000
	DefaultMaxSeries     = 500
	// responseBytesPerPoint sizes the default response limit. A point of a
	// range query is 25 to 45 bytes of JSON ([1731110400.123,"0.0123"],)
	// and each series' labels add a few hundred bytes, so an answer the
	// chunking sized right stays below 45 bytes a point; 160 leaves room
	// for long label sets and for the index listings, which points do not
	// bound. What it stops is an answer far beyond anything asked for (a
	// broken or hostile server, a gzip bomb), before it fills the memory
	// of Concurrency requests in flight.
	responseBytesPerPoint = 160
	minMaxResponseSize    = 16 * workload.MiB
	// minResponseSize is the least limit that can be set: below it even
	// an error answer may not fit.
	minResponseSize = 64 * workload.KiB
	// maxStepsPerQuery is Prometheus's limit of points per series in one
	// range query (11,000), with a margin.
	maxStepsPerQuery = 10_000
)

// withDefaults returns the options with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.End.IsZero() {
		o.End = o.Now()
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.Step == 0 {
		o.Step = DefaultStep
	}
	if o.CPUResolution == 0 {
		o.CPUResolution = DefaultCPUResolution
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = DefaultBackoff
	}
	if o.MaxPoints == 0 {
		o.MaxPoints = DefaultMaxPoints
	}
	if o.MaxSeries == 0 {
		o.MaxSeries = DefaultMaxSeries
	}
	if o.MaxResponseSize == 0 {
		o.MaxResponseSize = DefaultMaxResponseSize(o.MaxPoints)
	}
	o.Names = o.Names.withDefaults()
	return o
}

// shapes reports whether the CPU shapes are read: the rates' window is
// shorter than a step, and a step no longer than a shape's hour.
func (o Options) shapes() bool {
	return o.CPUResolution > 0 && o.CPUResolution < o.Step && o.Step <= history.ShapeSpan
}

// DefaultMaxResponseSize is the response limit for a budget of maxPoints
// points per response: 160 bytes a point (31Mi for the default 200,000),
// rounded up to whole MiB, at least 16Mi.
func DefaultMaxResponseSize(maxPoints int) workload.Bytes {
	if maxPoints <= 0 {
		maxPoints = DefaultMaxPoints
	}
	b := workload.Bytes(maxPoints) * responseBytesPerPoint
	b = (b + workload.MiB - 1) / workload.MiB * workload.MiB
	return max(b, minMaxResponseSize)
}

// Validate reports every invalid option at once. Secrets are never part of
// the messages.
func (o Options) Validate() error {
	var errs []error
	if _, err := parseURL(o.URL); err != nil {
		errs = append(errs, err)
	}
	if o.History < 0 {
		errs = append(errs, errors.New("history must be positive"))
	}
	if o.Step < 0 || (o.Step > 0 && (o.Step < time.Second || o.Step%time.Second != 0)) {
		errs = append(errs, fmt.Errorf("step %s must be a positive whole number of seconds", o.Step))
	}
	if o.CPUResolution > 0 && (o.CPUResolution < time.Second || o.CPUResolution%time.Second != 0 || history.ShapeSpan%o.CPUResolution != 0) {
		errs = append(errs, fmt.Errorf("cpu resolution %s must be a whole number of seconds that divides an hour", o.CPUResolution))
	}
	if o.Step > 0 && o.History > 0 && o.Step > o.History {
		errs = append(errs, fmt.Errorf("step %s is longer than the history %s", o.Step, o.History))
	}
	if o.Concurrency < 0 || o.Timeout < 0 || o.RetryBackoff < 0 || o.MaxPoints < 0 || o.MaxSeries < 0 || o.MaxResponseSize < 0 {
		errs = append(errs, errors.New("concurrency, timeout, retry backoff, max points, max series and max response size must not be negative"))
	}
	if o.MaxResponseSize > 0 && o.MaxResponseSize < minResponseSize {
		errs = append(errs, fmt.Errorf("max response size %s is too small for any answer: at least %s", o.MaxResponseSize, minResponseSize))
	}
	switch o.Compression {
	case "", CompressionAuto, CompressionOn, CompressionOff:
	default:
		errs = append(errs, fmt.Errorf("compression %q: want auto, on or off", o.Compression))
	}
	if o.BearerToken != "" && o.BearerTokenFile != "" {
		errs = append(errs, errors.New("give a bearer token or a bearer token file, not both"))
	}
	if (o.BearerToken != "" || o.BearerTokenFile != "") && o.Username != "" {
		errs = append(errs, errors.New("bearer token and basic authentication exclude each other"))
	}
	if o.Password != "" && o.PasswordFile != "" {
		errs = append(errs, errors.New("give a password or a password file, not both"))
	}
	if (o.Password != "" || o.PasswordFile != "") && o.Username == "" {
		errs = append(errs, errors.New("a password needs a username"))
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("a client certificate needs both a certificate file and a key file"))
	}
	for _, k := range sortedKeys(o.Headers) {
		switch {
		case !validHeaderName(k):
			errs = append(errs, fmt.Errorf("header %q is not a valid header name", k))
		case reservedHeader(k):
			errs = append(errs, fmt.Errorf("header %q: %s", k, reservedHeaderReason))
		}
		for _, v := range o.Headers[k] {
			if !validHeaderValue(v) {
				// The value may be a secret: name the header only.
				errs = append(errs, fmt.Errorf("header %q: the value holds a control character", k))
			}
		}
	}
	if _, err := o.httpClientConfig(); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseSelector(o.Selector); err != nil {
		errs = append(errs, fmt.Errorf("selector: %w", err))
	}
	if len(o.Clusters) > 0 && o.Names.ClusterLabel == "" {
		errs = append(errs, errors.New("clusters to read need the cluster label that tells them apart"))
	}
	if err := o.Names.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r > 126 || r <= 32 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// reservedHeader reports whether the HTTP client sets the header itself
// (authentication, compression, the request body's type): the library
// refuses it as an extra header, and sending two would confuse the server.
func reservedHeader(k string) bool {
	_, ok := config.ReservedHeaders[http.CanonicalHeaderKey(k)]
	return ok
}

const reservedHeaderReason = "set by the HTTP client itself, not allowed as an extra header (for credentials use the bearer token or basic authentication options, or the HTTP client configuration file)"

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but tab (a line break would start another header).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// ParseHeader parses a header given as NAME=VALUE (the first '=' separates;
// spaces around the name are dropped). The name comes back in canonical
// form. Errors name the header, never the value: it may be a secret.
func ParseHeader(s string) (name, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	switch {
	case !ok || k == "":
		return "", "", fmt.Errorf("%q: want NAME=VALUE", nameOnly(k))
	case !validHeaderName(k):
		return "", "", fmt.Errorf("%q: not a valid header name", nameOnly(k))
	case reservedHeader(k):
		return "", "", fmt.Errorf("%q: %s", k, reservedHeaderReason)
	case !validHeaderValue(v):
		return "", "", fmt.Errorf("%q: the value holds a control character", k)
	}
	return textproto.CanonicalMIMEHeaderKey(k), v, nil
}

// ParseParam parses a query parameter given as NAME=VALUE (the first '='
// separates). Errors name the parameter, never the value.
func ParseParam(s string) (name, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("%q: want NAME=VALUE", nameOnly(k))
	}
	return k, v, nil
}

// nameOnly is what an error may cite of a NAME=VALUE flag written another
// way: in "Authorization: Bearer …" the secret follows the name.
func nameOnly(s string) string {
	if i := strings.IndexAny(s, ": \t"); i >= 0 {
		return s[:i] + "…"
	}
	return s
}

// parseURL checks the base URL; credentials in it are refused so that they
// cannot end up in messages (use the username and password options).
func parseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("the Prometheus URL is empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse quotes the input, which may hold a password.
		return nil, errors.New("the Prometheus URL does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("the Prometheus URL must start with http:// or https://, not %q", u.Scheme+"://")
	}
	if u.Host == "" {
		return nil, errors.New("the Prometheus URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("the Prometheus URL must not hold credentials: use the username and password (file) options")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("the Prometheus URL must not have a query or fragment: use the params option")
	}
	return u, nil
}

// RedactedURL returns the URL as it may be shown: scheme, host and path.
func RedactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// sortedKeys returns a map's keys in order, for deterministic requests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
