package importrules

import (
	"slices"
	"strings"
	"testing"
)

// wiring lists what the commands may import from this module: the
// sources, the pipeline and its profiles, the outputs, and the small
// internal packages. How a source collects (discovery, sampling, the state
// store, the history's columns and sketches) stays behind its Source, so a
// command only wires flags to it.
var wiring = []string{
	// The controller is the pipeline run continuously; its command wires
	// flags to it as plan's does to a source.
	module + "/controller",
	module + "/internal/",
	module + "/metrics/cluster",
	// The offline HPA file (--hpa) is a source of its own.
	module + "/metrics/hpafile",
	module + "/metrics/prometheus",
	// The flags that choose among the sources, and open the one chosen.
	module + "/metrics/source",
	module + "/metrics/usagecsv",
	module + "/metrics/usagecsv/demo",
	module + "/recommender",
	module + "/recommender/backtest",
	module + "/recommender/constraints",
	module + "/recommender/hpa",
	module + "/recommender/policy",
	module + "/recommender/workload",
	module + "/report",
	module + "/report/cost",
	module + "/report/patch",
	module + "/report/pricing",
}

// TestCommandsOnlyWire: cmd imports no collector internals.
func TestCommandsOnlyWire(t *testing.T) {
	graph := load(t)
	n := 0
	for path, p := range graph {
		if !within(path, module+"/cmd") {
			continue
		}
		n++
		for _, imp := range p.Imports {
			if !within(imp, module) || within(imp, module+"/cmd") {
				continue
			}
			if !allowed(imp) {
				t.Errorf("%s imports %s: a command wires flags to sources and outputs, it does not reach behind them", path, imp)
			}
		}
	}
	if n == 0 {
		t.Fatal("no package under cmd: update the test")
	}
}

func allowed(imp string) bool {
	return slices.ContainsFunc(wiring, func(w string) bool {
		if strings.HasSuffix(w, "/") {
			return strings.HasPrefix(imp, w)
		}
		return imp == w
	})
}

func TestAllowed(t *testing.T) {
	for imp, want := range map[string]bool{
		module + "/internal/progress":       true,
		module + "/metrics/prometheus":      true,
		module + "/metrics/metricsserver":   false,
		module + "/metrics/kube":            false,
		module + "/recommender/statestore":  false,
		module + "/recommender/history":     false,
		module + "/recommender/policyextra": false,
	} {
		if allowed(imp) != want {
			t.Errorf("allowed(%s) = %v, want %v", imp, !want, want)
		}
	}
}
