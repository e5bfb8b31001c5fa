package pricing

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlagsPricing: the file sets what the flags left at their defaults;
// a flag given explicitly wins over the file.
func TestFlagsPricing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pricing.yaml")
	require.NoError(t, os.WriteFile(file, []byte("currency: EUR\ncpu: 0.05\nmemory: 0.01\nnamespaces:\n  batch:\n    cpu: 0.02\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want Pricing
	}{
		{"defaults", nil, Defaults()},
		{"flags", []string{"--price-cpu", "0.04", "--currency", "CHF"}, Pricing{Currency: "CHF", Default: Price{CPU: 0.04, Memory: DefaultMemoryPrice}}},
		{"file", []string{"--pricing", file}, Pricing{Currency: "EUR", Default: Price{CPU: 0.05, Memory: 0.01},
			Namespaces: map[string]Override{"batch": {CPU: ptr(0.02)}}}},
		{"explicit flags over the file", []string{"--pricing", file, "--price-memory", "0.02", "--currency", "GBP"},
			Pricing{Currency: "GBP", Default: Price{CPU: 0.05, Memory: 0.02}, Namespaces: map[string]Override{"batch": {CPU: ptr(0.02)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Flags
			fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
			f.AddFlags(fs)
			require.NoError(t, fs.Parse(tc.args))
			require.NoError(t, f.Validate())
			got, err := f.Pricing()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFlagsValidate(t *testing.T) {
	for _, tc := range []struct {
		f    Flags
		want string
	}{
		{Flags{CPU: -1, Currency: "USD"}, "--price-cpu and --price-memory must not be negative"},
		{Flags{Memory: -0.1, Currency: "USD"}, "--price-cpu and --price-memory must not be negative"},
		{Flags{Currency: " "}, "--currency must not be empty"},
		{Flags{CPU: -1}, "--price-cpu and --price-memory must not be negative\n--currency must not be empty"},
	} {
		err := tc.f.Validate()
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
	assert.NoError(t, (&Flags{Currency: "USD"}).Validate())
}

func TestFlagsMissingFile(t *testing.T) {
	f := Flags{Currency: "USD", File: filepath.Join(t.TempDir(), "missing.yaml")}
	_, err := f.Pricing()
	assert.ErrorContains(t, err, "missing.yaml")
}
