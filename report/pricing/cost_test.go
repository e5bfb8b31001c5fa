package pricing

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

func ptr(f float64) *float64 { return &f }

func TestPricingFor(t *testing.T) {
	p := Pricing{
		Currency: "EUR",
		Default:  Price{CPU: 0.03, Memory: 0.004},
		Namespaces: map[string]Override{
			"shop":  {CPU: ptr(0.02)},
			"batch": {CPU: ptr(0.01), Memory: ptr(0.001)},
		},
		NodePools: map[string]Override{"spot": {CPU: ptr(0.005)}},
	}
	cases := []struct {
		name     string
		ns, pool string
		want     Price
	}{
		{"default", "other", "", Price{0.03, 0.004}},
		{"namespace overrides cpu only", "shop", "", Price{0.02, 0.004}},
		{"namespace overrides both", "batch", "", Price{0.01, 0.001}},
		{"node pool wins over namespace", "batch", "spot", Price{0.005, 0.001}},
		{"unknown node pool keeps namespace", "shop", "gpu", Price{0.02, 0.004}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, p.For(tc.ns, tc.pool))
		})
	}
}

func TestNodePoolOf(t *testing.T) {
	assert.Equal(t, "", NodePoolOf(nil))
	assert.Equal(t, "spot", NodePoolOf(&workload.Spec{Labels: map[string]string{NodePoolKey: "spot"}}))
	assert.Equal(t, "gpu", NodePoolOf(&workload.Spec{
		Labels:      map[string]string{NodePoolKey: "spot"},
		Annotations: map[string]string{NodePoolKey: "gpu"},
	}), "the annotation wins")
}

func TestPriceRequests(t *testing.T) {
	p := Price{CPU: 0.04, Memory: 0.005}
	got := p.Requests(workload.Resources{CPU: 500, Memory: 2 * workload.GiB}, 10)
	assert.InDelta(t, (0.5*0.04+2*0.005)*10, float64(got), 1e-12)
}

