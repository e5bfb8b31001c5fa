package workload

import (
	"fmt"
	"strings"
	"time"

	"rightsize.dev/rightsize/internal/untrusted"
)

// Kind is the kind of a top-level workload owner.
type Kind string

// The workload kinds rightsize knows.
const (
	Deployment  Kind = "Deployment"
	StatefulSet Kind = "StatefulSet"
	DaemonSet   Kind = "DaemonSet"
	Job         Kind = "Job"
	CronJob     Kind = "CronJob"
	ReplicaSet  Kind = "ReplicaSet"
	Pod         Kind = "Pod"
)

// Kinds lists every known kind.
var Kinds = []Kind{Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, Pod}

// ParseKind returns the kind named s, and false when s is not a known kind.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// APIVersion returns the API group/version that serves the kind.
func (k Kind) APIVersion() string {
	switch k {
	case Deployment, StatefulSet, DaemonSet, ReplicaSet:
		return "apps/v1"
	case Job, CronJob:
		return "batch/v1"
	default:
		return "v1"
	}
}

// Key names a workload.
type Key struct {
	Namespace string
	Kind      Kind
	Name      string
	// Cluster names the cluster where one run reads several (a usage
	// file's cluster column, a store's cluster label); empty for one, and
	// then left out of the JSON a Key is written in.
	Cluster string `json:",omitempty"`
}

// String is NAMESPACE/KIND/NAME, and @CLUSTER after it where a cluster is
// named.
func (k Key) String() string {
	s := k.Namespace + "/" + string(k.Kind) + "/" + k.Name
	if k.Cluster != "" {
		s += "@" + k.Cluster
	}
	return s
}

// Less orders keys by cluster, namespace, kind, then name.
func (k Key) Less(o Key) bool {
	if k.Cluster != o.Cluster {
		return k.Cluster < o.Cluster
	}
	if k.Namespace != o.Namespace {
		return k.Namespace < o.Namespace
	}
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	return k.Name < o.Name
}

// ContainerKey names a container of a workload's pod template: every pod of the
// workload shares its settings.
type ContainerKey struct {
	Workload  Key
	Container string
}

func (k ContainerKey) String() string { return k.Workload.String() + "/" + k.Container }

// Less orders container keys by workload, then container name.
func (k ContainerKey) Less(o ContainerKey) bool {
	if k.Workload != o.Workload {
		return k.Workload.Less(o.Workload)
	}
	return k.Container < o.Container
}

// Resources is a pair of CPU and memory amounts; a zero amount is "not set".
type Resources struct {
	CPU    Millicores
	Memory Bytes
}

// Settings is what a container spec asks for.
type Settings struct {
	Requests Resources
	Limits   Resources
}

// IsZero reports whether nothing is set.
func (s Settings) IsZero() bool { return s == Settings{} }

// Sample is one observation of one container of one pod.
type Sample struct {
	Time time.Time
	Pod  string
	// CPU is the average usage over the window ending at Time; valid if HasCPU.
	CPU    Cores
	HasCPU bool
	// Memory is the working set at Time (or its max over the window); valid if HasMemory.
	Memory    Bytes
	HasMemory bool
	// OOMKilled is set when the container was OOM-killed in the window.
	OOMKilled bool
	// Throttled is the share (0..1) of CFS periods throttled; valid if HasThrottled.
	Throttled    float64
	HasThrottled bool
	// Settings are the requests and limits in force at Time, as recorded.
	Settings Settings
}

// ParseKey reads "NAMESPACE/KIND/NAME", as Key.String writes it, with a
// known kind; Kubernetes names hold no "/", so the split is unambiguous.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return Key{}, fmt.Errorf("%q is not NAMESPACE/KIND/NAME", s)
	}
	kind, ok := ParseKind(parts[1])
	if !ok {
		return Key{}, fmt.Errorf("%q: unknown kind %q", s, parts[1])
	}
	return Key{Namespace: parts[0], Kind: kind, Name: parts[2]}, nil
}

// PrintableName returns a name from outside data as it may reach a
// terminal: unchanged when every character prints as itself
// (untrusted.Printable), else quoted with Go escapes ("\x1b[31mweb",
// "\u202e"), so that a name cannot move the cursor, recolour or reorder the
// text around it. It is quoted whole: a name in a table must stay
// recognizable and distinct from its neighbours.
func PrintableName(s string) string {
	if untrusted.Printable(s) {
		return s
	}
	return untrusted.Quote(s, len(s))
}

// Printable returns the key with each part passed through PrintableName.
func (k Key) Printable() string {
	s := PrintableName(k.Namespace) + "/" + PrintableName(string(k.Kind)) + "/" + PrintableName(k.Name)
	if k.Cluster != "" {
		s += "@" + PrintableName(k.Cluster)
	}
	return s
}
