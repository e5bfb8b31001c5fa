package vparef_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"rightsize.dev/rightsize/hack/vparef"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/history"
)

// load reads a shared trace: ../shared/data beside the repository, where
// CI clones it.
func load(t *testing.T, name string) *history.Store {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", name)
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared trace %s: %v", name, err)
		}
		t.Skipf("shared trace %s not found (%v): the reference runs on the shared data", name, err)
	}
	defer f.Close()
	st, _, err := usagecsv.Load(f, p)
	if err != nil {
		t.Fatalf("loading %s: %v", p, err)
	}
	return st
}

// TestProfileMatchesRealVPA pins rightsize's `vpa` profile to the real
// recommender replayed on the same samples, OOMs and schedule: memory
// within the tolerance (OOM episodes 10 %, requested GiB·h 2 %),
// CPU slack and insufficient time within 3 % relative or 0.1 points.
// The reference itself is pinned to the published figures of
// docs/backtest.md, which it reproduces.
//
// On bitbrains-2013-7 the memory matches only with the profile's
// HoldZeroPeaks (an interval opened by a zero sample keeps a 0 peak, as in
// the recommender's ContainerState): without it the profile counted 1,267
// OOM episodes against 3,033 and 853,037 GiB·h requested against 785,384.
func TestProfileMatchesRealVPA(t *testing.T) {
	if testing.Short() {
		t.Skip("replays whole traces")
	}
	for _, tc := range []struct {
		trace      string
		publishOOM int // the reference's published OOM episodes
		publishGiB float64
	}{
		{"gcd-2011.csv.gz", 20, 59248},
		{"azure-2017-cpu.csv.gz", 0, 0},
		{"bitbrains-2013-7.csv.gz", 3033, 785384},
	} {
		trace := tc.trace
		t.Run(trace, func(t *testing.T) {
			st := load(t, trace)
			res, err := backtest.RunExternal(context.Background(), st, []string{"vpa"}, []backtest.External{vparef.External()}, backtest.DefaultOptions())
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			got, ref := res[0], res[1]
			t.Logf("%s: cpu slack %.2f / %.2f %%, insufficient %.2f / %.2f %%; mem slack %.2f / %.2f %%, insufficient %.2f / %.2f %%, OOM %d (%d) / %d (%d), request %.0f / %.0f GiB·h (profile / real)",
				trace, 100*got.CPU.Slack, 100*ref.CPU.Slack, 100*got.CPU.Insufficient, 100*ref.CPU.Insufficient,
				100*got.Memory.Slack, 100*ref.Memory.Slack, 100*got.Memory.Insufficient, 100*ref.Memory.Insufficient,
				got.Memory.OOMEvents, got.Memory.ContainersWithOOM, ref.Memory.OOMEvents, ref.Memory.ContainersWithOOM,
				got.Memory.RequestGiBHours, ref.Memory.RequestGiBHours)
			for _, c := range []struct {
				what      string
				got, ref  float64
				rel, abso float64
			}{
				{"cpu slack", got.CPU.Slack, ref.CPU.Slack, 0.03, 0},
				{"cpu insufficient", got.CPU.Insufficient, ref.CPU.Insufficient, 0.05, 0.001},
				{"memory request GiB·h", got.Memory.RequestGiBHours, ref.Memory.RequestGiBHours, 0.02, 0},
				{"OOM episodes", float64(got.Memory.OOMEvents), float64(ref.Memory.OOMEvents), 0.10, 1},
			} {
				if d := math.Abs(c.got - c.ref); d > max(c.rel*math.Abs(c.ref), c.abso) {
					t.Errorf("%s: profile %v, real VPA %v", c.what, c.got, c.ref)
				}
			}
			// The reference against the published reference figures: the
			// harness feeds the recommender as the reference scorer did.
			if ref.Memory.OOMEvents != tc.publishOOM {
				t.Errorf("real VPA: %d OOM episodes, published %d", ref.Memory.OOMEvents, tc.publishOOM)
			}
			if d := math.Abs(ref.Memory.RequestGiBHours - tc.publishGiB); d > 0.5 {
				t.Errorf("real VPA: %.1f GiB·h requested, published %.0f", ref.Memory.RequestGiBHours, tc.publishGiB)
			}
		})
	}
}