func TestParse(t *testing.T) {
	const good = `
currency: EUR
cpu: 0.03
memory: 0.004
namespaces:
  shop: {cpu: 0.02}
  batch:
    memory: 0.001
nodePools:
  spot: {cpu: 0.01, memory: 0}
`
	p, err := Parse("pricing.yaml", []byte(good), Defaults())
	require.NoError(t, err)
	assert.Equal(t, "EUR", p.Currency)
	assert.Equal(t, Price{0.03, 0.004}, p.Default)
	assert.Equal(t, Price{0.02, 0.004}, p.For("shop", ""))
	assert.Equal(t, Price{0.03, 0.001}, p.For("batch", ""))
	assert.Equal(t, Price{0.01, 0}, p.For("batch", "spot"))
	assert.Equal(t, "EUR 0.03 per core-hour, 0.004 per GiB-hour; namespace batch: memory 0.001; namespace shop: CPU 0.02; node pool spot: CPU 0.01, memory 0", p.String())

	empty, err := Parse("empty.yaml", nil, Defaults())
	require.NoError(t, err)
	assert.Equal(t, Defaults(), empty, "an empty file keeps the defaults")

	partial, err := Parse("p.yaml", []byte("memory: 0.01\n"), Defaults())
	require.NoError(t, err)
	assert.Equal(t, Pricing{Currency: "USD", Default: Price{DefaultCPUPrice, 0.01}}, partial, "left-out fields keep the base")
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"syntax", "cpu: [0.1\n", []string{"p.yaml: yaml: line"}},
		{"not a mapping", "- 1\n", []string{"p.yaml:1: want a mapping"}},
		{"unknown field", "currency: EUR\ncpus: 1\n", []string{"p.yaml:2: cpus: unknown field"}},
		{"string price", "cpu: \"0.1\"\n", []string{`p.yaml:1: cpu: want a number, got "0.1"`}},
		{"negative", "memory: -1\n", []string{"p.yaml:1: memory: must not be negative"}},
		{"empty currency", "currency: \"\"\n", []string{"p.yaml:1: currency: want a short name"}},
		{"bad override", "namespaces:\n  shop: 0.1\n", []string{"p.yaml:2: namespaces.shop: want {cpu: PRICE, memory: PRICE}"}},
		{"bad override field", "nodePools:\n  spot:\n    gpu: 1\n", []string{"p.yaml:3: nodePools.spot.gpu: unknown field"}},
		{"every error at once", "cpu: x\nnamespaces:\n  shop: {memory: -2}\n", []string{
			`p.yaml:1: cpu: want a number, got "x"`, "p.yaml:3: namespaces.shop.memory: must not be negative",
		}},
		{"infinite", "cpu: .inf\n", []string{`p.yaml:1: cpu: want a number, got ".inf"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tc.yaml), Defaults())
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pricing.yaml")
	require.NoError(t, os.WriteFile(path, []byte("currency: GBP\n"), 0o644))
	p, err := Load(path, Defaults())
	require.NoError(t, err)
	assert.Equal(t, "GBP", p.Currency)
	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"), Defaults())
	assert.ErrorContains(t, err, "missing.yaml")
}

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// series builds one pod's series from (minute, cpu, memory MiB) triples with
// the given requests; a negative value stands for "no sample".
func series(t *testing.T, req workload.Resources, pts [][3]float64) *history.Series {
	t.Helper()
	st := history.NewStore()
	k := workload.ContainerKey{Workload: workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: "w"}, Container: "c"}
	for _, p := range pts {
		s := workload.Sample{Time: t0.Add(time.Duration(p[0]) * time.Minute), Pod: "p", Settings: workload.Settings{Requests: req}}
		if p[1] >= 0 {
			s.CPU, s.HasCPU = workload.Cores(p[1]), true
		}
		if p[2] >= 0 {
			s.Memory, s.HasMemory = workload.Bytes(p[2])*workload.MiB, true
		}
		st.Add(k, s)
	}
	st.Finalize()
	return st.Series(k)[0]
}

func TestUsage(t *testing.T) {
	// Request 1 core and 1 GiB; three hourly samples after the first.
	req := workload.Resources{CPU: 1000, Memory: workload.GiB}
	s := series(t, req, [][3]float64{
		{0, 0.5, 512},
		{60, 0.25, 512},   // idle 0.75 core, 0.5 GiB
		{120, 1.5, 2048},  // above the request: idle 0, not negative
		{180, -1, -1},     // no usage: requested only
		{240, 0.75, 1024}, // idle 0.25 core, 0 GiB
	})
	var u Usage
	for i := 1; i < s.Len(); i++ {
		u.Add(time.Duration(s.Time[i]-s.Time[i-1])*time.Millisecond, s.SettingsAt(i).Requests, s.CPU[i], s.Memory[i])
	}
	assert.InDelta(t, 4, u.PodHours, 1e-9)
	assert.InDelta(t, 4, float64(u.CPU.Requested), 1e-9)
	assert.InDelta(t, 0.25+1.5+0.75, float64(u.CPU.Used), 1e-9)
	assert.InDelta(t, 0.75+0+0.25, float64(u.CPU.Idle), 1e-9)
	assert.InDelta(t, 4, float64(u.Memory.Requested), 1e-9)
	assert.InDelta(t, 0.5+2+1, float64(u.Memory.Used), 1e-9)
	assert.InDelta(t, 0.5, float64(u.Memory.Idle), 1e-9)
	// Over the samples with a usage value, requested − used is 3 − 2.5 =
	// 0.5 core-hours, but idle is 1: the burst to 1.5 cores does not cancel
	// the idle request of the other hours.

	b := Price{CPU: 0.04, Memory: 0.01}.Of(u)
	assert.InDelta(t, 4*0.04+4*0.01, float64(b.Requested), 1e-12)
	assert.InDelta(t, 2.5*0.04+3.5*0.01, float64(b.Used), 1e-12)
	assert.InDelta(t, 1*0.04+0.5*0.01, float64(b.Idle), 1e-12)

	var sum Usage
	sum.Merge(u)
	sum.Merge(u)
	assert.InDelta(t, 8, sum.PodHours, 1e-9)
	assert.InDelta(t, 2*float64(u.Memory.Idle), float64(sum.Memory.Idle), 1e-9)

	var none Usage
	none.Add(0, req, 1, math.NaN())
	assert.Zero(t, none, "a sample of weight zero adds nothing")
}
