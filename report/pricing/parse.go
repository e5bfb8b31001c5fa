package pricing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"rightsize.dev/rightsize/internal/untrusted"
)

// MaxPricingFileSize is the largest pricing file Load and Parse read. The
// YAML parser allocates up to about 200 bytes per byte of input for some
// shapes (deep nesting, many empty keys), so the limit bounds what a bad file
// can cost; 256 KiB still holds thousands of overrides.
const MaxPricingFileSize = 256 << 10

// maxErrors bounds the problems reported for one file: a file of many bad
// entries gets the first ones and a count of the rest.
const maxErrors = 20

// Load reads a pricing file (see Parse), starting from base: fields the file
// leaves out keep base's values.
func Load(path string, base Pricing) (Pricing, error) {
	f, err := os.Open(path)
	if err != nil {
		return Pricing{}, fmt.Errorf("reading pricing file: %w", err)
	}
	defer f.Close()
	// Reading one byte past the limit is enough to refuse the file without
	// reading all of it.
	data, err := io.ReadAll(io.LimitReader(f, MaxPricingFileSize+1))
	if err != nil {
		return Pricing{}, fmt.Errorf("reading pricing file %s: %w", path, err)
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
// Every problem is reported (up to maxErrors), each as "NAME:LINE: FIELD:
// what is wrong". Prices must be finite and non-negative; a field given
// twice, an alias, a second document and a file larger than
// MaxPricingFileSize are errors.
func Parse(name string, data []byte, base Pricing) (Pricing, error) {
	if len(data) > MaxPricingFileSize {
		return Pricing{}, fmt.Errorf("%s: more than %d bytes, the limit for a pricing file", name, MaxPricingFileSize)
	}
	p := base
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Pricing{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return p, nil // an empty file changes nothing
	}
	ps := &parser{name: name}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return Pricing{}, fmt.Errorf("%s: %w", name, err)
	default:
		ps.fail(&next, "", "a second YAML document (a pricing file has one)")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		ps.fail(root, "", "want a mapping with currency, cpu, memory, namespaces and nodePools")
		return Pricing{}, ps.err()
	}
	for k, v := range ps.pairs(root, "") {
		switch k.Value {
		case "currency":
			if c := strings.TrimSpace(v.Value); v.Kind != yaml.ScalarNode || c == "" || len(c) > 16 || !untrusted.Printable(c) {
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
	more int // problems beyond maxErrors
}

func (ps *parser) fail(n *yaml.Node, field, msg string) {
	if len(ps.errs) == maxErrors {
		ps.more++
		return
	}
	if field != "" {
		msg = field + ": " + msg
	}
	ps.errs = append(ps.errs, fmt.Errorf("%s:%d: %s", ps.name, n.Line, msg))
}

func (ps *parser) err() error {
	if ps.more > 0 {
		return errors.Join(append(ps.errs, fmt.Errorf("%s: and %d more problems", ps.name, ps.more))...)
	}
	return errors.Join(ps.errs...)
}

// alias reports an alias as a problem. Aliases are not followed: a pricing
// file has no use for them, and following them would let a small file
// stand for a large one.
func (ps *parser) alias(n *yaml.Node, field string) bool {
	if n.Kind != yaml.AliasNode {
		return false
	}
	ps.fail(n, field, "aliases (*"+n.Value+") are not supported")
	return true
}

// price reads a finite, non-negative number.
func (ps *parser) price(n *yaml.Node, field string) (float64, bool) {
	if ps.alias(n, field) {
		return 0, false
	}
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
	if f == 0 {
		f = 0 // not -0, which would print as a negative price
	}
	return f, true
}

// overrides reads a mapping of names to {cpu, memory}, on top of base.
func (ps *parser) overrides(n *yaml.Node, field string, base map[string]Override) map[string]Override {
	out := map[string]Override{}
	for k, v := range base {
		out[k] = v
	}
	if ps.alias(n, field) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		ps.fail(n, field, "want a mapping of names to {cpu, memory}")
		return out
	}
	for k, v := range ps.pairs(n, field) {
		path := field + "." + k.Value
		if ps.alias(v, path) {
			continue
		}
		if v.Kind != yaml.MappingNode {
			ps.fail(v, path, "want {cpu: PRICE, memory: PRICE}")
			continue
		}
		o := out[k.Value]
		for pk, pv := range ps.pairs(v, path) {
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

// pairs iterates over a mapping node's keys and values in file order. Keys
// must be non-empty scalars, each given once; the others are reported and
// skipped.
func (ps *parser) pairs(n *yaml.Node, field string) func(yield func(k, v *yaml.Node) bool) {
	return func(yield func(k, v *yaml.Node) bool) {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch line, dup := seen[k.Value]; {
			case k.Kind != yaml.ScalarNode || k.Value == "":
				ps.fail(k, field, "want a name as the key")
				continue
			case dup:
				ps.fail(k, strings.TrimPrefix(field+"."+k.Value, "."), fmt.Sprintf("given twice (first on line %d)", line))
				continue
			}
			seen[k.Value] = k.Line
			if !yield(k, v) {
				return
			}
		}
	}
}
