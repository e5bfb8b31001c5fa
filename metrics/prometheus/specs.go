package prometheus

import (
	"context"
	"errors"
	"maps"
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
	live, atEnd := c.livePods()
	templates, err := c.readTemplates(ctx, groups, live)
	if err != nil {
		return nil, err
	}
	specs, without := specsOf(c.workloadTemplates(live, atEnd, templates))
	if without > 0 {
		c.note("%d running workloads have no kube-state-metrics container series at %s: their containers and settings come from the history", without, c.w.last().Format(time.RFC3339))
	}
	if err := c.readProfiles(ctx, groups, specs); err != nil {
		return nil, err
	}
	return specs, nil
}

// readProfiles sets the rightsize.dev/profile annotation of the specs'
// workloads where kube-state-metrics exports it, a group's namespaces at a
// time. A failed query leaves the run's profile to its workloads, said in
// a note.
func (c *collector) readProfiles(ctx context.Context, groups []group, specs map[workload.Key]workload.Spec) error {
	if len(specs) == 0 {
		return nil
	}
	kl := c.o.Names.ksmLabels()
	seen := map[string]bool{}
	for _, g := range groups {
		key := strings.Join(g.namespaces, ",")
		if seen[key] {
			continue // a namespace cut into several groups is asked once
		}
		seen[key] = true
		v, err := c.q.query(ctx, "reading profile annotations of "+g.String(), c.p.profiles([]Matcher{anyOf(kl.namespace, g.namespaces)}), c.w.last())
		if err != nil {
			if errors.Is(err, ErrUnreachable) {
				return err
			}
			c.note("%v; its workloads are sized with the run's profile", err)
			continue
		}
		setProfiles(v, kl, specs)
	}
	return nil
}

// setProfiles sets each spec's profile annotation from kube-state-metrics'
// annotations series; series of other kinds, unknown workloads or without
// a value change nothing.
func setProfiles(v model.Vector, kl labelNames, specs map[workload.Key]workload.Spec) {
	for _, s := range v {
		name := string(s.Metric[model.MetricNameLabel])
		profile := string(s.Metric[profileAnnotation])
		for _, k := range annotatedKinds {
			if k.metric != name || profile == "" {
				continue
			}
			key := workload.Key{
				Namespace: string(s.Metric[model.LabelName(kl.namespace)]), Kind: k.kind,
				Name: string(s.Metric[model.LabelName(k.label)]), Cluster: clusterOf(model.LabelSet(s.Metric), kl.cluster),
			}
			spec, ok := specs[key]
			if !ok {
				continue
			}
			spec.Annotations = maps.Clone(spec.Annotations)
			if spec.Annotations == nil {
				spec.Annotations = map[string]string{}
			}
			spec.Annotations[workload.ProfileKey] = profile
			specs[key] = spec
		}
	}
}

// livePods returns the pods with a sample in the last hour of the history,
// and those with one at the last step.
func (c *collector) livePods() (live, atEnd map[nsName]bool) {
	newest := int64(math.MinInt64)
	for _, ps := range c.seen {
		newest = max(newest, ps.last)
	}
	live, atEnd = map[nsName]bool{}, map[nsName]bool{}
	for s, ps := range c.seen {
		if ps.last > newest-time.Hour.Milliseconds() {
			live[s.podName()] = true
		}
		if ps.last == c.w.last().UnixMilli() {
			atEnd[s.podName()] = true
		}
	}
	return live, atEnd
}

// podTemplates holds the live pods' templates by pod.
type podTemplates map[nsName]*podTemplate

