package prometheus

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/recommender/workload"
)

// Flags are the command-line flags that configure a collection, as
// kubectl's ConfigFlags are for a cluster: every command that reads history
// registers them (docs/md); the flags are shorthands for what
// --prometheus-http-config-file can also set.
type Flags struct {
	URL             string
	HTTPConfigFile  string
	BearerTokenFile string
	Username        string
	PasswordFile    string
	CAFile          string
	CertFile        string
	KeyFile         string
	Insecure        bool
	Compression     string
	Headers         []string
	Params          []string
	Timeout         time.Duration
	Step            time.Duration
	CPUResolution   time.Duration
	Concurrency     int
	Retries         int
	Selector        string
	ClusterLabel    string
	Metrics         []string
	Labels          []string
	MaxPoints       int
	MaxResponseSize workload.Bytes // 0: derived from MaxPoints

	fs *pflag.FlagSet
}

// AddFlags registers the flags on fs.
func (p *Flags) AddFlags(fs *pflag.FlagSet) {
	p.fs = fs
	p.Timeout, p.Step, p.CPUResolution = DefaultTimeout, DefaultStep, DefaultCPUResolution
	p.Concurrency, p.Retries, p.MaxPoints = DefaultConcurrency, DefaultRetries, DefaultMaxPoints
	fs.StringVar(&p.URL, "prometheus-url", "", "read history from this Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics), e.g. http://prometheus:9090; no Kubernetes access needed")
	fs.StringVar(&p.HTTPConfigFile, "prometheus-http-config-file", "", "HTTP client configuration for Prometheus in the YAML shape promtool's --http.config.file takes (basic_auth, authorization, oauth2, tls_config, http_headers, proxy_url, follow_redirects); the other connection flags fill in what it leaves out and must not set what it sets")
	fs.StringVar(&p.BearerTokenFile, "prometheus-bearer-token-file", "", "send the bearer token in this file (read for every request)")
	fs.StringVar(&p.Username, "prometheus-username", "", "basic authentication user")
	fs.StringVar(&p.PasswordFile, "prometheus-password-file", "", "basic authentication password, read from this file")
	fs.StringVar(&p.CAFile, "prometheus-ca-file", "", "verify the server with the CA certificates in this PEM file")
	fs.StringVar(&p.CertFile, "prometheus-cert-file", "", "client certificate (PEM) for mutual TLS")
	fs.StringVar(&p.KeyFile, "prometheus-key-file", "", "client certificate key (PEM) for mutual TLS")
	fs.BoolVar(&p.Insecure, "prometheus-insecure-skip-verify", false, "do not verify the server's certificate")
	fs.StringVar(&p.Compression, "prometheus-compression", string(CompressionAuto), "ask for gzip-compressed responses (a fifth of the traffic, a third more CPU time on the server): on, off, or auto: off for loopback, private and cluster-internal hosts")
	fs.StringArrayVar(&p.Headers, "prometheus-header", nil, "send this HTTP header, as NAME=VALUE (e.g. X-Scope-OrgID=tenant for Mimir); repeatable")
	fs.StringArrayVar(&p.Params, "prometheus-param", nil, "add this query parameter to every request, as NAME=VALUE (e.g. dedup=true for Thanos); repeatable")
	fs.Var(cliflag.Duration(&p.Timeout), "prometheus-timeout", "timeout of each request, the server's evaluation included")
	fs.Var(cliflag.Duration(&p.Step), "prometheus-step", "resolution of the samples read: CPU is averaged and memory peaks are taken over each step")
	fs.Var(cliflag.Duration(&p.CPUResolution), "prometheus-cpu-resolution", "CPU percentiles are those of rates over windows this long, computed by the server a few points an hour (at least two scrapes long; 0: the steps' means)")
	fs.IntVar(&p.Concurrency, "prometheus-concurrency", p.Concurrency, "requests in flight at once")
	fs.IntVar(&p.Retries, "prometheus-retries", p.Retries, "retries of a request after a 5xx or 429 answer, a timeout or a connection error")
	fs.StringVar(&p.Selector, "prometheus-selector", "", `label matchers added to every query, e.g. cluster="prod" for a store holding several clusters, or namespace=~"shop|cart"`)
	fs.StringArrayVar(&p.Metrics, "prometheus-metric", nil, "use another metric name, as KEY=NAME with KEY one of "+strings.Join(MetricKeys(), ", ")+"; repeatable")
	fs.StringArrayVar(&p.Labels, "prometheus-label", nil, "use another label name, as KEY=NAME with KEY one of "+strings.Join(LabelKeys(), ", ")+"; repeatable")
	fs.IntVar(&p.MaxPoints, "prometheus-max-points", p.MaxPoints, "most points (series × steps) one response may hold; the window is split to stay below")
	fs.Var(cliflag.ByteSize(&p.MaxResponseSize), "prometheus-max-response-size", "most bytes of one response after decompression, a quantity (64Mi, 100M); a larger answer is split in time or fails; auto: 160 bytes per --prometheus-max-points point, at least 16Mi (31Mi for 200000)")
}

// AddClusterFlag registers --prometheus-cluster-label, for the commands
// that read several clusters at once (with --clusters): a process that
// acts on one cluster has no use for it.
func (p *Flags) AddClusterFlag(fs *pflag.FlagSet) {
	fs.StringVar(&p.ClusterLabel, "prometheus-cluster-label", "", "the label that tells clusters apart in a store holding several (Thanos, Mimir, VictoriaMetrics), e.g. cluster: every query keeps it, and each workload is read in its cluster and named NAMESPACE/KIND/NAME@CLUSTER")
}

