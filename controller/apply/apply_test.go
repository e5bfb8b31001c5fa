package apply

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestModeOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ann, label map[string]string
		want       Mode
		from       string
		err        string
	}{
		{"nothing: off", nil, nil, ModeOff, "default", ""},
		{"namespace label", nil, map[string]string{Key: "auto"}, ModeAuto, "namespace label", ""},
		{"the workload wins", map[string]string{Key: "off"}, map[string]string{Key: "auto"}, ModeOff, "workload annotation", ""},
		{"the workload wins the other way", map[string]string{Key: "in-place-only"}, map[string]string{Key: "off"}, ModeInPlaceOnly, "workload annotation", ""},
		{"spaces", map[string]string{Key: " auto "}, nil, ModeAuto, "workload annotation", ""},
		{"unknown value: off, said", map[string]string{Key: "yes"}, map[string]string{Key: "auto"}, ModeOff, "workload annotation", `rightsize.dev/apply "yes": want auto, in-place-only or off`},
		{"case matters", map[string]string{Key: "Auto"}, nil, ModeOff, "workload annotation", "want auto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, from, err := ModeOf(tc.ann, tc.label)
			assert.Equal(t, tc.want, m)
			assert.Equal(t, tc.from, from)
			if tc.err == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
			}
		})
	}
	for _, s := range []string{"off", "dry-run", "on"} {
		sw, err := ParseSwitch(s)
		require.NoError(t, err)
		assert.Equal(t, Switch(s), sw)
	}
	_, err := ParseSwitch("true")
	assert.Error(t, err)
}

func TestWindow(t *testing.T) {
	at := func(s string) time.Time { // 2026-12-07 is a Monday
		tm, err := time.Parse("2006-01-02 15:04", s)
		require.NoError(t, err)
		return tm
	}
	for _, tc := range []struct {
		window string
		at     string
		want   bool
	}{
		{"", "2026-12-07 12:00", true},
		{"Mon-Fri 22:00-02:00", "2026-12-07 23:30", true},  // Monday evening
		{"Mon-Fri 22:00-02:00", "2026-12-08 01:59", true},  // Tuesday morning, after Monday
		{"Mon-Fri 22:00-02:00", "2026-12-08 02:00", false}, // the end is out
		{"Mon-Fri 22:00-02:00", "2026-12-07 01:00", false}, // Monday morning: after Sunday, not listed
		{"Mon-Fri 22:00-02:00", "2026-12-12 01:00", true},  // Saturday morning, after Friday
		{"Mon-Fri 22:00-02:00", "2026-12-13 01:00", false}, // Sunday morning, after Saturday
		{"Sat,Sun 01:00-05:00", "2026-12-12 01:00", true},
		{"Sat,Sun 01:00-05:00", "2026-12-12 05:00", false},
		{"Sat,Sun 01:00-05:00", "2026-12-11 03:00", false},
		{"Fri-Mon 03:00-04:00", "2026-12-14 03:30", true}, // wraps the week
		{"Fri-Mon 03:00-04:00", "2026-12-09 03:30", false},
		{"Sat 01:00-02:00; * 12:00-12:30", "2026-12-09 12:10", true},
	} {
		w, err := ParseWindow(tc.window)
		require.NoError(t, err, tc.window)
		assert.Equal(t, tc.want, w.Allows(at(tc.at)), "%s at %s (%s)", tc.window, tc.at, at(tc.at).Weekday())
	}
	for _, bad := range []string{"Mon", "Mon 25:00-01:00", "Funday 01:00-02:00", "Mon 01:00-01:00", "Mon 01:00", "Mon-Fri 01:00-02:00 extra"} {
		_, err := ParseWindow(bad)
		assert.Error(t, err, bad)
	}
	w, _ := ParseWindow("")
	assert.Equal(t, "always", w.String())
}

