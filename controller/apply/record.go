package apply

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"rightsize.dev/rightsize/recommender/workload"
)

// RecordKey is the workload annotation that records the last apply. It is
// written in the same request as the resources, so that a workload is
// never changed without its record: a new leader reads it and neither
// applies twice nor loses what a rollback needs.
const RecordKey = "rightsize.dev/applied"

// MaxRecordSize bounds the annotation read back: anyone who may edit the
// workload may write it.
const MaxRecordSize = 64 << 10

// Record is the last apply to a workload: when, what each container had and
// got, and a rollback if there was one.
type Record struct {
	At         time.Time
	Containers []RecordedContainer
	// HPA is the HPA written in the same step (R10); nil without one.
	HPA *RecordedHPA
	// RolledBack is when the apply was undone, and Why; zero if not.
	RolledBack time.Time
	Why        string
}

// RecordedContainer is one container's settings before and after.
type RecordedContainer struct {
	Name     string
	Sidecar  bool
	From, To workload.Settings
}

// RecordedHPA is an HPA's settings before and after.
type RecordedHPA struct {
	Name     string
	From, To HPASettings
}

// HPASettings are what the controller writes of an HPA scaling on CPU.
type HPASettings struct {
	MinReplicas, MaxReplicas, CPUUtilization int32
}

func (h HPASettings) String() string {
	return fmt.Sprintf("%d–%d replicas at %d %% CPU", h.MinReplicas, h.MaxReplicas, h.CPUUtilization)
}

// Container is the recorded container of that name.
func (r Record) Container(name string) (RecordedContainer, bool) {
	i := slices.IndexFunc(r.Containers, func(c RecordedContainer) bool { return c.Name == name })
	if i < 0 {
		return RecordedContainer{}, false
	}
	return r.Containers[i], true
}

// RecordOf is the record of the changes applied at now.
func RecordOf(changes []Change, now time.Time) Record {
	r := Record{At: now.UTC().Truncate(time.Second)}
	for _, c := range changes {
		r.Containers = append(r.Containers, RecordedContainer{Name: c.Container, Sidecar: c.Sidecar, From: c.From, To: c.To})
	}
	return r
}

// The annotation's JSON: quantities as Kubernetes writes them, so that
// `kubectl get -o yaml` reads as the resources do.
type recordJSON struct {
	At         string          `json:"at"`
	Containers []containerJSON `json:"containers"`
	HPA        *hpaJSON        `json:"hpa,omitempty"`
	RolledBack string          `json:"rolledBack,omitempty"`
	Why        string          `json:"why,omitempty"`
}

type hpaJSON struct {
	Name string      `json:"name"`
	From hpaSettings `json:"from"`
	To   hpaSettings `json:"to"`
}

type hpaSettings struct {
	MinReplicas    int32 `json:"minReplicas"`
	MaxReplicas    int32 `json:"maxReplicas"`
	CPUUtilization int32 `json:"cpuUtilization"`
}

type containerJSON struct {
	Name    string       `json:"name"`
	Sidecar bool         `json:"sidecar,omitempty"`
	From    settingsJSON `json:"from"`
	To      settingsJSON `json:"to"`
}

type settingsJSON struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

// Encode is the annotation's value.
func (r Record) Encode() string {
	j := recordJSON{At: r.At.UTC().Format(time.RFC3339), Why: r.Why}
	if !r.RolledBack.IsZero() {
		j.RolledBack = r.RolledBack.UTC().Format(time.RFC3339)
	}
	for _, c := range r.Containers {
		j.Containers = append(j.Containers, containerJSON{Name: c.Name, Sidecar: c.Sidecar, From: settingsOut(c.From), To: settingsOut(c.To)})
	}
	if h := r.HPA; h != nil {
		j.HPA = &hpaJSON{Name: h.Name, From: hpaSettings(h.From), To: hpaSettings(h.To)}
	}
	b, _ := json.Marshal(j) // strings and maps of strings only
	return string(b)
}

