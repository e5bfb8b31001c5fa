package prometheus

import (
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestPodTemplatesAdd(t *testing.T) {
	kl := DefaultNames().ksmLabels()
	sample := func(pod, container string, v float64, extra ...string) *model.Sample {
		m := model.Metric{
			model.LabelName(kl.namespace): "ns",
			model.LabelName(kl.pod):       model.LabelValue(pod),
			model.LabelName(kl.container): model.LabelValue(container),
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[model.LabelName(extra[i])] = model.LabelValue(extra[i+1])
		}
		return &model.Sample{Metric: m, Value: model.SampleValue(v)}
	}
	ts := podTemplates{}
	ts.add(&templateAnswers{
		containers:     model.Vector{sample("a", "app", 1), sample("a", "Not_A_Name", 1)},
		initContainers: model.Vector{sample("a", "proxy", 1, "restart_policy", "Always"), sample("a", "setup", 1)},
		requests: model.Vector{
			sample("a", "app", 0.25, "resource", "cpu"),
			sample("a", "app", 1<<20, "resource", "memory"),
			sample("a", "gone", 1, "resource", "cpu"), // no such container
			sample("b", "app", 1, "resource", "cpu"),  // no such pod
		},
		limits:  model.Vector{sample("a", "app", -1, "resource", "cpu"), sample("a", "app", 2<<20, "resource", "memory")},
		created: model.Vector{sample("a", "", 100), sample("b", "", 200)},
	}, kl)

	assert.Len(t, ts, 1)
	a := ts[nsName{"ns", "a", ""}]
	assert.Equal(t, 100.0, a.created)
	assert.Equal(t, []workload.ContainerSpec{
		{Name: "app", Settings: workload.Settings{
			Requests: workload.Resources{CPU: 250, Memory: 1 << 20},
			Limits:   workload.Resources{Memory: 2 << 20},
		}},
		{Name: "proxy", Init: true, Sidecar: true},
		{Name: "setup", Init: true},
	}, a.containerSpecs())
}

func TestSpecsOf(t *testing.T) {
	tmpl := &podTemplate{containers: map[string]*workload.ContainerSpec{"app": {Name: "app"}}}
	k := func(name string) workload.Key {
		return workload.Key{Namespace: "ns", Kind: workload.Deployment, Name: name}
	}
	specs, without := specsOf(map[workload.Key]*workloadTemplate{
		k("with"):    {replicas: 3, tmpl: tmpl},
		k("running"): {replicas: 1, atEnd: true},
		k("ended"):   {replicas: 1},
	})
	assert.Equal(t, map[workload.Key]workload.Spec{
		k("with"): {Key: k("with"), Replicas: 3, Containers: []workload.ContainerSpec{{Name: "app"}}},
	}, specs)
	assert.Equal(t, 1, without)
}
