package policy

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/sketch"
	"rightsize.dev/rightsize/recommender/workload"
)

var (
	t0  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	key = workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
)

func res(cpu workload.Millicores, mem workload.Bytes) workload.Resources {
	return workload.Resources{CPU: cpu, Memory: mem}
}

func TestPodQoS(t *testing.T) {
	cases := []struct {
		name       string
		containers []workload.Settings
		want       workload.QoSClass
	}{
		{"nothing set", []workload.Settings{{}}, workload.BestEffort},
		{"no containers", nil, workload.BestEffort},
		{"requests only", []workload.Settings{{Requests: res(100, 0)}}, workload.Burstable},
		{"equal requests and limits", []workload.Settings{{Requests: res(100, workload.GiB), Limits: res(100, workload.GiB)}}, workload.Guaranteed},
		{"limits only default the requests", []workload.Settings{{Limits: res(100, workload.GiB)}}, workload.Guaranteed},
		{"limit above request", []workload.Settings{{Requests: res(100, workload.GiB), Limits: res(200, workload.GiB)}}, workload.Burstable},
		{"no cpu limit", []workload.Settings{{Requests: res(100, workload.GiB), Limits: res(0, workload.GiB)}}, workload.Burstable},
		{"one container without settings breaks Guaranteed (R8)", []workload.Settings{
			{Requests: res(100, workload.GiB), Limits: res(100, workload.GiB)}, {},
		}, workload.Burstable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, PodQoS(tc.containers))
		})
	}
}

// summaryOf builds a summary from n samples at 5-minute steps, CPU cycling
// through cpu and memory through mem.
func summaryOf(t *testing.T, p Profile, n int, cpu []float64, mem []workload.Bytes, mut func(i int, s *workload.Sample)) *history.Summary {
	t.Helper()
	st := history.NewStore()
	for i := 0; i < n; i++ {
		s := workload.Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: "p"}
		if len(cpu) > 0 {
			s.CPU, s.HasCPU = workload.Cores(cpu[i%len(cpu)]), true
		}
		if len(mem) > 0 {
			s.Memory, s.HasMemory = mem[i%len(mem)], true
		}
		if mut != nil {
			mut(i, &s)
		}
		st.Add(key, s)
	}
	st.Finalize()
	_, last := st.Span()
	series := st.Series(key)
	s, err := history.Summarize(key, series, history.OOMsFromSeries(series, last.Add(time.Millisecond)), last.Add(time.Millisecond), p.History)
	require.NoError(t, err)
	return s
}

func TestProfilesValidate(t *testing.T) {
	for name, p := range Profiles() {
		assert.NoError(t, p.Validate(), name)
	}
	p := Balanced()
	p.CPURequest.Q = 2
	p.RoundCPU = 0
	assert.Error(t, p.Validate())
	_, err := ByName("nope")
	assert.ErrorContains(t, err, "known: balanced")
	assert.Equal(t, "balanced", Names()[0])
}

func TestApplyTooLittleHistory(t *testing.T) {
	p := KRR()
	s := summaryOf(t, p, 50, []float64{0.5}, []workload.Bytes{workload.GiB}, nil)
	rec := Apply(p, s, Input{})
	assert.False(t, rec.HasCPU)
	assert.False(t, rec.HasMemory)
	require.Len(t, rec.Reasons, 2)
	assert.Contains(t, rec.Reasons[0], "cpu: no recommendation: too little history (50 samples over 4h5m; profile krr needs ≥ 100 samples over ≥ 3h)")
	assert.Equal(t, workload.Settings{}, rec.Target, "never a guess")

	rec = Apply(p, nil, Input{})
	assert.Equal(t, []string{"no recommendation: no usage samples"}, rec.Reasons)
}

