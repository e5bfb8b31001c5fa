package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/completion"
	"rightsize.dev/rightsize/metrics/source"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/report"
)

// BacktestOptions are the flags of `rightsize backtest`.
type BacktestOptions struct {
	source.Flags
	Profiles []string
	Warmup   time.Duration
	Interval time.Duration
	Output   string
	Headroom bool
	Top      int
	// HPA switches to the HPA replay (backtest --hpa); HPAStartUp and
	// HPASync configure its simulated controller.
	HPA        bool
	HPAStartUp time.Duration
	HPASync    time.Duration
	format     report.Format
}

// hpaOutput is what backtest --hpa writes.
var hpaOutput = report.Formats{Noun: "output", List: []report.Format{report.Table, report.JSON, report.YAML, report.CSV}}

// backtestSources are the values of backtest's --source: metrics-server
// sampling cannot give days of history.
var backtestSources = slices.DeleteFunc(slices.Clone(source.Names), func(s string) bool { return s == source.MetricsServer })

func allBacktestProfiles() []string {
	return append(append([]string{backtest.Current}, policy.Names()...), backtest.Oracle)
}

func newBacktestCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	def := backtest.DefaultOptions()
	o := &BacktestOptions{Profiles: allBacktestProfiles(), Warmup: def.Warmup, Interval: def.Interval, Output: "table", Headroom: true,
		HPAStartUp: hpa.DefaultReplay.StartUp, HPASync: hpa.DefaultReplay.Sync}
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Replay usage history through profiles and score them",
		Long: `backtest replays history as a controller applying a profile would have:
a decision every --interval after a --warmup, each seeing only the past, each
scored on the samples until the next one (see docs/backtest.md for the exact
figures: slack, insufficient, throttled, OOM episodes).

Profiles: ` + strings.Join(allBacktestProfiles(), ", ") + `.

With --hpa it backtests the HPA recommendation instead: each scalable
workload's history is split at its midpoint, the HPA and pod CPU request are
recommended from the first half, and the second half is replayed with the
current setup, the R10/R11 defaults and the recommendation side by side
(replica-hours, core-hours, saturated and above-target time, scaling events).`,
		Example: `  rightsize backtest --input usage.csv.gz
  rightsize backtest --input usage.csv.gz --profile balanced,vpa,krr,oracle -o json
  rightsize backtest --input usage.csv.gz --profile balanced --top 5
  rightsize backtest --input usage.csv.gz --hpa -o csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			log := g.logger(streams)
			src, err := o.Open(log)
			if err != nil {
				return err
			}
			// The replay runs the profiles itself, decision after decision:
			// of the pipeline it takes the loaded history.
			data, err := load(cmd.Context(), &recommender.Pipeline{Source: src, Recommender: recommender.Recommender{Logger: log}}, streams)
			if err != nil {
				return err
			}
			if o.HPA {
				return o.runHPA(cmd.Context(), streams, data)
			}
			start := time.Now()
			res, err := backtest.Run(cmd.Context(), data.Store, o.Profiles, backtest.Options{Warmup: o.Warmup, Interval: o.Interval, Headroom: o.Headroom, PerContainer: o.Top > 0})
			if err != nil {
				return err
			}
			if len(res) > 0 && res[0].Decisions == 0 {
				first, last := data.Store.Span()
				return fmt.Errorf("0 decisions: the history spans %s, the warm-up is %s and a decision comes every %s; try --warmup 1h --interval 1h",
					cliflag.FormatDuration(last.Sub(first).Round(time.Minute)), cliflag.FormatDuration(o.Warmup), cliflag.FormatDuration(o.Interval))
			}
			if o.Top > 0 {
				res = backtest.Top(res, o.Top)
			}
			log.Debug("backtest done", "took", time.Since(start))
			if o.Output == "json" {
				if len(res) == 1 {
					return report.WriteJSON(streams.Out, res[0])
				}
				return report.WriteJSON(streams.Out, res)
			}
			if err := backtest.WriteTable(streams.Out, res); err != nil {
				return err
			}
			return backtest.WriteTop(streams.Out, res, o.Top)
		},
	}
	f := cmd.Flags()
	o.Flags.AddFlags(f)
	f.StringSliceVar(&o.Profiles, "profile", o.Profiles, "comma-separated profiles to compare")
	f.Var(cliflag.Duration(&o.Warmup), "warmup", "history seen before the first decision (W)")
	f.Var(cliflag.Duration(&o.Interval), "interval", "time between decisions (R)")
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: table|json (with --hpa also yaml|csv)")
	f.BoolVar(&o.HPA, "hpa", false, "backtest the HPA recommendation: recommend from the first half of each workload's history, replay the second (docs/backtest.md)")
	f.Var(cliflag.Duration(&o.HPAStartUp), "hpa-startup", "with --hpa: the time a new pod needs to become ready")
	f.Var(cliflag.Duration(&o.HPASync), "hpa-sync", "with --hpa: the HPA controller's sync period")
	f.StringVar(&o.HPAFile, "hpa-file", "", "with --hpa: read the workloads' current HorizontalPodAutoscalers from this `file` (as plan --hpa does), replayed as the current setup")
	f.IntVar(&o.Top, "top", 0, "also list, per profile, the N containers with the most idle CPU and the N most often short (JSON: by_container)")
	f.BoolVar(&o.Headroom, "headroom", o.Headroom, "bound each profile's CPU slack by hindsight at its own risk (about half a second per profile on 100 containers × 3 weeks)")
	registerCompletions(cmd, o.Cluster.ConfigFlags, completions{
		"profile": completion.List(allBacktestProfiles()...), "output": completion.OneOf(hpaOutput.List), "source": fixed(backtestSources...)})
	return cmd
}

// Validate checks the flags.
func (o *BacktestOptions) Validate() error {
	// A replay needs days of history: metrics-server sampling cannot give
	// it, so auto-detection never picks it here.
	if o.Cluster != nil {
		switch {
		case o.Source == source.MetricsServer:
			return fmt.Errorf("backtest needs days of history: use --input or --prometheus-url, not --source %s", source.MetricsServer)
		case o.Source == source.Auto && o.Input == "" && !o.Prometheus.Enabled():
			o.Source = source.Demo
		}
	}
	if err := o.Flags.Validate(); err != nil {
		return err
	}
	// The figures score against the samples read, the steps' means: the
	// recommendations are read at the same resolution.
	o.Prometheus.MeansByDefault()
	if o.HPAFile != "" && !o.HPA {
		return errors.New("--hpa-file needs --hpa")
	}
	if o.HPA {
		return o.validateHPA()
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q (want table or json; yaml and csv with --hpa)", o.Output)
	}
	if o.Interval <= 0 {
		return fmt.Errorf("--interval must be positive")
	}
	// Samples and decision times are kept to the millisecond.
	if o.Interval%time.Millisecond != 0 || o.Warmup%time.Millisecond != 0 {
		return fmt.Errorf("--interval and --warmup must be whole milliseconds")
	}
	if o.Top < 0 {
		return fmt.Errorf("--top must not be negative")
	}
	if o.Warmup < 0 {
		return fmt.Errorf("--warmup must not be negative")
	}
	if len(o.Profiles) == 0 {
		return fmt.Errorf("--profile names no profile")
	}
	for _, p := range o.Profiles {
		if p == backtest.Current || p == backtest.Oracle {
			continue
		}
		if _, err := policy.ByName(p); err != nil {
			return fmt.Errorf("unknown profile %q (known: %s)", p, strings.Join(allBacktestProfiles(), ", "))
		}
	}
	return nil
}

// validateHPA checks the flags of backtest --hpa.
func (o *BacktestOptions) validateHPA() error {
	var err error
	if o.format, err = hpaOutput.Parse(o.Output); err != nil {
		return err
	}
	// The replay keeps time to the millisecond.
	if o.HPASync < time.Second || o.HPASync%time.Millisecond != 0 {
		return fmt.Errorf("--hpa-sync must be at least 1s and whole milliseconds (got %s)", o.HPASync)
	}
	if o.HPAStartUp < 0 || o.HPAStartUp%time.Millisecond != 0 || o.HPAStartUp > 24*time.Hour {
		return fmt.Errorf("--hpa-startup must be between 0 and 24h, whole milliseconds (got %s)", o.HPAStartUp)
	}
	return nil
}

// runHPA backtests the HPA recommendation on the loaded data.
func (o *BacktestOptions) runHPA(ctx context.Context, streams IOStreams, data *recommender.Data) error {
	ho := backtest.HPAOptions{HPAs: data.HPAs, Known: data.HPAsKnown, Critical: data.CriticalKeys(), Recommend: hpa.DefaultOptions}
	ho.Recommend.Replay.StartUp, ho.Recommend.Replay.Sync = o.HPAStartUp, o.HPASync
	rep, err := backtest.HPABacktest(ctx, data.Store, ho)
	if err != nil {
		return err
	}
	switch o.format {
	case report.CSV:
		return backtest.WriteHPACSV(streams.Out, rep)
	case report.JSON:
		return report.WriteJSON(streams.Out, rep)
	case report.YAML:
		return report.WriteYAML(streams.Out, rep)
	}
	return backtest.WriteHPATable(streams.Out, rep)
}
