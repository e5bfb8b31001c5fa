package prometheus

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/recommender/workload"
)

// podTemplate is what kube-state-metrics says about one pod at the end.
type podTemplate struct {
	created    float64
	containers map[string]*workload.ContainerSpec
}

// readSpecs builds the workloads' current pod templates from
// kube-state-metrics at the last step. The pods running then are those
// with a sample in the last hour (as history.Summary counts them); the
// replica count is their number, and the newest of them with
// kube-state-metrics series gives the containers and their settings, so a
// rollout in progress shows the new template.
func (c *collector) readSpecs(ctx context.Context, groups []group) (map[workload.Key]workload.Spec, error) {
	_, newest := c.store.Span()
	live := map[nsName]bool{}
	atEnd := map[nsName]bool{} // pods with a sample at the last step
	for s, t := range c.lastSeen {
		if t.After(newest.Add(-time.Hour)) {
			live[nsName{s.namespace, s.pod}] = true
		}
		if t.Equal(c.w.last()) {
			atEnd[nsName{s.namespace, s.pod}] = true
		}
	}
	templates := map[nsName]*podTemplate{}
	var mu sync.Mutex
	at := c.w.last()
	n := c.o.Names
	nsl, pl, cl := model.LabelName(n.KSMNamespaceLabel), model.LabelName(n.KSMPodLabel), model.LabelName(n.KSMContainerLabel)
	err := c.forEach(ctx, len(groups), func(ctx context.Context, i int) error {
		g := groups[i]
		var pods []string
		for p := range live {
			if slices.Contains(g.namespaces, p.namespace) && (len(g.pods) == 0 || slices.Contains(g.pods, p.name)) {
				pods = append(pods, p.name)
			}
		}
		if len(pods) == 0 {
			return nil
		}
		gm := []Matcher{anyOf(n.KSMNamespaceLabel, g.namespaces), anyOf(n.KSMPodLabel, uniqueSorted(pods))}
		var vecs [5]model.Vector
		for qi, q := range []struct{ what, expr string }{
			{"reading containers of " + g.String(), c.p.containers(gm)},
			{"reading init containers of " + g.String(), c.p.initContainers(gm)},
			{"reading current requests of " + g.String(), c.p.settingsAt(gm, n.Requests, n.InitRequests)},
			{"reading current limits of " + g.String(), c.p.settingsAt(gm, n.Limits, n.InitLimits)},
			{"reading pod creation times of " + g.String(), c.p.podCreated(gm)},
		} {
			v, err := c.q.query(ctx, q.what, q.expr, at)
			if err != nil {
				if errors.Is(err, ErrUnreachable) {
					return err
				}
				c.note("%v; current settings of its workloads come from the history", err)
				return nil
			}
			vecs[qi] = v
		}
		mu.Lock()
		defer mu.Unlock()
		tmpl := func(m model.Metric) *podTemplate {
			k := nsName{string(m[nsl]), string(m[pl])}
			t := templates[k]
			if t == nil {
				t = &podTemplate{containers: map[string]*workload.ContainerSpec{}}
				templates[k] = t
			}
			return t
		}
		for qi, vec := range vecs[:2] {
			for _, s := range vec {
				name := string(s.Metric[cl])
				if !kubeName(name) {
					continue
				}
				tmpl(s.Metric).containers[name] = &workload.ContainerSpec{
					Name: name, Init: qi == 1, Sidecar: qi == 1 && s.Metric["restart_policy"] == "Always",
				}
			}
		}
		for qi, vec := range vecs[2:4] {
			for _, s := range vec {
				t := templates[nsName{string(s.Metric[nsl]), string(s.Metric[pl])}]
				if t == nil {
					continue
				}
				cs := t.containers[string(s.Metric[cl])]
				if cs == nil {
					continue
				}
				r := &cs.Settings.Requests
				if qi == 1 {
					r = &cs.Settings.Limits
				}
				v := float64(s.Value)
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					continue
				}
				switch s.Metric["resource"] {
				case "cpu":
					r.CPU = workload.MillicoresOf(workload.Cores(v))
				case "memory":
					r.Memory = workload.BytesOf(v)
				}
			}
		}
		for _, s := range vecs[4] {
			if t := templates[nsName{string(s.Metric[nsl]), string(s.Metric[pl])}]; t != nil {
				t.created = float64(s.Value)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	type wl struct {
		replicas int
		atEnd    bool
		newest   nsName
		tmpl     *podTemplate
	}
	byKey := map[workload.Key]*wl{}
	for p := range live {
		k, _ := c.owners.workloadOf(p.namespace, p.name)
		w := byKey[k]
		if w == nil {
			w = &wl{}
			byKey[k] = w
		}
		w.replicas++
		w.atEnd = w.atEnd || atEnd[p]
		t := templates[p]
		if t == nil || len(t.containers) == 0 {
			continue
		}
		if w.tmpl == nil || t.created > w.tmpl.created || t.created == w.tmpl.created && p.name > w.newest.name {
			w.tmpl, w.newest = t, p
		}
	}
	specs := map[workload.Key]workload.Spec{}
	without := 0
	for k, w := range byKey {
		if w.tmpl == nil {
			// Pods that ended within the hour have no series at the end:
			// only those still running then are worth a word.
			if w.atEnd {
				without++
			}
			continue
		}
		sp := workload.Spec{Key: k, Replicas: w.replicas}
		for _, cs := range w.tmpl.containers {
			sp.Containers = append(sp.Containers, *cs)
		}
		// kube-state-metrics does not say the order of containers: app
		// containers first, then init containers, each by name.
		slices.SortFunc(sp.Containers, func(a, b workload.ContainerSpec) int {
			if a.Init != b.Init {
				if a.Init {
					return 1
				}
				return -1
			}
			return strings.Compare(a.Name, b.Name)
		})
		specs[k] = sp
	}
	if without > 0 {
		c.note("%d running workloads have no kube-state-metrics container series at %s: their containers and settings come from the history", without, at.Format(time.RFC3339))
	}
	return specs, nil
}
