package memlimit

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// limit reads the soft memory limit in force.
func limit() int64 { return debug.SetMemoryLimit(-1) }

func TestFollowLiveHeap(t *testing.T) {
	was := limit()
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	debug.SetMemoryLimit(math.MaxInt64)

	for _, env := range []map[string]string{{"GOGC": "200"}, {"GOMEMLIMIT": "1GiB"}} {
		assert.False(t, FollowLiveHeap(context.Background(), func(k string) string { return env[k] }, Default), "%v", env)
	}
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, int64(math.MaxInt64), limit(), "the environment's settings stay")

	ctx, cancel := context.WithCancel(context.Background())
	require.True(t, FollowLiveHeap(ctx, func(string) string { return "" }, Headroom{Divisor: 8, Floor: 1 << 40}))
	require.Eventually(t, func() bool { return limit() < math.MaxInt64 }, 5*time.Second, 20*time.Millisecond, "a limit follows the live heap")
	// The live heap plus an eighth and the floor.
	assert.GreaterOrEqual(t, limit(), int64(1<<40))
	assert.Less(t, limit(), int64(1<<40+1<<30))
	cancel()
	require.Eventually(t, func() bool { return limit() == math.MaxInt64 }, 5*time.Second, 20*time.Millisecond, "no limit once the run ends")
}

// The limit follows the live heap up and holds when it shrinks.
func TestLimitHoldsItsTop(t *testing.T) {
	h := Headroom{Divisor: 8, Floor: 32}
	top := int64(0)
	for _, tt := range []struct{ live, want int64 }{
		{0, 32},
		{80, 80 + 10 + 32},
		{160, 160 + 20 + 32},
		{40, 160 + 20 + 32}, // shrinking: held
		{800, 800 + 100 + 32},
	} {
		top = h.limit(top, tt.live)
		assert.Equal(t, tt.want, top, "live %d", tt.live)
	}
	assert.Equal(t, int64(10+10+32), Headroom{Floor: 32}.limit(0, 10), "a zero divisor counts as one")
}
