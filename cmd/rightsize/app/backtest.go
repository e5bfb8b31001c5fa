package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/report"
)

// BacktestOptions are the flags of `rightsize backtest`.
type BacktestOptions struct {
	sourceOptions
	Profiles []string
	Warmup   time.Duration
	Interval time.Duration
	Output   string
	Headroom bool
	Top      int
}

func allBacktestProfiles() []string {
	return append(append([]string{backtest.Current}, policy.Names()...), backtest.Oracle)
}

func newBacktestCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	def := backtest.DefaultOptions()
	o := &BacktestOptions{Profiles: allBacktestProfiles(), Warmup: def.Warmup, Interval: def.Interval, Output: "table", Headroom: true}
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Replay usage history through profiles and score them",
		Long: `backtest replays history as a controller applying a profile would have:
a decision every --interval after a --warmup, each seeing only the past, each
scored on the samples until the next one (see docs/backtest.md for the exact
figures: slack, insufficient, throttled, OOM episodes).

Profiles: ` + strings.Join(allBacktestProfiles(), ", ") + `.`,
		Example: `  rightsize backtest --input usage.csv.gz
  rightsize backtest --input usage.csv.gz --profile balanced,vpa,krr,oracle -o json
  rightsize backtest --input usage.csv.gz --profile balanced --top 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			log := g.logger(streams)
			src, err := o.source(log)
			if err != nil {
				return err
			}
			// The replay runs the profiles itself, decision after decision:
			// of the pipeline it takes the loaded history.
			data, err := load(cmd.Context(), &recommender.Pipeline{Source: src, Recommender: recommender.Recommender{Logger: log}}, streams)
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := backtest.Run(cmd.Context(), data.Store, o.Profiles, backtest.Options{Warmup: o.Warmup, Interval: o.Interval, Headroom: o.Headroom, PerContainer: o.Top > 0})
			if err != nil {
				return err
			}
			if o.Top > 0 {
				res = backtest.Top(res, o.Top)
			}
			log.Debug("backtest done", "took", time.Since(start))
			if o.Output == "json" {
				var v any = res
				if len(res) == 1 {
					v = res[0]
				}
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return fmt.Errorf("writing the backtest as json: %w", err)
				}
				// Container names come from the input: escape what a
				// terminal would act on.
				_, err = streams.Out.Write(append(report.EscapeJSON(b), '\n'))
				return err
			}
			if err := backtest.WriteTable(streams.Out, res); err != nil {
				return err
			}
			return backtest.WriteTop(streams.Out, res, o.Top)
		},
	}
	f := cmd.Flags()
	o.sourceOptions.addFlags(f)
	f.StringSliceVar(&o.Profiles, "profile", o.Profiles, "comma-separated profiles to compare")
	f.Var(cliflag.Duration(&o.Warmup), "warmup", "history seen before the first decision (W)")
	f.Var(cliflag.Duration(&o.Interval), "interval", "time between decisions (R)")
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: table|json")
	f.IntVar(&o.Top, "top", 0, "also list, per profile, the N containers with the most idle CPU and the N most often short (JSON: by_container)")
	f.BoolVar(&o.Headroom, "headroom", o.Headroom, "bound each profile's CPU slack by hindsight at its own risk (about half a second per profile on 100 containers × 3 weeks)")
	return cmd
}

// Validate checks the flags.
func (o *BacktestOptions) Validate() error {
	// A replay needs days of history: metrics-server sampling cannot give
	// it, so auto-detection never picks it here.
	if k := o.sourceOptions.kube; k != nil {
		switch {
		case k.Source == sourceMetricsServer:
			return fmt.Errorf("backtest needs days of history: use --input or --prometheus-url, not --source %s", sourceMetricsServer)
		case k.Source == sourceAuto && o.Input == "" && !o.prom.Enabled():
			k.Source = sourceDemo
		}
	}
	if err := o.sourceOptions.validate(); err != nil {
		return err
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q (want table or json)", o.Output)
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
			return err
		}
	}
	return nil
}
