package hpa

import (
	"math"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// ReplayOptions configure the simulated HPA controller.
type ReplayOptions struct {
	// Sync is the controller's sync period (kube-controller-manager's
	// --horizontal-pod-autoscaler-sync-period, 15 s by default).
	Sync time.Duration
	// StartUp is the time a new pod needs to become ready and take load.
	StartUp time.Duration
	// Tolerance is the band of the usage ratio within which the HPA does
	// not act (Kubernetes: 0.1).
	Tolerance float64
}

// DefaultReplay is Kubernetes' controller with pods ready a minute after
// they are created.
var DefaultReplay = ReplayOptions{Sync: 15 * time.Second, StartUp: 60 * time.Second, Tolerance: 0.1}

// metricsDelay is how old the usage an HPA sees is: metrics-server's
// resolution.
const metricsDelay = 15 * time.Second

// Reaction is the time from a rise in load to a ready pod that serves it:
// the metrics' age, a sync period, the pod's start-up.
func (o ReplayOptions) Reaction() time.Duration { return metricsDelay + o.Sync + o.StartUp }

// Figures are a replay's outcome.
type Figures = workload.ReplayFigures

// Replay simulates the Kubernetes HPA algorithm scaling a workload whose
// pods request podRequest cores each over the load, on its CPU target:
// every Sync the desired count is ceil(ready × utilization / target)
// unless the ratio is within the tolerance (starting pods count as idle
// when scaling up, as the controller does), stabilized over the behavior's
// windows, limited by its rate policies and by min and max. New pods take
// load after StartUp; scaling down removes starting pods first. The load
// is interpolated linearly between its points. It reports false when the
// HPA has no CPU utilization target, the request is not positive or the
// load is empty.
func Replay(l Load, podRequest workload.Cores, h workload.HPA, o ReplayOptions) (Figures, bool) {
	return replay(l, podRequest, h, o, nil)
}

// replay is Replay with a trace of the pods after every sync.
func replay(l Load, podRequest workload.Cores, h workload.HPA, o ReplayOptions, trace func(t int64, ready, replicas int)) (Figures, bool) {
	u := float64(h.Utilization("cpu")) / 100
	r := float64(podRequest)
	vals := l.filled()
	if u <= 0 || r <= 0 || len(vals) == 0 || o.Sync <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return Figures{}, false
	}
	s := newSim(h, u, r, o)
	s.replicas = clampInt(ceilInt(vals[0]/(u*r)), s.min, s.max)
	s.ready = s.replicas
	s.trace = trace
	s.run(l, vals)
	return s.fig, true
}

// ReplayFixed replays the load on a fixed replica count: the cost and the
// saturation without an HPA.
func ReplayFixed(l Load, podRequest workload.Cores, replicas int) Figures {
	vals := l.filled()
	var f Figures
	if len(vals) == 0 {
		return f
	}
	r := float64(podRequest)
	step := l.Step.Hours()
	sat := 0
	for _, v := range vals {
		if v > float64(replicas)*r*(1+1e-9) {
			sat++
		}
	}
	f.Duration = time.Duration(len(vals)) * l.Step
	f.ReplicaHours = float64(replicas) * step * float64(len(vals))
	f.CoreHours = f.ReplicaHours * r
	f.Saturated = float64(sat) / float64(len(vals))
	f.PeakReplicas = replicas
	return f
}

// maxReplicas bounds the replicas replayed, as autoscaling/v2's int32
// does the spec's.
const maxReplicas = math.MaxInt32

type scaleEvent struct {
	at    int64 // Unix ms
	delta int
}

// starting are n pods that become ready at a time.
type starting struct {
	at int64
	n  int
}

// recommendations are the desired counts of consecutive syncs that
// agreed, from the sync at first to the one at last: a stabilization
// window asks only whether a count was recommended within it, so one run
// answers for its syncs (a window holds tens of syncs, and the count
// seldom changes from one to the next).
type recommendations struct {
	first, last int64
	replicas    int
}

