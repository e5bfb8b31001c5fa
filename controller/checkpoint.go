package controller

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	coreclient "k8s.io/client-go/kubernetes/typed/core/v1"
)

// The checkpoint is the encoded history (livestate.State.Encode) cut
// into parts of at most PartSize bytes, one ConfigMap each. Two slots, a
// and b, take turns: a checkpoint is written into the slot the last one did
// not use, so that a leader that dies halfway through a write leaves the
// previous checkpoint whole in the other slot. Each part carries the
// generation and the number of parts; a reader takes the newest generation
// whose parts are all there and decode, else the other slot.
const (
	checkpointPrefix = "rightsize-checkpoint-"
	labelComponent   = "app.kubernetes.io/component"
	componentValue   = "checkpoint"
	labelManagedBy   = "app.kubernetes.io/managed-by"
	managedBy        = "rightsize"
	labelSlot        = "rightsize.dev/checkpoint-slot"
	annGeneration    = "rightsize.dev/checkpoint-generation"
	annPart          = "rightsize.dev/checkpoint-part"
	annParts         = "rightsize.dev/checkpoint-parts"
	annSaved         = "rightsize.dev/checkpoint-saved"
	dataKey          = "state"
	// PartSize keeps every ConfigMap well under the API's 1 MiB limit on
	// its data.
	PartSize = 768 << 10
)

// Checkpoints reads and writes the checkpoint in one namespace.
type Checkpoints struct {
	ConfigMaps coreclient.ConfigMapsGetter
	Namespace  string
	// FieldManager names the writer in server-side apply.
	FieldManager string
	// MaxSize is the largest checkpoint read, in bytes; larger ones are
	// not assembled.
	MaxSize int64

	// generation is the newest generation read or written.
	generation int64
}

// Checkpoint is a checkpoint read back.
type Checkpoint struct {
	State      []byte
	Generation int64
	Slot       string
	Saved      time.Time
}

// Load returns the newest whole checkpoint that valid accepts (valid
// decodes it), falling back to the other slot, with what was wrong with
// the ones it passed over. It returns nil, with no error, when there is
// none.
func (c *Checkpoints) Load(ctx context.Context, valid func([]byte) error) (*Checkpoint, []string, error) {
	list, err := c.ConfigMaps.ConfigMaps(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: c.selector().String()})
	if err != nil {
		return nil, nil, fmt.Errorf("listing checkpoint ConfigMaps in %s: %w", c.Namespace, err)
	}
	bySlot := map[string][]*corev1.ConfigMap{}
	for i := range list.Items {
		cm := &list.Items[i]
		s := cm.Labels[labelSlot]
		bySlot[s] = append(bySlot[s], cm)
	}
	var cands []*Checkpoint
	var problems []string
	for _, slot := range []string{"a", "b"} {
		cp, err := c.assemble(slot, bySlot[slot])
		if err != nil {
			problems = append(problems, fmt.Sprintf("checkpoint slot %s: %v", slot, err))
			continue
		}
		if cp != nil {
			cands = append(cands, cp)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Generation > cands[j].Generation })
	for _, cp := range cands {
		c.generation = max(c.generation, cp.Generation)
		if err := valid(cp.State); err != nil {
			problems = append(problems, fmt.Sprintf("checkpoint slot %s (generation %d): %v", cp.Slot, cp.Generation, err))
			continue
		}
		return cp, problems, nil
	}
	return nil, problems, nil
}

