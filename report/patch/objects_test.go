package patch

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rightsize.dev/rightsize/recommender/workload"
)

// requirements converts settings to the typed form of a pod spec.
func requirements(s workload.Settings) corev1.ResourceRequirements {
	list := func(r workload.Resources) corev1.ResourceList {
		l := corev1.ResourceList{}
		if r.CPU.IsSet() {
			l[corev1.ResourceCPU] = resource.MustParse(r.CPU.String())
		}
		if r.Memory.IsSet() {
			l[corev1.ResourceMemory] = resource.MustParse(r.Memory.String())
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: list(s.Requests), Limits: list(s.Limits)}
}

// podSpec builds a pod spec for a workload plan with settings from pick, and
// with fields the patch must leave alone: images, env, ports, probes,
// volumes, a container the plan does not know.
func podSpec(wp workload.WorkloadPlan, pick func(workload.ContainerPlan) workload.Settings) corev1.PodSpec {
	always := corev1.ContainerRestartPolicyAlways
	spec := corev1.PodSpec{
		ServiceAccountName: "svc",
		NodeSelector:       map[string]string{"pool": "general"},
		Volumes:            []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
	for _, c := range wp.Containers {
		ctr := corev1.Container{
			Name:         c.Name,
			Image:        "registry.example/" + c.Name + ":1.2.3",
			Env:          []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
			Resources:    requirements(pick(c)),
		}
		switch {
		case c.Sidecar:
			ctr.RestartPolicy = &always
			spec.InitContainers = append(spec.InitContainers, ctr)
		case c.Init:
			spec.InitContainers = append(spec.InitContainers, ctr)
		default:
			ctr.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready"}}}
			spec.Containers = append(spec.Containers, ctr)
		}
	}
	spec.Containers = append(spec.Containers, corev1.Container{
		Name:      "unplanned",
		Image:     "registry.example/unplanned:1",
		Resources: requirements(settings(res(10, 16*mi), res(20, 32*mi))),
	})
	return spec
}

func current(c workload.ContainerPlan) workload.Settings { return c.Current }

func objectMeta(k workload.Key) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: k.Name, Namespace: k.Namespace,
		Labels:      map[string]string{"app": k.Name},
		Annotations: map[string]string{"team": "platform"},
	}
}

func template(k workload.Key, spec corev1.PodSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": k.Name}}, Spec: spec}
}

// object returns the typed manifest of a test workload with its pod spec
// built by pick: current settings for the original, recommended ones for
// what the patched object must equal.
func object(k workload.Key, pick func(workload.ContainerPlan) workload.Settings) any {
	wp := workloadPlan(k)
	spec := podSpec(wp, pick)
	replicas := int32(wp.Replicas)
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": k.Name}}
	switch k.Kind {
	case workload.Deployment:
		return &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: objectMeta(k),
			Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector, Template: template(k, spec)},
		}
	case workload.StatefulSet:
		return &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: objectMeta(k),
			Spec:       appsv1.StatefulSetSpec{Replicas: &replicas, Selector: selector, ServiceName: k.Name, Template: template(k, spec)},
		}
	case workload.CronJob:
		spec.RestartPolicy = corev1.RestartPolicyOnFailure
		return &batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: objectMeta(k),
			Spec: batchv1.CronJobSpec{
				Schedule:    "0 3 * * *",
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template(k, spec)}},
			},
		}
	}
	panic("no test object for " + k.String())
}

// patchedKeys are the test plan's workloads that get a patch.
var patchedKeys = []workload.Key{apiKey, frontendKey, dbKey, reportKey}
