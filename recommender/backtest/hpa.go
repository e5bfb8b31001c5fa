package backtest

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

// The HPA backtest's setups (docs/backtest.md).
const (
	SetupCurrent     = "current"
	SetupDefaults    = "defaults"
	SetupRecommended = "recommended"
	SetupFixed       = "fixed"
)

// The classes of a workload's load, from the first half's aggregate load.
const (
	ClassFlat    = "flat"
	ClassBursty  = "bursty"
	ClassDiurnal = "diurnal"
	// ClassUnknown is a load with no usable point (empty, NaN).
	ClassUnknown = "unknown"
)

// The class thresholds (docs/backtest.md): structural, not fitted.
const (
	flatRatio   = 1.5  // p99 / p5 below it: flat
	burstyRise  = 1.25 // p99 growth within the reaction time: bursty
	burstyRatio = 3.0  // p99 / median at or above it: bursty
)

// HPAOptions configure HPABacktest.
type HPAOptions struct {
	// Split is the time that ends the half recommended from and starts
	// the half replayed; zero splits each workload's history at its
	// midpoint.
	Split time.Time
	// HPAs are the workloads' HPAs; Known says the source knows them all.
	HPAs  []workload.HPA
	Known bool
	// Critical marks workloads critical (R9: minReplicas 5).
	Critical map[workload.Key]bool
	// Recommend configures the recommendation; its Replay also the
	// replays of the second half. A zero Replay.Sync takes
	// hpa.DefaultOptions.
	Recommend hpa.Options
	// Workers bounds the parallelism; 0 = GOMAXPROCS.
	Workers int
}

// HPAReport is an HPA backtest's outcome, in the JSON shape of
// docs/backtest.md.
type HPAReport struct {
	Sync      string        `json:"sync"`
	StartUp   string        `json:"startup"`
	Workloads []HPAWorkload `json:"workloads"`
	// Totals sum the workloads' setups per group: "all", each class, and
	// "keys 1/2" and "keys 2/2", the first and second half of the
	// workloads sorted by key.
	Totals []HPATotal `json:"totals"`
}

// HPAWorkload is one workload's replays.
type HPAWorkload struct {
	Workload workload.Key `json:"-"`
	// Name is the workload's key, namespace/kind/name.
	Name  string `json:"workload"`
	Class string `json:"class"`
	// Split is the split time, RFC 3339 (Unix milliseconds outside the
	// years 0–9999).
	Split string `json:"split"`
	// Load is the first half's aggregate load the class and the
	// recommendation come from.
	Load HPALoad `json:"load"`
	// HPARecommended says whether the recommendation has an HPA.
	HPARecommended bool `json:"hpa_recommended"`
	// Note says why a setup is missing or replaced ("no HPA
	// recommended").
	Note   string     `json:"note,omitempty"`
	Setups []HPASetup `json:"setups"`
}

// HPALoad describes an aggregate load.
type HPALoad struct {
	TroughCores float64 `json:"trough_cores"`
	MedianCores float64 `json:"median_cores"`
	PeakCores   float64 `json:"peak_cores"`
	Rise        float64 `json:"rise"`
}

// HPASetup is one setup replayed over the second half.
type HPASetup struct {
	Setup string `json:"setup"`
	// PodCPUMillicores is the pod CPU request replayed.
	PodCPUMillicores int64 `json:"pod_cpu_millicores"`
	// CPUTarget, MinReplicas, MaxReplicas and ScaleDownWindow (the
	// scale-down stabilization window in force) describe an HPA setup;
	// Replicas a fixed count.
	CPUTarget       int    `json:"cpu_target,omitempty"`
	MinReplicas     int    `json:"min_replicas,omitempty"`
	MaxReplicas     int    `json:"max_replicas,omitempty"`
	ScaleDownWindow string `json:"scale_down_window,omitempty"`
	Replicas        int    `json:"replicas,omitempty"`
	HPAFigures
}

// HPAFigures are a replay's figures.
type HPAFigures struct {
	Hours        float64 `json:"hours"`
	ReplicaHours float64 `json:"replica_hours"`
	CoreHours    float64 `json:"core_hours"`
	Saturated    float64 `json:"saturated"`
	AboveTarget  float64 `json:"above_target"`
	Events       int     `json:"events"`
	PeakReplicas int     `json:"peak_replicas"`
}

// HPATotal sums one setup over a group of workloads: hours and events
// add up, saturated and above_target are means weighted by the hours
// replayed; peak_replicas is the highest.
type HPATotal struct {
	Group     string `json:"group"`
	Setup     string `json:"setup"`
	Workloads int    `json:"workloads"`
	HPAFigures
}

