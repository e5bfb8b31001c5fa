package pricing

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/alloclimit"
	"rightsize.dev/rightsize/internal/golden"

	"rightsize.dev/rightsize/internal/untrusted"
)

func TestParseRejectsWhatIsNotAPrice(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"NaN", "cpu: .nan\n", []string{`p.yaml:1: cpu: want a number, got ".nan"`}},
		{"tagged NaN", "memory: !!float nan\n", []string{`p.yaml:1: memory: want a number, got "nan"`}},
		{"tagged infinity", "cpu: !!float inf\n", []string{`p.yaml:1: cpu: want a number, got "inf"`}},
		{"negative infinity", "cpu: -.inf\n", []string{`p.yaml:1: cpu: want a number, got "-.inf"`}},
		{"beyond float64", "cpu: 1e400\n", []string{`p.yaml:1: cpu: want a number, got "1e400"`}},
		{"negative override", "nodePools:\n  spot: {memory: -0.001}\n", []string{"p.yaml:2: nodePools.spot.memory: must not be negative"}},
		{"NaN override", "namespaces:\n  shop:\n    cpu: .NaN\n", []string{`p.yaml:3: namespaces.shop.cpu: want a number, got ".NaN"`}},
		// A price given twice used to take the last silently.
		{"field twice", "cpu: 1\nmemory: 1\ncpu: 2\n", []string{"p.yaml:3: cpu: given twice (first on line 1)"}},
		{"namespace twice", "namespaces:\n  shop: {cpu: 1}\n  shop: {memory: 1}\n", []string{"p.yaml:3: namespaces.shop: given twice (first on line 2)"}},
		{"override field twice", "nodePools:\n  spot: {cpu: 1, cpu: 2}\n", []string{"p.yaml:2: nodePools.spot.cpu: given twice"}},
		// A second document used to be ignored, negative prices and all.
		{"second document", "cpu: 1\n---\ncpu: -1\n", []string{"p.yaml:", "a second YAML document"}},
		// An alias read as the anchor's name.
		{"alias", "cpu: &p 0.1\nmemory: *p\n", []string{"p.yaml:2: memory: aliases (*p) are not supported"}},
		{"alias of overrides", "namespaces: &ns {shop: {cpu: 1}}\nnodePools: *ns\n", []string{"p.yaml:2: nodePools: aliases (*ns) are not supported"}},
		{"merge key", "namespaces:\n  base: &b {cpu: 1}\n  shop:\n    <<: *b\n", []string{"p.yaml:4: namespaces.shop.<<: unknown field"}},
		// A key that is not a name was read as an empty name.
		{"sequence as a name", "namespaces:\n  ? [a, b]\n  : {cpu: 1}\n", []string{"p.yaml:2: namespaces: want a name as the key"}},
		{"empty name", "namespaces:\n  \"\": {cpu: 1}\n", []string{"p.yaml:2: namespaces: want a name as the key"}},
		// A currency is printed as it is, escape sequences included.
		{"control character in the currency", "currency: \"\\e[31mEUR\"\n", []string{"p.yaml:1: currency: want a short name"}},
		{"right-to-left override in the currency", "currency: \"EUR\\u202E\"\n", []string{"p.yaml:1: currency: want a short name"}},
		{"long currency", "currency: " + strings.Repeat("X", 17) + "\n", []string{"p.yaml:1: currency: want a short name"}},
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

// -0 is not negative, but printed as a price it looked like one.
func TestParseNegativeZeroIsZero(t *testing.T) {
	p, err := Parse("p.yaml", []byte("cpu: -0\nmemory: -0.0\nnamespaces:\n  shop: {cpu: -0e5}\n"), Defaults())
	require.NoError(t, err)
	assert.False(t, math.Signbit(p.Default.CPU))
	assert.False(t, math.Signbit(p.Default.Memory))
	assert.False(t, math.Signbit(*p.Namespaces["shop"].CPU))
	assert.Equal(t, "USD 0 per core-hour, 0 per GiB-hour; namespace shop: CPU 0", p.String())
}

func TestParseReportsTheFirstProblemsAndCountsTheRest(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString("field" + strconv.Itoa(i) + ": 1\n")
	}
	_, err := Parse("p.yaml", []byte(b.String()), Defaults())
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, maxErrors+1)
	assert.Equal(t, "p.yaml:1: field0: unknown field (want currency, cpu, memory, namespaces or nodePools)", lines[0])
	assert.Equal(t, "p.yaml: and 80 more problems", lines[maxErrors])
}

func TestPricingFileSizeLimit(t *testing.T) {
	// Comments keep the file valid: only its size is wrong.
	big := []byte("cpu: 0.02\n" + strings.Repeat("# padding\n", MaxPricingFileSize/10))
	require.Greater(t, len(big), MaxPricingFileSize)
	_, err := Parse("big.yaml", big, Defaults())
	assert.EqualError(t, err, "big.yaml: more than 262144 bytes, the limit for a pricing file")

	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, big, 0o644))
	_, err = Load(path, Defaults())
	assert.ErrorContains(t, err, "more than 262144 bytes")

	p, err := Parse("fits.yaml", big[:MaxPricingFileSize], Defaults())
	require.NoError(t, err)
	assert.Equal(t, 0.02, p.Default.CPU)
}

