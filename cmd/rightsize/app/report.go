package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/completion"
	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/metrics/source"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
	"rightsize.dev/rightsize/report/cost"
	"rightsize.dev/rightsize/report/pricing"
)

// ReportOptions are the flags of `rightsize report`.
type ReportOptions struct {
	source.Flags
	Period         time.Duration
	Format         string
	Out            string
	Title          string
	Prices         pricing.Flags
	GroupByLabel   string
	Profile        string
	Critical       []string
	WebhookURLFile string
	// BoundedMemory reads a usage file or Prometheus into sketches and
	// meters the costs as the samples pass, instead of keeping them.
	BoundedMemory bool

	format   report.Format
	profile  policy.Profile
	critical map[workload.Key]bool
	flags    *pflag.FlagSet
	// now is the wall clock, the end of the period for live sources.
	now func() time.Time
	// client posts to the webhook.
	client *http.Client
}

func newReportCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	o := &ReportOptions{
		Period: 7 * 24 * time.Hour, Title: cost.DefaultTitle, Profile: policy.DefaultName,
		now: time.Now, client: &http.Client{Timeout: 30 * time.Second},
	}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the weekly cost report: cost, idle, savings and risks",
		Long: `report prices what the containers requested and used over the last --period,
how much of it sat idle and what applying the recommendations would save, per
namespace, per team (--group-by-label) and per workload, with the change from
the period before (read from the same history). It lists the top savings, the
risks (OOM kills, throttling, usage above requests, missing requests or limits,
BestEffort pods), the QoS classes, HPA coverage and suggestions, and what had
too little history (see docs/report.md).

The period ends at --end; without it, at the newest sample of a file rounded
up to the full hour, or now for live sources. Prices default to OpenCost's
list prices; --pricing reads a YAML file with per-namespace and per-node-pool
overrides. Formats: markdown (default), html (one self-contained page with
charts), csv and json; --out picks the format from its extension.`,
		Example: `  rightsize report
  rightsize report --input usage.csv.gz --out weekly.html
  rightsize report --pricing pricing.yaml --group-by-label team --format json
  rightsize report --webhook-url-file /etc/rightsize/webhook/url --out /reports/cost-{end}.html`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			return o.Run(cmd.Context(), streams, g)
		},
	}
	f := cmd.Flags()
	o.flags = f
	o.Flags.AddFlags(f)
	o.AddHPAFlag(f)
	f.Var(cliflag.Duration(&o.Period), "period", "length of the report period (the previous period, for the change, is as long)")
	f.StringVar(&o.Format, "format", "", "report format: markdown|html|csv|json (default: from --out's extension, else markdown)")
	f.StringVar(&o.Out, "out", "", "write the report to this file instead of stdout; {end} in the name becomes the period's end date")
	f.StringVar(&o.Title, "title", o.Title, "title of the report (e.g. the cluster's name)")
	o.Prices.AddFlags(f)
	f.StringVar(&o.GroupByLabel, "group-by-label", "", "break costs down by team: the value of this workload label")
	f.StringVar(&o.Profile, "profile", o.Profile, "recommendation profile for the savings: "+strings.Join(policy.Names(), ", "))
	f.StringArrayVar(&o.Critical, "critical", nil, "mark a workload critical (R8: Guaranteed), as NAMESPACE/KIND/NAME (NAMESPACE/KIND/NAME@CLUSTER where several clusters are read); repeatable")
	f.BoolVar(&o.BoundedMemory, "bounded-memory", false, "with --input or --prometheus-url: keep each container's history in sketches and meter the costs as the samples pass, instead of keeping every sample: memory grows with the containers, not the rows or the history; the savings and the change from the previous period come from plans within a few percent of the samples' (not for krr); a usage file is read twice without --end, to find its newest sample; samples that recorded no requests are priced without the pod template's")
	f.StringVar(&o.WebhookURLFile, "webhook-url-file", "", "also post the Markdown report to the Slack/Mattermost-compatible webhook whose URL this file holds")
	registerCompletions(cmd, o.Cluster.ConfigFlags, completions{
		"profile": profiles(), "format": completion.OneOf(report.CostOutput.List), "source": fixed(source.Names...)})
	return cmd
}

