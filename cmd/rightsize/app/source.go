package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/metrics/hpafile"
	"rightsize.dev/rightsize/metrics/prometheus"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender"
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

	// HPAFile is an HPA file (kubectl get hpa -o yaml) whose HPAs replace
	// the source's; empty for none. Only commands that register --hpa
	// (addHPAFlag) set it.
	HPAFile string

	prom prometheus.Flags
	kube *kubeFlags
	// now is the clock usage files are checked against; nil means the
	// wall clock.
	now func() time.Time
	// controller is set for plan, whose --source may also be controller
	// (addControllerSource).
	controller bool
}

func (s *sourceOptions) addFlags(fs *pflag.FlagSet) {
	if s.History == 0 {
		s.History = 14 * 24 * time.Hour
	}
	if s.accept.MaxCPU == 0 {
		s.accept = usagecsv.DefaultOptions()
	}
	fs.StringVar(&s.Input, "input", "", "usage CSV file (plain or gzip; see docs/usage-csv.md); default: the embedded demo data")
	fs.Var(cliflag.Time(&s.End), "end", "decide as of this instant (RFC 3339); default: just after the newest sample of a file, now for live sources")
	fs.Var(cliflag.Duration(&s.History), "history", "length of the history window read from live sources")
	fs.Var(cliflag.Time(&s.accept.Since), "accept-since", "skip usage-file rows older than this instant (RFC 3339)")
	fs.Var(cliflag.Duration(&s.accept.Future), "accept-future", "skip usage-file rows more than this far after the clock")
	fs.Var(cliflag.Cores(&s.accept.MaxCPU), "accept-max-cpu", "skip usage-file rows with CPU usage, request or limit above this many cores")
	fs.BoolVar(&s.accept.Strict, "strict", false, "fail on the first usage-file row that would be skipped (an unknown kind, an invalid name, a value or timestamp out of bounds), naming its line and why; unparsable values always fail")
	fs.Var(cliflag.Bytes(&s.accept.MaxMemory), "accept-max-memory", "skip usage-file rows with memory usage, request or limit above this many bytes (a quantity: 1Pi, 512Gi)")
	s.prom.AddFlags(fs)
	s.kube = newKubeFlags()
	s.kube.addFlags(fs)
}

// addHPAFlag registers --hpa: backtest, whose --hpa selects its HPA
// replay, does not take it.
func (s *sourceOptions) addHPAFlag(fs *pflag.FlagSet) {
	fs.StringVar(&s.HPAFile, "hpa", "", "read the workloads' HorizontalPodAutoscalers from this `file` (YAML or JSON, e.g. kubectl get hpa -A -o yaml), replacing those a cluster or kube-state-metrics reports; objects it cannot read are skipped with a warning")
}

// sourceController is the value of plan's --source that reads the plans
// the rightsize controller published rather than a usage source.
const sourceController = "controller"

// addControllerSource lets --source, registered by addFlags, be
// controller: plan alone takes it.
func (s *sourceOptions) addControllerSource(fs *pflag.FlagSet) {
	s.controller = true
	f := fs.Lookup("source")
	f.Usage = "usage source: " + strings.Join(append(slices.Clone(sources), sourceController), "|") +
		"; auto picks --input, then --prometheus-url, then a configured cluster (metrics-server), then the demo data; " +
		"controller reads the Recommendations the rightsize controller published in the cluster (-n, -A; -l on their labels) instead of any history"
}

// fromController tells whether --source is controller.
func (s *sourceOptions) fromController() bool {
	return s.controller && s.kube != nil && s.kube.Source == sourceController
}

// validateSource checks --source alone: one of the usage sources, or
// controller where it is taken.
func (s *sourceOptions) validateSource() error {
	if s.kube == nil || slices.Contains(sources, s.kube.Source) || s.fromController() {
		return nil
	}
	known := sources
	if s.controller {
		known = append(slices.Clone(sources), sourceController)
	}
	return fmt.Errorf("--source %q: want one of %s", s.kube.Source, strings.Join(known, ", "))
}

// controllerTakes are the flags --source controller takes besides the
// cluster's: which plans to read (-A, -l), where to write them (the
// command's own, given by the caller) and --source itself.
var controllerTakes = []string{"source", "all-namespaces", "selector"}

