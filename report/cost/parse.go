package cost

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads a pricing file (see Parse), starting from base: fields the file
// leaves out keep base's values.
func Load(path string, base Pricing) (Pricing, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Pricing{}, fmt.Errorf("reading pricing file: %w", err)
	}
	return Parse(path, data, base)
}

// Parse reads pricing YAML:
//
//	currency: EUR       # shown with every amount
//	cpu: 0.03           # per core-hour
//	memory: 0.004       # per GiB-hour
//	namespaces:         # overrides; either price may be left out
//	  shop: {cpu: 0.02, memory: 0.003}
//	nodePools:          # apply where a workload names its pool (NodePoolKey)
//	  spot: {cpu: 0.01}
//
// Every problem is reported, each as "NAME:LINE: FIELD: what is wrong".
func Parse(name string, data []byte, base Pricing) (Pricing, error) {
	p := base
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Pricing{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return p, nil // an empty file changes nothing
	}
	ps := &parser{name: name}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ps.fail(root, "", "want a mapping with currency, cpu, memory, namespaces and nodePools")
		return Pricing{}, ps.err()
	}
	for k, v := range pairs(root) {
		switch k.Value {
		case "currency":
			if c := strings.TrimSpace(v.Value); v.Kind != yaml.ScalarNode || c == "" || len(c) > 16 || strings.ContainsAny(c, "\n\t") {
				ps.fail(v, "currency", "want a short name such as USD or EUR")
			} else {
				p.Currency = c
			}
		case "cpu":
			if f, ok := ps.price(v, "cpu"); ok {
				p.Default.CPU = f
			}
		case "memory":
			if f, ok := ps.price(v, "memory"); ok {
				p.Default.Memory = f
			}
		case "namespaces":
			p.Namespaces = ps.overrides(v, "namespaces", base.Namespaces)
		case "nodePools":
			p.NodePools = ps.overrides(v, "nodePools", base.NodePools)
		default:
			ps.fail(k, k.Value, "unknown field (want currency, cpu, memory, namespaces or nodePools)")
		}
	}
	if err := ps.err(); err != nil {
		return Pricing{}, err
	}
	return p, nil
}

type parser struct {
	name string
	errs []error
}

func (ps *parser) fail(n *yaml.Node, field, msg string) {
	if field != "" {
		msg = field + ": " + msg
	}
	ps.errs = append(ps.errs, fmt.Errorf("%s:%d: %s", ps.name, n.Line, msg))
}

func (ps *parser) err() error { return errors.Join(ps.errs...) }

// price reads a non-negative number.
func (ps *parser) price(n *yaml.Node, field string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		ps.fail(n, field, fmt.Sprintf("want a number, got %q", n.Value))
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		ps.fail(n, field, fmt.Sprintf("want a number, got %q", n.Value))
		return 0, false
	}
	if f < 0 {
		ps.fail(n, field, "must not be negative")
		return 0, false
	}
	return f, true
}

// overrides reads a mapping of names to {cpu, memory}, on top of base.
func (ps *parser) overrides(n *yaml.Node, field string, base map[string]Override) map[string]Override {
	out := map[string]Override{}
	for k, v := range base {
		out[k] = v
	}
	if n.Kind != yaml.MappingNode {
		ps.fail(n, field, "want a mapping of names to {cpu, memory}")
		return out
	}
	for k, v := range pairs(n) {
		path := field + "." + k.Value
		if v.Kind != yaml.MappingNode {
			ps.fail(v, path, "want {cpu: PRICE, memory: PRICE}")
			continue
		}
		o := out[k.Value]
		for pk, pv := range pairs(v) {
			switch pk.Value {
			case "cpu":
				if f, ok := ps.price(pv, path+".cpu"); ok {
					o.CPU = &f
				}
			case "memory":
				if f, ok := ps.price(pv, path+".memory"); ok {
					o.Memory = &f
				}
			default:
				ps.fail(pk, path+"."+pk.Value, "unknown field (want cpu or memory)")
			}
		}
		out[k.Value] = o
	}
	return out
}

// pairs iterates over a mapping node's keys and values in file order.
func pairs(n *yaml.Node) func(yield func(k, v *yaml.Node) bool) {
	return func(yield func(k, v *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}
