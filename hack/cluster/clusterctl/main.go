package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clusterctl:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: clusterctl pki|probe|bootstrap [flags]")
	}
	switch args[0] {
	case "pki":
		return runPKI(args[1:], out)
	case "probe":
		return runProbe(ctx, args[1:])
	case "bootstrap":
		return runBootstrap(ctx, args[1:], out)
	default:
		return fmt.Errorf("unknown subcommand %q (pki, probe, bootstrap)", args[0])
	}
}