// sim is one replay's controller and pods.
type sim struct {
	h            workload.HPA
	u, r         float64
	o            ReplayOptions
	up, down     workload.ScalingRules
	min, max     int
	replicas     int
	ready        int
	pending      []starting // starting pods by the time they are ready, oldest first
	starting     int        // the pods in pending
	recs         []recommendations
	events       []scaleEvent
	keepRecs     int64 // ms of recommendations the windows need
	keepEvents   int64 // ms of events the policies need
	upWindow     int64 // ms of the stabilization windows
	downWindow   int64
	fig          Figures
	replicaMs    float64 // whole replica-milliseconds: exact below 2⁵³
	saturatedMs  int64
	aboveMs      int64
	replayedMs   int64
	toleranceTop float64
	// trace, when set, sees the pods after every sync.
	trace func(t int64, ready, replicas int)
}

func newSim(h workload.HPA, u, r float64, o ReplayOptions) *sim {
	s := &sim{h: h, u: u, r: r, o: o, up: h.Behavior.Up(), down: h.Behavior.Down(),
		min: min(max(h.MinReplicas, 1), maxReplicas), max: min(max(h.MaxReplicas, h.MinReplicas, 1), maxReplicas), toleranceTop: u * (1 + o.Tolerance)}
	s.upWindow, s.downWindow = s.up.StabilizationWindow.Milliseconds(), s.down.StabilizationWindow.Milliseconds()
	s.keepRecs = max(s.upWindow, s.downWindow)
	for _, p := range append(append([]workload.ScalingPolicy{}, s.up.Policies...), s.down.Policies...) {
		s.keepEvents = max(s.keepEvents, p.Period.Milliseconds())
	}
	return s
}

func (s *sim) run(l Load, vals []float64) {
	stepMs := l.Step.Milliseconds()
	syncMs := s.o.Sync.Milliseconds()
	// Each point stands for its step: the replay covers Duration.
	end := l.Start + int64(len(vals))*stepMs
	tl := timeline{start: l.Start, stepMs: stepMs, syncMs: syncMs, end: end, vals: vals}
	// Quiet runs add whole milliseconds at once, and replica-milliseconds
	// as float64: exact, and so the same as sync by sync, below 2⁵³.
	runs := s.trace == nil && float64(s.max)*float64(end-l.Start) < 1<<53
	for t := l.Start; t < end; t += syncMs {
		load, i := loadAt(l.Start, stepMs, vals, t)
		if runs {
			if last, ok := s.quiet(tl, t, i, load); ok {
				t = last
				continue
			}
		}
		s.step(t, load)
		if s.trace != nil {
			s.trace(t, s.ready, s.replicas)
		}
		s.account(load, min(syncMs, end-t))
	}
	s.fig.Duration = time.Duration(s.replayedMs) * time.Millisecond
	s.fig.ReplicaHours = s.replicaMs / float64(time.Hour.Milliseconds())
	// Every pod requests r: the core-hours are the replica-hours' r times.
	s.fig.CoreHours = s.replicaMs * s.r / float64(time.Hour.Milliseconds())
	if s.replayedMs > 0 {
		s.fig.Saturated = float64(s.saturatedMs) / float64(s.replayedMs)
		s.fig.AboveTarget = float64(s.aboveMs) / float64(s.replayedMs)
	}
}

// loadAt is the load at t, linear between the points, and the point
// before it.
func loadAt(start, stepMs int64, vals []float64, t int64) (float64, int) {
	pos := float64(t-start) / float64(stepMs)
	i := int(pos)
	load := vals[i]
	if i+1 < len(vals) {
		load += (vals[i+1] - vals[i]) * (pos - float64(i))
	}
	return load, i
}

// timeline is a replay's load and clock.
type timeline struct {
	start, stepMs, syncMs, end int64
	vals                       []float64
}

