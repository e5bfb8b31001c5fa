package history

import (
	"math"
	"slices"
	"time"
)

// Trend is the direction of a container's daily memory peaks: a steady rise
// is a leak or a filling cache more often than a need, so policies name it
// rather than chase it.
type Trend struct {
	// Intervals is the number of peak intervals the trend was fitted on.
	Intervals int
	// Tau is Kendall's rank correlation of peaks with time, in [-1, 1]:
	// 1 when every interval's peak is above all earlier ones.
	Tau float64
	// PerDay is the Theil–Sen slope: the median of the pairwise slopes, in
	// bytes per day; robust to a single spike.
	PerDay float64
	// Level is the median of the peaks, for judging the slope's size.
	Level float64
	// Last is the highest peak of the newest interval.
	Last float64
}

// Growing reports a steady rise: at least minIntervals intervals, τ of at
// least minTau and growth over the fitted span of at least minGrowth × the
// median level.
func (t Trend) Growing(minIntervals int, minTau, minGrowth float64) bool {
	if t.Intervals < minIntervals || t.Tau < minTau || t.PerDay <= 0 || t.Level <= 0 {
		return false
	}
	return t.PerDay*float64(t.Intervals-1) >= minGrowth*t.Level
}

// MemoryTrend fits a trend to the observed daily memory peaks (OOM bumps
// left out: they are the policy's reaction, not usage), one value per
// interval before Until: the highest peak of any pod ending in it.
func (s *Summary) MemoryTrend(interval time.Duration) Trend {
	if interval <= 0 || len(s.Peaks) == 0 {
		return Trend{}
	}
	byAge := s.peaksByAge(interval)
	if len(byAge) < 2 {
		return Trend{Intervals: len(byAge)}
	}
	xs, ys := agesToDays(byAge, interval)
	return fitTrend(xs, ys)
}

// peaksByAge is the highest observed peak per interval, keyed by the
// interval's age in intervals before Until.
func (s *Summary) peaksByAge(interval time.Duration) map[int64]float64 {
	byAge := map[int64]float64{}
	for _, p := range s.Peaks {
		if p.Observed <= 0 {
			continue
		}
		// Intervals are aligned to each pod's first sample, so ends fall
		// anywhere within a day of Until: round to the nearest interval.
		age := int64(math.Round(float64(s.Until.Sub(p.End)) / float64(interval)))
		age = max(age, 0)
		byAge[age] = max(byAge[age], float64(p.Observed))
	}
	return byAge
}

// agesToDays lays the peaks out oldest first: xs in days relative to Until
// (zero or negative), ys the peaks.
func agesToDays(byAge map[int64]float64, interval time.Duration) (xs, ys []float64) {
	ages := make([]int64, 0, len(byAge))
	for a := range byAge {
		ages = append(ages, a)
	}
	slices.Sort(ages)
	days := interval.Hours() / 24
	xs = make([]float64, len(ages)) // days, oldest first
	ys = make([]float64, len(ages))
	for i, a := range ages {
		j := len(ages) - 1 - i
		xs[j] = -float64(a) * days
		ys[j] = byAge[a]
	}
	return xs, ys
}

// fitTrend fits at least two points, xs ascending: Kendall's τ for the
// direction and the Theil–Sen slope for the size, both robust to one spike.
func fitTrend(xs, ys []float64) Trend {
	var concordant, discordant int
	var slopes []float64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			switch {
			case ys[j] > ys[i]:
				concordant++
			case ys[j] < ys[i]:
				discordant++
			}
			slopes = append(slopes, (ys[j]-ys[i])/(xs[j]-xs[i]))
		}
	}
	pairs := len(xs) * (len(xs) - 1) / 2
	return Trend{
		Intervals: len(xs),
		Tau:       float64(concordant-discordant) / float64(pairs),
		PerDay:    median(slopes),
		Level:     median(slices.Clone(ys)),
		Last:      ys[len(ys)-1],
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
