package app

import (
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