func figuresOf(f hpa.Figures) HPAFigures {
	return HPAFigures{Hours: f.Duration.Hours(), ReplicaHours: f.ReplicaHours, CoreHours: f.CoreHours,
		Saturated: f.Saturated, AboveTarget: f.AboveTarget, Events: f.Events, PeakReplicas: f.PeakReplicas}
}

// HPABacktest recommends each scalable workload's HPA from the first half
// of its history and replays the second half with the current setup, the
// R10/R11 defaults and the recommendation (docs/backtest.md).
func HPABacktest(ctx context.Context, st *history.Store, o HPAOptions) (HPAReport, error) {
	if o.Recommend.Replay.Sync <= 0 {
		o.Recommend = hpa.DefaultOptions
	}
	rep := HPAReport{Sync: o.Recommend.Replay.Sync.String(), StartUp: o.Recommend.Replay.StartUp.String()}
	byWorkload := map[workload.Key][]workload.ContainerKey{}
	var keys []workload.Key
	for _, ck := range st.Containers() {
		if !hpa.Scalable(ck.Workload.Kind) {
			continue
		}
		if _, ok := byWorkload[ck.Workload]; !ok {
			keys = append(keys, ck.Workload)
		}
		byWorkload[ck.Workload] = append(byWorkload[ck.Workload], ck)
	}
	slices.SortFunc(keys, func(a, b workload.Key) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	hpas := map[workload.Key]workload.HPA{}
	for _, h := range o.HPAs {
		if _, dup := hpas[h.Target]; !dup {
			hpas[h.Target] = h
		}
	}
	rep.Workloads = make([]HPAWorkload, len(keys))
	err := parallel(ctx, len(keys), o.Workers, func(i int) {
		k := keys[i]
		var cur *workload.HPA
		if h, ok := hpas[k]; ok {
			cur = &h
		}
		rep.Workloads[i] = hpaWorkload(st, k, byWorkload[k], cur, o)
	})
	if err != nil {
		return HPAReport{}, err
	}
	rep.Totals = hpaTotals(rep.Workloads)
	return rep, nil
}

// hpaWorkload backtests one workload.
func hpaWorkload(st *history.Store, k workload.Key, containers []workload.ContainerKey, cur *workload.HPA, o HPAOptions) HPAWorkload {
	w := HPAWorkload{Workload: k, Name: k.String(), Class: ClassUnknown, Setups: []HPASetup{}}
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, ck := range containers {
		for _, s := range st.Series(ck) {
			if s.Len() > 0 {
				first, last = min(first, s.Time[0]), max(last, s.Time[s.Len()-1])
			}
		}
	}
	if first > last {
		w.Note = "no samples"
		return w
	}
	split := o.Split.UnixMilli()
	if o.Split.IsZero() {
		// Halves of the span, in uint64: the span of two int64 times may
		// not fit an int64.
		split = first + int64((uint64(last)-uint64(first))/2)
	}
	w.Split = formatTime(split)
	if split <= first || split > last {
		w.Note = "no history on both sides of the split"
		return w
	}
	before := hpa.Aggregate(st, containers, time.UnixMilli(first), time.UnixMilli(split))
	after := hpa.Aggregate(st, containers, time.UnixMilli(split), time.UnixMilli(workload.AddSat(last, 1)))
	podCPU, podMem := settingsAt(st, containers, split)

	in := hpa.Input{Key: k, Critical: o.Critical[k], Replicas: medianPods(before.Pods), Current: cur, Known: o.Known,
		Load: before, PodCPU: podCPU, PodMemory: podMem}
	a := hpa.Recommend(in, o.Recommend)
	w.Load = HPALoad{TroughCores: finite(float64(a.Load.Trough)), MedianCores: finite(float64(a.Load.Median)),
		PeakCores: finite(float64(a.Load.Peak)), Rise: finite(a.Load.Rise)}
	w.Class = Class(a.Load)
	ro := o.Recommend.Replay

	// current: the workload's HPA, or its observed pod count, at its
	// current request.
	if podCPU > 0 {
		if cur != nil {
			if f, ok := hpa.Replay(after, podCPU.Cores(), *cur, ro); ok {
				w.Setups = append(w.Setups, hpaSetup(SetupCurrent, podCPU, cur, 0, f))
			}
		} else if n := medianPods(after.Pods); n > 0 {
			w.Setups = append(w.Setups, hpaSetup(SetupCurrent, podCPU, nil, n, hpa.ReplayFixed(after, podCPU.Cores(), n)))
		}
	}

	rec := a.Recommended
	if rec != nil && rec.Utilization("cpu") > 0 && a.PodCPU > 0 {
		w.HPARecommended = true
		def := hpa.Defaults(k, in.Critical)
		def.Metrics = def.Metrics[:1]
		def.MaxReplicas = defaultsMax(before, a.PodCPU, def.MinReplicas)
		fd, okd := hpa.Replay(after, a.PodCPU.Cores(), def, ro)
		fr, okr := hpa.Replay(after, a.PodCPU.Cores(), *rec, ro)
		if okd && okr {
			w.Setups = append(w.Setups, hpaSetup(SetupDefaults, a.PodCPU, &def, 0, fd), hpaSetup(SetupRecommended, a.PodCPU, rec, 0, fr))
		} else {
			w.Note = "no load after the split to replay"
		}
		return w
	}
	if rec != nil {
		w.HPARecommended = true
		w.Note = "the recommended HPA does not scale on CPU utilization: not replayed"
		return w
	}

	// No HPA: what the recommendation runs instead, a fixed count sized
	// for the first half's p99 at 70 % of the request the pods keep (the
	// current one), or, where none is set, of the pod size the
	// recommendation models; beside it the R10/R11 defaults at the same
	// request, so the two differ only in how they scale.
	w.Note = "no HPA recommended"
	r := podCPU
	if r <= 0 {
		r = modelledPodCPU(in, o.Recommend)
	}
	peak := float64(a.Load.Peak)
	if r <= 0 || !(peak >= 0) {
		w.Note += "; no pod request to size a fixed count with"
		return w
	}
	n := peak / (float64(hpa.CPUUtilization) / 100 * float64(r.Cores()))
	if !(n < 1e6) {
		w.Note += "; the fixed count would exceed a million pods"
		return w
	}
	pods := max(1, int(math.Ceil(n-1e-9)))
	if len(after.CPU) == 0 {
		return w
	}
	def := hpa.Defaults(k, in.Critical)
	def.Metrics = def.Metrics[:1]
	def.MaxReplicas = defaultsMax(before, r, def.MinReplicas)
	if fd, ok := hpa.Replay(after, r.Cores(), def, ro); ok {
		w.Setups = append(w.Setups, hpaSetup(SetupDefaults, r, &def, 0, fd))
	}
	w.Setups = append(w.Setups, hpaSetup(SetupFixed, r, nil, pods, hpa.ReplayFixed(after, r.Cores(), pods)))
	return w
}

// modelledPodCPU is the pod CPU request the recommendation sizes for the
// workload's load with an HPA, zero where the history is too short. Recommend
// gives none to a workload it leaves without an HPA, so it is asked as if
// the R10/R11 defaults were in place: the pod size comes from the load
// alone, not from the HPA in place.
func modelledPodCPU(in hpa.Input, o hpa.Options) workload.Millicores {
	def := hpa.Defaults(in.Key, in.Critical)
	in.Current, in.Known = &def, true
	return hpa.Recommend(in, o).PodCPU
}

// maxHeadroom is the headroom of maxReplicas over the pods the highest
// load needs, as package hpa sizes it.
const maxHeadroom = 1.25

// defaultsMax is the maxReplicas the recommendation gives the R10/R11
// defaults it compares with: 20, or the pods the first half's highest load
// needs at 70 % of the pod request with 25 % headroom when that is more.
// Sized for 70 % rather than taken from the recommended HPA, whose
// maxReplicas follows its own target: a higher target would leave the
// defaults short of pods, a lower one give them extra.
func defaultsMax(l hpa.Load, podCPU workload.Millicores, minR int) int {
	highest := 0.0
	for _, v := range l.CPU {
		// Gaps and values outside 0–10⁶ cores, as hpa reads them.
		if v >= 0 && v <= 1e6 {
			highest = max(highest, v)
		}
	}
	n := maxHeadroom * highest / (float64(hpa.CPUUtilization) / 100 * float64(podCPU.Cores()))
	pods := hpa.MaxReplicas
	if n > 0 && n < math.MaxInt32 {
		pods = max(pods, int(math.Ceil(n-1e-9)))
	} else if n >= math.MaxInt32 {
		pods = math.MaxInt32
	}
	return max(pods, minR)
}

func formatTime(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return strconv.FormatInt(ms, 10)
	}
	return t.Format(time.RFC3339Nano)
}

