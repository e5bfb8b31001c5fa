// Command benchcontroller measures the footprint of `rightsize controller` on
// the local test cluster (hack/cluster) with many pods; hack/bench-controller.sh
// drives it (make bench-controller).
//
//	benchcontroller setup -kubeconfig F -pods 10000 -replicas 10 -namespace bench -lease-namespace rightsize-bench -crd FILE
//	benchcontroller sample -kubeconfig F -pid PID -metrics URL -duration 30m -every 10s -csv FILE ...
//	benchcontroller controller -pprof 127.0.0.1:PORT -- <rightsize controller flags>
//
// setup creates the Deployments (kwok usage annotations, varied usage), waits
// until every pod runs and metrics-server serves PodMetrics for all of them,
// and applies the Recommendation CRD. sample reads the controller's RSS and CPU
// time from /proc and its /metrics every -every, writes them as CSV and prints
// a summary. controller runs the same command as bin/rightsize, with
// net/http/pprof served on -pprof, to take a heap profile.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchcontroller setup|sample|controller [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "setup":
		err = setup(os.Args[2:])
	case "sample":
		err = sample(os.Args[2:])
	case "controller":
		err = controllerWithPprof(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want setup, sample or controller", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcontroller:", err)
		os.Exit(1)
	}
}
