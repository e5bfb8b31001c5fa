package recommender

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

// printedNegative finds a negative number printed as a value (after a
// space, quote, colon, comma or arrow), not a date's hyphen or a "(-12%)"
// change.
var printedNegative = regexp.MustCompile(`(^|[\s":,→])-\d`)

// timestamp matches an RFC 3339 time, whose year may be negative.
var timestamp = regexp.MustCompile(`-?\d+-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// TestRunOnceExtremeValues runs the whole pipeline, and every report
// format, over histories holding one value no container produces beside a
// day of ordinary ones. A single usage value of 1e308 cores once printed
// "-9223372036854775808m" in the reasons with a blank request, and one
// timestamp 1600 years back a confidence of -Inf and an 8 EiB memory
// request, all with exit code 0.
func TestRunOnceExtremeValues(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	web := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	sample := func(at time.Time, cpu workload.Cores, mem workload.Bytes) workload.Sample {
		return workload.Sample{Time: at, Pod: "web-1", CPU: cpu, HasCPU: true, Memory: mem, HasMemory: true,
			Settings: workload.Settings{Requests: workload.Resources{CPU: 500, Memory: workload.GiB}, Limits: workload.Resources{Memory: workload.GiB}}}
	}
	end := t0.Add(24 * time.Hour)
	for _, tc := range []struct {
		name  string
		extra []workload.Sample
	}{
		{"1e308 cores", []workload.Sample{sample(end, 1e308, workload.MiB)}},
		{"1e308 cores twice", []workload.Sample{sample(end, 1e308, workload.MiB), sample(end.Add(time.Minute), 1e308, workload.MiB)}},
		{"MaxInt64 bytes", []workload.Sample{sample(end, 0.1, math.MaxInt64)}},
		{"a sample 1600 years back", []workload.Sample{sample(t0.AddDate(-1600, 0, 0), 0.1, workload.MiB)}},
		{"a sample at year -290000", []workload.Sample{sample(time.Date(-290000, 1, 1, 0, 0, 0, 0, time.UTC), 0.1, workload.MiB)}},
		{"a sample at year 290000", []workload.Sample{sample(time.Date(290000, 1, 1, 0, 0, 0, 0, time.UTC), 0.1, workload.MiB)}},
		{"an OOM kill at the int64 limit", []workload.Sample{func() workload.Sample {
			s := sample(end, 0.1, math.MaxInt64)
			s.OOMKilled, s.Settings.Limits.Memory = true, math.MaxInt64
			return s
		}()}},
	} {
		for _, single := range []bool{false, true} {
			name := tc.name
			if single {
				name += " alone"
			}
			t.Run(name, func(t *testing.T) {
				st := history.NewStore()
				if !single {
					for i := range 288 {
						st.Add(web, sample(t0.Add(time.Duration(i)*5*time.Minute), 0.25, 300*workload.MiB))
					}
				}
				for _, s := range tc.extra {
					st.Add(web, s)
				}
				st.Finalize()
				for _, p := range []policy.Profile{policy.Balanced(), policy.Documents(), policy.Guaranteed(), policy.VPA(), policy.KRR()} {
					r := &Recommender{Profile: p, Critical: map[workload.Key]bool{web.Workload: true}}
					plan, err := r.RunOnce(context.Background(), Input{Source: "test", Store: st})
					require.NoError(t, err)
					for _, f := range report.PlanFormats {
						var buf bytes.Buffer
						require.NoError(t, report.WritePlan(&buf, plan, f), "%s, %s", p.Name, f)
						out := timestamp.ReplaceAllString(buf.String(), "TIME")
						assert.NotRegexp(t, printedNegative, out, "%s, %s: a negative number", p.Name, f)
						assert.NotRegexp(t, `NaN|Inf\b`, out, "%s, %s: a number that is not finite", p.Name, f)
						if f == report.JSON {
							var doc report.PlanDocument
							require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
							for _, w := range doc.Workloads {
								for _, c := range w.Containers {
									assert.True(t, c.Confidence >= 0 && c.Confidence <= 1, "%s: confidence %v", p.Name, c.Confidence)
								}
							}
						}
					}
					for _, w := range plan.Workloads {
						for _, c := range w.Containers {
							rec := c.Recommendation
							if rec.HasCPU {
								assert.LessOrEqual(t, max(rec.Target.Requests.CPU, rec.Target.Limits.CPU, rec.UpperBound.CPU), workload.MaxCPU, p.Name)
							}
							if rec.HasMemory {
								assert.LessOrEqual(t, max(rec.Target.Requests.Memory, rec.Target.Limits.Memory, rec.UpperBound.Memory), workload.MaxMemory, p.Name)
							}
							if !rec.HasCPU || !rec.HasMemory {
								assert.Contains(t, strings.Join(rec.Reasons, "\n"), "no recommendation", "%s: a withheld resource says why", p.Name)
							}
						}
					}
				}
			})
		}
	}
}