// readTemplates reads the live pods' templates, a group at a time.
func (c *collector) readTemplates(ctx context.Context, groups []group, live map[nsName]bool) (podTemplates, error) {
	templates := podTemplates{}
	var mu sync.Mutex
	kl := c.o.Names.ksmLabels()
	err := c.forEach(ctx, len(groups), func(ctx context.Context, i int) error {
		a, err := c.queryTemplates(ctx, groups[i], live)
		if err != nil || a == nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		templates.add(a, kl)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return templates, nil
}

// templateAnswers are kube-state-metrics' answers about a group's live
// pods at the last step.
type templateAnswers struct {
	containers, initContainers, requests, limits, created model.Vector
}

// queryTemplates asks kube-state-metrics about the group's live pods at the
// last step, by name in every cluster that has them. It returns nil for a
// group without any, and for one where a query failed short of the server
// being unreachable: the current settings of its workloads then come from
// the history.
func (c *collector) queryTemplates(ctx context.Context, g group, live map[nsName]bool) (*templateAnswers, error) {
	var pods []string
	for p := range live {
		if slices.Contains(g.namespaces, p.namespace) && (len(g.pods) == 0 || slices.Contains(g.pods, p.name)) {
			pods = append(pods, p.name)
		}
	}
	if len(pods) == 0 {
		return nil, nil
	}
	n := c.o.Names
	a := &templateAnswers{}
	for _, part := range cutList(uniqueSorted(pods), c.o.MaxSeries) {
		gm := []Matcher{anyOf(n.KSMNamespaceLabel, g.namespaces), anyOf(n.KSMPodLabel, part)}
		for _, q := range []struct {
			what, expr string
			answer     *model.Vector
		}{
			{"reading containers of " + g.String(), c.p.containers(gm), &a.containers},
			{"reading init containers of " + g.String(), c.p.initContainers(gm), &a.initContainers},
			{"reading current requests of " + g.String(), c.p.settingsAt(gm, n.Requests, n.InitRequests), &a.requests},
			{"reading current limits of " + g.String(), c.p.settingsAt(gm, n.Limits, n.InitLimits), &a.limits},
			{"reading pod creation times of " + g.String(), c.p.podCreated(gm), &a.created},
		} {
			v, err := c.q.query(ctx, q.what, q.expr, c.w.last())
			if err != nil {
				if errors.Is(err, ErrUnreachable) {
					return nil, err
				}
				c.note("%v; current settings of its workloads come from the history", err)
				return nil, nil
			}
			*q.answer = append(*q.answer, v...)
		}
	}
	return a, nil
}

// add merges a group's answers. The containers come first: settings and
// creation times only complete the containers and pods they name.
func (ts podTemplates) add(a *templateAnswers, kl labelNames) {
	ts.addContainers(a.containers, kl, false)
	ts.addContainers(a.initContainers, kl, true)
	ts.addSettings(a.requests, kl, func(s *workload.Settings) *workload.Resources { return &s.Requests })
	ts.addSettings(a.limits, kl, func(s *workload.Settings) *workload.Resources { return &s.Limits })
	for _, s := range a.created {
		if t := ts[podOf(s.Metric, kl)]; t != nil {
			t.created = float64(s.Value)
		}
	}
}

// podOf names the pod of a kube-state-metrics series.
func podOf(m model.Metric, kl labelNames) nsName {
	return seriesOf(model.LabelSet(m), kl).podName()
}

func (ts podTemplates) addContainers(vec model.Vector, kl labelNames, init bool) {
	for _, s := range vec {
		name := string(s.Metric[model.LabelName(kl.container)])
		if !kubeName(name) {
			continue
		}
		k := podOf(s.Metric, kl)
		t := ts[k]
		if t == nil {
			t = &podTemplate{containers: map[string]*workload.ContainerSpec{}}
			ts[k] = t
		}
		t.containers[name] = &workload.ContainerSpec{
			Name: name, Init: init, Sidecar: init && s.Metric["restart_policy"] == "Always",
		}
	}
}

// addSettings sets the requests or limits (which picks) of known
// containers; invalid values are left out.
func (ts podTemplates) addSettings(vec model.Vector, kl labelNames, which func(*workload.Settings) *workload.Resources) {
	for _, s := range vec {
		t := ts[podOf(s.Metric, kl)]
		if t == nil {
			continue
		}
		cs := t.containers[string(s.Metric[model.LabelName(kl.container)])]
		if cs == nil {
			continue
		}
		r := which(&cs.Settings)
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

// workloadTemplate is what a workload's live pods say: how many there are,
// whether any ran at the last step, and the newest one's template.
type workloadTemplate struct {
	replicas int
	atEnd    bool
	newest   nsName
	tmpl     *podTemplate
}

// workloadTemplates counts each workload's live pods and picks the
// template of the newest pod that has one (by name on a tie), so that a
// rollout in progress shows the new template.
func (c *collector) workloadTemplates(live, atEnd map[nsName]bool, templates podTemplates) map[workload.Key]*workloadTemplate {
	byKey := map[workload.Key]*workloadTemplate{}
	for p := range live {
		k, _ := c.owners.workloadOf(p)
		w := byKey[k]
		if w == nil {
			w = &workloadTemplate{}
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
	return byKey
}

// specsOf turns the workloads with a template into specs. It also returns
// how many workloads without one were running at the last step: pods that
// ended within the hour have no series at the end, only those still
// running then are worth a word.
func specsOf(byKey map[workload.Key]*workloadTemplate) (specs map[workload.Key]workload.Spec, without int) {
	specs = map[workload.Key]workload.Spec{}
	for k, w := range byKey {
		if w.tmpl == nil {
			if w.atEnd {
				without++
			}
			continue
		}
		specs[k] = workload.Spec{Key: k, Replicas: w.replicas, Containers: w.tmpl.containerSpecs()}
	}
	return specs, without
}

// containerSpecs lists the template's containers. kube-state-metrics does
// not say their order: app containers first, then init containers, each by
// name.
func (t *podTemplate) containerSpecs() []workload.ContainerSpec {
	var cs []workload.ContainerSpec
	for _, c := range t.containers {
		cs = append(cs, *c)
	}
	slices.SortFunc(cs, func(a, b workload.ContainerSpec) int {
		if a.Init != b.Init {
			if a.Init {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return cs
}
