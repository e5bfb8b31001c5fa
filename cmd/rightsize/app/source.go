package app

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"rightsize.dev/rightsize/internal/memlimit"
	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/metrics/source"
	"rightsize.dev/rightsize/recommender"
)

// load runs the pipeline's first step with the one progress bar a run
// draws on stderr, then says what was loaded and what was skipped.
func load(ctx context.Context, p *recommender.Pipeline, streams IOStreams) (*recommender.Data, error) {
	if h, ok := source.HeapPacing(p.Source); ok {
		memlimit.FollowLiveHeap(ctx, os.Getenv, h)
	}
	bar := &progress.Bar{W: streams.ErrOut, Interactive: progress.IsTerminal(streams.ErrOut)}
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

// noArgs refuses positional arguments as a usage error (exit 2), as every
// other mistake on the command line is.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}
