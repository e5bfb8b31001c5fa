// Command cmpplans compares the recommended requests of two plans
// (rightsize plan -o json) container by container: how the second's CPU
// and memory requests stand against the first's, as quantiles of the
// ratio, for the scale benchmark's readings (docs/benchmarks.md).
//
//	go run ./hack/prometheus/cmpplans REFERENCE.json OTHER.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"k8s.io/apimachinery/pkg/api/resource"
)

type plan struct {
	Workloads []struct {
		Namespace, Kind, Name string
		Containers            []struct {
			Name        string
			Recommended struct {
				Requests map[string]string
			}
		}
	}
}

func read(path string) (map[string]map[string]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]map[string]float64{}
	for _, w := range p.Workloads {
		for _, c := range w.Containers {
			key := w.Namespace + "/" + w.Kind + "/" + w.Name + "/" + c.Name
			out[key] = map[string]float64{}
			for r, v := range c.Recommended.Requests {
				q, err := resource.ParseQuantity(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %s %s: %w", path, key, r, err)
				}
				out[key][r] = q.AsApproximateFloat64()
			}
		}
	}
	return out, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cmpplans REFERENCE.json OTHER.json")
		os.Exit(2)
	}
	ref, err := read(os.Args[1])
	if err == nil {
		var other map[string]map[string]float64
		if other, err = read(os.Args[2]); err == nil {
			report(ref, other)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmpplans:", err)
		os.Exit(1)
	}
}

func report(ref, other map[string]map[string]float64) {
	for _, r := range []string{"cpu", "memory"} {
		var ratios []float64
		missing := 0
		for k, rv := range ref {
			a, ok := rv[r]
			b, ok2 := other[k][r]
			if !ok || !ok2 || a == 0 {
				missing++
				continue
			}
			ratios = append(ratios, b/a)
		}
		slices.Sort(ratios)
		if len(ratios) == 0 {
			fmt.Printf("%s: nothing to compare\n", r)
			continue
		}
		q := func(p float64) float64 { return 100 * (ratios[int(p*float64(len(ratios)-1))] - 1) }
		within := func(tol float64) int {
			n := 0
			for _, x := range ratios {
				if x >= 1-tol && x <= 1+tol {
					n++
				}
			}
			return n
		}
		fmt.Printf("%s requests, %d containers (%d not in both): min %+.1f %%, p10 %+.1f %%, median %+.1f %%, p90 %+.1f %%, max %+.1f %%; within 5 %%: %d, within 10 %%: %d\n",
			r, len(ratios), missing, q(0), q(0.1), q(0.5), q(0.9), q(1), within(0.05), within(0.10))
	}
}