func hpaSetup(name string, podCPU workload.Millicores, h *workload.HPA, replicas int, f hpa.Figures) HPASetup {
	s := HPASetup{Setup: name, PodCPUMillicores: int64(podCPU), Replicas: replicas, HPAFigures: figuresOf(f)}
	if h != nil {
		s.CPUTarget, s.MinReplicas, s.MaxReplicas = h.Utilization("cpu"), h.MinReplicas, h.MaxReplicas
		s.ScaleDownWindow = h.Behavior.Down().StabilizationWindow.String()
	}
	return s
}

// Class is a load's class (docs/backtest.md): flat when p99 / p5 < 1.5,
// else bursty when it rises 25 % or more within the reaction time (p99)
// or p99 / median ≥ 3, else diurnal.
func Class(l workload.AggregateLoad) string {
	p5, p50, p99 := float64(l.Trough), float64(l.Median), float64(l.Peak)
	if l.Samples == 0 || !finiteAll(p5, p50, p99, l.Rise) || p5 < 0 {
		return ClassUnknown
	}
	switch {
	case p99 <= 0 || p99 < flatRatio*p5:
		return ClassFlat
	case l.Rise >= burstyRise || p99 >= burstyRatio*p50:
		return ClassBursty
	}
	return ClassDiurnal
}

