package history

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

// rankQuantile is the φ-quantile of values as PromQL's quantile_over_time
// takes it: linear between the two nearest ranks of φ·(n−1).
func rankQuantile(values []float64, phi float64) float64 {
	v := slices.Sorted(slices.Values(values))
	rank := phi * float64(len(v)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (v[hi]-v[lo])*(rank-float64(lo))
}

// shapeOf is the CPUShape of an hour's rates.
func shapeOf(end time.Time, rates []float64) CPUShape {
	sh := CPUShape{End: end.UnixMilli(), N: uint16(len(rates))}
	for i, l := range ShapeLevels(len(rates)) {
		sh.Q[i] = float32(rankQuantile(rates, l))
	}
	return sh
}

// spikyStores returns the same usage three ways: one-minute rates as
// samples, their five-minute means, and the means with each hour's shape.
// The usage idles with short bursts, which five-minute means flatten.
func spikyStores(t *testing.T, k workload.ContainerKey, pods []string, days int) (raw, means, shaped *Store, end time.Time) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	raw, means, shaped = NewStore(), NewStore(), NewStore()
	end = accT0.Add(time.Duration(days) * 24 * time.Hour)
	for _, pod := range pods {
		var hour, five []float64
		for at := accT0.Add(time.Minute); !at.After(end); at = at.Add(time.Minute) {
			day := float64(at.Sub(accT0)) / float64(24*time.Hour)
			cpu := 0.05 + 0.02*math.Sin(2*math.Pi*day) + 0.005*r.NormFloat64()
			if r.Float64() < 0.08 {
				cpu += 0.3 + 0.2*r.Float64()
			}
			cpu = max(cpu, 0)
			raw.Add(k, workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(cpu), HasCPU: true})
			hour, five = append(hour, cpu), append(five, cpu)
			if at.Minute()%5 == 0 {
				var sum float64
				for _, v := range five {
					sum += v
				}
				smp := workload.Sample{Time: at, Pod: pod, CPU: workload.Cores(sum / float64(len(five))), HasCPU: true}
				means.Add(k, smp)
				shaped.Add(k, smp)
				five = five[:0]
			}
			if at.Minute() == 0 {
				require.True(t, shaped.SeriesOf(k, pod).AddShape(shapeOf(at, hour)))
				hour = hour[:0]
			}
		}
	}
	raw.Finalize()
	means.Finalize()
	shaped.Finalize()
	return raw, means, shaped, end
}

var shapeKey = workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "app"}, Container: "app"}

// TestShapesGiveTheShortWindowPercentiles: the histogram of five-minute
// means with hourly shapes has the percentiles of the one-minute rates
// within ShapeTolerance, where the means alone are far lower.
func TestShapesGiveTheShortWindowPercentiles(t *testing.T) {
	o := DefaultOptions()
	raw, means, shaped, end := spikyStores(t, shapeKey, []string{"p1", "p2"}, 4)
	summary := func(st *Store) *Summary {
		s, err := Summarize(shapeKey, st.Series(shapeKey), nil, end, o)
		require.NoError(t, err)
		return s
	}
	want, flat, got := summary(raw), summary(means), summary(shaped)
	assert.Equal(t, flat.CPUSamples, got.CPUSamples, "the shapes add no samples")
	assert.InEpsilon(t, flat.CPUWindow.Mean, got.CPUWindow.Mean, 1e-12, "the window keeps the means")
	for _, q := range []float64{0.5, 0.75, 0.9, 0.95, 0.98, 0.99} {
		w, g, f := want.CPU.Quantile(q), got.CPU.Quantile(q), flat.CPU.Quantile(q)
		t.Logf("p%v: one-minute %.4f, shaped %.4f (%+.1f %%), means %.4f (%+.1f %%)", q*100, w, g, 100*(g/w-1), f, 100*(f/w-1))
		assert.InEpsilon(t, w, g, ShapeTolerance, "p%v", q*100)
	}
	// The test has teeth: the means alone miss the bursts.
	assert.Less(t, flat.CPU.Quantile(0.98), want.CPU.Quantile(0.98)*(1-ShapeTolerance))
}