func settingsOut(s workload.Settings) settingsJSON {
	out := func(r workload.Resources) map[string]string {
		m := map[string]string{}
		if r.CPU > 0 {
			m["cpu"] = resource.NewMilliQuantity(int64(r.CPU), resource.DecimalSI).String()
		}
		if r.Memory > 0 {
			m["memory"] = resource.NewQuantity(int64(r.Memory), resource.BinarySI).String()
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	return settingsJSON{Requests: out(s.Requests), Limits: out(s.Limits)}
}

// ParseRecord reads the annotation's value. It refuses what is too big,
// not JSON, a time or quantity that does not parse, a negative or
// overflowing amount, and a container named twice.
func ParseRecord(s string) (Record, error) {
	if len(s) > MaxRecordSize {
		return Record{}, fmt.Errorf("%s: %d bytes, more than %d", RecordKey, len(s), MaxRecordSize)
	}
	var j recordJSON
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Record{}, fmt.Errorf("%s: %w", RecordKey, err)
	}
	var r Record
	var err error
	if r.At, err = time.Parse(time.RFC3339, j.At); err != nil {
		return Record{}, fmt.Errorf("%s: at: %w", RecordKey, err)
	}
	if j.RolledBack != "" {
		if r.RolledBack, err = time.Parse(time.RFC3339, j.RolledBack); err != nil {
			return Record{}, fmt.Errorf("%s: rolledBack: %w", RecordKey, err)
		}
	}
	r.Why = j.Why
	seen := map[string]bool{}
	for i, c := range j.Containers {
		if c.Name == "" || seen[c.Name] {
			return Record{}, fmt.Errorf("%s: container %d: empty or repeated name %q", RecordKey, i, c.Name)
		}
		seen[c.Name] = true
		rc := RecordedContainer{Name: c.Name, Sidecar: c.Sidecar}
		if rc.From, err = settingsIn(c.From); err != nil {
			return Record{}, fmt.Errorf("%s: container %q: from: %w", RecordKey, c.Name, err)
		}
		if rc.To, err = settingsIn(c.To); err != nil {
			return Record{}, fmt.Errorf("%s: container %q: to: %w", RecordKey, c.Name, err)
		}
		r.Containers = append(r.Containers, rc)
	}
	if h := j.HPA; h != nil {
		if h.Name == "" || len(h.Name) > 253 {
			return Record{}, fmt.Errorf("%s: hpa: name %q: want 1 to 253 characters", RecordKey, h.Name)
		}
		for _, v := range []hpaSettings{h.From, h.To} {
			if v.MinReplicas < 0 || v.MaxReplicas < 1 || v.MinReplicas > v.MaxReplicas || v.CPUUtilization < 1 || v.CPUUtilization > 1000 {
				return Record{}, fmt.Errorf("%s: hpa %s: %+v: want 0 ≤ minReplicas ≤ maxReplicas, maxReplicas ≥ 1, cpuUtilization 1 to 1000", RecordKey, h.Name, v)
			}
		}
		r.HPA = &RecordedHPA{Name: h.Name, From: HPASettings(h.From), To: HPASettings(h.To)}
	}
	return r, nil
}

// The largest amounts recorded: a million cores, an exbibyte.
const maxMillicores, maxBytes = 1e9, 1 << 60

func settingsIn(s settingsJSON) (workload.Settings, error) {
	in := func(m map[string]string, what string) (workload.Resources, error) {
		var r workload.Resources
		for name, v := range m {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return r, fmt.Errorf("%s %s %q: %w", what, name, v, err)
			}
			switch name {
			case "cpu":
				if q.Sign() < 0 || q.Cmp(*resource.NewMilliQuantity(maxMillicores, resource.DecimalSI)) > 0 {
					return r, fmt.Errorf("%s cpu %q: want 0 to a million cores", what, v)
				}
				r.CPU = workload.Millicores(q.MilliValue())
			case "memory":
				if q.Sign() < 0 || q.Cmp(*resource.NewQuantity(maxBytes, resource.BinarySI)) > 0 {
					return r, fmt.Errorf("%s memory %q: want 0 to 1Ei", what, v)
				}
				r.Memory = workload.Bytes(q.Value())
			default:
				return r, fmt.Errorf("%s %q: want cpu or memory", what, name)
			}
		}
		return r, nil
	}
	var out workload.Settings
	var err error
	if out.Requests, err = in(s.Requests, "requests"); err != nil {
		return out, err
	}
	out.Limits, err = in(s.Limits, "limits")
	return out, err
}
