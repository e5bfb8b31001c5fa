package hpaobject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"rightsize.dev/rightsize/internal/untrusted"
	"rightsize.dev/rightsize/recommender/workload"
)

// The bounds of an HPA file. kubectl's output for a cluster of a few
// thousand HPAs is a few megabytes; the bounds keep a huge or hostile file
// from exhausting memory.
const (
	MaxFileSize = 16 << 20
	// MaxObjects bounds the documents and List items of a file.
	MaxObjects = 10000
)

// defaultCPUUtilization is the API server's target for an HPA that names
// no metric (autoscaling/v1 without targetCPUUtilizationPercentage too).
const defaultCPUUtilization = 80

// DocumentError is an object Read skipped and why.
type DocumentError struct {
	// File is the name given to Read, escaped.
	File string
	// Document counts the file's documents from 1, empty ones left out;
	// Line is the line it starts on.
	Document, Line int
	// Item is the object's index in a List's items, -1 for a document
	// that is the object; ItemLine is its line, 0 where unknown.
	Item, ItemLine int
	// Problem says what is wrong, outside text quoted.
	Problem string
}

func (e *DocumentError) Error() string {
	return e.File + ": " + e.where() + ": " + e.Problem
}

// where names the object in the file.
func (e *DocumentError) where() string {
	s := fmt.Sprintf("document %d (line %d)", e.Document, e.Line)
	switch {
	case e.Item < 0:
	case e.ItemLine > 0:
		s += fmt.Sprintf(": items[%d] (line %d)", e.Item, e.ItemLine)
	default:
		s += fmt.Sprintf(": items[%d]", e.Item)
	}
	return s
}

// ReadFile reads the HPA file at path (see Read).
func ReadFile(path string) (hpas []workload.HPA, skipped []error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read HPA file: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads HorizontalPodAutoscalers from r, which name names in errors:
// a YAML stream (documents separated by ---) or a JSON stream of objects,
// each an HPA (autoscaling/v2, or autoscaling/v1 with
// targetCPUUtilizationPercentage) or a List of them (kind List or
// HorizontalPodAutoscalerList, as kubectl get -o yaml|json prints). Each
// object is checked as the API server would (unknown or duplicate fields,
// names, replica bounds, targets, behavior) and defaulted as it would be;
// a bad one is skipped with a *DocumentError and the rest are kept, as is
// the first of two HPAs that share a name or a workload. What FromObject
// notes about an object it reads is in the HPA's Unread. err is set, and nothing
// returned, when r cannot be read or holds more than MaxFileSize bytes or
// MaxObjects objects.
func Read(r io.Reader, name string) (hpas []workload.HPA, skipped []error, err error) {
	file := untrusted.Escape(name)
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("%s: larger than %d MiB, the limit of an HPA file", file, MaxFileSize>>20)
	}
	docs, err := split(bytes.TrimPrefix(data, []byte("\ufeff")))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	rd := reader{file: file, names: map[string]string{}, targets: map[workload.Key]target{}}
	for i, d := range docs {
		if err := rd.document(i+1, d); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return rd.hpas, rd.skipped, nil
}

// document is one document of the stream.
type document struct {
	text []byte
	// first is the line of text's first line, line the line of its first
	// content (past comments and blank lines).
	first, line int
	// err is set for a document that could not be cut out of the stream.
	err string
}

// split cuts the stream into its documents, empty ones left out: a JSON
// stream of objects, or YAML documents separated by lines starting with
// --- (or ended by ...). It blanks the markers in data.
func split(data []byte) ([]document, error) {
	if docs, ok, err := splitJSON(data); ok || err != nil {
		return docs, err
	}
	var docs []document
	start, first := 0, 1
	flush := func(end int) error {
		if line, ok := content(data[start:end], first); ok {
			if len(docs) == MaxObjects {
				return fmt.Errorf("more than %d documents, the limit of an HPA file", MaxObjects)
			}
			docs = append(docs, document{text: data[start:end], first: first, line: line})
		}
		return nil
	}
	for pos, line := 0, 1; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos + 1
		}
		if marker(data[pos:end]) {
			if err := flush(pos); err != nil {
				return nil, err
			}
			// What follows the marker on its line belongs to the next
			// document; blanking the marker keeps the columns and lines.
			start, first = pos, line
			copy(data[pos:], "   ")
		}
		pos = end
	}
	if err := flush(len(data)); err != nil {
		return nil, err
	}
	return docs, nil
}

