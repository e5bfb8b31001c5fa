package pricing

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// Money is an amount in the report's currency.
type Money float64

// OpenCost's list prices, the defaults when nothing else is known.
const (
	DefaultCPUPrice    = 0.031611 // per core-hour
	DefaultMemoryPrice = 0.004237 // per GiB-hour
	DefaultCurrency    = "USD"
)

// NodePoolKey is the workload label or annotation that names the node pool
// its pods run on; a node-pool price applies only where it is set.
const NodePoolKey = "rightsize.dev/node-pool"

// Price is what one unit of each resource costs for an hour.
type Price struct {
	CPU    float64 // per core-hour
	Memory float64 // per GiB-hour
}

// Requests returns the cost of holding r for the given number of hours.
func (p Price) Requests(r workload.Resources, hours float64) Money {
	return Money((float64(r.CPU.Cores())*p.CPU + r.Memory.GiB()*p.Memory) * hours)
}

// Override replaces a price's CPU, memory or both; a nil field keeps the
// price it overrides.
type Override struct {
	CPU    *float64
	Memory *float64
}

func (o Override) apply(p Price) Price {
	if o.CPU != nil {
		p.CPU = *o.CPU
	}
	if o.Memory != nil {
		p.Memory = *o.Memory
	}
	return p
}

// Pricing is the cost model: default prices, the currency they are in, and
// overrides per namespace and per node pool.
type Pricing struct {
	Currency   string
	Default    Price
	Namespaces map[string]Override
	NodePools  map[string]Override
}

// Defaults returns OpenCost's list prices in USD without overrides.
func Defaults() Pricing {
	return Pricing{Currency: DefaultCurrency, Default: Price{CPU: DefaultCPUPrice, Memory: DefaultMemoryPrice}}
}

// For returns the price for a workload in namespace ns on node pool pool
// ("" when unknown). Per resource, a node-pool override wins over a
// namespace override, which wins over the default: the node pool says what
// the machines under the pods cost, a namespace price is the fallback for
// where that is not known.
func (p Pricing) For(ns, pool string) Price {
	price := p.Default
	if o, ok := p.Namespaces[ns]; ok {
		price = o.apply(price)
	}
	if o, ok := p.NodePools[pool]; ok && pool != "" {
		price = o.apply(price)
	}
	return price
}

// NodePoolOf returns the node pool a workload spec names with NodePoolKey,
// annotation first, then label; "" when the spec is nil or names none.
func NodePoolOf(s *workload.Spec) string {
	if s == nil {
		return ""
	}
	if v := s.Annotations[NodePoolKey]; v != "" {
		return v
	}
	return s.Labels[NodePoolKey]
}

// String describes the prices in one line, overrides included.
func (p Pricing) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s per core-hour, %s per GiB-hour", p.Currency, formatPrice(p.Default.CPU), formatPrice(p.Default.Memory))
	for _, set := range []struct {
		what string
		m    map[string]Override
	}{{"namespace", p.Namespaces}, {"node pool", p.NodePools}} {
		for _, name := range sortedKeys(set.m) {
			o := set.m[name]
			var parts []string
			if o.CPU != nil {
				parts = append(parts, "CPU "+formatPrice(*o.CPU))
			}
			if o.Memory != nil {
				parts = append(parts, "memory "+formatPrice(*o.Memory))
			}
			fmt.Fprintf(&b, "; %s %s: %s", set.what, name, strings.Join(parts, ", "))
		}
	}
	return b.String()
}

func formatPrice(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func sortedKeys(m map[string]Override) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
