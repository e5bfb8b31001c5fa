package prometheus

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestNewWindow(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		end      time.Time
		history  time.Duration
		step     time.Duration
		first    time.Time
		n        int
		lastStep time.Time
	}{
		{"aligned end", time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), day, 5 * time.Minute,
			time.Date(2026, 11, 14, 0, 5, 0, 0, time.UTC), 288, time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)},
		{"end between steps", time.Date(2026, 11, 15, 0, 7, 30, 0, time.UTC), day, 5 * time.Minute,
			time.Date(2026, 11, 14, 0, 10, 0, 0, time.UTC), 288, time.Date(2026, 11, 15, 0, 5, 0, 0, time.UTC)},
		{"one second after the last sample", time.Date(2026, 11, 14, 23, 55, 1, 0, time.UTC), 14 * day, 5 * time.Minute,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 4032, time.Date(2026, 11, 14, 23, 55, 0, 0, time.UTC)},
		{"time zone does not matter", time.Date(2026, 11, 15, 1, 0, 0, 0, time.FixedZone("CET", 3600)), time.Hour, time.Minute,
			time.Date(2026, 11, 14, 23, 1, 0, 0, time.UTC), 60, time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWindow(tt.end, tt.history, tt.step)
			assert.Equal(t, tt.first, w.at(0))
			assert.Equal(t, tt.n, w.n)
			assert.Equal(t, tt.lastStep, w.last())
			assert.Equal(t, time.UTC, w.at(0).Location())
		})
	}
}

func TestGroupSeries(t *testing.T) {
	var all []podSeries
	add := func(ns string, pods, containers int) {
		for p := range pods {
			for c := range containers {
				all = append(all, podSeries{ns, fmt.Sprintf("%s-pod-%03d", ns, p), fmt.Sprintf("c%d", c), ""})
			}
		}
	}
	add("a", 2, 1)  // 2 series
	add("b", 3, 1)  // 3
	add("c", 1, 2)  // 2
	add("d", 6, 2)  // 12: cut into pod lists
	add("e", 10, 1) // 10: one namespace alone fits exactly
	groups := groupSeries(all, 10)

	var got []string
	total := 0
	for i, g := range groups {
		assert.Equal(t, i, g.id)
		assert.LessOrEqual(t, g.series, 10)
		total += g.series
		got = append(got, g.String())
	}
	assert.Equal(t, len(all), total, "every series in exactly one group")
	assert.Equal(t, []string{
		"namespaces a, b, c",
		"namespace d (pods d-pod-000 … d-pod-004, 5 pods)",
		"namespace d (pods d-pod-005 … d-pod-005, 1 pods)",
		"namespace e",
	}, got)
	assert.Equal(t, []Matcher{{"namespace", "=~", "a|b|c"}}, groups[0].matchers(DefaultNames().cadvisorLabels()))
	assert.Equal(t, []Matcher{{"namespace", "=", "d"}, {"pod", "=~", `d-pod-000|d-pod-001|d-pod-002|d-pod-003|d-pod-004`}}, groups[1].matchers(DefaultNames().cadvisorLabels()))
}

func TestChunkSizes(t *testing.T) {
	assert.Equal(t, 400, initialSteps(500, 200_000))
	assert.Equal(t, maxStepsPerQuery, initialSteps(3, 200_000), "at most 10,000 steps: Prometheus refuses 11,000 per series")
	assert.Equal(t, 1, initialSteps(500_000, 200_000))

	tests := []struct {
		cur, perStep, want int
	}{
		{400, 60, 1600},   // few pods running at once: grows, but fourfold at most
		{2000, 60, 2500},  // then as the budget allows, with a quarter spare
		{2500, 300, 500},  // more pods than before: shrinks at once
		{400, 0, 1600},    // nothing returned: grows
		{9000, 1, 10_000}, // capped
		{100, 500_000, 1}, // at least one step
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nextSteps(tt.cur, tt.perStep, 200_000), "%+v", tt)
	}
}

func TestChunkHalvesAndName(t *testing.T) {
	w := newWindow(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), 14*24*time.Hour, 5*time.Minute)
	g := &group{namespaces: []string{"a"}, series: 500}
	c := chunk{group: g, start: 0, end: 400}
	a, b := c.halves()
	assert.Equal(t, [2]int{0, 200}, [2]int{a.start, a.end})
	assert.Equal(t, [2]int{200, 400}, [2]int{b.start, b.end})
	assert.Equal(t, "namespace a, 2026-11-01T00:05Z to 2026-11-02T09:20Z", c.name(w))
}

func TestChunkCut(t *testing.T) {
	c := chunk{group: &group{}, start: 8, end: 4040}
	for _, tt := range []struct {
		n    int
		want []int // lengths
	}{
		{1000, []int{806, 806, 806, 807, 807}},
		{4032, []int{4032}},
		{5000, []int{4032}},
		{2016, []int{2016, 2016}},
		{1, nil},
	} {
		parts := c.cut(tt.n)
		start := c.start
		var lengths []int
		for _, p := range parts {
			assert.Equal(t, start, p.start, "parts follow each other")
			assert.LessOrEqual(t, p.steps(), tt.n)
			lengths = append(lengths, p.steps())
			start = p.end
		}
		assert.Equal(t, c.end, start, "the parts cover the chunk")
		if tt.want != nil {
			assert.Equal(t, tt.want, lengths, "n=%d", tt.n)
		} else {
			assert.Len(t, parts, 4032)
		}
	}
}

// TestRegroupByWorkload: a large namespace's pods are packed again by
// workload, so that a reading into sketches rarely holds a workload split
// across groups; namespaces read whole stay as they are.
func TestRegroupByWorkload(t *testing.T) {
	// Pods named so that name order interleaves the workloads.
	owner := map[string]string{"a-1": "api", "b-1": "batch", "a-2": "api", "b-2": "batch", "a-3": "api", "c-1": "cron",
		"c-2": "cron", "c-3": "cron", "c-4": "cron", "c-5": "cron", "c-6": "cron"}
	var all []podSeries
	for pod := range owner {
		all = append(all, podSeries{namespace: "big", pod: pod, container: "app"})
	}
	all = append(all, podSeries{namespace: "small", pod: "x-1", container: "app"})
	groups := []group{
		{id: 0, namespaces: []string{"big"}, pods: []string{"a-1", "a-2", "a-3", "b-1"}, series: 4},
		{id: 1, namespaces: []string{"big"}, pods: []string{"b-2", "c-1", "c-2", "c-3"}, series: 4},
		{id: 2, namespaces: []string{"big"}, pods: []string{"c-4", "c-5", "c-6"}, series: 3},
		{id: 3, namespaces: []string{"small"}, series: 1},
	}
	got := regroupByWorkload(groups, all, func(s podSeries) workload.Key {
		return workload.Key{Namespace: s.namespace, Kind: workload.Deployment, Name: owner[s.pod]}
	}, 4)
	var lists [][]string
	for i, g := range got {
		assert.Equal(t, i, g.id)
		assert.Equal(t, len(g.pods) > 0 || g.namespaces[0] == "small", true)
		lists = append(lists, g.pods)
	}
	assert.Equal(t, [][]string{
		nil,                          // small, whole
		{"a-1", "a-2", "a-3"},        // api alone: batch does not fit beside it
		{"b-1", "b-2"},               // batch
		{"c-1", "c-2", "c-3", "c-4"}, // cron, six pods: more than a group holds
		{"c-5", "c-6"},
	}, lists)
}