func TestApplyReferenceProfiles(t *testing.T) {
	cpu := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	mem := []workload.Bytes{workload.GiB, 2 * workload.GiB}

	t.Run("krr: p95 by interpolation, no cpu limit, memory max + 15 %", func(t *testing.T) {
		p := KRR()
		ramp := make([]float64, 1000)
		for i := range ramp {
			ramp[i] = float64(i+1) / 1000
		}
		s := summaryOf(t, p, 1000, ramp, mem, nil)
		rec := Apply(p, s, Input{})
		require.True(t, rec.HasCPU)
		require.True(t, rec.HasMemory)
		assert.Equal(t, workload.Millicores(951), rec.Target.Requests.CPU) // numpy: p95 of 0.001..1.000 = 0.95005
		assert.Equal(t, workload.Millicores(0), rec.Target.Limits.CPU)
		want := workload.Bytes(math.Ceil(float64(2*workload.GiB) * 1.15))
		assert.Equal(t, want, rec.Target.Requests.Memory)
		assert.Equal(t, want, rec.Target.Limits.Memory)
		assert.Contains(t, strings.Join(rec.Reasons, "\n"), "cpu limit: none — CPU is compressible, a limit only adds throttling (R4)")
	})

	t.Run("documents: mean and peak × 1.5", func(t *testing.T) {
		p := Documents()
		s := summaryOf(t, p, 1, cpu, mem, nil)
		rec := Apply(p, s, Input{})
		assert.Equal(t, workload.Millicores(100), rec.Target.Requests.CPU)
		assert.Equal(t, workload.Millicores(150), rec.Target.Limits.CPU)
		assert.Equal(t, workload.GiB, rec.Target.Requests.Memory)
		assert.Equal(t, 1536*workload.MiB, rec.Target.Limits.Memory)
	})

	t.Run("vpa: keeps the recorded ratio and the pod floor", func(t *testing.T) {
		p := VPA()
		s := summaryOf(t, p, 2000, []float64{0.001}, []workload.Bytes{10 * workload.MiB}, nil)
		cur := workload.Settings{Requests: res(100, 100*workload.MiB), Limits: res(300, 200*workload.MiB)}
		rec := Apply(p, s, Input{Current: cur, ContainersInPod: 2})
		assert.Equal(t, workload.Millicores(13), rec.Target.Requests.CPU, "25m per pod shared by 2 containers, rounded up")
		assert.Equal(t, workload.Millicores(38), rec.Target.Limits.CPU, "3 × request")
		assert.Equal(t, 125*workload.MiB, rec.Target.Requests.Memory)
		assert.Equal(t, 250*workload.MiB, rec.Target.Limits.Memory)
	})
}

