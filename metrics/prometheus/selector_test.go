package prometheus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in      string
		want    []Matcher
		wantErr string
	}{
		{``, nil, ""},
		{`cluster="prod"`, []Matcher{{"cluster", "=", "prod"}}, ""},
		{`{cluster="prod", namespace=~"shop|cart"}`, []Matcher{{"cluster", "=", "prod"}, {"namespace", "=~", "shop|cart"}}, ""},
		{` env != 'dev' ,team!~"a.*"`, []Matcher{{"env", "!=", "dev"}, {"team", "!~", "a.*"}}, ""},
		{`path="a\"b"`, []Matcher{{"path", "=", `a"b`}}, ""},
		{"raw=`x\\y`", []Matcher{{"raw", "=", `x\y`}}, ""},
		{`cluster=prod`, nil, "label cluster: expected a quoted value"},
		{`cluster="prod`, nil, "label cluster: unterminated value"},
		{`="x"`, nil, "expected a label name"},
		{`cluster~"x"`, nil, "label cluster: expected =, !=, =~ or !~"},
		{`a="1" b="2"`, nil, "expected a comma"},
		{`ns=~"(("`, nil, "label ns: error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSelector(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSelectorRendering(t *testing.T) {
	assert.Equal(t, `m{a="1",b=~"x|y"}`, selector("m", Matcher{"a", "=", "1"}, anyOf("b", []string{"x", "y"})))
	assert.Equal(t, `{c="a\"b"}`, selector("", Matcher{"c", "=", `a"b`}))
	assert.Equal(t, Matcher{"pod", "=~", `web\.1|web\+2`}, anyOf("pod", []string{"web.1", "web+2"}), "names are literal, not patterns")
}
