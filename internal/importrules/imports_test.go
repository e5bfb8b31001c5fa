package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "rightsize.dev/rightsize"

// pkg is one package of the build graph, as go list reports it.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

// rule forbids the packages from selects to import, directly or through
// other packages, any package forbid selects.
type rule struct {
	why    string
	from   func(path string) bool
	forbid func(p pkg) bool
}

// within reports whether path is one of prefixes or below one.
func within(path string, prefixes ...string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func under(prefixes ...string) func(string) bool {
	return func(path string) bool { return within(path, prefixes...) }
}

func forbidden(prefixes ...string) func(pkg) bool {
	return func(p pkg) bool { return within(p.ImportPath, prefixes...) }
}

var rules = []rule{
	{
		why:  "the core knows no Kubernetes or Prometheus client",
		from: under(module + "/recommender"),
		forbid: forbidden("k8s.io/client-go", "github.com/prometheus/client_golang", "github.com/prometheus/common",
			module+"/metrics", module+"/report", module+"/controller", module+"/cmd"),
	},
	{
		why:    "units become resource.Quantity only at the edges",
		from:   under(module + "/recommender"),
		forbid: forbidden("k8s.io/apimachinery/pkg/api/resource"),
	},
	{
		why:  "the core's nouns and its sketch stand on the standard library alone",
		from: under(module+"/recommender/workload", module+"/recommender/sketch"),
		forbid: func(p pkg) bool {
			return !p.Standard && !within(p.ImportPath, module+"/internal")
		},
	},
	{
		why:    "sources and outputs do not know the commands or the controller that use them",
		from:   under(module+"/metrics", module+"/report"),
		forbid: forbidden(module+"/cmd", module+"/controller"),
	},
}

// TestImportRules checks every rule against the module's packages and
// what they import, tests aside.
func TestImportRules(t *testing.T) {
	graph := load(t)
	for _, r := range rules {
		n := 0
		for path := range graph {
			if within(path, module) && r.from(path) {
				n++
			}
		}
		// A rule whose packages were moved or renamed would pass unnoticed.
		if n == 0 {
			t.Errorf("the rule %q applies to no package; update it", r.why)
		}
	}
	for _, v := range violations(graph, rules) {
		t.Error(v)
	}
}

// TestViolationsNameTheChain: a forbidden import is found however far down
// it is, and the message names the importing package and the chain of
// imports that leads to it, shortest first. recommender/history imports
// metrics/usagecsv, which imports client-go: one message, where the rule
// is broken.
func TestViolationsNameTheChain(t *testing.T) {
	m := func(path string) string { return module + "/" + path }
	graph := map[string]pkg{}
	add := func(path string, std bool, imports ...string) {
		graph[path] = pkg{ImportPath: path, Imports: imports, Standard: std}
	}
	add("fmt", true)
	add(m("internal/untrusted"), false, "fmt")
	add(m("recommender/workload"), false, "fmt", m("internal/untrusted"))
	add(m("recommender/sketch"), false, "fmt", m("internal/cache"))
	add(m("internal/cache"), false, "github.com/example/lru")
	add("github.com/example/lru", false, "fmt")
	add(m("recommender/history"), false, m("recommender/workload"), m("metrics/usagecsv"))
	add(m("metrics/usagecsv"), false, m("recommender/workload"), "k8s.io/client-go/rest")
	add("k8s.io/client-go/rest", false)
	// report/cost answers for its own import; report/weekly only for the
	// one through a package no rule covers.
	add(m("report/weekly"), false, m("report/cost"), m("internal/render"))
	add(m("internal/render"), false, m("cmd/rightsize/app"))
	add(m("report/cost"), false, m("cmd/rightsize/app"))
	add(m("cmd/rightsize/app"), false, m("report/weekly"))

	got := violations(graph, rules)
	want := []string{
		m("recommender/history") + " imports " + m("metrics/usagecsv") + " (the core knows no Kubernetes or Prometheus client): " +
			m("recommender/history") + " → " + m("metrics/usagecsv"),
		m("recommender/sketch") + " imports github.com/example/lru (the core's nouns and its sketch stand on the standard library alone): " +
			m("recommender/sketch") + " → " + m("internal/cache") + " → github.com/example/lru",
		m("report/cost") + " imports " + m("cmd/rightsize/app") + " (sources and outputs do not know the commands or the controller that use them): " +
			m("report/cost") + " → " + m("cmd/rightsize/app"),
		m("report/weekly") + " imports " + m("cmd/rightsize/app") + " (sources and outputs do not know the commands or the controller that use them): " +
			m("report/weekly") + " → " + m("internal/render") + " → " + m("cmd/rightsize/app"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// violations returns, for each package of the module some rules apply to
// and each package they forbid that it reaches, the shortest chain of
// imports that leads there, in a stable order. The search stops at a
// forbidden package, and does not go through a package of the module the
// same rules apply to: that one answers for what it imports itself, so
// one bad import is reported where it is made, not again for every
// package above it.
func violations(graph map[string]pkg, rules []rule) []string {
	var paths []string
	for path := range graph {
		if within(path, module) {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	applying := func(path string) []rule {
		var rs []rule
		for _, r := range rules {
			if r.from(path) {
				rs = append(rs, r)
			}
		}
		return rs
	}
	var out []string
	for _, from := range paths {
		rs := applying(from)
		if len(rs) == 0 {
			continue
		}
		parent := map[string]string{from: ""}
		queue := []string{from}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, next := range slices.Sorted(slices.Values(graph[cur].Imports)) {
				if _, seen := parent[next]; seen {
					continue
				}
				parent[next] = cur
				p, ok := graph[next]
				if !ok {
					p = pkg{ImportPath: next}
				}
				if i := slices.IndexFunc(rs, func(r rule) bool { return r.forbid(p) }); i >= 0 {
					out = append(out, fmt.Sprintf("%s imports %s (%s): %s", from, next, rs[i].why, strings.Join(chain(parent, next), " → ")))
					continue
				}
				answers := within(next, module) && len(applying(next)) > 0 &&
					!slices.ContainsFunc(rs, func(r rule) bool { return !r.from(next) })
				if !p.Standard && !answers {
					queue = append(queue, next)
				}
			}
		}
	}
	return out
}

// chain returns the imports from the search's start to path.
func chain(parent map[string]string, path string) []string {
	var c []string
	for ; path != ""; path = parent[path] {
		c = append(c, path)
	}
	slices.Reverse(c)
	return c
}

// load returns the module's packages and everything they import, by import
// path. go list reads import declarations only, so a package that does not
// compile at the moment still shows what it imports.
func load(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Imports,Standard", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		graph[p.ImportPath] = p
	}
	if _, ok := graph[module+"/recommender"]; !ok {
		t.Fatalf("go list did not list %s/recommender", module)
	}
	return graph
}
