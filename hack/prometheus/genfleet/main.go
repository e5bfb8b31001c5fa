package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.containers, "containers", 20000, "pod containers running at any one time")
	flag.IntVar(&o.days, "days", 14, "days of history")
	flag.DurationVar(&o.step, "step", time.Minute, "scrape interval")
	flag.StringVar(&o.endFlag, "end", "2026-11-15T00:00:00Z", "end of the history (RFC 3339)")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.StringVar(&o.url, "url", "", "VictoriaMetrics base URL to import into (e.g. http://127.0.0.1:8428)")
	flag.IntVar(&o.jobs, "jobs", 3, "import requests at once")
	flag.DurationVar(&o.slice, "slice", 24*time.Hour, "length of the window generated at a time")
	flag.IntVar(&o.chunk, "chunk", 1000, "pod containers per import request")
	flag.StringVar(&o.om, "om", "", "write the fleet as OpenMetrics text to this file instead (whole history in memory: small fleets only)")
	flag.Parse()
	if err := o.run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "genfleet:", err)
		os.Exit(1)
	}
}

type options struct {
	containers, days int
	step             time.Duration
	endFlag          string
	end              time.Time
	seed             uint64
	url              string
	jobs             int
	slice            time.Duration
	chunk            int
	om               string
}

func (o *options) run(ctx context.Context) error {
	var err error
	if o.end, err = time.Parse(time.RFC3339, o.endFlag); err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	if o.containers < 1 || o.days < 1 || o.step <= 0 || o.jobs < 1 || o.slice < o.step || o.chunk < 1 {
		return fmt.Errorf("need -containers ≥ 1, -days ≥ 1, -step > 0, -jobs ≥ 1, -slice ≥ -step, -chunk ≥ 1")
	}
	if (o.url == "") == (o.om == "") {
		return fmt.Errorf("need one of -url and -om")
	}
	start := time.Now()
	f := newFleet(o.seed, o.containers, o.days, o.step, o.end)
	fmt.Fprintf(os.Stderr, "genfleet: %d pods, %d pod containers (%d at a time), %s to %s every %s\n",
		len(f.pods), len(f.streams), f.running, f.start.Format(time.RFC3339), f.end.Format(time.RFC3339), f.step)
	if o.om != "" {
		return writeOM(f, o.om)
	}
	imp := &importer{url: strings.TrimSuffix(o.url, "/"), jobs: o.jobs, chunk: o.chunk, progress: os.Stderr}
	n, err := imp.load(ctx, f, o.slice)
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(os.Stderr, "genfleet: %d samples written in %s (%.0f samples/s)\n", n, d.Round(time.Second), float64(n)/d.Seconds())
	return nil
}
