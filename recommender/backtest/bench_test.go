package backtest_test

import (
	"context"
	"testing"
	"time"

	"rightsize.dev/rightsize/recommender/backtest"
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
