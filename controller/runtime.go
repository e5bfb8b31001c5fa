package controller

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
	clientfeatures "k8s.io/client-go/features"
)

// TuneRuntime sets what a long-running controller process needs of the Go
// runtime and client-go, unless the environment (lookup) says otherwise:
// a soft memory limit from $MEMORY_LIMIT, a garbage collection target,
// and informers that stream their initial lists.
func TuneRuntime(log *slog.Logger, lookup func(string) (string, bool)) {
	setMemoryLimit(log, lookup)
	setGCPercent(log, lookup)
	streamInitialLists(lookup)
}

// memoryLimitShare is the share of the container's memory limit the
// controller's Go runtime is held under (debug.SetMemoryLimit): a soft
// limit, which makes the garbage collector work harder as the heap nears
// it instead of letting it double (GOGC=100) into an OOM kill. The rest is
// for what the limit counts and the Go runtime does not (the binary's
// mapped pages, the page cache) and for the bursts (a metrics-server poll
// decoded, a plan) the collector catches up with only after the fact.
const memoryLimitShare = 0.8

// memoryLimitEnv carries the container's memory limit in bytes: the
// Deployment sets it from the downward API (resourceFieldRef
// limits.memory), since an environment variable cannot say 80 % of it.
const memoryLimitEnv = "MEMORY_LIMIT"

// setMemoryLimit sets the Go runtime's soft memory limit to
// memoryLimitShare of $MEMORY_LIMIT, unless GOMEMLIMIT is set: the
// runtime has applied that one already.
func setMemoryLimit(log *slog.Logger, lookup func(string) (string, bool)) {
	if v, ok := lookup("GOMEMLIMIT"); ok {
		log.Info("soft memory limit from GOMEMLIMIT", "GOMEMLIMIT", v, "bytes", debug.SetMemoryLimit(-1))
		return
	}
	v, ok := lookup(memoryLimitEnv)
	if !ok {
		return
	}
	limit, err := memoryLimitOf(v)
	if err != nil {
		log.Warn("no soft memory limit", "err", err)
		return
	}
	debug.SetMemoryLimit(limit)
	log.Info("soft memory limit", "bytes", limit, "share", memoryLimitShare, memoryLimitEnv, v)
}

// gcPercent is the controller's garbage collection target unless GOGC is
// set: the heap may grow by half its live size between collections, not
// all of it (GOGC=100). The controller's CPU is a fifth of its 0.1-core
// budget with 10,000 pods (docs/benchmarks.md); its memory is what a
// cluster's operators size and watch.
const gcPercent = 50

// setGCPercent sets gcPercent unless GOGC is set (the runtime applied
// that one already); it returns the target in force.
func setGCPercent(log *slog.Logger, lookup func(string) (string, bool)) int {
	if v, ok := lookup("GOGC"); ok {
		log.Info("garbage collection target from GOGC", "GOGC", v)
		p := debug.SetGCPercent(100) // reads it; put back at once
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(gcPercent)
	log.Info("garbage collection target", "GOGC", gcPercent)
	return gcPercent
}

// memoryLimitOf is memoryLimitShare of a memory quantity.
func memoryLimitOf(v string) (int64, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(v))
	if err != nil || q.Sign() <= 0 {
		return 0, fmt.Errorf("$%s=%q is not a memory limit", memoryLimitEnv, v)
	}
	return int64(float64(q.Value()) * memoryLimitShare), nil
}

// streamInitialLists has the informers fill their caches from a watch that
// streams the initial objects one by one (client-go's WatchListClient,
// off by default in client-go 0.34; kube-apiserver serves it by default
// from 1.34, and client-go falls back to a list where it does not). A
// plain informer's first list is served from the apiserver's cache whole,
// whatever its page size: with 10,000 pods one response of tens of
// megabytes, decoded at once before the caches' transform slims a single
// pod. KUBE_FEATURE_WatchListClient, when set, decides instead.
func streamInitialLists(lookup func(string) (string, bool)) {
	watchListOnce.Do(func() {
		if _, ok := lookup("KUBE_FEATURE_" + string(clientfeatures.WatchListClient)); ok {
			return
		}
		clientfeatures.ReplaceFeatureGates(watchListGates{clientfeatures.FeatureGates()})
	})
}

var watchListOnce sync.Once

// watchListGates are client-go's feature gates with WatchListClient on.
type watchListGates struct{ clientfeatures.Gates }

func (g watchListGates) Enabled(f clientfeatures.Feature) bool {
	return f == clientfeatures.WatchListClient || g.Gates.Enabled(f)
}