// quiet replays at once the syncs from t on where none changes anything,
// and returns the last of them; false when the sync at t would change
// something. Most of a replay is such runs: the count settled or
// held by a stabilization window, no pod becoming ready.
//
// Between two points the load moves one way, and the desired count and
// the accounting's thresholds with it (each is monotonic in the load, and
// so is the interpolation in time, rounding included): syncs between two
// points whose loads ask for the same count all ask for it, and a binary
// search finds the first that does not. While the syncs ask for the same
// count, the windows' lowest recommendation only rises and their highest
// only falls as older ones leave them: heldUntil is the last moment they
// keep the count. The accounting adds what each sync's would, so that the
// figures are those of the syncs one by one.
func (s *sim) quiet(tl timeline, t int64, i int, load float64) (int64, bool) {
	limit := tl.end - 1
	if len(s.pending) > 0 {
		// Pods becoming ready change the pods' capacity: the run ends
		// before.
		limit = min(limit, s.pending[0].at-1)
	}
	d := s.desired(load)
	n := len(s.recs)
	settled := n > 0 && d == s.replicas && s.recs[n-1].replicas == d
	if !settled {
		limit = min(limit, s.heldUntil(d))
	}
	if limit < t {
		return t, false
	}
	// The desired count is monotonic in the load: loads between two that
	// ask for d ask for it too, and loads beyond one that asks for another
	// count ask for another too, known without asking again.
	inLo, inHi := load, load
	outLo, outHi := math.Inf(-1), math.Inf(1)
	keeps := func(v float64) bool {
		switch {
		case v >= inLo && v <= inHi:
			return true
		case v <= outLo || v >= outHi:
			return false
		case s.desired(v) != d:
			if v > inHi {
				outHi = v
			} else {
				outLo = v
			}
			return false
		}
		inLo, inHi = min(inLo, v), max(inHi, v)
		return true
	}

	last := t - tl.syncMs // the run's last sync so far
	for k := i; last+tl.syncMs <= limit && k < len(tl.vals); k++ {
		// The syncs from `from` to `to` fall between point k and the next.
		from := last + tl.syncMs
		segEnd := min(tl.start+int64(k+1)*tl.stepMs, limit+1)
		if from >= segEnd {
			continue
		}
		to := from + (segEnd-1-from)/tl.syncMs*tl.syncMs
		// The loads interpolated between the points lie between the
		// first point and the first plus the difference, as rounded.
		lo := tl.vals[k]
		hi := lo
		if k+1 < len(tl.vals) {
			hi = lo + (tl.vals[k+1] - lo)
		}
		whole := keeps(lo) && keeps(hi)
		if !whole {
			// Up to the first sync asking for another count.
			if v, _ := loadAt(tl.start, tl.stepMs, tl.vals, from); !keeps(v) {
				break
			}
			a, b := from, to+tl.syncMs // keeps at a, not at b
			for b-a > tl.syncMs {
				mid := a + (b-a)/tl.syncMs/2*tl.syncMs
				if v, _ := loadAt(tl.start, tl.stepMs, tl.vals, mid); keeps(v) {
					a = mid
				} else {
					b = mid
				}
			}
			to = a
		}
		dt := to - from + min(tl.syncMs, tl.end-to)
		s.replayedMs += dt
		s.replicaMs += float64(s.replicas) * float64(dt)
		if sat, abv := s.saturated(lo), s.above(lo); sat == s.saturated(hi) && abv == s.above(hi) {
			if sat {
				s.saturatedMs += dt
			}
			if abv {
				s.aboveMs += dt
			}
		} else {
			for u := from; u <= to; u += tl.syncMs {
				v, _ := loadAt(tl.start, tl.stepMs, tl.vals, u)
				dt := min(tl.syncMs, tl.end-u)
				if s.saturated(v) {
					s.saturatedMs += dt
				}
				if s.above(v) {
					s.aboveMs += dt
				}
			}
		}
		last = to
		if !whole {
			break
		}
	}
	if last < t {
		return t, false
	}
	if settled {
		// step's first return at every sync.
		s.recs[n-1].last = last
	} else {
		// What step does at the run's first sync; its later syncs only
		// move the run's last sync (trimming is lazy, see step).
		s.trim(t)
		if n := len(s.recs); n > 0 && s.recs[n-1].replicas == d {
			s.recs[n-1].last = last
		} else {
			s.recs = append(s.recs, recommendations{t, last, d})
		}
	}
	s.fig.PeakReplicas = max(s.fig.PeakReplicas, s.replicas)
	return last, true
}

