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

func TestSetProfiles(t *testing.T) {
	kl := DefaultNames().ksmLabels()
	kl.cluster = "k8s_cluster"
	series := func(metric, label, name, profile, cluster string) *model.Sample {
		m := model.Metric{model.MetricNameLabel: model.LabelValue(metric), model.LabelName(kl.namespace): "shop", model.LabelName(label): model.LabelValue(name)}
		if profile != "" {
			m[profileAnnotation] = model.LabelValue(profile)
		}
		if cluster != "" {
			m["k8s_cluster"] = model.LabelValue(cluster)
		}
		return &model.Sample{Metric: m, Value: 1}
	}
	key := func(kind workload.Kind, name, cluster string) workload.Key {
		return workload.Key{Namespace: "shop", Kind: kind, Name: name, Cluster: cluster}
	}
	specs := map[workload.Key]workload.Spec{
		key(workload.Deployment, "web", "west"):  {Key: key(workload.Deployment, "web", "west"), Annotations: map[string]string{"team": "a"}},
		key(workload.Deployment, "web", "east"):  {Key: key(workload.Deployment, "web", "east")},
		key(workload.CronJob, "report", "west"):  {Key: key(workload.CronJob, "report", "west")},
		key(workload.StatefulSet, "db", "west"):  {Key: key(workload.StatefulSet, "db", "west")},
		key(workload.Job, "backfill", "west"):    {Key: key(workload.Job, "backfill", "west")},
		key(workload.DaemonSet, "agent", "west"): {Key: key(workload.DaemonSet, "agent", "west")},
	}
	before := specs[key(workload.Deployment, "web", "west")].Annotations
	setProfiles(model.Vector{
		series("kube_deployment_annotations", "deployment", "web", "reliability", "west"),
		series("kube_cronjob_annotations", "cronjob", "report", "savings", "west"),
		series("kube_job_annotations", "job_name", "backfill", "savings", "west"),
		series("kube_statefulset_annotations", "statefulset", "db", "", "west"),        // no value
		series("kube_daemonset_annotations", "deployment", "agent", "savings", "west"), // the wrong label
		series("kube_deployment_annotations", "deployment", "gone", "savings", "west"), // no such workload
		series("kube_pod_annotations", "pod", "web-1", "savings", "west"),              // not a workload
	}, kl, specs)
	profile := func(k workload.Key) string { return specs[k].Annotations[workload.ProfileKey] }
	assert.Equal(t, "reliability", profile(key(workload.Deployment, "web", "west")))
	assert.Equal(t, "a", specs[key(workload.Deployment, "web", "west")].Annotations["team"], "other annotations kept")
	assert.NotContains(t, before, workload.ProfileKey, "the spec's map before is not written to")
	assert.Empty(t, profile(key(workload.Deployment, "web", "east")), "the other cluster's web")
	assert.Equal(t, "savings", profile(key(workload.CronJob, "report", "west")))
	assert.Equal(t, "savings", profile(key(workload.Job, "backfill", "west")))
	assert.Empty(t, profile(key(workload.StatefulSet, "db", "west")))
	assert.Empty(t, profile(key(workload.DaemonSet, "agent", "west")))
	assert.Len(t, specs, 6, "no spec added")
}
