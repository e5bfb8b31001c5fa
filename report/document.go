package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// APIVersion and Kind identify the plan document.
const (
	APIVersion = "rightsize.dev/v1alpha1"
	Kind       = "Plan"
)

// PlanDocument is the versioned json/yaml form of a plan.
type PlanDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Profile    string `json:"profile"`
	Source     string `json:"source"`
	// Generated is RFC 3339 in UTC; absent when the plan has no time.
	Generated string          `json:"generated,omitempty"`
	Summary   SummaryDocument `json:"summary"`
	// CPUPrices is the fleet's price of time short per profile that sets
	// one, in cores (workload.Plan.CPUPrices); absent when none did.
	CPUPrices map[string]float64 `json:"cpuPrices,omitempty"`
	Workloads []WorkloadDocument `json:"workloads"`
}

// SummaryDocument counts containers and totals requests across the plan;
// totals count every replica.
type SummaryDocument struct {
	Workloads   int `json:"workloads"`
	Containers  int `json:"containers"`
	Recommended int `json:"recommended"`
	// QoSChanges counts workloads whose QoS class would change.
	QoSChanges     int           `json:"qosChanges"`
	CPURequests    TotalDocument `json:"cpuRequests"`
	MemoryRequests TotalDocument `json:"memoryRequests"`
}

// TotalDocument is a total before and after the plan, as quantity strings.
type TotalDocument struct {
	Current     string `json:"current,omitempty"`
	Recommended string `json:"recommended,omitempty"`
}

// WorkloadDocument is one workload of the plan.
type WorkloadDocument struct {
	// Cluster is set where the run read several (a usage file's cluster
	// column, a store's cluster label).
	Cluster    string              `json:"cluster,omitempty"`
	Namespace  string              `json:"namespace"`
	Kind       string              `json:"kind"`
	Name       string              `json:"name"`
	Replicas   int                 `json:"replicas"`
	Critical   bool                `json:"critical,omitempty"`
	Profile    string              `json:"profile,omitempty"`
	QoS        QoSDocument         `json:"qos"`
	Notes      []string            `json:"notes,omitempty"`
	Containers []ContainerDocument `json:"containers"`
	// HPA is absent for a workload an HPA cannot scale (hpa.Scalable).
	HPA *HPADocument `json:"hpa,omitempty"`
}

// QoSDocument is the pod's QoS class before and after.
type QoSDocument struct {
	Current     string `json:"current,omitempty"`
	Recommended string `json:"recommended,omitempty"`
	Changed     bool   `json:"changed"`
}

// ContainerDocument is one container's settings and recommendation.
// Recommended, LowerBound and UpperBound are absent when the policy made no
// recommendation for the container; Reasons then say why.
type ContainerDocument struct {
	Name        string             `json:"name"`
	Init        bool               `json:"init,omitempty"`
	Sidecar     bool               `json:"sidecar,omitempty"`
	Current     *SettingsDocument  `json:"current,omitempty"`
	Recommended *SettingsDocument  `json:"recommended,omitempty"`
	LowerBound  *ResourcesDocument `json:"lowerBound,omitempty"`
	UpperBound  *ResourcesDocument `json:"upperBound,omitempty"`
	// Confidence is rounded to two decimals.
	Confidence float64  `json:"confidence"`
	Samples    int      `json:"samples"`
	Reasons    []string `json:"reasons,omitempty"`
}

// SettingsDocument is a container's requests and limits, as in a pod spec.
type SettingsDocument struct {
	Requests *ResourcesDocument `json:"requests,omitempty"`
	Limits   *ResourcesDocument `json:"limits,omitempty"`
}

// ResourcesDocument holds quantity strings; an unset amount is absent.
type ResourcesDocument struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// NewPlanDocument builds the versioned document for p, workloads in key order.
func NewPlanDocument(p workload.Plan) PlanDocument {
	d := planHead(p)
	for _, wp := range sortedWorkloads(p) {
		d.Workloads = append(d.Workloads, workloadDocument(wp))
	}
	return d
}

// planHead is p's document without its workloads: all but the last field.
func planHead(p workload.Plan) PlanDocument {
	d := PlanDocument{
		APIVersion: APIVersion,
		Kind:       Kind,
		Profile:    p.Profile,
		Source:     p.Source,
		CPUPrices:  p.CPUPrices,
		Workloads:  []WorkloadDocument{},
	}
	if !p.Generated.IsZero() {
		d.Generated = p.Generated.UTC().Format(time.RFC3339)
	}
	t := totalsOf(p)
	d.Summary = SummaryDocument{
		Workloads:   t.workloads,
		Containers:  t.containers,
		Recommended: t.recommended,
		QoSChanges:  t.qosChanges,
		CPURequests: TotalDocument{
			Current:     quantity(t.current.CPU),
			Recommended: quantity(t.recommendedReq.CPU),
		},
		MemoryRequests: TotalDocument{
			Current:     quantity(t.current.Memory),
			Recommended: quantity(t.recommendedReq.Memory),
		},
	}
	return d
}

