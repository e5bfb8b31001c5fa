package pricing

import (
	"errors"
	"strings"

	"github.com/spf13/pflag"
)

// Flags are the command-line flags of the cost model: the default prices
// and their currency, and a pricing file on top of them, whose values the
// price flags given explicitly override.
type Flags struct {
	CPU, Memory float64
	Currency    string
	// File is the pricing file (Load); empty for none.
	File string

	fs *pflag.FlagSet
}

// AddFlags registers the flags on fs with OpenCost's list prices in USD
// as their defaults.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.fs = fs
	f.CPU, f.Memory, f.Currency = DefaultCPUPrice, DefaultMemoryPrice, DefaultCurrency
	fs.Float64Var(&f.CPU, "price-cpu", f.CPU, "price of one CPU core for one hour")
	fs.Float64Var(&f.Memory, "price-memory", f.Memory, "price of one GiB of memory for one hour")
	fs.StringVar(&f.Currency, "currency", f.Currency, "currency of the prices")
	fs.StringVar(&f.File, "pricing", "", "YAML pricing file: currency, cpu, memory and per-namespace or per-node-pool overrides (--price-* and --currency given explicitly win)")
}

// Validate checks the prices and the currency.
func (f *Flags) Validate() error {
	var errs []error
	if f.CPU < 0 || f.Memory < 0 {
		errs = append(errs, errors.New("--price-cpu and --price-memory must not be negative"))
	}
	if strings.TrimSpace(f.Currency) == "" {
		errs = append(errs, errors.New("--currency must not be empty"))
	}
	return errors.Join(errs...)
}

// Pricing returns the cost model: the flags' prices, the pricing file on
// top, and the flags given explicitly on top of that.
func (f *Flags) Pricing() (Pricing, error) {
	p := Pricing{Currency: f.Currency, Default: Price{CPU: f.CPU, Memory: f.Memory}}
	if f.File == "" {
		return p, nil
	}
	p, err := Load(f.File, p)
	if err != nil {
		return p, err
	}
	changed := func(name string) bool { return f.fs != nil && f.fs.Changed(name) }
	if changed("price-cpu") {
		p.Default.CPU = f.CPU
	}
	if changed("price-memory") {
		p.Default.Memory = f.Memory
	}
	if changed("currency") {
		p.Currency = f.Currency
	}
	return p, nil
}