// validateController refuses the flags set on fs that --source controller
// has no use for: those that feed the pipeline (history, files,
// Prometheus, sampling, the HPA file, the profile, --critical…), which
// the controller ran with its own. It takes the cluster flags, those in
// controllerTakes and also.
func validateController(fs *pflag.FlagSet, also ...string) error {
	cf := pflag.NewFlagSet("cluster", pflag.ContinueOnError)
	cluster.NewFlags().ConfigFlags.AddFlags(cf)
	var refused []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed && cf.Lookup(f.Name) == nil && !slices.Contains(controllerTakes, f.Name) && !slices.Contains(also, f.Name) {
			refused = append(refused, "--"+f.Name)
		}
	})
	switch len(refused) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("--source controller writes the plans the rightsize controller made from its own history, profile and settings: %s does not apply", refused[0])
	}
	return fmt.Errorf("--source controller writes the plans the rightsize controller made from its own history, profile and settings: %s do not apply", strings.Join(refused, ", "))
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
	if s.Input != "" && s.prom.Enabled() {
		errs = append(errs, errors.New("--input and --prometheus-url exclude each other"))
	}
	errs = append(errs, s.prom.Validate())
	if s.kube != nil {
		errs = append(errs, s.kube.validate(s.Input != "", s.prom.Enabled()))
	}
	return errors.Join(errs...)
}

// source returns the usage source the flags choose: a file, Prometheus
// (with a configured cluster's specs and bounds), metrics-server sampled
// into the state store, or the demo data.
func (s *sourceOptions) source(log *slog.Logger) (recommender.Source, error) {
	src, err := s.usageSource(log)
	if err != nil || s.HPAFile == "" {
		return src, err
	}
	return hpafile.Source{Source: src, Path: s.HPAFile}, nil
}

// usageSource is source without the HPA file.
func (s *sourceOptions) usageSource(log *slog.Logger) (recommender.Source, error) {
	k := s.kube
	if k == nil {
		// No cluster flags registered: no cluster, whatever the environment.
		k = newKubeFlags()
		k.Getenv = func(string) string { return "" }
	}
	src, err := k.choose(s.Input != "", s.prom.Enabled())
	if err != nil {
		return nil, err
	}
	switch src {
	case sourcePrometheus:
		o, err := s.prom.Options()
		if err != nil {
			return nil, err
		}
		o.End, o.History = s.End, s.History
		if o.End.IsZero() {
			o.End = time.Now()
		}
		var usage recommender.Source = prometheus.Source{Options: o, Log: log}
		if !k.Configured() {
			return usage, nil
		}
		// Prometheus supplies the history, the cluster the specs.
		c, err := k.Config(log)
		if err != nil {
			return nil, err
		}
		return cluster.WithSpecs{Usage: usage, Cluster: c}, nil
	case sourceMetricsServer:
		return k.MetricsServer(log)
	case sourceDemo:
		return demo.Source{Options: s.readerOptions()}, nil
	default: // sourceFile: choose made sure there is an --input
		return usagecsv.File{Path: s.Input, Options: s.readerOptions(), Log: log}, nil
	}
}

// load runs the pipeline's first step with the one progress bar a run
// draws on stderr, then says what was loaded and what was skipped.
func load(ctx context.Context, p *recommender.Pipeline, streams IOStreams) (*recommender.Data, error) {
	if prometheusSource(p.Source) {
		paceMemory(ctx, os.Getenv)
	}
	bar := &progress.Bar{W: streams.ErrOut, Interactive: writerIsTerminal(streams.ErrOut)}
	p.Progress = bar.Func()
	d, err := p.Load(ctx)
	bar.Finish()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(streams.ErrOut, d.Summary)
	for _, l := range d.Warnings {
		fmt.Fprintln(streams.ErrOut, "warning:", l)
	}
	return d, nil
}

// prometheusSource tells whether the history comes from Prometheus, whose
// runs hold many samples at once (see paceMemory).
func prometheusSource(s recommender.Source) bool {
	switch s := s.(type) {
	case prometheus.Source:
		return true
	case cluster.WithSpecs:
		return prometheusSource(s.Usage)
	case hpafile.Source:
		return prometheusSource(s.Source)
	}
	return false
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

// noArgs refuses positional arguments as a usage error (exit 2), as every
// other mistake on the command line is.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}