func workloadDocument(wp workload.WorkloadPlan) WorkloadDocument {
	d := WorkloadDocument{
		Cluster:   wp.Key.Cluster,
		Namespace: wp.Key.Namespace,
		Kind:      string(wp.Key.Kind),
		Name:      wp.Key.Name,
		Replicas:  wp.Replicas,
		Critical:  wp.Critical,
		Profile:   wp.Profile,
		QoS: QoSDocument{
			Current:     string(wp.QoSCurrent),
			Recommended: string(wp.QoSRecommended),
			Changed:     qosChanged(wp),
		},
		Notes:      wp.Notes,
		Containers: []ContainerDocument{},
		HPA:        hpaDocument(wp.Autoscaling),
	}
	for _, c := range wp.Containers {
		d.Containers = append(d.Containers, containerDocument(c))
	}
	return d
}

func containerDocument(c workload.ContainerPlan) ContainerDocument {
	r := c.Recommendation
	d := ContainerDocument{
		Name:       c.Name,
		Init:       c.Init,
		Sidecar:    c.Sidecar,
		Current:    settingsDocument(c.Current),
		Confidence: math.Round(r.Confidence*100) / 100,
		Samples:    c.Samples,
		Reasons:    r.Reasons,
	}
	if hasRecommendation(c) {
		d.Recommended = settingsDocument(c.Recommended())
		d.LowerBound = resourcesDocument(r.LowerBound)
		d.UpperBound = resourcesDocument(r.UpperBound)
	}
	return d
}

// settingsDocument returns nil for empty settings so that they are absent.
func settingsDocument(s workload.Settings) *SettingsDocument {
	if s.IsZero() {
		return nil
	}
	return &SettingsDocument{
		Requests: resourcesDocument(s.Requests),
		Limits:   resourcesDocument(s.Limits),
	}
}

// resourcesDocument returns nil when neither amount is set so that the object
// is absent.
func resourcesDocument(r workload.Resources) *ResourcesDocument {
	if !r.CPU.IsSet() && !r.Memory.IsSet() {
		return nil
	}
	return &ResourcesDocument{CPU: quantity(r.CPU), Memory: quantity(r.Memory)}
}

// quantity renders a set amount as a Kubernetes quantity string and an unset
// one as "", which omitempty drops.
func quantity[A interface {
	workload.Millicores | workload.Bytes
	String() string
}](a A) string {
	if a <= 0 {
		return ""
	}
	return a.String()
}

// writeJSON writes p's document as WriteJSON would, a workload at a time:
// a fleet's plan runs to tens of megabytes of JSON, which need not all be
// held at once, nor the whole document beside the plan.
func writeJSON(w io.Writer, p workload.Plan) error {
	b, err := encodeJSON(planHead(p))
	if err != nil {
		return err
	}
	// The workloads are the document's last field: what the encoder wrote
	// for none ends with "[]\n}\n".
	const empty = "[]\n}\n"
	if !bytes.HasSuffix(b, []byte(empty)) {
		return fmt.Errorf("encode json: unexpected end of the plan document %q", b[max(0, len(b)-16):])
	}
	ws := sortedWorkloads(p)
	if len(ws) == 0 {
		_, err = w.Write(b)
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(b[:len(b)-len(empty)])
	bw.WriteString("[\n")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	for i, wp := range ws {
		buf.Reset()
		if err := enc.Encode(workloadDocument(wp)); err != nil {
			return fmt.Errorf("encode json: %w", err)
		}
		bw.WriteString("    ")
		bw.Write(EscapeJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
		if i < len(ws)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

func writeYAML(w io.Writer, d PlanDocument) error { return WriteYAML(w, d) }

// WriteJSON writes v as indented JSON with every character a terminal
// could act on escaped (EscapeJSON): names come from the input.
func WriteJSON(w io.Writer, v any) error {
	b, err := encodeJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Reasons hold "<" and ">"; keep them readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return EscapeJSON(buf.Bytes()), nil
}

// WriteYAML writes v as YAML converted from its escaped JSON. YAML prints
// characters such as U+202E as they are, and only its double-quoted style
// can escape them, which the encoder does not let a caller choose: a
// document whose strings hold them is written as the escaped JSON instead,
// which is valid YAML too (a flow mapping) and decodes to the same document.
func WriteYAML(w io.Writer, v any) error {
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	b, err := yaml.JSONToYAML(EscapeJSON(j))
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	if !untrusted.Printable(strings.ReplaceAll(string(b), "\n", "")) {
		if b, err = encodeJSON(v); err != nil {
			return err
		}
	}
	_, err = w.Write(b)
	return err
}
