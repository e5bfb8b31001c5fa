package apply

import (
	"fmt"
	"math"
	"strings"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// Guards are the guard rails' settings.
type Guards struct {
	// MinConfidence is the least confidence a container's recommendation
	// needs to be applied.
	MinConfidence float64
	// MaxDecrease and MaxIncrease bound one step, relative to today's
	// value (0.3: at most 30 % less; 1: at most twice); the rest waits for
	// the next step.
	MaxDecrease, MaxIncrease float64
	// MinChange is the smallest relative change worth a write: below it a
	// resource stays as it is (no churn).
	MinChange float64
	// Cooldown is the least time between two applies to a workload;
	// RollbackCooldown the least time after a rollback.
	Cooldown, RollbackCooldown time.Duration
	// Window is when applies are allowed.
	Window Window
}

// DefaultGuards are the defaults of the controller's flags.
var DefaultGuards = Guards{
	MinConfidence:    0.5,
	MaxDecrease:      0.3,
	MaxIncrease:      1,
	MinChange:        0.05,
	Cooldown:         24 * time.Hour,
	RollbackCooldown: 7 * 24 * time.Hour,
}

// Validate checks the settings.
func (g Guards) Validate() error {
	switch {
	case !(g.MinConfidence >= 0 && g.MinConfidence <= 1):
		return fmt.Errorf("minimum confidence %v: want 0 to 1", g.MinConfidence)
	case !(g.MaxDecrease > 0 && g.MaxDecrease < 1):
		return fmt.Errorf("largest decrease %v: want more than 0 and less than 1", g.MaxDecrease)
	case !(g.MaxIncrease > 0 && g.MaxIncrease <= 100):
		return fmt.Errorf("largest increase %v: want more than 0", g.MaxIncrease)
	case !(g.MinChange >= 0 && g.MinChange < 1):
		return fmt.Errorf("smallest change %v: want 0 to less than 1", g.MinChange)
	case g.Cooldown < 0 || g.RollbackCooldown < 0:
		return fmt.Errorf("cooldowns must not be negative")
	}
	return nil
}

// Workload is what the controller knows of a workload when it decides.
type Workload struct {
	Plan workload.WorkloadPlan
	// Mode is the opt-in in force (ModeOf).
	Mode Mode
	// Rolling says a rollout is under way: the template's last change
	// has not reached every replica. Paused says its owners paused the
	// rollouts (a template change would wait unseen).
	Rolling, Paused bool
	// Ready and Desired replicas: the workload is unhealthy with fewer
	// ready than desired.
	Ready, Desired int32
	// InPlace says the server resizes running pods (pods/resize).
	InPlace bool
	// LastApplied and LastRolledBack are the last apply and rollback;
	// zero when there was none.
	LastApplied, LastRolledBack time.Time
	// HPAOnCPU says an HPA scales the workload on CPU utilization;
	// HPAJoint that its recommended HPA is applied in the same step. A
	// CPU request an HPA scales on is changed only together with it, and
	// only whole, as the two were chosen (R10).
	HPAOnCPU, HPAJoint bool
	// Headroom is what the namespace's ResourceQuotas leave of requests,
	// nil without a quota on them (R14).
	Headroom *workload.Resources
	// Range is what the namespace's LimitRanges allow a container (R13):
	// a step stays within it, else the pods it makes would be refused.
	// Zero amounts are unbounded.
	Range Range
	// VPAMode is the update mode of a VerticalPodAutoscaler of the
	// workload, "" without one; VPA bounds each container's requests by
	// its minAllowed and maxAllowed (R15).
	VPAMode string
	VPA     map[string]Range
}

// Range bounds each request and limit of a container.
type Range struct{ Min, Max workload.Resources }

// clamp puts v within the range of one resource; 0 (unset) stays.
func clamp(v, lo, hi int64) int64 {
	if v == 0 {
		return 0
	}
	if hi > 0 && v > hi {
		v = hi
	}
	if lo > 0 && v < lo {
		v = lo
	}
	return v
}

// within puts a container's requests, and its limits too, within the
// range, and says what moved and by what.
func (r Range) within(s *workload.Settings, limits bool, by string) (notes []string) {
	for _, f := range []struct {
		name   string
		limit  bool
		v      *int64
		lo, hi int64
		text   func(int64) string
	}{
		{"cpu request", false, (*int64)(&s.Requests.CPU), int64(r.Min.CPU), int64(r.Max.CPU), millicores},
		{"cpu limit", true, (*int64)(&s.Limits.CPU), int64(r.Min.CPU), int64(r.Max.CPU), millicores},
		{"memory request", false, (*int64)(&s.Requests.Memory), int64(r.Min.Memory), int64(r.Max.Memory), bytesText},
		{"memory limit", true, (*int64)(&s.Limits.Memory), int64(r.Min.Memory), int64(r.Max.Memory), bytesText},
	} {
		if f.limit && !limits {
			continue
		}
		if c := clamp(*f.v, f.lo, f.hi); c != *f.v {
			notes = append(notes, fmt.Sprintf("%s %s → %s, within %s", f.name, f.text(*f.v), f.text(c), by))
			*f.v = c
		}
	}
	return notes
}

// Why a workload is or is not written: short words for the counter's
// reason label and the Events.
const (
	ReasonApply        = "apply"
	ReasonNotOptedIn   = "not-opted-in"
	ReasonBadOptIn     = "invalid-opt-in"
	ReasonRolling      = "rollout-in-progress"
	ReasonPaused       = "paused"
	ReasonUnhealthy    = "unhealthy"
	ReasonCooldown     = "cooldown"
	ReasonRolledBack   = "rolled-back"
	ReasonWindow       = "outside-window"
	ReasonNoInPlace    = "in-place-unavailable"
	ReasonNothingToDo  = "no-change"
	ReasonQuota        = "quota"
	ReasonRateLimited  = "rate-limited"
	ReasonLowConfident = "low-confidence"
	ReasonVPA          = "vpa-managed"
)

// Change is one container's settings today and after the apply.
type Change struct {
	Container string
	// Sidecar says the container is an init container that runs for the
	// pod's lifetime (restartPolicy Always): written among the init
	// containers.
	Sidecar  bool
	From, To workload.Settings
	// Notes say what a guard rail held back.
	Notes []string
}

// Decision is what to do with a workload.
type Decision struct {
	// Apply says to write Changes.
	Apply bool
	// Reason is one of the Reason words; Message says it in a sentence.
	Reason, Message string
	Changes         []Change
	// Held are the containers (or resources) left as they are, and why.
	Held []string
}

// Decide applies the rules to one workload at now. It does not look at
// the controller-wide switch or rate (the caller's): it says what the
// workload's owners and the guard rails allow.
func Decide(w Workload, g Guards, now time.Time) Decision {
	skip := func(reason, format string, args ...any) Decision {
		return Decision{Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case w.Mode == ModeOff || w.Mode == "":
		return skip(ReasonNotOptedIn, "not opted in: neither the workload's annotation nor its namespace's label %s says auto or in-place-only", Key)
	case w.Mode == ModeInPlaceOnly && !w.InPlace:
		return skip(ReasonNoInPlace, "in-place-only, and the server does not resize pods in place")
	case w.Paused:
		return skip(ReasonPaused, "its rollouts are paused: a template change would wait unseen")
	case w.Rolling:
		return skip(ReasonRolling, "a rollout is under way")
	case w.Ready < w.Desired:
		return skip(ReasonUnhealthy, "%d of %d replicas ready", w.Ready, w.Desired)
	case !w.LastRolledBack.IsZero() && now.Sub(w.LastRolledBack) < g.RollbackCooldown:
		return skip(ReasonRolledBack, "rolled back %s ago; next try after %s", now.Sub(w.LastRolledBack).Round(time.Minute), g.RollbackCooldown)
	case !w.LastApplied.IsZero() && now.Sub(w.LastApplied) < g.Cooldown:
		return skip(ReasonCooldown, "applied %s ago; next after %s", now.Sub(w.LastApplied).Round(time.Minute), g.Cooldown)
	case w.VPAMode != "" && w.VPAMode != "Off" && w.VPAMode != "Initial":
		return skip(ReasonVPA, "a VerticalPodAutoscaler in mode %s resizes this workload: two writers would undo each other", w.VPAMode)
	case !g.Window.Allows(now):
		return skip(ReasonWindow, "outside the maintenance window %s", g.Window)
	}
	d := Decision{}
	lowConfidence := 0
	for _, c := range w.Plan.Containers {
		r := c.Recommendation
		switch {
		case c.Init && !c.Sidecar:
			continue // runs before the pod starts: template only, left to plan --patches
		case !r.HasCPU && !r.HasMemory:
			continue
		case r.Confidence < g.MinConfidence:
			lowConfidence++
			d.Held = append(d.Held, fmt.Sprintf("%s: confidence %.2f below %.2f", c.Name, r.Confidence, g.MinConfidence))
			continue
		}
		ch := Change{Container: c.Name, Sidecar: c.Sidecar, From: c.Current, To: c.Current}
		if r.HasCPU {
			if w.HPAOnCPU && !w.HPAJoint {
				d.Held = append(d.Held, c.Name+": cpu held: an HPA scales on it, and its own recommendation is not applied with it (R10)")
			} else {
				req, lim := step(&ch, "cpu", int64(c.Current.Requests.CPU), int64(r.Target.Requests.CPU),
					int64(c.Current.Limits.CPU), int64(r.Target.Limits.CPU), g, millicores)
				if w.HPAOnCPU && req != int64(r.Target.Requests.CPU) && req != int64(c.Current.Requests.CPU) {
					// The HPA's target is sized for the whole change: half
					// of it with the new target would not be what was
					// chosen together.
					d.Held = append(d.Held, fmt.Sprintf("%s: cpu held: the request would stop at %s of %s this step, and the HPA's target is sized for the whole change (R10)",
						c.Name, millicores(req), r.Target.Requests.CPU))
				} else {
					ch.To.Requests.CPU, ch.To.Limits.CPU = workload.Millicores(req), workload.Millicores(lim)
				}
			}
		}
		if r.HasMemory {
			req, lim := step(&ch, "memory", int64(c.Current.Requests.Memory), int64(r.Target.Requests.Memory),
				int64(c.Current.Limits.Memory), int64(r.Target.Limits.Memory), g, bytesText)
			ch.To.Requests.Memory, ch.To.Limits.Memory = workload.Bytes(req), workload.Bytes(lim)
		}
		ch.Notes = append(ch.Notes, w.Range.within(&ch.To, true, "the namespace's LimitRange (R13)")...)
		if r, ok := w.VPA[c.Name]; ok {
			ch.Notes = append(ch.Notes, r.within(&ch.To, false, "the VPA's allowed range (R15)")...)
		}
		if ch.To != ch.From {
			d.Changes = append(d.Changes, ch)
		} else if len(ch.Notes) > 0 {
			d.Held = append(d.Held, c.Name+": "+strings.Join(ch.Notes, "; "))
		}
	}
	if len(d.Changes) == 0 {
		if lowConfidence > 0 {
			d.Reason, d.Message = ReasonLowConfident, "no container's recommendation is confident enough: "+strings.Join(d.Held, ", ")
			return d
		}
		d.Reason, d.Message = ReasonNothingToDo, "nothing to change beyond the smallest change worth a write"
		if len(d.Held) > 0 {
			d.Message += ": " + strings.Join(d.Held, ", ")
		}
		return d
	}
	if w.Headroom != nil {
		more := growth(d.Changes, w.Desired)
		if more.CPU > max(w.Headroom.CPU, 0) || more.Memory > max(w.Headroom.Memory, 0) {
			d.Reason = ReasonQuota
			d.Message = fmt.Sprintf("the requests would grow by %s cpu and %s memory over %d replicas, beyond what the namespace's quota leaves (%s, %s) (R14)",
				millicores(int64(more.CPU)), bytesText(int64(more.Memory)), w.Desired, millicores(int64(w.Headroom.CPU)), bytesText(int64(w.Headroom.Memory)))
			d.Changes = nil
			return d
		}
	}
	d.Apply, d.Reason = true, ReasonApply
	parts := make([]string, 0, len(d.Changes))
	for _, ch := range d.Changes {
		parts = append(parts, ch.String())
	}
	d.Message = strings.Join(parts, "; ")
	return d
}

// step moves one resource's request and limit from today's values
// toward the recommended ones, within the step's bounds, and not at all
// when the request would change by less than MinChange.
func step(ch *Change, name string, curReq, wantReq, curLim, wantLim int64, g Guards, text func(int64) string) (req, lim int64) {
	unit := int64(1)
	if name == "memory" {
		unit = int64(workload.MiB) // a bounded step lands on whole MiB, as people write it
	}
	req = bound(curReq, wantReq, g, unit)
	if req != wantReq {
		ch.Notes = append(ch.Notes, fmt.Sprintf("%s request %s → %s of %s this step (at most −%.0f %%/+%.0f %%)",
			name, text(curReq), text(req), text(wantReq), g.MaxDecrease*100, g.MaxIncrease*100))
	}
	if curReq > 0 && math.Abs(float64(req-curReq)) < g.MinChange*float64(curReq) {
		if req != curReq {
			ch.Notes = append(ch.Notes, fmt.Sprintf("%s request %s → %s is less than %.0f %%: left", name, text(curReq), text(req), g.MinChange*100))
		}
		return curReq, curLim
	}
	switch {
	case wantLim == 0 && curLim != 0:
		// None recommended (R4 for CPU), but removing a limit is its
		// owners' call: a write only moves the values it owns.
		lim = curLim
		ch.Notes = append(ch.Notes, fmt.Sprintf("%s limit %s left: none is recommended, removing it is the owners' call", name, text(curLim)))
	case curLim == 0:
		lim = wantLim
	default:
		lim = bound(curLim, wantLim, g, unit)
	}
	if lim != 0 && lim < req {
		lim = req
	}
	return req, lim
}

// bound is want within the step's bounds around cur, the bounds on whole
// units where cur is at least one; want when either is unset (setting a
// request where none was is R5, not a step).
func bound(cur, want int64, g Guards, unit int64) int64 {
	if cur <= 0 || want <= 0 {
		return want
	}
	if cur < unit {
		unit = 1
	}
	u := float64(unit)
	lo := int64(math.Ceil(float64(cur)*(1-g.MaxDecrease)/u)) * unit
	hi := int64(math.Floor(float64(cur)*(1+g.MaxIncrease)/u)) * unit
	return min(max(want, lo), max(hi, cur))
}

// growth is what the changes add to the namespace's requests over the
// replicas (decreases count as negative).
func growth(cs []Change, replicas int32) workload.Resources {
	var r workload.Resources
	for _, c := range cs {
		r.CPU += (c.To.Requests.CPU - c.From.Requests.CPU) * workload.Millicores(replicas)
		r.Memory += (c.To.Requests.Memory - c.From.Requests.Memory) * workload.Bytes(replicas)
	}
	return r
}

func millicores(v int64) string { return workload.Millicores(v).String() }
func bytesText(v int64) string  { return workload.Bytes(v).String() }

// String says the change as "app: cpu 500m → 350m, memory 1Gi → 800Mi".
func (c Change) String() string {
	var parts []string
	add := func(what, from, to string) {
		if from != to {
			parts = append(parts, what+" "+from+" → "+to)
		}
	}
	add("cpu request", c.From.Requests.CPU.String(), c.To.Requests.CPU.String())
	add("cpu limit", c.From.Limits.CPU.String(), c.To.Limits.CPU.String())
	add("memory request", c.From.Requests.Memory.String(), c.To.Requests.Memory.String())
	add("memory limit", c.From.Limits.Memory.String(), c.To.Limits.Memory.String())
	return c.Container + ": " + strings.Join(parts, ", ")
}