func TestApplyBalanced(t *testing.T) {
	p := Balanced()
	cpu := []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 1.0}
	mem := []workload.Bytes{500 * workload.MiB}
	s := summaryOf(t, p, 7*288, cpu, mem, nil)

	rec := Apply(p, s, Input{})
	require.True(t, rec.HasCPU)
	require.True(t, rec.HasMemory)
	// p98 (1.0) is dear here: the request is held at p75 × 1.5, p75 being
	// the top of the 0.2 bucket (≤ 5 % above 0.2), then + 5 %.
	assert.GreaterOrEqual(t, float64(rec.Target.Requests.CPU), 0.2*1.5*1.05*1000)
	assert.LessOrEqual(t, float64(rec.Target.Requests.CPU), 0.2*1.5*1.05*1000*1.05+1)
	assert.Equal(t, workload.Millicores(1500), rec.Target.Limits.CPU, "peak × 1.5 (R2)")
	assert.InDelta(t, 525, rec.Target.Requests.Memory.MiB(), 0.05*525+1)
	assert.Equal(t, 750*workload.MiB, rec.Target.Limits.Memory, "highest in 14 days × 1.5 (R2, R4), ≤ 2 × request (R3)")
	assert.Zero(t, rec.Target.Requests.Memory%workload.MiB, "rounded to MiB")
	assert.LessOrEqual(t, rec.LowerBound.CPU, rec.Target.Requests.CPU)
	assert.GreaterOrEqual(t, rec.UpperBound.CPU, rec.Target.Requests.CPU)
	assert.Greater(t, rec.Confidence, 0.9)
	all := strings.Join(rec.Reasons, "\n")
	for _, want := range []string{"cpu request: p98 of CPU usage (half-life 1d), at most p75 × 1.5, at least the mean × 1.05 — here: p98 1 (capped at the highest), held at 314m (spiky usage) (R1)", "memory limit: highest of memory usage over 14d", "(R2, R4: strict for memory)", "departs", "R1"} {
		assert.Contains(t, all, want)
	}

	t.Run("the fleet's price raises the request where the tail is cheap", func(t *testing.T) {
		// 10 % of the time at 1 core: at 5 cores per unit of time short
		// covering it costs more idle cores than it saves, at 10 it pays.
		cheap := Apply(p, s, Input{CPUPrice: 5, CPUPriced: true})
		assert.Equal(t, rec.Target.Requests.CPU, cheap.Target.Requests.CPU, "price 5: balanced's own request")
		dear := Apply(p, s, Input{CPUPrice: 10, CPUPriced: true})
		assert.Equal(t, workload.Millicores(1000), dear.Target.Requests.CPU, "price 10: the peak")
		assert.Equal(t, workload.Millicores(2000), dear.Target.Limits.CPU, "at least 2 × request (R3)")
		all := strings.Join(dear.Reasons, "\n")
		assert.Contains(t, all, "at least what the fleet's price of time short asks (the price that holds the fleet's risk to 0.85 × VPA's rule's)")
		assert.Contains(t, all, "raised to 1 at the fleet's price, 10 cores per unit of time short (R1)")
		unpriced := Apply(Documents(), s, Input{CPUPrice: 10, CPUPriced: true})
		assert.Equal(t, Apply(Documents(), s, Input{}), unpriced, "a profile without a fleet price ignores it")
	})

	t.Run("critical gets Guaranteed (R8)", func(t *testing.T) {
		rec := Apply(p, s, Input{Critical: true})
		assert.Equal(t, rec.Target.Requests, rec.Target.Limits)
		assert.Equal(t, workload.Millicores(1500), rec.Target.Requests.CPU)
		assert.Contains(t, strings.Join(rec.Reasons, "\n"), "Guaranteed class (R7, R8)")
	})

	t.Run("throttling raises the cpu limit above the current one (R6)", func(t *testing.T) {
		s := summaryOf(t, p, 7*288, cpu, mem, func(i int, s *workload.Sample) {
			s.Throttled, s.HasThrottled = 0.25, true
		})
		rec := Apply(p, s, Input{Current: workload.Settings{Limits: res(2000, 0)}})
		assert.Equal(t, workload.Millicores(3000), rec.Target.Limits.CPU, "2 cores × (1 + 2 × 0.25)")
		assert.Contains(t, strings.Join(rec.Reasons, "\n"), "throttled in 25% of CFS periods")
	})

	t.Run("OOM kills raise the memory limit (R6)", func(t *testing.T) {
		s := summaryOf(t, p, 7*288, cpu, mem, func(i int, s *workload.Sample) {
			s.Settings.Limits.Memory = 512 * workload.MiB
			s.OOMKilled = i == 7*288-10
		})
		rec := Apply(p, s, Input{})
		// max(1.2 × 512 MiB, 612 MiB) = 614.4 MiB peak, above the window's
		// highest sample, × 1.5, rounded up.
		assert.Equal(t, workload.Bytes(922)*workload.MiB, rec.Target.Limits.Memory)
		assert.Contains(t, strings.Join(rec.Reasons, "\n"), "1 OOM kill(s)")
	})
}

func TestMemoryTrendIsNamed(t *testing.T) {
	p := Balanced()
	// The working set grows 50 MiB a day from 500 MiB over 7 days.
	leak := func(i int, s *workload.Sample) {
		s.Memory = 500*workload.MiB + workload.Bytes(float64(50*workload.MiB)*float64(i)/288)
	}
	s := summaryOf(t, p, 7*288, []float64{0.2}, []workload.Bytes{0}, leak)
	steady := summaryOf(t, p, 7*288, []float64{0.2}, []workload.Bytes{500 * workload.MiB}, nil)

	rec := Apply(p, s, Input{})
	all := strings.Join(rec.Reasons, "\n")
	assert.Contains(t, all, "memory: peaks grew 50Mi a day over 7 days (Kendall τ 1.00): a leak or a filling cache")
	assert.NotContains(t, strings.Join(Apply(p, steady, Input{}).Reasons, "\n"), "peaks grew")

	t.Run("with a horizon the limit follows the trend", func(t *testing.T) {
		q := p
		q.MemoryTrend.Horizon = 10 * 24 * time.Hour
		rec2 := Apply(q, s, Input{})
		// Newest peak ≈ 850 MiB + 10 days × 50 MiB = 1350 MiB > 850 × 1.3.
		assert.InDelta(t, 1350, rec2.Target.Limits.Memory.MiB(), 2)
		assert.Greater(t, rec2.Target.Limits.Memory, rec.Target.Limits.Memory)
		assert.Contains(t, strings.Join(rec2.Reasons, "\n"), "limit raised to")
	})
}