// marker reports whether a line starts or ends a YAML document: --- or ...
// alone or followed by a space.
func marker(line []byte) bool {
	if len(line) < 3 || !(bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("..."))) {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' || line[3] == '\n'
}

// content returns the line of text's first line that is neither blank nor
// a comment, and false when there is none (an empty document).
func content(text []byte, first int) (int, bool) {
	for line := first; len(text) > 0; line++ {
		l := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' {
			return line, true
		}
	}
	return 0, false
}

// splitJSON cuts a stream of JSON objects (what kubectl get -o json or jq
// print); false when data is not one, for the YAML reader to try. A
// document marker makes it YAML: no JSON stream has one outside a string,
// and strings hold no line breaks.
func splitJSON(data []byte) ([]document, bool, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || bytes.Contains(data, []byte("\n---")) || !json.Valid(firstValue(trimmed)) {
		return nil, false, nil
	}
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	line, counted := 1, 0
	for {
		start := int(dec.InputOffset())
		for start < len(data) && strings.IndexByte(" \t\r\n", data[start]) >= 0 {
			start++
		}
		if start == len(data) {
			return docs, true, nil
		}
		line += bytes.Count(data[counted:start], []byte("\n"))
		counted = start
		if len(docs) == MaxObjects {
			return nil, true, fmt.Errorf("more than %d documents, the limit of an HPA file", MaxObjects)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A JSON stream cannot be read past a syntax error.
			return append(docs, document{first: line, line: line, err: "invalid JSON: " + untrusted.Clip(err.Error(), untrusted.MaxQuoted) + "; the rest of the file is not read"}), true, nil
		}
		docs = append(docs, document{text: raw, first: line, line: line})
	}
}

// firstValue returns data up to the end of its first JSON value, or all
// of it when that cannot be found.
func firstValue(data []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return data
	}
	return raw
}

// reader holds what Read has found so far.
type reader struct {
	file    string
	hpas    []workload.HPA
	skipped []error
	objects int
	// names and targets map each HPA kept, by namespace/name and by its
	// workload, to where it is.
	names   map[string]string
	targets map[workload.Key]target
}

type target struct{ name, where string }

// header is what tells an object from a List.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