// TestAccumulatorShapesMatchSummarize: AddShaped feeds the histogram as
// Summarize does.
func TestAccumulatorShapesMatchSummarize(t *testing.T) {
	o := DefaultOptions()
	_, _, shaped, end := spikyStores(t, shapeKey, []string{"p1", "p2"}, 3)
	series := shaped.Series(shapeKey)
	want, err := Summarize(shapeKey, series, nil, end, o)
	require.NoError(t, err)
	a, err := NewAccumulator(o)
	require.NoError(t, err)
	for _, ser := range oldestFirst(series) {
		for i := range ser.Len() {
			a.AddShaped(ser.At(i), ser.ShapeAt(ser.Time[i]))
		}
	}
	got := a.Summary(shapeKey, end)
	for _, q := range []float64{0.5, 0.9, 0.98, 0.99} {
		assert.InEpsilon(t, want.CPU.Quantile(q), got.CPU.Quantile(q), 1e-9, "p%v", q*100)
	}
}

// TestShapeLevels: for any hour's number of windows, the levels are in
// order within [0, 1], the masses are not negative and sum to one; from
// 12 windows on the three highest windows are held exactly, the two
// highest with 1/n each, and quantile_over_time's interpolation at the
// levels lands on ranks.
func TestShapeLevels(t *testing.T) {
	for _, n := range []int{2, 3, 5, 12, 30, 60, 120, 240, 3600} {
		levels, mass := ShapeLevels(n), shapeMass(n)
		var sum float64
		for i := range ShapePoints {
			assert.GreaterOrEqual(t, mass[i], 0.0, "n %d", n)
			sum += mass[i]
			assert.True(t, levels[i] >= 0 && levels[i] <= 1, "n %d: level %v", n, levels[i])
			if i > 0 {
				assert.GreaterOrEqual(t, levels[i], levels[i-1], "n %d", n)
			}
		}
		assert.InDelta(t, 1, sum, 1e-12, "n %d", n)
		if n < 12 {
			continue
		}
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(i * i) // convex: interpolation would show
		}
		ranks := shapeRanks(n)
		for i, l := range levels {
			r := ranks[i]
			assert.InEpsilon(t, max(r*r, 1e-300), max(rankQuantile(values, l), 1e-300), 1e-9, "n %d level %v", n, l)
		}
		for i := ShapePoints - 2; i < ShapePoints; i++ {
			assert.InDelta(t, 1/float64(n), mass[i], 1e-12, "n %d: the highest windows", n)
		}
		assert.Equal(t, float64(n-3), ranks[ShapePoints-3], "n %d: the third highest", n)
	}
	assert.Equal(t, [ShapePoints]float64{0, 15, 30, 44, 53, 56, 57, 58, 59}, shapeRanks(60))
}

func TestCPUShapeValid(t *testing.T) {
	inOrder := [ShapePoints]float32{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}
	nan := inOrder
	nan[3] = float32(math.NaN())
	inf := inOrder
	inf[8] = float32(math.Inf(1))
	neg := inOrder
	neg[0] = -0.1
	unordered := inOrder
	unordered[5] = 0.1
	for _, tc := range []struct {
		name string
		q    [ShapePoints]float32
		want bool
	}{
		{"in order", inOrder, true},
		{"all zero", [ShapePoints]float32{}, true},
		{"NaN", nan, false},
		{"infinite", inf, false},
		{"negative", neg, false},
		{"out of order", unordered, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := CPUShape{End: 3_600_000, N: 60, Q: tc.q}
			assert.Equal(t, tc.want, sh.Valid())
			var s Series
			assert.Equal(t, tc.want, s.AddShape(sh))
		})
	}
}

// TestShapeAt: shapes are found by hour, in (End − 1 h, End], after
// Finalize orders them and keeps the first of each hour.
func TestShapeAt(t *testing.T) {
	st := NewStore()
	h := ShapeSpan.Milliseconds()
	st.Add(shapeKey, workload.Sample{Time: time.UnixMilli(h), Pod: "p", CPU: 1, HasCPU: true})
	ser := st.SeriesOf(shapeKey, "p")
	for _, sh := range []CPUShape{{End: 3 * h, N: 60, Q: [ShapePoints]float32{8: 3}}, {End: h, N: 60, Q: [ShapePoints]float32{8: 1}}, {End: 3 * h, N: 60, Q: [ShapePoints]float32{8: 9}}} {
		require.True(t, ser.AddShape(sh))
	}
	st.Finalize()
	require.Len(t, ser.Shapes, 2)
	for _, tc := range []struct {
		t    int64
		want float32 // the shape's max; 0: none
	}{
		{0, 0},
		{1, 1},
		{h, 1},
		{h + 1, 0},
		{2 * h, 0},
		{2*h + 1, 3},
		{3 * h, 3},
		{3*h + 1, 0},
	} {
		sh := ser.ShapeAt(tc.t)
		if tc.want == 0 {
			assert.Nil(t, sh, "t %d", tc.t)
			continue
		}
		require.NotNil(t, sh, "t %d", tc.t)
		assert.Equal(t, tc.want, sh.Q[8], "t %d", tc.t)
	}
}

