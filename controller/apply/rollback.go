package apply

import (
	"fmt"
	"time"

	"rightsize.dev/rightsize/recommender/workload"
)

// Kill is an OOM kill of a container of the workload's pods.
type Kill struct {
	Pod, Container string
	At             time.Time
}

// Harm is what went wrong after an apply, and what to undo.
type Harm struct {
	// Why says it in a sentence; Reason is the counter's word.
	Why, Reason string
	// MemoryOnly undoes the memory settings and keeps the CPU ones: an
	// OOM kill says nothing against the CPU step.
	MemoryOnly bool
}

// The reasons of a rollback.
const (
	ReasonOOMKill     = "oom-kill"
	ReasonRestartLoop = "restart-loop"
	ReasonNotReady    = "not-ready"
)

// Harmed says whether the apply rec recorded did harm, watched for watch
// after it: an OOM kill of a container it changed, a container it changed
// in a restart loop (loops: CrashLoopBackOff now), or, once the rollout it
// started is done, fewer replicas ready than desired. nil when none, when
// the apply is older than the watch, or was rolled back already.
func Harmed(rec Record, kills, loops []Kill, rolling bool, ready, desired int32, now time.Time, watch time.Duration) *Harm {
	if rec.At.IsZero() || !rec.RolledBack.IsZero() || now.Sub(rec.At) > watch {
		return nil
	}
	for _, k := range kills {
		c, ok := rec.Container(k.Container)
		if !ok || !k.At.After(rec.At) || c.To.Requests.Memory == c.From.Requests.Memory && c.To.Limits.Memory == c.From.Limits.Memory {
			continue
		}
		return &Harm{Reason: ReasonOOMKill, MemoryOnly: true,
			Why: fmt.Sprintf("container %s of pod %s was OOM killed at %s, %s after the apply", k.Container, k.Pod, k.At.UTC().Format(time.RFC3339), k.At.Sub(rec.At).Round(time.Second))}
	}
	for _, k := range loops {
		if c, ok := rec.Container(k.Container); ok && c.To != c.From {
			return &Harm{Reason: ReasonRestartLoop,
				Why: fmt.Sprintf("container %s of pod %s restarts in a loop (CrashLoopBackOff) since the apply", k.Container, k.Pod)}
		}
	}
	if !rolling && ready < desired {
		return &Harm{Reason: ReasonNotReady,
			Why: fmt.Sprintf("%d of %d replicas ready after the apply's rollout", ready, desired)}
	}
	return nil
}

// Undo is the changes that take the workload from its live settings back
// to what the record says it had before, memory only if h says so.
func Undo(rec Record, live func(container string) (workload.Settings, bool), h Harm) []Change {
	var out []Change
	for _, c := range rec.Containers {
		cur, ok := live(c.Name)
		if !ok {
			continue
		}
		to := cur
		to.Requests.Memory, to.Limits.Memory = c.From.Requests.Memory, c.From.Limits.Memory
		if !h.MemoryOnly {
			to.Requests.CPU, to.Limits.CPU = c.From.Requests.CPU, c.From.Limits.CPU
		}
		if to != cur {
			out = append(out, Change{Container: c.Name, Sidecar: c.Sidecar, From: cur, To: to})
		}
	}
	return out
}
