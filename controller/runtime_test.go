package controller

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSetGCPercent(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		env  map[string]string
		set  int // the target set before
		want int
	}{
		{"no GOGC: the controller's", nil, 100, gcPercent},
		{"GOGC set: the runtime's, untouched", map[string]string{"GOGC": "200"}, 200, 200},
		{"GOGC=off: untouched", map[string]string{"GOGC": "off"}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(tc.set)
			got := setGCPercent(log, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want, debug.SetGCPercent(100), "the target in force")
		})
	}
}