// MeansByDefault turns the CPU shapes off unless
// --prometheus-cpu-resolution was given: for a command that scores
// recommendations against the samples it reads (backtest), which are the
// steps' means.
func (p *Flags) MeansByDefault() {
	if p.fs == nil || !p.fs.Changed("prometheus-cpu-resolution") {
		p.CPUResolution = 0
	}
}

// Enabled tells whether --prometheus-url was given.
func (p *Flags) Enabled() bool { return p.URL != "" }

// Validate checks the flags; without --prometheus-url none of the others
// may be set.
func (p *Flags) Validate() error {
	if !p.Enabled() {
		var set []string
		if p.fs != nil {
			p.fs.Visit(func(f *pflag.Flag) {
				if strings.HasPrefix(f.Name, "prometheus-") {
					set = append(set, "--"+f.Name)
				}
			})
		}
		if len(set) > 0 {
			return fmt.Errorf("%s need --prometheus-url", strings.Join(set, ", "))
		}
		return nil
	}
	_, err := p.Options()
	return err
}

// Options turns the flags into collector options; End and History are
// the caller's to set.
func (p *Flags) Options() (Options, error) {
	var errs []error
	o := Options{
		URL:                p.URL,
		HTTPConfigFile:     p.HTTPConfigFile,
		BearerTokenFile:    p.BearerTokenFile,
		Username:           p.Username,
		PasswordFile:       p.PasswordFile,
		CAFile:             p.CAFile,
		CertFile:           p.CertFile,
		KeyFile:            p.KeyFile,
		InsecureSkipVerify: p.Insecure,
		Compression:        Compression(p.Compression),
		Timeout:            p.Timeout,
		Step:               p.Step,
		CPUResolution:      p.CPUResolution,
		Concurrency:        p.Concurrency,
		Retries:            p.Retries,
		MaxPoints:          p.MaxPoints,
		MaxResponseSize:    p.MaxResponseSize,
		Selector:           p.Selector,
		Headers:            http.Header{},
		Params:             url.Values{},
		Names:              DefaultNames(),
	}
	if p.Retries == 0 {
		o.Retries = -1 // the flag's 0 means none, the options' 0 the default
	}
	if p.CPUResolution == 0 {
		o.CPUResolution = -1 // likewise
	}
	if p.CPUResolution < 0 {
		errs = append(errs, errors.New("--prometheus-cpu-resolution must not be negative"))
	}
	if p.Timeout <= 0 || p.Step <= 0 || p.Concurrency <= 0 || p.Retries < 0 || p.MaxPoints <= 0 {
		errs = append(errs, errors.New("--prometheus-timeout, --prometheus-step, --prometheus-concurrency and --prometheus-max-points must be positive, --prometheus-retries not negative"))
	}
	// The parsers' errors name the header or parameter, never the value:
	// it may be a secret.
	for _, h := range p.Headers {
		k, v, err := ParseHeader(h)
		if err != nil {
			errs = append(errs, fmt.Errorf("--prometheus-header %w", err))
			continue
		}
		o.Headers.Add(k, v)
	}
	for _, kv := range p.Params {
		k, v, err := ParseParam(kv)
		if err != nil {
			errs = append(errs, fmt.Errorf("--prometheus-param %w", err))
			continue
		}
		o.Params.Add(k, v)
	}
	for _, set := range []struct {
		flag string
		kvs  []string
		keys []string
	}{{"--prometheus-metric", p.Metrics, MetricKeys()}, {"--prometheus-label", p.Labels, LabelKeys()}} {
		for _, kv := range set.kvs {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || !slices.Contains(set.keys, k) {
				errs = append(errs, fmt.Errorf("%s %q: want KEY=NAME with KEY one of %s", set.flag, kv, strings.Join(set.keys, ", ")))
				continue
			}
			if err := o.Names.SetName(k, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", set.flag, err))
			}
		}
	}
	if p.ClusterLabel != "" {
		// Checked against the label names set above; said here in terms
		// of the flag, and left out of the options when invalid so that
		// it is said once.
		n := o.Names
		n.ClusterLabel = p.ClusterLabel
		if err := n.validateClusterLabel(); err != nil {
			errs = append(errs, fmt.Errorf("--prometheus-cluster-label: %w", err))
		} else {
			o.Names = n
		}
	}
	if err := o.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: %w", withFlagNames(err)))
	}
	return o, errors.Join(errs...)
}

// optionFlags are the flags that set the collector's options, by option.
var optionFlags = map[string]string{
	"BearerTokenFile":    "--prometheus-bearer-token-file",
	"Username":           "--prometheus-username",
	"PasswordFile":       "--prometheus-password-file",
	"CAFile":             "--prometheus-ca-file",
	"CertFile":           "--prometheus-cert-file",
	"KeyFile":            "--prometheus-key-file",
	"InsecureSkipVerify": "--prometheus-insecure-skip-verify",
	"Headers":            "--prometheus-header",
}

// withFlagNames says a conflict between options and the HTTP client
// configuration file in terms of the flags that set them.
func withFlagNames(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var errs []error
		for _, e := range j.Unwrap() {
			errs = append(errs, withFlagNames(e))
		}
		return errors.Join(errs...)
	}
	var c *ConflictError
	if !errors.As(err, &c) {
		return err
	}
	var flags []string
	for _, o := range c.Options {
		f := optionFlags[o]
		if f == "" {
			f = o
		}
		if o == "Headers" {
			f += " " + strings.TrimPrefix(c.Setting, "header ")
		}
		flags = append(flags, f)
	}
	return fmt.Errorf("%s and --prometheus-http-config-file (%s) both set %s: give one", strings.Join(flags, ", "), c.Key, c.Setting)
}