// yamlLine finds the line numbers in the YAML library's messages, which
// count from the document's start.
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// document reads one document; an error ends the read.
func (rd *reader) document(n int, d document) error {
	loc := DocumentError{File: rd.file, Document: n, Line: d.line, Item: -1}
	skip := func(format string, args ...any) {
		e := loc
		e.Problem = fmt.Sprintf(format, args...)
		rd.skipped = append(rd.skipped, &e)
	}
	if d.err != "" {
		skip("%s", d.err)
		return nil
	}
	// Strict: a key given twice is refused, as kubectl does, rather than
	// one of them chosen.
	j, err := yaml.YAMLToJSONStrict(d.text)
	if err != nil {
		// One line: the library's lists of errors break lines.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "unmarshal errors:", "")), " ")
		msg = yamlLine.ReplaceAllStringFunc(untrusted.Clip(msg, untrusted.MaxQuoted), func(s string) string {
			n, _ := strconv.Atoi(s[len("line "):])
			return "line " + strconv.Itoa(d.first+n-1)
		})
		skip("invalid YAML: %s", strings.TrimPrefix(msg, "error converting YAML to JSON: "))
		return nil
	}
	if j = bytes.TrimSpace(j); len(j) == 0 || j[0] != '{' {
		skip("not an object: want a HorizontalPodAutoscaler or a List of them")
		return nil
	}
	var h header
	if err := json.Unmarshal(j, &h); err != nil {
		skip("%s", jsonProblem("", err))
		return nil
	}
	if !isList(h.Kind) {
		if rd.objects++; rd.objects > MaxObjects {
			return fmt.Errorf("more than %d objects, the limit of an HPA file", MaxObjects)
		}
		if p := rd.object(j, "", "", loc.where()); p != "" {
			skip("%s", p)
		}
		return nil
	}
	// Items of a HorizontalPodAutoscalerList may leave out their
	// apiVersion and kind, as the API server's answer does.
	var apiVersion, kind string
	if h.Kind != "List" {
		apiVersion, kind = h.APIVersion, Kind
	}
	var lines []int // each item's line, found for the first one skipped
	for i, item := range h.Items {
		if rd.objects++; rd.objects > MaxObjects {
			return fmt.Errorf("more than %d objects, the limit of an HPA file", MaxObjects)
		}
		e := loc
		e.Item = i
		p := rd.object(item, apiVersion, kind, e.where())
		if p == "" {
			continue
		}
		if lines == nil {
			lines = itemLines(d.text)
		}
		if i < len(lines) {
			e.ItemLine = d.first + lines[i] - 1
		}
		e.Problem = p
		rd.skipped = append(rd.skipped, &e)
	}
	return nil
}

func isList(kind string) bool {
	return kind == "List" || kind == Kind+"List"
}

// itemLines returns the line, counted from the document's first, of each
// item of a List document; nil when it cannot tell.
func itemLines(text []byte) []int {
	var doc yamlv3.Node
	if yamlv3.Unmarshal(text, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	var items *yamlv3.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "items" {
			items = root.Content[i+1]
		}
	}
	if items == nil || items.Kind != yamlv3.SequenceNode {
		return nil
	}
	lines := make([]int, len(items.Content))
	for i, n := range items.Content {
		lines[i] = n.Line
	}
	return lines
}

// object reads, checks and keeps one object; the problem that skips it
// otherwise. apiVersion and kind stand in for missing ones; where names
// the object for a later duplicate's message.
func (rd *reader) object(raw []byte, apiVersion, kind, where string) string {
	obj, problem := decode(raw, apiVersion, kind)
	if problem != "" {
		return problem
	}
	if problems := check(obj); len(problems) > 0 {
		return summary(problems)
	}
	// As the API server defaults an HPA that names no metric.
	if len(obj.Spec.Metrics) == 0 {
		u := int32(defaultCPUUtilization)
		obj.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u},
		}}}
	}
	h, _ := FromObject(obj)
	// The names are valid by now: they print as they are.
	id := h.Target.Namespace + "/" + h.Name
	if first, ok := rd.names[id]; ok {
		return fmt.Sprintf("HPA %s appears twice (first at %s); the first is kept", id, first)
	}
	if first, ok := rd.targets[h.Target]; ok {
		return fmt.Sprintf("HPA %s scales %s, as HPA %s does (%s): two HPAs on one workload fight over its replicas; the first is kept",
			id, h.Target, first.name, first.where)
	}
	rd.names[id] = where
	rd.targets[h.Target] = target{name: id, where: where}
	rd.hpas = append(rd.hpas, h)
	return ""
}

