package app

import (
	"slices"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/completion"
	"rightsize.dev/rightsize/recommender/policy"
)

// Shell completion of flag values is internal/completion's; each command
// names what its own flags complete with.
type completions = completion.Funcs

var (
	registerCompletions = completion.Register
	fixed               = completion.Fixed
)

// profiles completes a profile name.
func profiles() cobra.CompletionFunc { return fixed(policy.Names()...) }

// sourceCompletion completes --source with the values s takes: plan's
// also controller, and without metrics-server if the command refuses it.
func sourceCompletion(s *sourceOptions, withoutMetricsServer bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		values := slices.Clone(sources)
		if withoutMetricsServer {
			values = slices.DeleteFunc(values, func(v string) bool { return v == sourceMetricsServer })
		}
		if s.controller {
			values = append(values, sourceController)
		}
		return fixed(values...)(cmd, args, toComplete)
	}
}