// TestShapeToleranceOnShapesOfUsage feeds one CPU histogram four days of
// one-minute rates and another their hourly shapes (each hour weighing as
// its twelve five-minute samples would), for usage of four shapes: idle
// with bursts of several times, a daily cycle with noise, a heavy-tailed
// one, and a steady one with rare spikes. Every percentile from p50 to
// p99 is within ShapeTolerance.
func TestShapeToleranceOnShapesOfUsage(t *testing.T) {
	o := DefaultOptions()
	for _, tc := range []struct {
		name string
		cpu  func(r *rand.Rand, day float64) float64
	}{
		{"bursts", func(r *rand.Rand, day float64) float64 {
			v := 0.05 + 0.02*math.Sin(2*math.Pi*day) + 0.005*r.NormFloat64()
			if r.Float64() < 0.08 {
				v += 0.3 + 0.2*r.Float64()
			}
			return v
		}},
		{"daily cycle", func(r *rand.Rand, day float64) float64 {
			return (0.2 + 0.2*math.Sin(2*math.Pi*day)) * math.Exp(0.25*r.NormFloat64())
		}},
		{"heavy tail", func(r *rand.Rand, day float64) float64 {
			return (0.2 + 0.1*math.Sin(2*math.Pi*day)) * math.Exp(0.7*r.NormFloat64())
		}},
		{"rare spikes", func(r *rand.Rand, _ float64) float64 {
			v := 0.1 * math.Exp(0.1*r.NormFloat64())
			if r.Float64() < 0.02 {
				v *= 3 + 3*r.Float64()
			}
			return v
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			raw, shaped := sketch.MustNew(o.CPU), sketch.MustNew(o.CPU)
			var hour []float64
			for m := 1; m <= 4*24*60; m++ {
				at := accT0.Add(time.Duration(m) * time.Minute)
				v := max(tc.cpu(r, float64(m)/1440), 0)
				raw.Add(v, 1, at)
				if hour = append(hour, v); len(hour) == 60 {
					sh := shapeOf(at, hour)
					sh.addTo(shaped, 12, at)
					hour = hour[:0]
				}
			}
			for _, q := range []float64{0.5, 0.75, 0.9, 0.95, 0.98, 0.99} {
				w, g := raw.Quantile(q), shaped.Quantile(q)
				t.Logf("p%v: %.4f from the rates, %.4f from the shapes (%+.1f %%)", q*100, w, g, 100*(g/w-1))
				assert.InEpsilon(t, w, g, ShapeTolerance, "p%v", q*100)
			}
		})
	}
}

// TestIncrementalShapes: the backtest's incremental summaries put shaped
// samples into the histogram as Summarize does, at any decision time.
func TestIncrementalShapes(t *testing.T) {
	o := DefaultOptions()
	_, _, shaped, end := spikyStores(t, shapeKey, []string{"p1", "p2"}, 3)
	series := shaped.Series(shapeKey)
	inc, err := NewFollower(shapeKey, series).Incremental(o)
	require.NoError(t, err)
	for until := accT0.Add(7*time.Hour + 20*time.Minute); !until.After(end); until = until.Add(11 * time.Hour) {
		want, err := Summarize(shapeKey, series, nil, until, o)
		require.NoError(t, err)
		got := inc.SummarizeCPU(until)
		for _, q := range []float64{0.5, 0.9, 0.98, 0.99} {
			assert.Equal(t, want.CPU.Quantile(q), got.CPU.Quantile(q), "until %s, p%v", until, q*100)
		}
		assert.InEpsilon(t, want.CPU.TotalWeight(), got.CPU.TotalWeight(), 1e-9, "until %s", until)
	}
}
