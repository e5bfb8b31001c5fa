package cost

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
)

func TestPeriodEnd(t *testing.T) {
	st := scenario(t).Store // samples hourly up to t0+47h
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	given := time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("EST", -5*3600))
	for _, tc := range []struct {
		name          string
		data          recommender.Data
		end           time.Time
		want          time.Time
		wantHPASource string
	}{
		{"a file: just after its newest sample, on the hour", recommender.Data{Store: st, Recorded: true}, time.Time{}, t0.Add(48 * time.Hour), "usage file; pass --hpa"},
		{"a file with --hpa", recommender.Data{Store: st, Recorded: true, HPAsKnown: true}, time.Time{}, t0.Add(48 * time.Hour), ""},
		{"a live source: now, in UTC", recommender.Data{Store: st}, time.Time{}, now.UTC(),
			"no cluster configured and no kube-state-metrics HPA series; pass --hpa"},
		{"a cluster", recommender.Data{Store: st, HPAsKnown: true}, time.Time{}, now.UTC(), ""},
		{"--end wins, in UTC", recommender.Data{Store: st, Recorded: true}, given, given.UTC(), "usage file; pass --hpa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, hpaSource := PeriodEnd(&tc.data, tc.end, now)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, time.UTC, got.Location())
			assert.Equal(t, tc.wantHPASource, hpaSource)
		})
	}
}

// TestFromPipeline: the report from one load is the one Build makes from
// the pipeline's plans at the period's end and a period before.
func TestFromPipeline(t *testing.T) {
	sc := scenario(t)
	profile, err := policy.ByName(policy.DefaultName)
	require.NoError(t, err)
	p := &recommender.Pipeline{Recommender: recommender.Recommender{Profile: profile}}
	d := &recommender.Data{Name: "test", Store: sc.Store, Specs: sc.Specs, HPAs: sc.HPAs, HPAsKnown: true, Recorded: true}
	ctx := context.Background()
	in := Input{Title: sc.Title, Pricing: sc.Pricing, Period: sc.Period, GroupByLabel: sc.GroupByLabel}

	got, err := FromPipeline(ctx, p, d, in, time.Now())
	require.NoError(t, err)

	end := t0.Add(48 * time.Hour)
	want := in
	want.Source, want.Store, want.Specs, want.HPAs, want.End = "test", sc.Store, sc.Specs, sc.HPAs, end
	want.Plan, err = p.Plan(ctx, d, end)
	require.NoError(t, err)
	want.Previous, err = p.Plan(ctx, d, end.Add(-sc.Period))
	require.NoError(t, err)
	wantReport, err := Build(want)
	require.NoError(t, err)
	assert.Equal(t, wantReport, got)
	assert.Equal(t, Window{t0.Add(24 * time.Hour), end}, got.Period)

	in.Period = 0
	_, err = FromPipeline(ctx, p, d, in, time.Now())
	assert.ErrorContains(t, err, "building report: ")
}

func TestReadWebhookURL(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	u, err := ReadWebhookURL(write("url", "  https://hooks.example/T0/B0/x\n"))
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example/T0/B0/x", u)

	empty := write("empty", " \n")
	_, err = ReadWebhookURL(empty)
	assert.EqualError(t, err, empty+": no webhook URL in the file")

	_, err = ReadWebhookURL(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, "reading webhook URL: ")
}
