package recommender

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/progress"
	"rightsize.dev/rightsize/recommender/constraints"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// source is a Source over fixed data; it reports one progress update.
type source struct {
	d   *Data
	err error
}

func (s source) Load(_ context.Context, report progress.Func) (*Data, error) {
	report.Report(progress.Update{Source: "test", Done: 1, Total: 1})
	return s.d, s.err
}

var (
	t0  = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	web = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	db  = workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db"}
)

// busyStore holds three days of web and db using 2 cores and 1 GiB.
func busyStore() *history.Store {
	st := history.NewStore()
	for i := range 3 * 288 {
		for _, k := range []workload.Key{web, db} {
			st.Add(workload.ContainerKey{Workload: k, Container: "app"}, workload.Sample{
				Time: t0.Add(time.Duration(i) * 5 * time.Minute), Pod: k.Name + "-1",
				CPU: 2, HasCPU: true, Memory: workload.GiB, HasMemory: true,
			})
		}
	}
	st.Finalize()
	return st
}

func TestPipelineRun(t *testing.T) {
	var updates []progress.Update
	bounds := &constraints.Input{LimitRanges: []constraints.LimitRange{{Namespace: "shop", Name: "limits", Items: []constraints.LimitItem{
		{Type: constraints.LimitContainer, Max: workload.Resources{CPU: 1000}},
	}}}}
	p := &Pipeline{
		Source:      source{d: &Data{Name: "test", Store: busyStore(), Bounds: bounds, Critical: []workload.Key{db}}},
		Recommender: Recommender{Profile: policy.Balanced()},
		Progress:    func(u progress.Update) { updates = append(updates, u) },
	}
	d, plan, err := p.Run(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "test", d.Name)
	assert.Len(t, updates, 1, "the source's progress reaches the caller")
	require.Len(t, plan.Workloads, 2)
	for _, w := range plan.Workloads {
		c := w.Containers[0]
		assert.Equal(t, workload.Millicores(1000), c.Recommendation.Target.Requests.CPU, "%s: clamped to the LimitRange (R13)", w.Key)
		assert.True(t, hasReason(c.Recommendation.Reasons, "LimitRange shop/limits"), "%s: %v", w.Key, c.Recommendation.Reasons)
		assert.Equal(t, w.Key == db, w.Critical, "%s: the source's critical workloads count (R8)", w.Key)
	}
	assert.Empty(t, p.Recommender.Critical, "the pipeline's own settings are not changed by a run")

	// Without bounds, no clamp.
	p.Source = source{d: &Data{Name: "test", Store: busyStore()}}
	_, plan, err = p.Run(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Greater(t, plan.Workloads[0].Containers[0].Recommendation.Target.Requests.CPU, workload.Millicores(1000))
}

func TestPipelineErrors(t *testing.T) {
	boom := errors.New("boom")
	for name, p := range map[string]*Pipeline{
		"no source":      {},
		"source fails":   {Source: source{err: boom}},
		"no history":     {Source: source{d: &Data{Name: "empty"}}},
		"bad profile":    {Source: source{d: &Data{Name: "x", Store: busyStore()}}, Recommender: Recommender{Profile: policy.Profile{Name: "broken"}}},
		"cancelled plan": {Source: source{d: &Data{Name: "x", Store: busyStore()}}, Recommender: Recommender{Profile: policy.Balanced()}},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if name == "cancelled plan" {
				cancel()
			}
			defer cancel()
			_, _, err := p.Run(ctx, time.Time{})
			require.Error(t, err)
			if name == "source fails" {
				assert.ErrorIs(t, err, boom)
			}
		})
	}
}

func hasReason(reasons []string, part string) bool {
	for _, r := range reasons {
		if strings.Contains(r, part) {
			return true
		}
	}
	return false
}

