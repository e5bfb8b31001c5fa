package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// TestWriteJSONAndYAML: any document a command writes escapes what a
// terminal would act on, in JSON and in YAML, and decodes to what it was.
func TestWriteJSONAndYAML(t *testing.T) {
	for _, name := range []string{"web", "evil\u202e\u001b[2Jname", "<b>&</b>"} {
		doc := map[string]any{"workload": name, "n": 1.5}
		var j, y bytes.Buffer
		require.NoError(t, WriteJSON(&j, doc))
		require.NoError(t, WriteYAML(&y, doc))
		for _, out := range []string{j.String(), y.String()} {
			assert.NotContains(t, out, "\u202e")
			assert.NotContains(t, out, "\u001b")
		}
		var back map[string]any
		require.NoError(t, json.Unmarshal(j.Bytes(), &back))
		assert.Equal(t, name, back["workload"])
		back = nil
		require.NoError(t, yaml.Unmarshal(y.Bytes(), &back))
		assert.Equal(t, name, back["workload"])
	}
	assert.Error(t, WriteJSON(&bytes.Buffer{}, map[string]any{"x": make(chan int)}))
}
