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

// TestConversionsSaturate pins what happens to amounts out of range: a
// single usage value of 1e308 cores once came out of MillicoresOf as
// -9223372036854775808m.
func TestConversionsSaturate(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Cores
		want Millicores
	}{
		{"1e308 cores", 1e308, math.MaxInt64},
		{"+Inf", Cores(math.Inf(1)), math.MaxInt64},
		{"just past the int64 range", 9.3e15, math.MaxInt64},
		{"largest in range", 9e15, 9e18},
		{"-Inf", Cores(math.Inf(-1)), 0},
		{"negative", -1e308, 0},
		{"NaN", Cores(math.NaN()), 0},
		{"the physical maximum", MaxCPU.Cores(), MaxCPU},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, MillicoresOf(tc.in))
		})
	}
	for _, tc := range []struct {
		in   float64
		want Bytes
	}{
		{1e308, math.MaxInt64}, {math.Inf(1), math.MaxInt64}, {math.Inf(-1), 0}, {-5, 0}, {float64(PiB), MaxMemory},
	} {
		assert.Equal(t, tc.want, BytesOf(tc.in), "BytesOf(%v)", tc.in)
	}
}

func TestSaturatingArithmetic(t *testing.T) {
	const maxI, minI = math.MaxInt64, math.MinInt64
	for _, tc := range []struct {
		a, b, sum int64
	}{
		{1, 2, 3}, {maxI, 1, maxI}, {maxI, maxI, maxI}, {minI, -1, minI}, {maxI, minI, -1}, {-5, 3, -2}, {0, 0, 0},
	} {
		assert.Equal(t, tc.sum, AddSat(tc.a, tc.b), "AddSat(%d, %d)", tc.a, tc.b)
		assert.Equal(t, tc.sum, AddSat(tc.b, tc.a), "AddSat(%d, %d)", tc.b, tc.a)
	}
	for _, tc := range []struct {
		a, n, product int64
	}{
		{3, 4, 12}, {0, maxI, 0}, {maxI, 0, 0}, {maxI, 2, maxI}, {maxI / 2, 3, maxI}, {-maxI, 2, minI},
		{minI, -1, maxI}, {-1, minI, maxI}, {minI, 1, minI}, {1 << 31, 1 << 31, 1 << 62}, {1 << 32, 1 << 31, maxI}, {1 << 32, 1 << 32, maxI},
	} {
		assert.Equal(t, tc.product, MulSat(tc.a, tc.n), "MulSat(%d, %d)", tc.a, tc.n)
	}
	assert.Equal(t, Bytes(math.MaxInt64), MulSat(4*PiB*1024, 3), "typed amounts saturate too")
}

// TestPodRequestsSaturates: requests summed over a pod's containers once
// wrapped around to a negative total.
func TestPodRequestsSaturates(t *testing.T) {
	huge := Settings{Requests: Resources{CPU: math.MaxInt64 - 1, Memory: math.MaxInt64 - 1}}
	for _, tc := range []struct {
		name string
		cs   []ContainerPlan
	}{
		{"two app containers", []ContainerPlan{{Name: "a", Current: huge}, {Name: "b", Current: huge}}},
		{"sidecar and app", []ContainerPlan{{Name: "s", Init: true, Sidecar: true, Current: huge}, {Name: "a", Current: huge}}},
		{"init beside a sidecar", []ContainerPlan{{Name: "s", Init: true, Sidecar: true, Current: huge}, {Name: "i", Init: true, Current: huge}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PodRequests(tc.cs, func(c ContainerPlan) Settings { return c.Current })
			assert.Equal(t, Resources{CPU: math.MaxInt64, Memory: math.MaxInt64}, got)
		})
	}
}

// TestPrintableName: names from files reach terminals; control, format and
// invalid bytes come out escaped and quoted, other names unchanged.
func TestPrintableName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web", "web"},
		{"café-ü", "café-ü"},
		{"has space", "has space"},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"bell\a", `"bell\a"`},
		{"two\nlines", `"two\nlines"`},
		{"back\rover", `"back\rover"`},
		{"evil\u202etxt.exe", `"evil\u202etxt.exe"`},
		{"zero\u200bwidth", `"zero\u200bwidth"`},
		{"c1\u009b", `"c1\u009b"`},
		{"bad\xff", `"bad\xff"`},
		{"tab\there", `"tab\there"`},
	} {
		assert.Equal(t, tc.want, PrintableName(tc.in), "PrintableName(%q)", tc.in)
	}
	k := Key{Namespace: "shop", Kind: Deployment, Name: "\x1b]0;pwned\a"}
	assert.Equal(t, `shop/Deployment/"\x1b]0;pwned\a"`, k.Printable(), "only the offending part is quoted")
}
