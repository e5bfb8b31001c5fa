package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rightsize.dev/rightsize/internal/cliflag"
	"rightsize.dev/rightsize/internal/completion"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/metrics/source"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
	"rightsize.dev/rightsize/report/patch"
)

// PlanOptions are the flags of `rightsize plan`.
type PlanOptions struct {
	source.Flags
	Profile  string
	Output   string
	Patches  string
	Critical []string
	// BoundedMemory reads a usage file into sketches, not samples.
	BoundedMemory bool

	format   report.Format
	profile  policy.Profile
	critical map[workload.Key]bool
	// local are the command's own flags as parsed, for what --source
	// controller refuses; nil when unknown.
	local *pflag.FlagSet
}

func newPlanCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	o := &PlanOptions{Profile: policy.DefaultName, Output: string(report.Table)}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Recommend requests, limits and QoS classes from usage history",
		Long: `plan reads usage history and prints, per container, the current and the
recommended requests and limits, the pod QoS class before and after, the
confidence and the reasons (citing the rules R1–R17).

Without --input it runs on the embedded demo data and says so on stderr.
With --source controller it reads no history: it writes the plans the
rightsize controller published in the cluster as Recommendations.`,
		Example: `  rightsize plan
  rightsize plan --input usage.csv.gz --profile balanced -o json | jq '.workloads[].name'
  rightsize plan --input usage.csv --patches ./patches
  rightsize plan --source controller -n shop --patches ./patches`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.local = cmd.LocalNonPersistentFlags()
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			return o.Run(cmd, streams, g)
		},
	}
	f := cmd.Flags()
	o.Flags.AddFlags(f)
	o.AddHPAFlag(f)
	o.Cluster.AddSamplingFlags(f)
	// --source controller reads the plans the controller published.
	f.Lookup("source").Usage = "usage source: " + strings.Join(planSources, "|") + "; " + source.AutoUsage + "; " +
		"controller reads the Recommendations the rightsize controller published in the cluster (-n, -A; -l on their labels) instead of any history"
	f.StringVar(&o.Profile, "profile", o.Profile, "recommendation profile: "+strings.Join(policy.Names(), ", "))
	f.StringVarP(&o.Output, "output", "o", o.Output, "output format: "+joinFormats(report.PlanFormats))
	f.StringVar(&o.Patches, "patches", "", "write one strategic-merge patch per changed workload and a kustomization.yaml into this directory")
	f.BoolVar(&o.BoundedMemory, "bounded-memory", false, "with --input or --prometheus-url: keep each container's history as the controller does, in sketches, instead of every sample: memory grows with the containers, not the rows or the history (from Prometheus, samples are dropped once in the sketches, a chunk or a large workload's groups at a time); recommendations within a few percent of the samples' (not for krr, whose window p95 needs the samples); a file's rows must come in time order per pod, else the file is read again with every sample")
	f.StringArrayVar(&o.Critical, "critical", nil, "mark a workload critical (R8: Guaranteed), as NAMESPACE/KIND/NAME (NAMESPACE/KIND/NAME@CLUSTER where several clusters are read); repeatable")
	registerCompletions(cmd, o.Cluster.ConfigFlags, completions{
		"profile": profiles(), "output": completion.OneOf(report.PlanFormats), "source": fixed(planSources...)})
	return cmd
}

func joinFormats(fs []report.Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, "|")
}

// Validate checks the flags and resolves them. --source controller takes
// the cluster flags, -o and --patches, and refuses every flag that feeds
// the pipeline, --profile included: the controller chose the profile.
func (o *PlanOptions) Validate() error {
	err := o.validateSource()
	if err != nil {
		return err
	}
	if o.fromController() {
		if o.local != nil {
			err = validateController(o.local, "output", "patches")
		}
	} else {
		err = o.Flags.Validate()
	}
	if err != nil {
		return err
	}
	if o.format, err = report.ParseFormat(o.Output); err != nil {
		return err
	}
	if o.profile, err = policy.ByName(o.Profile); err != nil {
		return err
	}
	if o.BoundedMemory {
		switch {
		case o.Input == "" && !o.Prometheus.Enabled():
			return errors.New("--bounded-memory reads a usage file or Prometheus: give --input or --prometheus-url")
		case o.profile.WindowQuantile():
			return fmt.Errorf("--bounded-memory: profile %s takes a quantile of the exact window, which sketches do not keep", o.profile.Name)
		}
		o.KeepSketches(o.profile.History)
	}
	// Checked before the work: a file where the directory should be.
	if st, err := os.Stat(o.Patches); o.Patches != "" && err == nil && !st.IsDir() {
		return fmt.Errorf("--patches %s is a file, not a directory", o.Patches)
	}
	o.critical, err = cliflag.WorkloadKeys("--critical", o.Critical)
	return err
}

