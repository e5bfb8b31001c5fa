package prometheus

import (
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestWorkloadOf(t *testing.T) {
	o := newOwners()
	vec := func(obj model.LabelName, rows ...[3]string) model.Vector {
		var v model.Vector
		for _, r := range rows {
			v = append(v, &model.Sample{Metric: model.Metric{"namespace": "shop", obj: model.LabelValue(r[0]), "owner_kind": model.LabelValue(r[1]), "owner_name": model.LabelValue(r[2])}, Value: 1})
		}
		return v
	}
	addOwners(o.pods, vec("pod",
		[3]string{"web-7d9f-abcde", "ReplicaSet", "web-7d9f"},
		[3]string{"bare-rs-xyz", "ReplicaSet", "bare-rs"},
		[3]string{"rollout-6c-abc", "ReplicaSet", "rollout-6c"},
		[3]string{"report-29891580-x49cl", "Job", "report-29891580"},
		[3]string{"once-abcde", "Job", "once"},
		[3]string{"db-0", "StatefulSet", "db"},
		[3]string{"agent-xyz", "DaemonSet", "agent"},
		[3]string{"debug", "<none>", "<none>"},
		[3]string{"kube-apiserver-node1", "Node", "node1"},
		[3]string{"legacy-abc", "ReplicationController", "legacy"},
	), objectLabels{"namespace", "pod", ""})
	addOwners(o.replicaSets, vec("replicaset",
		[3]string{"web-7d9f", "Deployment", "web"},
		[3]string{"bare-rs", "<none>", "<none>"},
		[3]string{"rollout-6c", "Rollout", "rollout"},
	), objectLabels{"namespace", "replicaset", ""})
	addOwners(o.jobs, vec("job_name",
		[3]string{"report-29891580", "CronJob", "report"},
		[3]string{"once", "<none>", "<none>"},
	), objectLabels{"namespace", "job_name", ""})

	key := func(k workload.Kind, name string) workload.Key {
		return workload.Key{Namespace: "shop", Kind: k, Name: name}
	}
	tests := []struct {
		pod  string
		want workload.Key
		why  resolution
	}{
		{"web-7d9f-abcde", key(workload.Deployment, "web"), resolved},
		{"bare-rs-xyz", key(workload.ReplicaSet, "bare-rs"), resolved},
		{"rollout-6c-abc", key(workload.ReplicaSet, "rollout-6c"), replicaSetUnowned},
		{"report-29891580-x49cl", key(workload.CronJob, "report"), resolved},
		{"once-abcde", key(workload.Job, "once"), resolved},
		{"db-0", key(workload.StatefulSet, "db"), resolved},
		{"agent-xyz", key(workload.DaemonSet, "agent"), resolved},
		{"debug", key(workload.Pod, "debug"), resolved},
		{"kube-apiserver-node1", key(workload.Pod, "kube-apiserver-node1"), resolved},
		{"legacy-abc", key(workload.Pod, "legacy-abc"), unknownOwnerKind},
		{"unknown-pod", key(workload.Pod, "unknown-pod"), noPodOwner},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			got, why := o.workloadOf(nsName{"shop", tt.pod, ""})
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.why, why)
		})
	}
}

func TestAddOwnersPrefersController(t *testing.T) {
	m := map[nsName]owner{}
	addOwners(m, model.Vector{
		{Metric: model.Metric{"namespace": "a", "pod": "p", "owner_kind": "ReplicaSet", "owner_name": "rs"}},
		{Metric: model.Metric{"namespace": "a", "pod": "p", "owner_kind": "<none>", "owner_name": "<none>"}},
	}, objectLabels{"namespace", "pod", ""})
	assert.Equal(t, owner{"ReplicaSet", "rs"}, m[nsName{"a", "p", ""}])
}