// plan is a workload with one container "app": today's settings and a
// recommendation (cpu millicores, memory MiB).
func plan(cur, rec [4]int64, confidence float64) workload.WorkloadPlan {
	set := func(v [4]int64) workload.Settings {
		return workload.Settings{Requests: workload.Resources{CPU: workload.Millicores(v[0]), Memory: workload.Bytes(v[2]) * workload.MiB},
			Limits: workload.Resources{CPU: workload.Millicores(v[1]), Memory: workload.Bytes(v[3]) * workload.MiB}}
	}
	return workload.WorkloadPlan{Key: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Replicas: 3,
		Containers: []workload.ContainerPlan{{Name: "app", Current: set(cur),
			Recommendation: workload.Recommendation{HasCPU: true, HasMemory: true, Target: set(rec), Confidence: confidence}}}}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	healthy := func(p workload.WorkloadPlan) Workload {
		return Workload{Plan: p, Mode: ModeAuto, Ready: 3, Desired: 3, InPlace: true}
	}
	base := plan([4]int64{500, 1000, 1024, 2048}, [4]int64{400, 800, 900, 1800}, 0.9)
	nightOnly, _ := ParseWindow("* 01:00-05:00")
	for _, tc := range []struct {
		name   string
		w      func() Workload
		g      func(Guards) Guards
		reason string
		// to: the container's settings after (cpu req, cpu lim, mem req MiB, mem lim MiB)
		to  [4]int64
		msg string
	}{
		{name: "applies the recommendation", w: func() Workload { return healthy(base) }, reason: ReasonApply, to: [4]int64{400, 800, 900, 1800},
			msg: "app: cpu request 500m → 400m, cpu limit 1 → 800m, memory request 1Gi → 900Mi, memory limit 2Gi → 1800Mi",
		},
		{name: "not opted in", w: func() Workload { w := healthy(base); w.Mode = ModeOff; return w }, reason: ReasonNotOptedIn},
		{name: "no mode at all", w: func() Workload { w := healthy(base); w.Mode = ""; return w }, reason: ReasonNotOptedIn},
		{name: "in-place-only without in-place", w: func() Workload { w := healthy(base); w.Mode, w.InPlace = ModeInPlaceOnly, false; return w }, reason: ReasonNoInPlace},
		{name: "auto without in-place: the template", w: func() Workload { w := healthy(base); w.InPlace = false; return w }, reason: ReasonApply, to: [4]int64{400, 800, 900, 1800}},
		{name: "rollout under way", w: func() Workload { w := healthy(base); w.Rolling = true; return w }, reason: ReasonRolling},
		{name: "unhealthy", w: func() Workload { w := healthy(base); w.Ready = 2; return w }, reason: ReasonUnhealthy, msg: "2 of 3 replicas ready"},
		{name: "cooldown", w: func() Workload { w := healthy(base); w.LastApplied = now.Add(-23 * time.Hour); return w }, reason: ReasonCooldown},
		{name: "after the cooldown", w: func() Workload { w := healthy(base); w.LastApplied = now.Add(-25 * time.Hour); return w }, reason: ReasonApply, to: [4]int64{400, 800, 900, 1800}},
		{name: "rolled back last week", w: func() Workload { w := healthy(base); w.LastRolledBack = now.Add(-6 * 24 * time.Hour); return w }, reason: ReasonRolledBack},
		{name: "outside the window", w: func() Workload { return healthy(base) }, g: func(g Guards) Guards { g.Window = nightOnly; return g }, reason: ReasonWindow, msg: "* 01:00-05:00"},
		{name: "low confidence", w: func() Workload {
			return healthy(plan([4]int64{500, 1000, 1024, 2048}, [4]int64{400, 800, 900, 1800}, 0.3))
		}, reason: ReasonLowConfident, msg: "confidence 0.30 below 0.50"},
		{name: "a cut larger than a step: 30 % this time", w: func() Workload {
			return healthy(plan([4]int64{1000, 2000, 2000, 4000}, [4]int64{100, 200, 500, 1000}, 0.9))
		}, reason: ReasonApply, to: [4]int64{700, 1400, 1400, 2800}},
		{name: "a rise larger than a step: twice at most", w: func() Workload {
			return healthy(plan([4]int64{100, 200, 100, 200}, [4]int64{500, 1000, 500, 1000}, 0.9))
		}, reason: ReasonApply, to: [4]int64{200, 400, 200, 400}},
		{name: "less than 5 %: nothing", w: func() Workload {
			return healthy(plan([4]int64{500, 1000, 1000, 2000}, [4]int64{490, 980, 970, 1940}, 0.9))
		}, reason: ReasonNothingToDo, msg: "less than 5 %"},
		{name: "cpu below 5 %, memory beyond", w: func() Workload {
			return healthy(plan([4]int64{500, 1000, 1000, 2000}, [4]int64{490, 980, 800, 1600}, 0.9))
		}, reason: ReasonApply, to: [4]int64{500, 1000, 800, 1600}},
		{name: "no request today: set it (R5)", w: func() Workload {
			return healthy(plan([4]int64{0, 0, 0, 0}, [4]int64{250, 0, 300, 600}, 0.9))
		}, reason: ReasonApply, to: [4]int64{250, 0, 300, 600}},
		{name: "no cpu limit recommended (R4): today's stays", w: func() Workload {
			return healthy(plan([4]int64{500, 500, 1000, 2000}, [4]int64{450, 0, 1000, 2000}, 0.9))
		}, reason: ReasonApply, to: [4]int64{450, 500, 1000, 2000}},
		{name: "no cpu limit recommended, request above today's limit: the limit follows", w: func() Workload {
			return healthy(plan([4]int64{500, 500, 1000, 2000}, [4]int64{800, 0, 1000, 2000}, 0.9))
		}, reason: ReasonApply, to: [4]int64{800, 800, 1000, 2000}},
		{name: "a step lands within the LimitRange (R13)", w: func() Workload {
			w := healthy(plan([4]int64{2000, 4000, 1000, 2000}, [4]int64{800, 1000, 900, 1800}, 0.9))
			w.Range = Range{Min: workload.Resources{Memory: 950 * workload.MiB}, Max: workload.Resources{CPU: 1000, Memory: 4 * workload.GiB}}
			return w
		}, reason: ReasonApply, to: [4]int64{1000, 1000, 950, 1800}, msg: "cpu request 2 → 1"},
		{name: "paused rollouts: left", w: func() Workload { w := healthy(base); w.Paused = true; return w },
			reason: ReasonPaused, msg: "paused"},
		{name: "a VPA that resizes the workload: left", w: func() Workload { w := healthy(base); w.VPAMode = "Auto"; return w },
			reason: ReasonVPA, msg: "mode Auto"},
		{name: "a VPA that only recommends: its allowed range bounds the requests (R15)", w: func() Workload {
			w := healthy(base)
			w.VPAMode = "Off"
			w.VPA = map[string]Range{"app": {Min: workload.Resources{CPU: 450}}}
			return w
		}, reason: ReasonApply, to: [4]int64{450, 800, 900, 1800}},
		{name: "HPA on CPU: cpu held, memory goes", w: func() Workload { w := healthy(base); w.HPAOnCPU = true; return w },
			reason: ReasonApply, to: [4]int64{500, 1000, 900, 1800}},
		{name: "HPA on CPU with its own recommendation, the request's step bounded: cpu held", w: func() Workload {
			w := healthy(plan([4]int64{1000, 0, 1024, 2048}, [4]int64{500, 0, 900, 1800}, 0.9))
			w.HPAOnCPU, w.HPAJoint = true, true
			return w
		}, reason: ReasonApply, to: [4]int64{1000, 0, 900, 1800}},
		{name: "HPA on CPU with its own recommendation: both", w: func() Workload { w := healthy(base); w.HPAOnCPU, w.HPAJoint = true, true; return w },
			reason: ReasonApply, to: [4]int64{400, 800, 900, 1800}},
		{name: "quota: growth beyond the headroom", w: func() Workload {
			w := healthy(plan([4]int64{100, 200, 100, 200}, [4]int64{200, 400, 200, 400}, 0.9))
			w.Headroom = &workload.Resources{CPU: 200, Memory: 10 * workload.GiB} // 3 × 100m more
			return w
		}, reason: ReasonQuota, msg: "300m cpu"},
		{name: "quota: a cut always fits", w: func() Workload {
			w := healthy(base)
			w.Headroom = &workload.Resources{}
			return w
		}, reason: ReasonApply, to: [4]int64{400, 800, 900, 1800}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := DefaultGuards
			if tc.g != nil {
				g = tc.g(g)
			}
			require.NoError(t, g.Validate())
			d := Decide(tc.w(), g, now)
			assert.Equal(t, tc.reason, d.Reason, d.Message)
			assert.Equal(t, tc.reason == ReasonApply, d.Apply)
			if tc.msg != "" {
				assert.Contains(t, d.Message, tc.msg)
			}
			if tc.reason != ReasonApply {
				assert.Empty(t, d.Changes)
				return
			}
			require.Len(t, d.Changes, 1)
			to := d.Changes[0].To
			assert.Equal(t, tc.to, [4]int64{int64(to.Requests.CPU), int64(to.Limits.CPU), int64(to.Requests.Memory / workload.MiB), int64(to.Limits.Memory / workload.MiB)})
		})
	}
}

