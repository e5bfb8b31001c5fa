package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// sourceOptions choose where usage history comes from. Every command that
// reads history embeds them, so plan, backtest and report take the same
// flags.
type sourceOptions struct {
	Input string
	// End is the decision instant; zero means just after the newest sample
	// (files) or now (live sources).
	End time.Time
	// History is the window read from live sources.
	History time.Duration
	// accept bounds what a usage file may hold; rows outside are skipped.
	accept usagecsv.Options

	prom promFlags
	kube *kubeFlags
	// now is the clock usage files are checked against; nil means the
	// wall clock.
	now func() time.Time
}

func (s *sourceOptions) addFlags(fs *pflag.FlagSet) {
	if s.History == 0 {
		s.History = 14 * 24 * time.Hour
	}
	if s.accept.MaxCPU == 0 {
		s.accept = usagecsv.DefaultOptions()
	}
	fs.StringVar(&s.Input, "input", "", "usage CSV file (plain or gzip; see docs/usage-csv.md); default: the embedded demo data")
	fs.Var(timeValue{&s.End}, "end", "decide as of this instant (RFC 3339); default: just after the newest sample of a file, now for live sources")
	fs.Var(durationValue{&s.History}, "history", "length of the history window read from live sources")
	fs.Var(timeValue{&s.accept.Since}, "accept-since", "skip usage-file rows older than this instant (RFC 3339)")
	fs.Var(durationValue{&s.accept.Future}, "accept-future", "skip usage-file rows more than this far after the clock")
	fs.Var(coresValue{&s.accept.MaxCPU}, "accept-max-cpu", "skip usage-file rows with CPU usage, request or limit above this many cores")
	fs.Var(bytesValue{&s.accept.MaxMemory}, "accept-max-memory", "skip usage-file rows with memory usage, request or limit above this many bytes (a quantity: 1Pi, 512Gi)")
	s.prom.addFlags(fs)
	s.kube = newKubeFlags()
	s.kube.addFlags(fs)
}

func (s *sourceOptions) validate() error {
	var errs []error
	if s.History <= 0 {
		errs = append(errs, errors.New("--history must be positive"))
	}
	// The CPU and memory bounds are positive by their flags' parsing.
	if o := s.readerOptions(); o.Future < 0 {
		errs = append(errs, errors.New("--accept-future must not be negative"))
	} else if o.Validate() != nil {
		errs = append(errs, fmt.Errorf("--accept-since %s is not before now + --accept-future", o.Since.Format(time.RFC3339)))
	}
	if s.Input != "" && s.prom.enabled() {
		errs = append(errs, errors.New("--input and --prometheus-url exclude each other"))
	}
	errs = append(errs, s.prom.validate())
	if s.kube != nil {
		errs = append(errs, s.kube.validate(s.Input != "", s.prom.enabled()))
	}
	return errors.Join(errs...)
}

// usageData is history loaded for one run.
type usageData struct {
	name  string
	demo  bool
	store *history.Store
	// specs are pod templates where the source knows them.
	specs map[workload.Key]workload.Spec
	// summary is the one line said on stderr about the data.
	summary string
	// warnings are further lines for stderr (skipped chunks, missing
	// permissions).
	warnings []string
	// cluster holds what a cluster adds (specs, LimitRanges, quotas, VPAs,
	// HPAs); nil without one.
	cluster *clusterData
}

// load reads the history the flags ask for: a file, Prometheus,
// metrics-server samples or the demo data, plus the cluster's specs and
// bounds where a cluster is configured.
func (s *sourceOptions) load(ctx context.Context, streams IOStreams, log *slog.Logger) (*usageData, error) {
	d, cd, err := loadSource(ctx, s, s.kube, streams, log)
	if err != nil {
		return nil, err
	}
	d.cluster = cd
	return d, nil
}

// readerOptions are the bounds a usage file is read with: the --accept
// flags, or the defaults when the flags were never registered.
func (s *sourceOptions) readerOptions() usagecsv.Options {
	o := s.accept
	if o.MaxCPU == 0 {
		o = usagecsv.DefaultOptions()
	}
	o.Now = s.now
	return o
}

// loadUsageWith reads a usage CSV file, or the embedded demo data when path
// is empty, skipping rows outside the bounds of o.
func loadUsageWith(path string, o usagecsv.Options) (*usageData, error) {
	var r io.Reader
	d := &usageData{name: path}
	if path == "" {
		r, d.name, d.demo = demo.Open(), demo.Name, true
		// The demo's instants are fixed when it is generated: a machine
		// whose clock is behind them must still show it.
		o.Future = math.MaxInt64
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening usage file: %w", err)
		}
		defer f.Close()
		r = f
	}
	var stats usagecsv.Stats
	var err error
	if d.store, stats, err = o.Load(r, d.name); err != nil {
		return nil, err
	}
	if d.store.Samples() == 0 {
		return nil, fmt.Errorf("%s: no usable samples (%s)", d.name, stats)
	}
	if d.demo {
		d.summary = "using " + demo.Description + " (no --input given); " + stats.String()
	} else {
		d.summary = d.name + ": " + stats.String()
	}
	return d, nil
}

// report writes the summary and warnings to stderr.
func (d *usageData) report(w io.Writer) {
	fmt.Fprintln(w, d.summary)
	for _, l := range d.warnings {
		fmt.Fprintln(w, "warning:", l)
	}
}
