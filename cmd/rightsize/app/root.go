package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// IOStreams are the command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StdStreams returns the process's streams.
func StdStreams() IOStreams { return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr} }

// globalOptions are flags every subcommand shares.
type globalOptions struct {
	verbose bool
}

func (g *globalOptions) logger(streams IOStreams) *slog.Logger {
	level := slog.LevelWarn
	if g.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(streams.ErrOut, &slog.HandlerOptions{Level: level}))
}

// NewCommand returns the root command with every subcommand.
func NewCommand(streams IOStreams) *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:   "rightsize",
		Short: "Tell how big Kubernetes containers should be",
		Long: `rightsize reads container usage history and recommends requests, limits and
the pod QoS class, with reasons that cite the rules they follow.

With no cluster, Prometheus or --input configured it runs on embedded demo data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log each step with its timing to stderr")
	cmd.AddCommand(
		newPlanCommand(streams, g),
		newBacktestCommand(streams, g),
		newReportCommand(streams, g),
		newControllerCommand(streams, g),
		newVersionCommand(streams),
	)
	return cmd
}

// KubectlPlugin is the name under which kubectl finds rightsize as the
// plugin `kubectl rightsize`.
const KubectlPlugin = "kubectl-rightsize"

// Main runs the command line and returns the exit code. name is the
// program's file name: as kubectl-rightsize, help speaks of `kubectl
// rightsize`.
func Main(name string, args []string, streams IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewCommand(streams)
	if name == KubectlPlugin {
		cmd.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl rightsize"}
		asPlugin(cmd)
	}
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.ErrOut, "rightsize: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// asPlugin makes the examples of cmd and its subcommands speak of
// `kubectl rightsize`, as the usage lines do.
func asPlugin(cmd *cobra.Command) {
	cmd.Example = strings.ReplaceAll(cmd.Example, "  rightsize ", "  kubectl rightsize ")
	for _, c := range cmd.Commands() {
		asPlugin(c)
	}
}

// usageError marks errors in flags or arguments (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