func TestDecideSaysWhatWasHeld(t *testing.T) {
	w := Workload{Plan: plan([4]int64{1000, 2000, 2000, 4000}, [4]int64{100, 200, 500, 1000}, 0.9), Mode: ModeAuto, Ready: 1, Desired: 1, HPAOnCPU: true}
	d := Decide(w, DefaultGuards, time.Now())
	require.True(t, d.Apply)
	assert.Contains(t, strings.Join(d.Held, "\n"), "cpu held: an HPA scales on it")
	assert.Contains(t, strings.Join(d.Changes[0].Notes, "\n"), "memory request 2000Mi → 1400Mi of 500Mi this step (at most −30 %/+100 %)")
}

func TestGuardsValidate(t *testing.T) {
	require.NoError(t, DefaultGuards.Validate())
	for _, mod := range []func(*Guards){
		func(g *Guards) { g.MinConfidence = 1.5 },
		func(g *Guards) { g.MaxDecrease = 1 },
		func(g *Guards) { g.MaxIncrease = 0 },
		func(g *Guards) { g.MinChange = -0.1 },
		func(g *Guards) { g.Cooldown = -time.Hour },
	} {
		g := DefaultGuards
		mod(&g)
		assert.Error(t, g.Validate())
	}
}

func TestBudget(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	b := &Budget{N: 2, Per: time.Hour}
	assert.True(t, b.Allow(t0))
	b.Take(t0)
	b.Take(t0.Add(10 * time.Minute))
	assert.False(t, b.Allow(t0.Add(30*time.Minute)), "two in the last hour")
	assert.Equal(t, t0.Add(time.Hour), b.Next(t0.Add(30*time.Minute)))
	assert.True(t, b.Allow(t0.Add(time.Hour)), "the first one is an hour old")
	none := &Budget{N: 0, Per: time.Hour}
	assert.False(t, none.Allow(t0))
}
