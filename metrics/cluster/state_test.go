package cluster

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStateDir(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, filepath.Join("/x", "rightsize")},
		{map[string]string{"HOME": "/h"}, filepath.Join("/h", ".local", "state", "rightsize")},
	} {
		assert.Equal(t, c.want, StateDir(func(n string) string { return c.env[n] }))
	}
}

func TestName(t *testing.T) {
	a := Name("https://127.0.0.1:26443")
	assert.True(t, strings.HasPrefix(a, "127.0.0.1_26443-"), a)
	assert.NotEqual(t, a, Name("https://127.0.0.1:26443/other"), "different servers never share a file")
	assert.Equal(t, a, Name("https://127.0.0.1:26443"))
	assert.Equal(t, "a_b_c-", Name("a/b c")[:6], "nothing but a safe file name")
	assert.NotContains(t, Name("https://../../etc:1"), "/")
}
