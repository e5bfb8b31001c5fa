package source

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/memlimit"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/metrics/hpafile"
	"rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/livestate"
)

// The values of --source.
const (
	Auto          = "auto"
	File          = "file"
	Prometheus    = "prometheus"
	MetricsServer = "metrics-server"
	Demo          = "demo"
)

// Names are the values of --source, auto first.
var Names = []string{Auto, File, Prometheus, MetricsServer, Demo}

// AutoUsage says how --source auto chooses.
const AutoUsage = "auto picks --input, then --prometheus-url, then a configured cluster (metrics-server), then the demo data"

// Flags choose where usage history comes from.
type Flags struct {
	Input string
	// End is the decision instant; zero means just after the newest sample
	// (files) or now (live sources).
	End time.Time
	// History is the window read from live sources.
	History time.Duration
	// Accept bounds what a usage file may hold; rows outside are skipped.
	Accept usagecsv.Options

	// HPAFile is an HPA file (kubectl get hpa -o yaml) whose HPAs replace
	// the source's; empty for none. Only commands that register --hpa
	// (AddHPAFlag) set it.
	HPAFile string

	Prometheus prometheus.Flags
	// Cluster are the cluster flags; nil when they were never registered:
	// then no cluster is read, whatever the environment.
	Cluster *cluster.Flags
	// Source is --source, one of Names; without Cluster it is auto.
	Source string
	// Now is the clock usage files are checked against; nil means the
	// wall clock.
	Now func() time.Time
	// Sketches, when set, reads a usage file or Prometheus into sketches
	// with these options (usagecsv.File.Sketches, prometheus.Source.Sketches);
	// plan's and report's --bounded-memory set it.
	Sketches *livestate.Options
}

// AddFlags registers the flags of every source on fs: the usage file's,
// Prometheus', the cluster's, --source and --state-dir.
func (s *Flags) AddFlags(fs *pflag.FlagSet) {
	if s.History == 0 {
		s.History = 14 * 24 * time.Hour
	}
	if s.Accept.MaxCPU == 0 {
		s.Accept = usagecsv.DefaultOptions()
	}
	fs.StringVar(&s.Input, "input", "", "usage CSV file (plain or gzip; see docs/usage-csv.md); default: the embedded demo data")
	fs.Var(cliflag.Time(&s.End), "end", "decide as of this instant (RFC 3339); default: just after the newest sample of a file, now for live sources")
	fs.Var(cliflag.Duration(&s.History), "history", "length of the history window read from live sources")
	fs.Var(cliflag.Time(&s.Accept.Since), "accept-since", "skip usage-file rows older than this instant (RFC 3339)")
	fs.Var(cliflag.Duration(&s.Accept.Future), "accept-future", "skip usage-file rows more than this far after the clock")
	fs.Var(cliflag.Cores(&s.Accept.MaxCPU), "accept-max-cpu", "skip usage-file rows with CPU usage, request or limit above this many cores")
	fs.BoolVar(&s.Accept.Strict, "strict", false, "fail on the first usage-file row that would be skipped (an unknown kind, an invalid name, a value or timestamp out of bounds), naming its line and why; unparsable values always fail")
	fs.Var(cliflag.Bytes(&s.Accept.MaxMemory), "accept-max-memory", "skip usage-file rows with memory usage, request or limit above this many bytes (a quantity: 1Pi, 512Gi)")
	fs.StringSliceVar(&s.Accept.Clusters, "clusters", nil, "read only these clusters' workloads, comma-separated: a usage file's cluster column; with --prometheus-cluster-label, the store's label (\"\" for rows of no named cluster)")
	s.Prometheus.AddFlags(fs)
	s.Prometheus.AddClusterFlag(fs)
	s.Cluster, s.Source = cluster.NewFlags(), Auto
	s.Cluster.AddFlags(fs)
	fs.StringVar(&s.Source, "source", s.Source, "usage source: "+strings.Join(Names, "|")+"; "+AutoUsage)
}

// KeepSketches makes a usage file or Prometheus read into sketches kept
// with a profile's history options (plan's --bounded-memory) instead of
// samples.
func (s *Flags) KeepSketches(h history.Options) { s.Sketches = &livestate.Options{History: h} }

// AddHPAFlag registers --hpa: backtest, whose --hpa selects its HPA
// replay, does not take it.
func (s *Flags) AddHPAFlag(fs *pflag.FlagSet) {
	fs.StringVar(&s.HPAFile, "hpa", "", "read the workloads' HorizontalPodAutoscalers from this `file` (YAML or JSON, e.g. kubectl get hpa -A -o yaml), replacing those a cluster or kube-state-metrics reports; objects it cannot read are skipped with a warning")
}

