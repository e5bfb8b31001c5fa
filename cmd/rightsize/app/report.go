package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/completion"
	"rightsize.dev/rightsize/metrics/source"
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
	PriceCPU       float64
	PriceMemory    float64
	Currency       string
	Pricing        string
	GroupByLabel   string
	Profile        string
	Critical       []string
	WebhookURLFile string

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
		PriceCPU: pricing.DefaultCPUPrice, PriceMemory: pricing.DefaultMemoryPrice, Currency: pricing.DefaultCurrency,
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
	f.Float64Var(&o.PriceCPU, "price-cpu", o.PriceCPU, "price of one CPU core for one hour")
	f.Float64Var(&o.PriceMemory, "price-memory", o.PriceMemory, "price of one GiB of memory for one hour")
	f.StringVar(&o.Currency, "currency", o.Currency, "currency of the prices")
	f.StringVar(&o.Pricing, "pricing", "", "YAML pricing file: currency, cpu, memory and per-namespace or per-node-pool overrides (--price-* and --currency given explicitly win)")
	f.StringVar(&o.GroupByLabel, "group-by-label", "", "break costs down by team: the value of this workload label")
	f.StringVar(&o.Profile, "profile", o.Profile, "recommendation profile for the savings: "+strings.Join(policy.Names(), ", "))
	f.StringArrayVar(&o.Critical, "critical", nil, "mark a workload critical (R8: Guaranteed), as NAMESPACE/KIND/NAME; repeatable")
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
	errs = append(errs, o.chooseFormat())
	p, err := policy.ByName(o.Profile)
	errs = append(errs, err)
	o.profile = p
	if o.PriceCPU < 0 || o.PriceMemory < 0 {
		errs = append(errs, errors.New("--price-cpu and --price-memory must not be negative"))
	}
	if strings.TrimSpace(o.Currency) == "" {
		errs = append(errs, errors.New("--currency must not be empty"))
	}
	o.critical, err = cliflag.WorkloadKeys("--critical", o.Critical)
	errs = append(errs, err)
	return errors.Join(errs...)
}

// chooseFormat takes the format from --format, else from --out's
// extension, else Markdown. An extension of another report format than
// --format says, or one of no report format without --format, is an error
// (a .pdf of Markdown helps nobody). --out's directory must exist.
func (o *ReportOptions) chooseFormat() error {
	o.format = report.Markdown
	if o.Format != "" {
		f, err := report.CostOutput.Parse(o.Format)
		if err != nil {
			return err
		}
		o.format = f
	}
	if o.Out == "" {
		return nil
	}
	if dir := filepath.Dir(o.Out); !strings.Contains(dir, "{end}") {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--out %s: the directory %s does not exist", o.Out, dir)
		}
	}
	ext := filepath.Ext(o.Out)
	if ext == "" {
		return nil
	}
	f, ok := report.CostOutput.ForFile(o.Out)
	switch {
	case !ok && o.Format == "":
		return fmt.Errorf("--out %s: %s names no report format (.md, .html, .csv, .json, or say --format)", o.Out, ext)
	case ok && o.Format != "" && f != o.format:
		return fmt.Errorf("--out %s is %s, --format says %s", o.Out, f, o.format)
	case ok:
		o.format = f
	}
	return nil
}

// pricing returns the cost model: the flags' prices, the pricing file on
// top, and flags the user gave explicitly on top of that.
func (o *ReportOptions) pricing() (pricing.Pricing, error) {
	p := pricing.Pricing{Currency: o.Currency, Default: pricing.Price{CPU: o.PriceCPU, Memory: o.PriceMemory}}
	if o.Pricing == "" {
		return p, nil
	}
	p, err := pricing.Load(o.Pricing, p)
	if err != nil {
		return p, err
	}
	changed := func(name string) bool { return o.flags != nil && o.flags.Changed(name) }
	if changed("price-cpu") {
		p.Default.CPU = o.PriceCPU
	}
	if changed("price-memory") {
		p.Default.Memory = o.PriceMemory
	}
	if changed("currency") {
		p.Currency = o.Currency
	}
	return p, nil
}

// Run loads the history, computes the plans and the report, writes it and
// posts it to the webhook.
func (o *ReportOptions) Run(ctx context.Context, streams IOStreams, g *globalOptions) error {
	log := g.logger(streams)
	prices, err := o.pricing()
	if err != nil {
		return err
	}
	var webhookURL string
	if o.WebhookURLFile != "" {
		raw, err := os.ReadFile(o.WebhookURLFile)
		if err != nil {
			return fmt.Errorf("reading webhook URL: %w", err)
		}
		if webhookURL = strings.TrimSpace(string(raw)); webhookURL == "" {
			return fmt.Errorf("%s: no webhook URL in the file", o.WebhookURLFile)
		}
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
	end, hpaSource := o.reportEnd(data)
	// This period's plan, and the one before for the change.
	plan, err := p.Plan(ctx, data, end)
	if err != nil {
		return err
	}
	previous, err := p.Plan(ctx, data, end.Add(-o.Period))
	if err != nil {
		return err
	}
	rep, err := cost.Build(cost.Input{
		Title: o.Title, Source: data.Name, Store: data.Store, Specs: data.Specs,
		HPAs: data.HPAs, HPASource: hpaSource, Plan: plan, Previous: previous, Pricing: prices,
		End: end, Period: o.Period, GroupByLabel: o.GroupByLabel,
	})
	if err != nil {
		return fmt.Errorf("building report: %w", err)
	}
	return cost.Deliver(ctx, rep, cost.Delivery{Format: o.format, Path: o.Out, Stdout: streams.Out, Log: streams.ErrOut,
		WebhookURL: webhookURL, Client: o.client})
}

// reportEnd returns the end of the report period and, for sources that
// did not say which HPAs exist (HPAsKnown), why none are known. A file is history, so its "now" is
// its newest sample, rounded up to the full hour so that days start on the
// hour; a live source's is the wall clock.
func (o *ReportOptions) reportEnd(data *recommender.Data) (time.Time, string) {
	live := !data.Recorded
	hpaSource := "usage file; pass --hpa"
	switch {
	case data.HPAsKnown:
		hpaSource = ""
	case live:
		hpaSource = "no cluster configured and no kube-state-metrics HPA series; pass --hpa"
	}
	if !o.End.IsZero() {
		return o.End.UTC(), hpaSource
	}
	if live {
		return o.now().UTC(), hpaSource
	}
	_, last := data.Store.Span()
	return last.Truncate(time.Hour).Add(time.Hour), hpaSource
}