// heldUntil is the last moment at which a sync recommending d keeps the
// count: always for the count itself; for another, while a
// recommendation of the count or more (for d below it) is in the
// scale-down window, or one of the count or less (for d above it) in the
// scale-up window.
func (s *sim) heldUntil(d int) int64 {
	if d == s.replicas {
		return math.MaxInt64
	}
	until := int64(math.MinInt64)
	for _, rc := range s.recs {
		switch {
		case d < s.replicas && rc.replicas >= s.replicas:
			until = max(until, rc.last+s.downWindow-1)
		case d > s.replicas && rc.replicas <= s.replicas:
			until = max(until, rc.last+s.upWindow-1)
		}
	}
	return until
}

// account adds the interval [t, t+dt) run with the state after the sync.
func (s *sim) account(load float64, dt int64) {
	s.replayedMs += dt
	s.replicaMs += float64(s.replicas) * float64(dt)
	if s.saturated(load) {
		s.saturatedMs += dt
	}
	if s.above(load) {
		s.aboveMs += dt
	}
	s.fig.PeakReplicas = max(s.fig.PeakReplicas, s.replicas)
}

// saturated reports whether load is more than the ready pods request.
func (s *sim) saturated(load float64) bool {
	return load > float64(s.ready)*s.r*(1+1e-9)
}

// above reports whether load is above the target and its tolerance (or
// no pod is ready).
func (s *sim) above(load float64) bool {
	return s.ready == 0 || load/(float64(s.ready)*s.r) > s.toleranceTop*(1+1e-9)
}

// step is one sync of the controller at t.
func (s *sim) step(t int64, load float64) {
	k := 0
	for k < len(s.pending) && s.pending[k].at <= t {
		s.ready += s.pending[k].n
		s.starting -= s.pending[k].n
		k++
	}
	if k > 0 {
		// Shifted, not resliced: the array is reused by the next scale-up.
		s.pending = s.pending[:copy(s.pending, s.pending[k:])]
	}
	current := s.replicas
	desired := s.desired(load)
	// Most syncs ask for the count there is, as the one before did: the
	// windows' lowest recommendation is then at most the count and their
	// highest at least it, so nothing moves but the run's last sync.
	// Trimming waits for a sync that reads the windows: it drops then
	// what it would have dropped now.
	if n := len(s.recs); desired == current && n > 0 && s.recs[n-1].replicas == desired {
		s.recs[n-1].last = t
		return
	}
	s.trim(t)
	// Stabilization: scaling up takes the lowest recommendation of its
	// window, scaling down the highest of its.
	upRec, downRec := desired, desired
	upFrom, downFrom := t-s.upWindow, t-s.downWindow
	for _, rc := range s.recs {
		// A run has a sync within the window if its last one is.
		if rc.last > upFrom {
			upRec = min(upRec, rc.replicas)
		}
		if rc.last > downFrom {
			downRec = max(downRec, rc.replicas)
		}
	}
	if n := len(s.recs); n > 0 && s.recs[n-1].replicas == desired {
		s.recs[n-1].last = t
	} else {
		s.recs = append(s.recs, recommendations{t, t, desired})
	}
	next := current
	if next < upRec {
		next = upRec
	}
	if next > downRec {
		next = downRec
	}
	if next == current {
		// The limits bound a change and never move a count from where it
		// is: current is within [min, max] and between the two limits.
		return
	}
	// Rate policies, then min and max.
	upLimit := max(s.scaleUpLimit(t, current), current)
	downLimit := min(s.scaleDownLimit(t, current), current)
	next = clampInt(next, max(s.min, downLimit), min(s.max, upLimit))
	if next == current {
		return
	}
	s.fig.Events++
	s.events = append(s.events, scaleEvent{t, next - current})
	if next > current {
		if s.o.StartUp <= 0 {
			s.ready += next - current
		} else {
			s.pending = append(s.pending, starting{t + s.o.StartUp.Milliseconds(), next - current})
			s.starting += next - current
		}
	} else {
		// Starting pods go first, the newest of them first.
		drop := current - next
		for drop > 0 && len(s.pending) > 0 {
			last := &s.pending[len(s.pending)-1]
			k := min(drop, last.n)
			last.n -= k
			s.starting -= k
			drop -= k
			if last.n == 0 {
				s.pending = s.pending[:len(s.pending)-1]
			}
		}
		s.ready -= drop
	}
	s.replicas = next
}