// Validate checks the flags against each other.
func (s *Flags) Validate() error {
	var errs []error
	if s.History <= 0 {
		errs = append(errs, errors.New("--history must be positive"))
	}
	// The CPU and memory bounds are positive by their flags' parsing.
	if o := s.ReaderOptions(); o.Future < 0 {
		errs = append(errs, errors.New("--accept-future must not be negative"))
	} else if o.Validate() != nil {
		errs = append(errs, fmt.Errorf("--accept-since %s is not before now + --accept-future", o.Since.Format(time.RFC3339)))
	}
	if s.Input != "" && s.Prometheus.Enabled() {
		errs = append(errs, errors.New("--input and --prometheus-url exclude each other"))
	}
	if len(s.Accept.Clusters) > 0 && s.Prometheus.Enabled() && s.Prometheus.ClusterLabel == "" {
		errs = append(errs, errors.New("--clusters needs --prometheus-cluster-label with --prometheus-url: the label that tells the store's clusters apart"))
	}
	errs = append(errs, s.Prometheus.Validate())
	if s.Cluster != nil {
		_, err := s.Choose()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Choose resolves --source against the other flags: auto picks --input,
// then --prometheus-url, then a configured cluster, then the demo data.
func (s *Flags) Choose() (string, error) {
	k, src := s.Cluster, s.Source
	if k == nil {
		// No cluster flags registered: no cluster, whatever the environment.
		k, src = cluster.NewFlags(), Auto
		k.Getenv = func(string) string { return "" }
	}
	hasInput, hasProm := s.Input != "", s.Prometheus.Enabled()
	var errs []error
	if k.Duration < 0 {
		errs = append(errs, errors.New("--duration must not be negative"))
	}
	if k.Interval <= 0 {
		errs = append(errs, errors.New("--interval must be positive"))
	}
	switch src {
	case Auto:
		switch {
		case hasInput:
			src = File
		case hasProm:
			src = Prometheus
		case k.Configured():
			src = MetricsServer
		default:
			src = Demo
		}
	case File:
		if !hasInput {
			errs = append(errs, errors.New("--source file needs --input"))
		}
	case Prometheus:
		if !hasProm {
			errs = append(errs, errors.New("--source prometheus needs --prometheus-url"))
		}
	case MetricsServer, Demo:
		if hasInput {
			errs = append(errs, fmt.Errorf("--source %s and --input exclude each other", src))
		}
	default:
		errs = append(errs, fmt.Errorf("--source %q: want one of %s", src, strings.Join(Names, ", ")))
	}
	return src, errors.Join(errs...)
}

// Open returns the usage source the flags choose: a file, Prometheus
// (with a configured cluster's specs and bounds), metrics-server sampled
// into the state store, or the demo data; with --hpa, its HPAs replaced by
// the file's.
func (s *Flags) Open(log *slog.Logger) (recommender.Source, error) {
	src, err := s.usage(log)
	if err != nil || s.HPAFile == "" {
		return src, err
	}
	return hpafile.Source{Source: src, Path: s.HPAFile}, nil
}

// usage is Open without the HPA file.
func (s *Flags) usage(log *slog.Logger) (recommender.Source, error) {
	src, err := s.Choose()
	if err != nil {
		return nil, err
	}
	switch src {
	case Prometheus:
		o, err := s.Prometheus.Options()
		if err != nil {
			return nil, err
		}
		o.End, o.History = s.End, s.History
		if o.End.IsZero() {
			o.End = time.Now()
		}
		o.Clusters = s.Accept.Clusters
		var usage recommender.Source = prometheus.Source{Options: o, Log: log, Sketches: s.Sketches}
		// With a cluster label the store holds several clusters: their
		// specs and HPAs come from each one's kube-state-metrics, not from
		// the one cluster configured here, whose keys name no cluster.
		if s.Cluster == nil || !s.Cluster.Configured() || o.Names.ClusterLabel != "" {
			return usage, nil
		}
		// Prometheus supplies the history, the cluster the specs.
		c, err := s.Cluster.Config(log)
		if err != nil {
			return nil, err
		}
		return cluster.WithSpecs{Usage: usage, Cluster: c}, nil
	case MetricsServer:
		// Choose picks metrics-server only with the cluster flags.
		return s.Cluster.MetricsServer(log)
	case Demo:
		return demo.Source{Options: s.ReaderOptions()}, nil
	default: // File: Choose made sure there is an --input
		f := usagecsv.File{Path: s.Input, Options: s.ReaderOptions(), Log: log, Sketches: s.Sketches}
		if f.Sketches != nil && !s.End.IsZero() {
			// Sketches cannot leave out the rows after --end as a plan
			// from samples does: they are not taken in.
			lo := *f.Sketches
			lo.Until = s.End
			f.Sketches = &lo
		}
		return f, nil
	}
}

// ReaderOptions are the bounds a usage file is read with: the --accept
// flags, or the defaults when the flags were never registered.
func (s *Flags) ReaderOptions() usagecsv.Options {
	o := s.Accept
	if o.MaxCPU == 0 {
		o = usagecsv.DefaultOptions()
	}
	o.Now = s.Now
	return o
}

// HeapPacing tells whether loading s should keep the heap near what is
// live (memlimit.FollowLiveHeap), and how near: Prometheus, whose answers
// are decoded whole, alone or under a cluster's specs or an HPA file, at
// the default headroom, into sketches (--bounded-memory) too; a usage file
// read into sketches, whose point is little memory, at the tight one.
// Prometheus' answers come and go by gigabytes: at the tight headroom a
// 20,000-container reading took a tenth less memory for a sixth to a
// third more of rightsize's CPU.
func HeapPacing(s recommender.Source) (memlimit.Headroom, bool) {
	switch s := s.(type) {
	case prometheus.Source:
		return memlimit.Default, true
	case usagecsv.File:
		return memlimit.Tight, s.Sketches != nil
	case cluster.WithSpecs:
		return HeapPacing(s.Usage)
	case hpafile.Source:
		return HeapPacing(s.Source)
	}
	return memlimit.Headroom{}, false
}