// Validate checks the flags and resolves them.
func (o *ReportOptions) Validate() error {
	if err := o.Flags.Validate(); err != nil {
		return err
	}
	var errs []error
	if o.Period <= 0 {
		errs = append(errs, errors.New("--period must be positive"))
	}
	// Live sources must read both periods.
	if o.flags == nil || !o.flags.Changed("history") {
		o.History = max(o.History, 2*o.Period)
	}
	var err error
	o.format, err = cost.OutputFormat(o.Format, o.Out)
	errs = append(errs, err)
	o.profile, err = policy.ByName(o.Profile)
	errs = append(errs, err)
	errs = append(errs, o.Prices.Validate())
	o.critical, err = cliflag.WorkloadKeys("--critical", o.Critical)
	errs = append(errs, err)
	if o.BoundedMemory {
		switch {
		case o.Input == "" && !o.Prometheus.Enabled():
			errs = append(errs, errors.New("--bounded-memory reads a usage file or Prometheus: give --input or --prometheus-url"))
		case o.profile.WindowQuantile():
			errs = append(errs, fmt.Errorf("--bounded-memory: profile %s takes a quantile of the exact window, which sketches do not keep", o.profile.Name))
		default:
			o.KeepSketches(o.profile.History)
		}
	}
	return errors.Join(errs...)
}

// meter readies a reading into sketches for the report: the period's end
// (a usage file is read once for its newest sample, without --end), the
// snapshot of the history at the previous period's end, and the meter
// the samples pass through. It returns nil when the samples are kept.
func (o *ReportOptions) meter(errOut io.Writer) (*cost.Meter, time.Time, error) {
	if o.Sketches == nil {
		return nil, o.End, nil
	}
	end := o.End
	if end.IsZero() {
		if o.Input == "" {
			// Prometheus is read up to the period's end.
			end = o.now().UTC()
			o.End = end
		} else {
			fmt.Fprintf(errOut, "reading %s for its newest sample, where the period ends (--end spares this)\n", untrusted.Escape(o.Input))
			newest, err := usagecsv.File{Path: o.Input, Options: o.ReaderOptions()}.Newest()
			if err != nil {
				return nil, time.Time{}, err
			}
			end = cost.RecordedEnd(newest)
		}
	}
	m := cost.NewMeter(end, o.Period, nil)
	o.Sketches.SnapshotAt = end.Add(-o.Period)
	o.Sketches.Observe = m.Add
	return m, end, nil
}

// Run loads the history, computes the plans and the report, writes it and
// posts it to the webhook.
func (o *ReportOptions) Run(ctx context.Context, streams IOStreams, g *globalOptions) error {
	log := g.logger(streams)
	prices, err := o.Prices.Pricing()
	if err != nil {
		return err
	}
	var webhookURL string
	if o.WebhookURLFile != "" {
		if webhookURL, err = cost.ReadWebhookURL(o.WebhookURLFile); err != nil {
			return err
		}
	}
	meter, end, err := o.meter(streams.ErrOut)
	if err != nil {
		return err
	}
	src, err := o.Open(log)
	if err != nil {
		return err
	}
	p := &recommender.Pipeline{Source: src, Recommender: recommender.Recommender{Profile: o.profile, Critical: o.critical, Logger: log}}
	data, err := load(ctx, p, streams)
	if err != nil {
		return err
	}
	rep, err := cost.FromPipeline(ctx, p, data, cost.Input{Title: o.Title, Pricing: prices, End: end, Period: o.Period, GroupByLabel: o.GroupByLabel, Meter: meter}, o.now())
	if err != nil {
		return err
	}
	return cost.Deliver(ctx, rep, cost.Delivery{Format: o.format, Path: o.Out, Stdout: streams.Out, Log: streams.ErrOut,
		WebhookURL: webhookURL, Client: o.client})
}