// What parsing allocates stays within alloclimit's bound up to the size
// limit, also for the shapes that cost the YAML parser most, and aliases are
// never expanded.
func TestParseMemoryIsBounded(t *testing.T) {
	fill := func(prefix, unit, suffix string) []byte {
		n := (MaxPricingFileSize - len(prefix) - len(suffix)) / len(unit)
		return []byte(prefix + strings.Repeat(unit, n) + suffix)
	}
	nested := strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + ","
	var laughs strings.Builder
	laughs.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 40; i++ {
		prev := "*a" + strconv.Itoa(i-1)
		laughs.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"flow sequence of numbers", fill("[", "1,", "1]")},
		{"deep nesting", fill("[", nested, "1]")},
		{"empty keys", fill("{", "? ,", "}")},
		{"overrides", fill("namespaces:\n", "  n: {cpu: 1}\n", "")},
		{"billion laughs", []byte(laughs.String())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.LessOrEqual(t, len(tc.data), MaxPricingFileSize)
			alloclimit.Check(t, alloclimit.Bound(len(tc.data)), func() { Parse("p.yaml", tc.data, Defaults()) })
		})
	}
}

// corpusDir holds FuzzParsePricing's seed corpus, written by TestSeedCorpus
// -update from pricingSeeds.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzParsePricing")

// pricingSeeds are pricing files as people write them, and a few they get
// wrong.
var pricingSeeds = map[string]string{
	"docs-example": `# pricing.yaml — every field is optional
currency: EUR        # shown with every amount ($, €, £, ¥, ₹ as symbols; others as a code)
cpu: 0.03            # per core-hour
memory: 0.004        # per GiB-hour
namespaces:          # overrides; a left-out price keeps the default
  batch: {cpu: 0.02}
  ml: {cpu: 0.05, memory: 0.006}
nodePools:           # apply only where a workload's node pool is known (below)
  spot: {cpu: 0.01, memory: 0.0015}
`,
	"block-style": `currency: USD
cpu: 0.031611
memory: 0.004237
namespaces:
  shop:
    cpu: 0.02
  batch:
    memory: 0.001
nodePools:
  spot:
    cpu: 0.01
    memory: 0
  gpu:
    cpu: 0.5
`,
	"flow-style":   `{currency: GBP, cpu: 2.5e-2, memory: 3e-3, namespaces: {a: {cpu: 1}}, nodePools: {}}`,
	"json":         `{"currency": "JPY", "cpu": 4, "memory": 1, "nodePools": {"spot": {"cpu": 1.5}}}`,
	"memory-only":  "memory: 0.01\n",
	"integers":     "cpu: 1\nmemory: 0\n",
	"empty":        "",
	"comments":     "# nothing priced yet\n",
	"bad-fields":   "cpu: x\ncpus: 1\nnamespaces:\n  shop: {memory: -2, gpu: 1}\n",
	"anchors":      "namespaces:\n  ml: &gpu {cpu: 0.05}\n  ai: *gpu\n",
	"two-docs":     "cpu: 1\n---\ncpu: 2\n",
	"quoted-price": "cpu: \"0.1\"\nmemory: !!float 1\n",
}

// TestSeedCorpus checks that the seed corpus holds pricingSeeds; -update
// writes it again.
func TestSeedCorpus(t *testing.T) {
	if golden.Update() {
		require.NoError(t, os.MkdirAll(corpusDir, 0o755))
		for name, y := range pricingSeeds {
			require.NoError(t, os.WriteFile(filepath.Join(corpusDir, name), []byte("go test fuzz v1\n[]byte("+strconv.Quote(y)+")\n"), 0o644))
		}
	}
	for name, y := range pricingSeeds {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		require.NoError(t, err, "run go test -run TestSeedCorpus ./report/pricing/ -args -update")
		assert.Equal(t, "go test fuzz v1\n[]byte("+strconv.Quote(y)+")\n", string(b))
	}
}

func FuzzParsePricing(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Pricing
		var err error
		alloclimit.Check(t, alloclimit.Bound(len(data)), func() { p, err = Parse("p.yaml", data, Defaults()) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "p.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		check := func(what string, v float64) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || math.Signbit(v) {
				t.Fatalf("%s: accepted %v", what, v)
			}
		}
		check("cpu", p.Default.CPU)
		check("memory", p.Default.Memory)
		for _, m := range []map[string]Override{p.Namespaces, p.NodePools} {
			for name, o := range m {
				if name == "" {
					t.Fatalf("accepted an empty name")
				}
				if o.CPU != nil {
					check(name+".cpu", *o.CPU)
				}
				if o.Memory != nil {
					check(name+".memory", *o.Memory)
				}
			}
		}
		if c := p.Currency; c == "" || len(c) > 16 || !untrusted.Printable(c) {
			t.Fatalf("accepted currency %q", c)
		}
		_ = p.String()
	})
}
