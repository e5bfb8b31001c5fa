package workload

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuantityStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Millicores(250).String(), "250m"},
		{Millicores(2000).String(), "2"},
		{Millicores(1500).String(), "1500m"},
		{Bytes(512 * MiB).String(), "512Mi"},
		{Bytes(GiB).String(), "1Gi"},
		{Bytes(1536 * MiB).String(), "1536Mi"},
		{Bytes(3 * KiB).String(), "3Ki"},
		{Bytes(1000).String(), "1000"},
		{Bytes(0).String(), "0"},
	} {
		assert.Equal(t, tc.want, tc.got)
	}
}

func TestConversions(t *testing.T) {
	assert.Equal(t, Millicores(251), MillicoresOf(0.2501), "rounds up, never below the statistic")
	assert.Equal(t, Millicores(250), MillicoresOf(0.25))
	assert.Equal(t, Millicores(0), MillicoresOf(-1))
	assert.Equal(t, Millicores(0), MillicoresOf(Cores(math.NaN())))
	assert.Equal(t, Cores(0.25), Millicores(250).Cores())
	assert.Equal(t, Bytes(3), BytesOf(2.5))
	assert.Equal(t, Bytes(0), BytesOf(math.NaN()))
	assert.Equal(t, 1.5, Bytes(1536*MiB).GiB())
	kind, ok := ParseKind("StatefulSet")
	assert.True(t, ok)
	assert.Equal(t, "apps/v1", kind.APIVersion())
	_, ok = ParseKind("statefulset")
	assert.False(t, ok, "kinds are case-sensitive, as in the API")
	assert.Equal(t, "batch/v1", CronJob.APIVersion())
	assert.Equal(t, "v1", Pod.APIVersion())
}

func TestContainerPlanRecommended(t *testing.T) {
	c := ContainerPlan{
		Current: Settings{Requests: Resources{CPU: 500, Memory: GiB}, Limits: Resources{CPU: 1000, Memory: GiB}},
		Recommendation: Recommendation{HasCPU: true, Target: Settings{
			Requests: Resources{CPU: 200, Memory: 10 * MiB}, Limits: Resources{Memory: 20 * MiB},
		}},
	}
	got := c.Recommended()
	assert.Equal(t, Settings{Requests: Resources{CPU: 200, Memory: GiB}, Limits: Resources{CPU: 0, Memory: GiB}}, got,
		"CPU follows the recommendation (limit removed); memory, not recommended, stays")
	assert.True(t, c.Changed())
}