func TestPlanWorkload(t *testing.T) {
	p := Balanced()
	s := summaryOf(t, p, 7*288, []float64{0.3}, []workload.Bytes{300 * workload.MiB}, nil)
	w := WorkloadInput{
		Key: key.Workload, Replicas: 3, Critical: true,
		Containers: []ContainerInput{
			{Name: "app", Current: workload.Settings{Requests: res(500, workload.GiB)}, Summary: s},
			{Name: "sidecar", Summary: s},
		},
	}
	wp := PlanWorkload(p, w)
	assert.Equal(t, workload.Burstable, wp.QoSCurrent)
	assert.Equal(t, workload.Guaranteed, wp.QoSRecommended)
	assert.Contains(t, wp.Notes, "container sidecar sets no requests or limits today (R5)")
	assert.Contains(t, wp.Notes, "QoS class changes: Burstable → Guaranteed (R8: critical)")
	require.Len(t, wp.Containers, 2)
	assert.Equal(t, 7*288, wp.Containers[0].Samples)

	t.Run("a container without history keeps Guaranteed out of reach", func(t *testing.T) {
		w.Containers[1].Summary = nil
		wp := PlanWorkload(p, w)
		assert.Equal(t, workload.Burstable, wp.QoSRecommended)
		assert.Contains(t, wp.Notes, "cannot reach Guaranteed (R8): no full recommendation for sidecar")
	})
}

func TestEstimateCapAndMeanFloor(t *testing.T) {
	p := Balanced()
	steady := summaryOf(t, p, 7*288, []float64{0.50, 0.52, 0.54, 0.56}, nil, nil)
	spiky := summaryOf(t, p, 7*288, []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 2.0}, nil, nil)
	rare := summaryOf(t, p, 7*288, []float64{0.01, 0.01, 0.01, 0.01, 4.0}, nil, nil)
	e := Estimate{Source: CPUHistogram, Stat: Quantile, Q: 0.98, CapQ: 0.75, CapMargin: 0.6}

	// Steady usage: p98 is cheap and taken as it is.
	assert.Equal(t, histogramQuantile(steady.CPU, 0.98), estimateDetail(e, steady).value)
	// Spiky usage: p98 (2.0) is held at p75 × 1.6.
	assert.InDelta(t, spiky.CPU.Quantile(0.75)*1.6, estimateDetail(e, spiky).value, 1e-9)
	// The cap would fall below the mean (0.81 cores): the mean wins (R1).
	e.AtLeastMean = true
	assert.Less(t, rare.CPU.Quantile(0.75)*1.6, rare.CPU.Mean())
	assert.InDelta(t, rare.CPU.Mean(), estimateDetail(e, rare).value, 1e-9)
	e.Margin = 0.1
	assert.InDelta(t, rare.CPU.Mean()*1.1, estimateDetail(e, rare).value, 1e-9)
}

func TestShortHistoryWidensMargins(t *testing.T) {
	p := Balanced()
	cpu := []float64{0.5}
	mem := []workload.Bytes{500 * workload.MiB}
	long := Apply(p, summaryOf(t, p, 3*288, cpu, mem, nil), Input{})
	short := Apply(p, summaryOf(t, p, 36, cpu, mem, nil), Input{}) // three hours
	require.True(t, short.HasCPU)
	// Three hours: confidence 1 − 2^(−0.0608) ≈ 0.041; + 50 % × (1 − 0.041/0.5) ≈ + 46 %.
	ratio := float64(short.Target.Requests.CPU) / float64(long.Target.Requests.CPU)
	assert.InDelta(t, 1.46, ratio, 0.02)
	assert.Greater(t, short.Target.Limits.Memory, long.Target.Limits.Memory)
	assert.Contains(t, strings.Join(short.Reasons, "\n"), "for little history (2h55m observed, confidence 0.04)")
	assert.NotContains(t, strings.Join(long.Reasons, "\n"), "little history", "three days are enough")
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3*time.Hour + 30*time.Minute: "3h30m",
		3 * time.Hour:                "3h",
		45 * time.Minute:             "45m",
		2*time.Hour + 55*time.Minute: "2h55m",
		14 * 24 * time.Hour:          "14d",
		20 * time.Second:             "20s",
		90 * time.Second:             "2m",
	} {
		assert.Equal(t, want, fmtDur(d), "%v", d)
	}
}

