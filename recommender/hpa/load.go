package hpa

import (
	"math"
	"slices"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// Load is a workload's CPU usage summed over its pods on a regular grid:
// the quantity an HPA does not regulate. Per-pod usage is what an HPA keeps
// near its target, so sizing from it chases the HPA's own doing; the sum
// is the same however many pods share it.
type Load struct {
	// Start is the first point's time in Unix milliseconds; point i is at
	// Start + i·Step.
	Start int64
	Step  time.Duration
	// CPU is the load in cores at each point; NaN where no pod reported.
	CPU []float64
	// Pods is the number of pods reporting at each point.
	Pods []int
	// MemoryCorrelation is the correlation of a pod's memory with its CPU
	// usage over all pod-points with both, NaN with too few; MemoryVariation
	// the coefficient of variation of per-pod memory. Together they say
	// whether per-pod memory follows load (a memory target helps) or not
	// (a memory target only ever scales out).
	MemoryCorrelation, MemoryVariation float64

	// vals is filled(), once Recommend has made it for its replays.
	vals []float64
}

// maxCores bounds a credible load: a million cores.
const maxCores = 1e6

// maxPoints bounds a Load's grid: a year at 1-minute steps. A sparse
// history with a far-off sample must not allocate a grid to reach it.
const maxPoints = 366 * 24 * 60

// Aggregate sums the CPU usage of a workload's containers over its pods per
// step, for samples in [from, until). The step is the containers' median
// sample interval (at least a second), coarser when the span would need
// more than maxPoints points. Each pod container counts once per point:
// several samples of it in one step are averaged.
func Aggregate(st *history.Store, containers []workload.ContainerKey, from, until time.Time) Load {
	var series []*history.Series
	for _, ck := range containers {
		series = append(series, st.Series(ck)...)
	}
	lo, hi := from.UnixMilli(), until.UnixMilli()
	first, last, steps := int64(math.MaxInt64), int64(math.MinInt64), []time.Duration{}
	for _, s := range series {
		i, j := s.Search(lo), s.Search(hi)
		if i >= j {
			continue
		}
		first, last = min(first, s.Time[i]), max(last, s.Time[j-1])
		if m := s.MedianStep(); m > 0 {
			steps = append(steps, m)
		}
	}
	if first > last {
		return Load{MemoryCorrelation: math.NaN()}
	}
	step := time.Second
	if len(steps) > 0 {
		slices.Sort(steps)
		step = max(step, steps[len(steps)/2])
	}
	span := last - first
	if n := span/step.Milliseconds() + 1; n > maxPoints {
		step = time.Duration(span/(maxPoints-1)+1) * time.Millisecond
	}
	n := int(span/step.Milliseconds()) + 1
	l := Load{Start: first, Step: step, CPU: make([]float64, n), Pods: make([]int, n)}
	seen := make([]bool, n)

	// Per pod: its containers' CPU and memory per point, for the sum and
	// for the memory-versus-load correlation.
	byPod := map[string][]*history.Series{}
	var pods []string
	for _, s := range series {
		if _, ok := byPod[s.Pod]; !ok {
			pods = append(pods, s.Pod)
		}
		byPod[s.Pod] = append(byPod[s.Pod], s)
	}
	podCPU, podMem := make([]float64, n), make([]float64, n)
	podHasCPU, podHasMem := make([]bool, n), make([]bool, n)
	var corr correlation
	ms := step.Milliseconds()
	for _, p := range pods {
		clear(podCPU)
		clear(podMem)
		clear(podHasCPU)
		clear(podHasMem)
		for _, s := range byPod[p] {
			addSeries(s, lo, hi, first, ms, podCPU, podHasCPU, s.CPU)
			addSeries(s, lo, hi, first, ms, podMem, podHasMem, s.Memory)
		}
		for i := range n {
			if podHasCPU[i] {
				l.CPU[i] += podCPU[i]
				l.Pods[i]++
				seen[i] = true
				if podHasMem[i] {
					corr.add(podCPU[i], podMem[i])
				}
			}
		}
	}
	for i := range n {
		if !seen[i] {
			l.CPU[i] = math.NaN()
		}
	}
	l.MemoryCorrelation, l.MemoryVariation = corr.result()
	return l
}

// addSeries adds one series' values in [lo, hi) to the per-point sums,
// averaging several samples that fall into one point.
func addSeries(s *history.Series, lo, hi, first, ms int64, sum []float64, has []bool, v []float64) {
	i, j := s.Search(lo), s.Search(hi)
	cur, acc, cnt := -1, 0.0, 0
	flush := func() {
		if cnt > 0 {
			sum[cur] += acc / float64(cnt)
			has[cur] = true
		}
	}
	for k := i; k < j; k++ {
		if math.IsNaN(v[k]) {
			continue
		}
		p := int((s.Time[k] - first) / ms)
		if p != cur {
			flush()
			cur, acc, cnt = p, 0, 0
		}
		acc += v[k]
		cnt++
	}
	flush()
}

// correlation accumulates Pearson's correlation coefficient in one pass,
// with Welford's updates: plain sums of bytes squared lose precision.
type correlation struct {
	n, meanX, meanY, m2X, m2Y, cXY float64
}

func (c *correlation) add(x, y float64) {
	c.n++
	dx := x - c.meanX
	c.meanX += dx / c.n
	dy := y - c.meanY
	c.meanY += dy / c.n
	c.m2X += dx * (x - c.meanX)
	c.m2Y += dy * (y - c.meanY)
	c.cXY += dx * (y - c.meanY)
}

// result returns the correlation (NaN below 12 points or without
// variation) and y's coefficient of variation.
func (c *correlation) result() (r, cv float64) {
	r = math.NaN()
	if c.n >= 2 && c.meanY > 0 {
		cv = math.Sqrt(c.m2Y/(c.n-1)) / c.meanY
	}
	if c.n < 12 || c.m2X <= 0 || c.m2Y <= 0 {
		return r, cv
	}
	return max(-1, min(1, c.cXY/math.Sqrt(c.m2X*c.m2Y))), cv
}

// Duration is the time the load covers.
func (l Load) Duration() time.Duration { return time.Duration(len(l.CPU)) * l.Step }

// filled returns the load with gaps filled by linear interpolation between
// the nearest points with data (held flat before the first and after the
// last); nil when no point has data.
func (l Load) filled() []float64 {
	if l.vals != nil {
		return l.vals
	}
	return l.filledInto(nil)
}

// filledInto is filled, in out's array where it has the room.
func (l Load) filledInto(out []float64) []float64 {
	out = append(out[:0], l.CPU...)
	prev := -1
	for i, v := range out {
		// A load is cores in use: what no machine holds is a gap.
		if !(v >= 0 && v <= maxCores) {
			out[i] = math.NaN()
			continue
		}
		switch {
		case prev < 0:
			for k := range i {
				out[k] = v
			}
		case i-prev > 1:
			a := out[prev]
			for k := prev + 1; k < i; k++ {
				out[k] = a + (v-a)*float64(k-prev)/float64(i-prev)
			}
		}
		prev = i
	}
	if prev < 0 {
		return nil
	}
	for k := prev + 1; k < len(out); k++ {
		out[k] = out[prev]
	}
	return out
}
