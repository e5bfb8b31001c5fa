package app

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"rightsize.dev/rightsize/controller"
	"rightsize.dev/rightsize/metrics/cluster"
	"rightsize.dev/rightsize/recommender/policy"
)

// ControllerOptions are the flags of `rightsize controller`.
type ControllerOptions struct {
	kube    *cluster.Flags
	flags   *controller.Flags
	Profile string

	profile policy.Profile
}

func newControllerCommand(streams IOStreams, g *globalOptions) *cobra.Command {
	o := &ControllerOptions{kube: cluster.NewFlags(), flags: controller.NewFlags(), Profile: policy.DefaultName}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Keep recommendations current in the cluster, as Recommendation objects and metrics",
		Long: `controller runs in the cluster (or outside it, with a kubeconfig) and keeps
every workload's recommendation current: it samples metrics-server every
--interval (or, with --prometheus-url, reads the steps Prometheus completed
since the last read, after a first backfill), keeps the usage history as
sketches, and every --recommend writes one
Recommendation object per workload (kubectl get recommendations -A) and serves
the recommendations and its own health on /metrics. It changes no workload.

Replicas elect a leader on a Lease; only the leader samples and writes. The
history is checkpointed to ConfigMaps so that a restart or a new leader goes on
from it. Logs are JSON lines on stderr.`,
		Example: `  rightsize controller --kubeconfig ~/.kube/config -A --lease-namespace rightsize-system
  rightsize controller -A --prometheus-url http://prometheus.monitoring:9090 --prometheus-backfill 7d
  kubectl apply -k deploy/controller`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			return o.Run(cmd.Context(), streams, g)
		},
	}
	f := cmd.Flags()
	o.kube.ConfigFlags.AddFlags(f)
	f.BoolVarP(&o.kube.AllNamespaces, "all-namespaces", "A", false, "recommend for workloads in every namespace")
	f.StringVarP(&o.kube.Selector, "selector", "l", "", "label selector on workloads (bare pods: on the pod), e.g. app=web,tier!=batch")
	f.StringVar(&o.Profile, "profile", o.Profile, "recommendation profile: "+strings.Join(policy.Names(), ", "))
	o.flags.AddFlags(f)
	registerCompletions(cmd, o.kube.ConfigFlags, completions{"profile": profiles(), "log-format": fixed("json", "text")})
	return cmd
}

// Validate checks the flags.
func (o *ControllerOptions) Validate() error {
	var err error
	o.profile, err = policy.ByName(o.Profile)
	return errors.Join(err, o.flags.Validate())
}

// Run serves the endpoints and runs the controller until ctx ends.
func (o *ControllerOptions) Run(ctx context.Context, streams IOStreams, g *globalOptions) error {
	log := o.flags.Logger(streams.ErrOut, g.verbose)
	// client-go's own messages (leader election, watches) go to the same
	// JSON log.
	klog.SetSlogLogger(log)
	controller.TuneRuntime(log, os.LookupEnv)
	cc, err := o.kube.Config(log)
	if err != nil {
		return err
	}
	reg := controller.NewRegistry()
	co, err := o.flags.Options(cc, o.profile, reg, log)
	if err != nil {
		return err
	}
	c, err := controller.New(co)
	if err != nil {
		return err
	}
	return controller.Serve(ctx, c, o.flags.Listen, reg)
}