// The shapes an object is read into: metadata and spec as the API has
// them, status left unread.
type (
	objectV2 struct {
		APIVersion string                                    `json:"apiVersion"`
		Kind       string                                    `json:"kind"`
		Metadata   metav1.ObjectMeta                         `json:"metadata"`
		Spec       autoscalingv2.HorizontalPodAutoscalerSpec `json:"spec"`
		Status     json.RawMessage                           `json:"status"`
	}
	objectV1 struct {
		APIVersion string                                    `json:"apiVersion"`
		Kind       string                                    `json:"kind"`
		Metadata   metav1.ObjectMeta                         `json:"metadata"`
		Spec       autoscalingv1.HorizontalPodAutoscalerSpec `json:"spec"`
		Status     json.RawMessage                           `json:"status"`
	}
)

// v1Annotations hold, on an autoscaling/v1 object the API server serves,
// what v1 has no field for.
var v1Annotations = []string{"autoscaling.alpha.kubernetes.io/metrics", "autoscaling.alpha.kubernetes.io/behavior"}

// decode reads one object as autoscaling/v2; the problem when it is not
// an HPA or its fields do not fit.
func decode(raw []byte, apiVersion, kind string) (*autoscalingv2.HorizontalPodAutoscaler, string) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, jsonProblem("", err)
	}
	if h.APIVersion == "" {
		h.APIVersion = apiVersion
	}
	if h.Kind == "" {
		h.Kind = kind
	}
	switch {
	case h.Kind == "":
		return nil, "kind is missing"
	case isList(h.Kind):
		return nil, "a List inside a List"
	case h.Kind != Kind:
		return nil, fmt.Sprintf("kind %s: want HorizontalPodAutoscaler", quote(h.Kind))
	}
	switch h.APIVersion {
	case APIVersion:
		var o objectV2
		if p := decodeStrict(raw, &o); p != "" {
			return nil, p
		}
		return &autoscalingv2.HorizontalPodAutoscaler{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind}, ObjectMeta: o.Metadata, Spec: o.Spec}, ""
	case "autoscaling/v1":
		var o objectV1
		if p := decodeStrict(raw, &o); p != "" {
			return nil, p
		}
		for _, a := range v1Annotations {
			if _, ok := o.Metadata.Annotations[a]; ok {
				return nil, fmt.Sprintf("autoscaling/v1 keeps metrics or behavior in annotation %s, which is not read: "+
					"list the HPAs as autoscaling/v2 (kubectl get hpa.v2.autoscaling -o yaml)", a)
			}
		}
		out := &autoscalingv2.HorizontalPodAutoscaler{
			TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind}, ObjectMeta: o.Metadata,
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(o.Spec.ScaleTargetRef),
				MinReplicas:    o.Spec.MinReplicas, MaxReplicas: o.Spec.MaxReplicas,
			},
		}
		if u := o.Spec.TargetCPUUtilizationPercentage; u != nil {
			out.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: u},
			}}}
		}
		return out, ""
	case "":
		return nil, "apiVersion is missing"
	default:
		return nil, fmt.Sprintf("apiVersion %s: want autoscaling/v2 or autoscaling/v1", quote(h.APIVersion))
	}
}

// decodeStrict decodes raw into v, a pointer to an object shape, refusing
// a key the shape does not have exactly.
func decodeStrict(raw []byte, v any) string {
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return jsonProblem("", err)
	}
	if p := checkKeys(generic, typeOf(v), ""); p != "" {
		return p
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonProblem("", err)
	}
	return ""
}

// jsonProblem words a decoding error: the field and what was wrong,
// without the Go type names.
func jsonProblem(field string, err error) string {
	var te *json.UnmarshalTypeError
	if asTypeError(err, &te) {
		if te.Field != "" {
			field = te.Field
		}
		return fmt.Sprintf("%s: %s where %s is wanted", orObject(field), article(te.Value), kindName(te.Type))
	}
	return orObject(field) + ": " + untrusted.Clip(strings.TrimPrefix(err.Error(), "json: "), untrusted.MaxQuoted)
}

// article puts "a" or "an" before a JSON type's name.
func article(s string) string {
	if s != "" && strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + s
}

func orObject(field string) string {
	if field == "" {
		return "the object"
	}
	return field
}