func finiteAll(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// finite is v, or 0 where JSON could not carry it.
func finite(v float64) float64 {
	if !finiteAll(v) {
		return 0
	}
	return v
}

// settingsAt sums the containers' CPU and memory requests in force at
// their latest sample before t (or their first sample, none before).
func settingsAt(st *history.Store, containers []workload.ContainerKey, t int64) (workload.Millicores, workload.Bytes) {
	var cpu workload.Millicores
	var mem workload.Bytes
	for _, ck := range containers {
		var set workload.Settings
		at, found := int64(math.MinInt64), false
		for _, s := range st.Series(ck) {
			if s.Len() == 0 {
				continue
			}
			i := s.Search(t) - 1
			if i < 0 {
				i = 0
			}
			if !found || s.Time[i] > at {
				set, at, found = s.SettingsAt(i), s.Time[i], true
			}
		}
		cpu = workload.AddSat(cpu, set.Requests.CPU)
		mem = workload.AddSat(mem, set.Requests.Memory)
	}
	return cpu, mem
}

// medianPods is the median pod count over the points with pods.
func medianPods(pods []int) int {
	var ns []int
	for _, n := range pods {
		if n > 0 {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		return 0
	}
	slices.Sort(ns)
	return ns[len(ns)/2]
}

// hpaTotals sums the setups per group.
func hpaTotals(ws []HPAWorkload) []HPATotal {
	type acc struct {
		t                  HPATotal
		satHours, aboveHrs float64
	}
	accs := map[[2]string]*acc{}
	add := func(group string, s HPASetup) {
		id := [2]string{group, s.Setup}
		a, ok := accs[id]
		if !ok {
			a = &acc{t: HPATotal{Group: group, Setup: s.Setup}}
			accs[id] = a
		}
		a.t.Workloads++
		a.t.Hours += s.Hours
		a.t.ReplicaHours += s.ReplicaHours
		a.t.CoreHours += s.CoreHours
		a.t.Events += s.Events
		a.t.PeakReplicas = max(a.t.PeakReplicas, s.PeakReplicas)
		a.satHours += s.Saturated * s.Hours
		a.aboveHrs += s.AboveTarget * s.Hours
	}
	groups := []string{"all", ClassFlat, ClassDiurnal, ClassBursty, ClassUnknown, "keys 1/2", "keys 2/2"}
	setups := []string{SetupCurrent, SetupDefaults, SetupRecommended, SetupFixed}
	half := (len(ws) + 1) / 2
	for i, w := range ws {
		keyHalf := "keys 1/2"
		if i >= half {
			keyHalf = "keys 2/2"
		}
		for _, s := range w.Setups {
			add("all", s)
			add(w.Class, s)
			add(keyHalf, s)
		}
	}
	out := make([]HPATotal, 0, len(accs))
	for _, g := range groups {
		for _, s := range setups {
			a, ok := accs[[2]string{g, s}]
			if !ok {
				continue
			}
			a.t.Saturated = ratio(a.satHours, a.t.Hours)
			a.t.AboveTarget = ratio(a.aboveHrs, a.t.Hours)
			out = append(out, a.t)
		}
	}
	return out
}