// TestProfileAnnotation: a workload's rightsize.dev/profile annotation
// chooses its profile, the plan names it per workload, and an annotation
// naming no profile is a note, not an error.
func TestProfileAnnotation(t *testing.T) {
	spec := func(k workload.Key, profile string) workload.Spec {
		return workload.Spec{Key: k, Replicas: 1, Annotations: map[string]string{workload.ProfileKey: profile},
			Containers: []workload.ContainerSpec{{Name: "app"}}}
	}
	specs := map[workload.Key]workload.Spec{web: spec(web, "krr"), db: spec(db, "no-such\x1b[2J")}
	r := &Recommender{Profile: policy.Balanced()}
	plan, err := r.RunOnce(context.Background(), Input{Source: "test", Store: busyStore(), Specs: specs})
	require.NoError(t, err)
	require.Len(t, plan.Workloads, 2)
	byKey := map[workload.Key]workload.WorkloadPlan{}
	for _, w := range plan.Workloads {
		byKey[w.Key] = w
	}
	assert.Equal(t, "krr", byKey[web].Profile)
	assert.True(t, hasReason(byKey[web].Containers[0].Recommendation.Reasons, "krr"), "%v", byKey[web].Containers[0].Recommendation.Reasons)
	assert.Equal(t, "balanced", byKey[db].Profile)
	notes := strings.Join(byKey[db].Notes, "\n")
	assert.Contains(t, notes, `annotation rightsize.dev/profile="no-such\x1b[2J" names no profile`)
	assert.NotContains(t, notes, "\x1b")

	// krr sizes web differently from balanced.
	plain, err := r.RunOnce(context.Background(), Input{Source: "test", Store: busyStore()})
	require.NoError(t, err)
	for _, w := range plain.Workloads {
		assert.Equal(t, "balanced", w.Profile)
		if w.Key == web {
			assert.NotEqual(t, w.Containers[0].Recommendation.Target, byKey[web].Containers[0].Recommendation.Target)
		}
	}
}

// A pipeline that plans its data once gives the plan of one that keeps it,
// and lets go of the sketches and of every load it read.
func TestPipelineOnce(t *testing.T) {
	sketched := func() (*Data, *livestate.State) {
		st, err := livestate.New(livestate.Options{History: policy.Balanced().History, LoadRetention: 7 * 24 * time.Hour})
		require.NoError(t, err)
		st.AddStore(busyStore(), nil)
		st.Expire(t0.Add(3 * 24 * time.Hour))
		bounds := &constraints.Input{LimitRanges: []constraints.LimitRange{{Namespace: "shop", Name: "limits", Items: []constraints.LimitItem{
			{Type: constraints.LimitContainer, Max: workload.Resources{CPU: 1500}},
		}}}}
		return &Data{Name: "test", States: st.States(), Loads: st.Loads(), ForgetLoad: st.LoadForgetter(), Bounds: bounds}, st
	}
	kept, _ := sketched()
	p := &Pipeline{Recommender: Recommender{Profile: policy.Balanced()}}
	want, err := p.Plan(context.Background(), kept, time.Time{})
	require.NoError(t, err)
	require.NotNil(t, want.Workloads[0].Autoscaling, "the workloads' loads were read")
	again, err := p.Plan(context.Background(), kept, time.Time{})
	require.NoError(t, err)
	require.Equal(t, want, again, "kept data plans again alike")

	once, st := sketched()
	require.Equal(t, 2, st.Stats().Workloads)
	p.Once = true
	got, err := p.Plan(context.Background(), once, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Nil(t, once.States, "the sketches are let go")
	assert.Zero(t, st.States().Len(), "every container's sketches are let go")
	assert.Zero(t, st.Stats().Workloads, "every load is let go")
}

// A load that could not be read back whole makes the plan an error, not
// HPAs from zeros.
func TestPipelineLoadsErr(t *testing.T) {
	st, err := livestate.New(livestate.Options{History: policy.Balanced().History, LoadRetention: 7 * 24 * time.Hour})
	require.NoError(t, err)
	st.AddStore(busyStore(), nil)
	st.Expire(t0.Add(3 * 24 * time.Hour))
	broken := errors.New("reading the loads back: input/output error")
	d := &Data{Name: "test", States: st.States(), Loads: st.Loads(), LoadsErr: func() error { return broken }}
	p := &Pipeline{Recommender: Recommender{Profile: policy.Balanced()}}
	_, err = p.Plan(context.Background(), d, time.Time{})
	require.ErrorIs(t, err, broken)
	require.ErrorContains(t, err, "test: ")
	d.LoadsErr = func() error { return nil }
	_, err = p.Plan(context.Background(), d, time.Time{})
	require.NoError(t, err)
}
