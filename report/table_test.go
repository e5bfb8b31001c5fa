package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/workload"
)

// TestTableGivesCutReasonsWhole: a "no recommendation" reason too long for
// its cell is cut there and given whole among the notes; a short one is not
// repeated.
func TestTableGivesCutReasonsWhole(t *testing.T) {
	long := "cpu: no recommendation: too little history (6 samples over 10m; profile balanced needs ≥ 30 samples over ≥ 20m)"
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	p := workload.Plan{Workloads: []workload.WorkloadPlan{{Key: web, Containers: []workload.ContainerPlan{
		{Name: "app", Recommendation: workload.Recommendation{Reasons: []string{long}}},
		{Name: "proxy", Recommendation: workload.Recommendation{Reasons: []string{"x"}}},
	}}}}
	var b strings.Builder
	require.NoError(t, writeTable(&b, p))
	out := b.String()
	assert.Contains(t, out, "…", "cut in the table")
	assert.Contains(t, out, "\nnotes:\n")
	assert.Contains(t, out, "  shop/Deployment/web: container app: no recommendation: too little history (6 samples over 10m; profile balanced needs ≥ 30 samples over ≥ 20m)\n")
	assert.NotContains(t, out, "container proxy:", "a reason that fits is not repeated")
}