// assemble joins a slot's parts; nil when the slot is empty.
func (c *Checkpoints) assemble(slot string, cms []*corev1.ConfigMap) (*Checkpoint, error) {
	if len(cms) == 0 {
		return nil, nil
	}
	type part struct {
		gen, idx, n int64
		saved       string
		data        []byte
	}
	var newest int64 = -1
	parts := make([]part, 0, len(cms))
	for _, cm := range cms {
		p := part{data: cm.BinaryData[dataKey], saved: cm.Annotations[annSaved]}
		var err error
		if p.gen, err = annInt(cm, annGeneration); err == nil {
			if p.idx, err = annInt(cm, annPart); err == nil {
				p.n, err = annInt(cm, annParts)
			}
		}
		if err != nil {
			return nil, err
		}
		if p.n <= 0 || p.idx < 0 || p.idx >= p.n {
			return nil, fmt.Errorf("ConfigMap %s: part %d of %d", cm.Name, p.idx, p.n)
		}
		parts = append(parts, p)
		newest = max(newest, p.gen)
	}
	var cur []part
	for _, p := range parts {
		if p.gen == newest {
			cur = append(cur, p)
		}
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].idx < cur[j].idx })
	n := cur[0].n
	if int64(len(cur)) != n {
		return nil, fmt.Errorf("generation %d has %d of its %d parts (a write was interrupted)", newest, len(cur), n)
	}
	var size int64
	for i, p := range cur {
		if p.n != n || p.idx != int64(i) {
			return nil, fmt.Errorf("generation %d: parts do not agree on their count or repeat", newest)
		}
		size += int64(len(p.data))
	}
	if c.MaxSize > 0 && size > c.MaxSize {
		return nil, fmt.Errorf("generation %d: %d bytes, more than the limit of %d", newest, size, c.MaxSize)
	}
	var b bytes.Buffer
	b.Grow(int(size))
	for _, p := range cur {
		b.Write(p.data)
	}
	saved, _ := time.Parse(time.RFC3339, cur[0].saved)
	return &Checkpoint{State: b.Bytes(), Generation: newest, Slot: slot, Saved: saved}, nil
}

func annInt(cm *corev1.ConfigMap, key string) (int64, error) {
	v, err := strconv.ParseInt(cm.Annotations[key], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("ConfigMap %s: annotation %s: %q is not a number", cm.Name, key, cm.Annotations[key])
	}
	return v, nil
}

func (c *Checkpoints) selector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{labelManagedBy: managedBy, labelComponent: componentValue})
}

// Save writes state as the next generation, into the slot the previous
// generation did not use, then deletes that slot's parts the new one no
// longer needs. It returns the number of parts written; the checkpoint is
// whole once they are, so a failed clean-up is a warning, not an error.
func (c *Checkpoints) Save(ctx context.Context, state []byte, now time.Time) (int, []string, error) {
	gen := c.generation + 1
	slot := "a"
	if gen%2 == 0 {
		slot = "b"
	}
	n := max((len(state)+PartSize-1)/PartSize, 1)
	cms := c.ConfigMaps.ConfigMaps(c.Namespace)
	for i := range n {
		chunk := state[min(i*PartSize, len(state)):min((i+1)*PartSize, len(state))]
		ac := corev1ac.ConfigMap(partName(slot, i), c.Namespace).
			WithLabels(map[string]string{labelManagedBy: managedBy, labelComponent: componentValue, labelSlot: slot}).
			WithAnnotations(map[string]string{
				annGeneration: strconv.FormatInt(gen, 10),
				annPart:       strconv.Itoa(i),
				annParts:      strconv.Itoa(n),
				annSaved:      now.UTC().Format(time.RFC3339),
			}).
			WithBinaryData(map[string][]byte{dataKey: chunk})
		if _, err := cms.Apply(ctx, ac, metav1.ApplyOptions{FieldManager: c.FieldManager, Force: true}); err != nil {
			return i, nil, fmt.Errorf("writing checkpoint ConfigMap %s/%s: %w", c.Namespace, partName(slot, i), err)
		}
	}
	c.generation = gen
	// Parts of an older, longer checkpoint in this slot would make it look
	// interrupted: remove them.
	sel := labels.SelectorFromSet(labels.Set{labelManagedBy: managedBy, labelComponent: componentValue, labelSlot: slot})
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return n, []string{fmt.Sprintf("listing checkpoint ConfigMaps in %s: %v", c.Namespace, err)}, nil
	}
	var warnings []string
	for _, cm := range list.Items {
		if g, err := annInt(&cm, annGeneration); err == nil && g == gen {
			continue
		}
		if err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			warnings = append(warnings, fmt.Sprintf("deleting stale checkpoint ConfigMap %s/%s: %v", c.Namespace, cm.Name, err))
		}
	}
	return n, warnings, nil
}

func partName(slot string, i int) string { return checkpointPrefix + slot + "-" + strconv.Itoa(i) }