// desired is the replica count the usage asks for before stabilization
// and limits.
func (s *sim) desired(load float64) int {
	if s.ready == 0 {
		return s.replicas // no metrics: no change
	}
	ratio := load / (float64(s.ready) * s.r) / s.u
	if math.Abs(ratio-1) <= s.o.Tolerance {
		return s.replicas
	}
	if ratio > 1 && s.starting > 0 {
		// Starting pods count as idle: they will take load soon.
		all := s.ready + s.starting
		r2 := load / (float64(all) * s.r) / s.u
		if r2 <= 1+s.o.Tolerance {
			return s.replicas
		}
		return ceilInt(r2 * float64(all))
	}
	return ceilInt(ratio * float64(s.ready))
}

// trim drops recommendations and events no window or period needs.
func (s *sim) trim(t int64) {
	// A run is dropped once its last sync is out of every window; one
	// partly out answers for its syncs still in.
	k := 0
	for k < len(s.recs) && s.recs[k].last <= t-s.keepRecs {
		k++
	}
	if k > 0 {
		s.recs = append(s.recs[:0], s.recs[k:]...)
	}
	k = 0
	for k < len(s.events) && s.events[k].at <= t-s.keepEvents {
		k++
	}
	if k > 0 {
		s.events = append(s.events[:0], s.events[k:]...)
	}
}

// periodStart is the replica count at the start of a policy's period: the
// current count without the changes made within it.
func (s *sim) periodStart(t int64, current int, period time.Duration) int {
	if len(s.events) == 0 {
		return current
	}
	n := current
	from := t - period.Milliseconds()
	for _, e := range s.events {
		if e.at > from {
			n -= e.delta
		}
	}
	return n
}

func (s *sim) scaleUpLimit(t int64, current int) int {
	switch {
	case s.up.Select == workload.SelectDisabled:
		return current
	case len(s.up.Policies) == 0:
		return math.MaxInt
	}
	// Max (the default) selects the policy allowing the biggest change.
	lowest := s.up.Select == workload.SelectMin
	result := 0
	for i, p := range s.up.Policies {
		start := s.periodStart(t, current, p.Period)
		var proposed int
		switch p.Type {
		case workload.PodsPolicy:
			proposed = start + p.Value
		default:
			proposed = ceilInt(float64(start) * (1 + float64(p.Value)/100))
		}
		if i == 0 || lowest && proposed < result || !lowest && proposed > result {
			result = proposed
		}
	}
	return result
}

func (s *sim) scaleDownLimit(t int64, current int) int {
	switch {
	case s.down.Select == workload.SelectDisabled:
		return current
	case len(s.down.Policies) == 0:
		return math.MinInt
	}
	// Max selects the policy allowing the biggest change: the lowest count.
	highest := s.down.Select == workload.SelectMin
	result := 0
	for i, p := range s.down.Policies {
		start := s.periodStart(t, current, p.Period)
		var proposed int
		switch p.Type {
		case workload.PodsPolicy:
			proposed = start - p.Value
		default:
			proposed = int(float64(start) * (1 - float64(p.Value)/100))
		}
		if i == 0 || highest && proposed > result || !highest && proposed < result {
			result = proposed
		}
	}
	return result
}

// ceilInt rounds up, saturating: a crafted load must not wrap around.
func ceilInt(f float64) int {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 1e9:
		return 1e9
	case f <= -1e9:
		return -1e9
	}
	return int(math.Ceil(f - 1e-9))
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }
