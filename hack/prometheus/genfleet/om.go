package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"rightsize.dev/rightsize/metrics/prometheus/openmetrics"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// writeOM writes the fleet to file as openmetrics.Write renders it.
func writeOM(f *fleet, file string) error {
	start := time.Now()
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	err = renderOM(bw, f)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	fmt.Fprintf(os.Stderr, "genfleet: %s written in %s\n", file, time.Since(start).Round(time.Second))
	return nil
}

// renderOM draws the whole window into a store and renders it.
func renderOM(w io.Writer, f *fleet) error {
	st := history.NewStore()
	var smp samples
	for _, s := range f.streams {
		s.draw(f, f.end.UnixMilli(), &smp)
		key := workload.ContainerKey{Workload: s.pod.key, Container: s.c.Name}
		for i, t := range smp.t {
			x := workload.Sample{Time: time.UnixMilli(t).UTC(), Pod: s.pod.name, Settings: s.c.Settings,
				CPU: workload.Cores(smp.cpu[i]), HasCPU: true, Memory: workload.Bytes(smp.mem[i]), HasMemory: true, OOMKilled: smp.oom[i]}
			if smp.hasThr {
				x.Throttled, x.HasThrottled = smp.thr[i], true
			}
			st.Add(key, x)
		}
	}
	st.Finalize()
	return openmetrics.Write(w, openmetrics.Options{Step: f.step}, openmetrics.Source{Store: st})
}
