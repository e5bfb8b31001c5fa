package controller

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func accept([]byte) error { return nil }

func TestCheckpointRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 10, PartSize, PartSize + 1, 3*PartSize - 7} {
		cs := fake.NewClientset()
		w := &Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs", FieldManager: "test"}
		state := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		n, warnings, err := w.Save(ctx, state, t0)
		assert.Empty(t, warnings)
		require.NoError(t, err, "size %d", size)
		assert.Equal(t, max((size+PartSize-1)/PartSize, 1), n)

		r := &Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs"}
		cp, problems, err := r.Load(ctx, accept)
		require.NoError(t, err)
		assert.Empty(t, problems)
		require.NotNil(t, cp, "size %d", size)
		assert.True(t, bytes.Equal(state, cp.State), "size %d", size)
		assert.Equal(t, int64(1), cp.Generation)
		assert.Equal(t, "a", cp.Slot)
		assert.Equal(t, t0, cp.Saved)
	}
}

func TestCheckpointSlotsAlternateAndShrink(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	w := &Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs", FieldManager: "test"}
	big := bytes.Repeat([]byte{1}, 2*PartSize+1)
	_, _, err := w.Save(ctx, big, t0) // generation 1, slot a, 3 parts
	require.NoError(t, err)
	_, _, err = w.Save(ctx, []byte("second"), t0.Add(time.Minute)) // 2, b
	require.NoError(t, err)
	_, _, err = w.Save(ctx, []byte("third"), t0.Add(2*time.Minute)) // 3, a: one part, the two others removed
	require.NoError(t, err)

	list, err := cs.CoreV1().ConfigMaps("rs").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, cm := range list.Items {
		names = append(names, cm.Name)
	}
	assert.ElementsMatch(t, []string{"rightsize-checkpoint-a-0", "rightsize-checkpoint-b-0"}, names)

	r := &Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs", FieldManager: "test"}
	cp, _, err := r.Load(ctx, accept)
	require.NoError(t, err)
	assert.Equal(t, "third", string(cp.State))
	assert.Equal(t, int64(3), cp.Generation)
	// The next writer goes on from the generation it read.
	_, _, err = r.Save(ctx, []byte("fourth"), t0.Add(3*time.Minute))
	require.NoError(t, err)
	cp, _, err = w.Load(ctx, accept)
	require.NoError(t, err)
	assert.Equal(t, "fourth", string(cp.State))
	assert.Equal(t, "b", cp.Slot)
}

// A leader that dies halfway through a write, or a checkpoint that does
// not decode, leaves the previous checkpoint to be read.
func TestCheckpointFallsBackToTheOtherSlot(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	w := &Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs", FieldManager: "test"}
	_, _, err := w.Save(ctx, []byte("old"), t0)
	require.NoError(t, err)
	_, _, err = w.Save(ctx, bytes.Repeat([]byte{2}, PartSize+5), t0.Add(time.Minute))
	require.NoError(t, err)

	t.Run("a part missing", func(t *testing.T) {
		cm, err := cs.CoreV1().ConfigMaps("rs").Get(ctx, "rightsize-checkpoint-b-1", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, cs.CoreV1().ConfigMaps("rs").Delete(ctx, cm.Name, metav1.DeleteOptions{}))
		defer func() {
			cm.ResourceVersion = ""
			_, err := cs.CoreV1().ConfigMaps("rs").Create(ctx, cm, metav1.CreateOptions{})
			require.NoError(t, err)
		}()
		cp, problems, err := (&Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs"}).Load(ctx, accept)
		require.NoError(t, err)
		assert.Equal(t, "old", string(cp.State))
		require.Len(t, problems, 1)
		assert.Contains(t, problems[0], "slot b: generation 2 has 1 of its 2 parts")
	})
	t.Run("does not decode", func(t *testing.T) {
		cp, problems, err := (&Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs"}).Load(ctx, func(b []byte) error {
			if len(b) > 3 {
				return errors.New("checksum mismatch")
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, "old", string(cp.State))
		assert.Equal(t, []string{"checkpoint slot b (generation 2): checksum mismatch"}, problems)
	})
	t.Run("too large", func(t *testing.T) {
		cp, problems, err := (&Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs", MaxSize: 100}).Load(ctx, accept)
		require.NoError(t, err)
		assert.Equal(t, "old", string(cp.State))
		assert.Contains(t, problems[0], "more than the limit of 100")
	})
	t.Run("crafted annotations", func(t *testing.T) {
		cm, err := cs.CoreV1().ConfigMaps("rs").Get(ctx, "rightsize-checkpoint-b-0", metav1.GetOptions{})
		require.NoError(t, err)
		orig := cm.DeepCopy()
		for _, v := range []string{"x", "-1", "7", "99999999999999999999"} {
			cm.Annotations[annPart] = v
			cm, err = cs.CoreV1().ConfigMaps("rs").Update(ctx, cm, metav1.UpdateOptions{})
			require.NoError(t, err)
			cp, problems, err := (&Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: "rs"}).Load(ctx, accept)
			require.NoError(t, err)
			assert.Equal(t, "old", string(cp.State), "part %q", v)
			assert.Len(t, problems, 1, "part %q", v)
		}
		orig.ResourceVersion = cm.ResourceVersion
		_, err = cs.CoreV1().ConfigMaps("rs").Update(ctx, orig, metav1.UpdateOptions{})
		require.NoError(t, err)
	})
}

func TestCheckpointNone(t *testing.T) {
	cp, problems, err := (&Checkpoints{ConfigMaps: fake.NewClientset().CoreV1(), Namespace: "rs"}).Load(context.Background(), accept)
	require.NoError(t, err)
	assert.Nil(t, cp)
	assert.Empty(t, problems)
}

// FuzzAssemble: ConfigMaps in the controller's namespace are outside data;
// whatever their annotations and parts say, assembling them never panics
// and never returns more than MaxSize bytes.
func FuzzAssemble(f *testing.F) {
	f.Add("1", "0", "2", []byte("ab"), "1", "1", "2", []byte("cd"))
	f.Add("1", "0", "1", []byte("ab"), "2", "0", "1", []byte("cd"))
	f.Add("-1", "9223372036854775807", "-9223372036854775808", []byte{}, "x", "", " 1", []byte{0})
	f.Fuzz(func(t *testing.T, g1, i1, n1 string, d1 []byte, g2, i2, n2 string, d2 []byte) {
		cm := func(name, g, i, n string, d []byte) *corev1.ConfigMap {
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name,
				Annotations: map[string]string{annGeneration: g, annPart: i, annParts: n}}, BinaryData: map[string][]byte{dataKey: d}}
		}
		c := &Checkpoints{MaxSize: 64}
		cp, err := c.assemble("a", []*corev1.ConfigMap{cm("x", g1, i1, n1, d1), cm("y", g2, i2, n2, d2)})
		if err != nil {
			assert.Nil(t, cp)
			return
		}
		require.NotNil(t, cp)
		assert.LessOrEqual(t, len(cp.State), 64)
		assert.LessOrEqual(t, len(cp.State), len(d1)+len(d2))
	})
}