// Run loads the history, computes the plan and writes it; with --source
// controller it reads the plan the controller published and writes that.
func (o *PlanOptions) Run(cmd *cobra.Command, streams IOStreams, g *globalOptions) error {
	log := g.logger(streams)
	var plan workload.Plan
	var err error
	if o.fromController() {
		plan, err = o.controllerPlan(cmd.Context(), streams, log)
	} else {
		plan, err = o.pipelinePlan(cmd.Context(), streams, log)
	}
	if err != nil {
		return err
	}
	if err := report.WritePlan(streams.Out, plan, o.format); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	if o.Patches != "" {
		// One directory per cluster where the plan names several.
		dirs, err := patch.WriteClusters(o.Patches, plan)
		for _, d := range dirs {
			// written ends with kustomization.yaml, which is not a patch.
			patches := 0
			for _, name := range d.Written {
				if name != patch.KustomizationFile {
					patches++
				}
			}
			fmt.Fprintf(streams.ErrOut, "wrote %d patch file(s) and %s to %s\n", patches, patch.KustomizationFile, d.Dir)
			for _, s := range d.Skipped {
				fmt.Fprintf(streams.ErrOut, "no patch for %s\n", s)
			}
		}
		if err != nil {
			return fmt.Errorf("writing patches: %w", err)
		}
	}
	return nil
}

// pipelinePlan loads the history and computes the plan.
func (o *PlanOptions) pipelinePlan(ctx context.Context, streams IOStreams, log *slog.Logger) (workload.Plan, error) {
	src, err := o.Open(log)
	if err != nil {
		return workload.Plan{}, err
	}
	// The data is planned once: its sketches and loads go as they are used.
	p := &recommender.Pipeline{Source: src, Recommender: recommender.Recommender{Profile: o.profile, Critical: o.critical, Logger: log}, Once: true}
	data, err := load(ctx, p, streams)
	if err != nil {
		return workload.Plan{}, err
	}
	// Summaries, the profile, then LimitRanges, quotas, VPAs, HPAs and
	// JVM heaps (R10, R13–R16).
	return p.Plan(ctx, data, o.End)
}

// controllerPlan reads the Recommendations in the cluster the flags point
// at as one plan, and says on stderr what it read and what it could not,
// as load does for a usage source.
func (o *PlanOptions) controllerPlan(ctx context.Context, streams IOStreams, log *slog.Logger) (workload.Plan, error) {
	c, err := o.Cluster.Config(log)
	if err != nil {
		return workload.Plan{}, err
	}
	plan, warnings, err := c.Recommendations(ctx)
	if err == nil {
		fmt.Fprintln(streams.ErrOut, c.RecommendationsSummary(plan))
	}
	for _, w := range warnings {
		fmt.Fprintln(streams.ErrOut, "warning:", w)
	}
	return plan, err
}

// sourceController is the value of plan's --source that reads the plans
// the rightsize controller published rather than a usage source.
const sourceController = "controller"

// planSources are the values of plan's --source.
var planSources = append(slices.Clone(source.Names), sourceController)

// fromController tells whether --source is controller.
func (o *PlanOptions) fromController() bool {
	return o.Cluster != nil && o.Source == sourceController
}

// validateSource checks --source alone: one of the usage sources, or
// controller.
func (o *PlanOptions) validateSource() error {
	if o.Cluster == nil || slices.Contains(planSources, o.Source) {
		return nil
	}
	return fmt.Errorf("--source %q: want one of %s", o.Source, strings.Join(planSources, ", "))
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
