package main

import (
	"flag"
	"fmt"
	"os"

	"rightsize.dev/rightsize/metrics/usagecsv/demo/internal/gen"
)

func main() {
	out := flag.String("out", "demo.csv.gz", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := gen.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return f.Close()
}
