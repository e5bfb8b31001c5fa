package backtest_test

import (
	"context"
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/backtest"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// BenchmarkReplay replays gcd-2011 through three profiles, daily and hourly.
func BenchmarkReplay(b *testing.B) {
	st := loadStore(b, sharedData(b, "gcd-2011.csv.gz"))
	for _, iv := range []time.Duration{24 * time.Hour, time.Hour} {
		b.Run(iv.String(), func(b *testing.B) {
			o := backtest.DefaultOptions()
			o.Interval = iv
			for range b.N {
				if _, err := backtest.Run(context.Background(), st, []string{"balanced", "vpa", "krr"}, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHindsightBound bounds gcd-2011 at three risk levels.
func BenchmarkHindsightBound(b *testing.B) {
	st := loadStore(b, sharedData(b, "gcd-2011.csv.gz"))
	for range b.N {
		if _, err := backtest.HindsightBound(context.Background(), st, []float64{0.0147, 0.0234, 0.067}, backtest.DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHPAReplayAzure replays the HPA algorithm over the 100 Azure VMs'
// aggregate CPU, each its whole ~28 days at a 15 s sync (161 k syncs a
// VM), one VM after the other: one setup (the R10/R11 defaults), all three
// (defaults, recommended, a fixed count), and the whole backtest --hpa
// (recommendation from the first half, three setups over the second, in
// parallel). Pod requests and HPAs come from a recommendation on the whole
// history, made before the timer starts.
func BenchmarkHPAReplayAzure(b *testing.B) {
	st := loadStore(b, sharedData(b, "azure-2017-cpu.csv.gz"))
	type vm struct {
		load          hpa.Load
		req           workload.Cores
		def, rec      workload.HPA
		fixedReplicas int
	}
	byWorkload := map[workload.Key][]workload.ContainerKey{}
	for _, ck := range st.Containers() {
		byWorkload[ck.Workload] = append(byWorkload[ck.Workload], ck)
	}
	var vms []vm
	syncs := 0
	for k, cks := range byWorkload {
		l := hpa.Aggregate(st, cks, time.Time{}, time.Now())
		a := hpa.Recommend(hpa.Input{Key: k, Load: l}, hpa.DefaultOptions)
		req := a.PodCPU.Cores()
		if a.Recommended == nil || req <= 0 {
			// No HPA recommended (a flat load): pods of a tenth of the peak.
			req = workload.Cores(max(0.01, float64(a.Load.Peak)/(0.7*10)))
		}
		v := vm{load: l, req: req, def: hpa.Defaults(k, false)}
		v.def.Metrics = v.def.Metrics[:1]
		v.rec = v.def
		if a.Recommended != nil {
			v.rec = *a.Recommended
		}
		v.fixedReplicas = max(1, int(float64(a.Load.Peak)/(0.7*float64(v.req))+1))
		vms = append(vms, v)
		syncs += int(l.Duration() / hpa.DefaultReplay.Sync)
	}
	if len(vms) != 100 {
		b.Fatalf("%d VMs, want 100", len(vms))
	}
	b.Logf("%d VMs, %d syncs in all", len(vms), syncs)
	b.Run("one-setup", func(b *testing.B) {
		for range b.N {
			for _, v := range vms {
				if _, ok := hpa.Replay(v.load, v.req, v.def, hpa.DefaultReplay); !ok {
					b.Fatal("not replayed")
				}
			}
		}
	})
	b.Run("three-setups", func(b *testing.B) {
		for range b.N {
			for _, v := range vms {
				hpa.Replay(v.load, v.req, v.def, hpa.DefaultReplay)
				hpa.Replay(v.load, v.req, v.rec, hpa.DefaultReplay)
				hpa.ReplayFixed(v.load, v.req, v.fixedReplicas)
			}
		}
	})
	b.Run("backtest", func(b *testing.B) {
		for range b.N {
			if _, err := backtest.HPABacktest(context.Background(), st, backtest.HPAOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBacktestBitbrains replays bitbrains-2013-7 (500 VMs, CPU and
// memory, a month at 5-minute steps) through the five profiles of
// docs/benchmarks.md's time table, as `rightsize backtest --profile
// current,balanced,vpa,krr,oracle` does after reading the file: the replay
// alone, and with the hindsight bound of each profile's risk.
func BenchmarkBacktestBitbrains(b *testing.B) {
	st := loadStore(b, sharedData(b, "bitbrains-2013-7.csv.gz"))
	for _, headroom := range []bool{false, true} {
		name := "replay"
		if headroom {
			name = "with-headroom"
		}
		b.Run(name, func(b *testing.B) {
			o := backtest.DefaultOptions()
			o.Headroom = headroom
			for range b.N {
				if _, err := backtest.Run(context.Background(), st, []string{"current", "balanced", "vpa", "krr", "oracle"}, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