// A histogram's quantile is the upper end of its bucket, above every sample
// where the highest lies low in its bucket: the policy caps it at the
// highest value the histogram was given, in the amount and the reason
// ("p90 677Mi" beside "highest 673Mi" no more). Only vpa keeps VPA's bucket
// end.
func TestQuantilesCappedAtTheHighest(t *testing.T) {
	mib := workload.MiB
	for _, tc := range []struct {
		name    string
		profile Profile
		cpu     []float64
		mem     []workload.Bytes
		memory  bool // the memory request, else the CPU request
		reason  string
	}{
		{"balanced memory p85 of peaks", Balanced(), []float64{0.2}, []workload.Bytes{400 * mib, 673 * mib}, true,
			"memory request: p85 of memory peaks per 1d (8 intervals, half-life 1d), at least 0.5 × the highest memory usage over 14d × 1.05 — here: p85 673Mi (capped at the highest) (R1)"},
		{"balanced cpu p98", Balanced(), []float64{1.2, 1.25, 1.286}, []workload.Bytes{100 * mib}, false,
			"here: p98 1286m (capped at the highest)"},
		{"guaranteed cpu p99", Guaranteed(), []float64{1.286}, []workload.Bytes{100 * mib}, false,
			"here: p99 1286m (capped at the highest)"},
		{"reliability memory p98 of peaks", Reliability(), []float64{0.2}, []workload.Bytes{673 * mib}, true,
			"p98 673Mi (capped at the highest)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summaryOf(t, tc.profile, 3*288, tc.cpu, tc.mem, nil)
			e, h, w := tc.profile.CPURequest, s.CPU, s.CPUWindow
			if tc.memory {
				e, h, w = tc.profile.MemoryRequest, s.MemoryPeaks, s.MemoryWindow
			}
			require.Equal(t, Quantile, e.Stat)
			require.Greater(t, h.Quantile(e.Q), w.Max, "the case's bucket end lies above every sample")

			x := estimateDetail(e, s)
			st := x.Steps[0]
			require.Equal(t, StepQuantile, st.Kind)
			assert.LessOrEqual(t, st.Value, w.Max, "the quantile used")
			assert.LessOrEqual(t, st.Value, h.Max())
			assert.Equal(t, h.Quantile(e.Q), st.Bound, "the bucket's end, for the reason")

			rec := Apply(tc.profile, s, Input{})
			assert.Contains(t, strings.Join(rec.Reasons, "\n"), tc.reason)
		})
	}

	t.Run("vpa keeps the bucket's end", func(t *testing.T) {
		p := VPA()
		s := summaryOf(t, p, 3*288, []float64{1.286}, []workload.Bytes{673 * mib}, nil)
		for _, c := range []struct {
			e Estimate
			h *sketch.Histogram
		}{{p.CPURequest, s.CPU}, {p.MemoryRequest, s.MemoryPeaks}} {
			st := estimateDetail(c.e, s).Steps[0]
			assert.Equal(t, c.h.Quantile(c.e.Q), st.Value)
			assert.False(t, st.Changed)
		}
	})
}

// TestWindowQuantile: krr alone reads a quantile of an exact window, which
// sketches cannot answer to the few percent the other statistics keep.
func TestWindowQuantile(t *testing.T) {
	for _, name := range Names() {
		p, err := ByName(name)
		require.NoError(t, err)
		assert.Equal(t, name == "krr", p.WindowQuantile(), name)
	}
}
