package kubetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"rightsize.dev/rightsize/recommender/workload"
)

// Usage annotations read by the kwok configuration in hack/cluster.
const (
	UsageCPU    = "kwok.x-k8s.io/usage-cpu"
	UsageMemory = "kwok.x-k8s.io/usage-memory"
	// ContainerUsagePrefix + "cpu." / "memory." + container name sets one
	// container's usage.
	ContainerUsagePrefix = "usage.rightsize.dev/"
)

// Fixture is the set of workloads CreateWorkloads makes in one namespace,
// with what a discovery of them must find.
type Fixture struct {
	Namespace string
	// Usage is the emulated usage per workload container (constant).
	Usage map[workload.ContainerKey]workload.Resources
	// RunningPods is how many pods run for good (Job pods complete).
	RunningPods int
	// VPA is set when the VerticalPodAutoscaler CRD was installed and a VPA
	// created for the StatefulSet db (minAllowed memory 600Mi).
	VPA bool
}

// Key returns the workload key of kind/name in the fixture's namespace.
func (f *Fixture) Key(kind workload.Kind, name string) workload.Key {
	return workload.Key{Namespace: f.Namespace, Kind: kind, Name: name}
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

func rl(cpu, mem string) corev1.ResourceList {
	out := corev1.ResourceList{}
	if cpu != "" {
		out[corev1.ResourceCPU] = q(cpu)
	}
	if mem != "" {
		out[corev1.ResourceMemory] = q(mem)
	}
	return out
}

func container(name, reqCPU, reqMem, limCPU, limMem string) corev1.Container {
	return corev1.Container{Name: name, Image: "example.invalid/" + name + ":1",
		Resources: corev1.ResourceRequirements{Requests: rl(reqCPU, reqMem), Limits: rl(limCPU, limMem)}}
}

func template(app string, usage map[string]string, cs ...corev1.Container) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}, Annotations: usage},
		Spec: corev1.PodSpec{
			Containers: cs, NodeSelector: map[string]string{"type": "kwok"},
			TerminationGracePeriodSeconds: ptr[int64](0),
		},
	}
}

func usage(cpu, mem string) map[string]string {
	return map[string]string{UsageCPU: cpu, UsageMemory: mem}
}

func ptr[T any](v T) *T { return &v }

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// CreateWorkloads creates, in ns: a LimitRange (container max 1 CPU / 1Gi,
// default limits 500m/512Mi), a ResourceQuota (requests.cpu 2) that the
// recommendations outgrow, an HPA on web, the Deployments web (init
// container, native sidecar, app), hungry (uses 1.5 CPU, above the
// LimitRange max) and billing (a JVM with MaxRAMPercentage=75), the
// StatefulSet db (critical), the DaemonSet agent, the CronJob report with a
// Job it owns, the Job backfill, the standalone ReplicaSet legacy and the
// bare Pod debug — each with emulated usage. With vpa, it also installs the
// VPA CRD and a VPA for db.
func CreateWorkloads(t testing.TB, cfg *rest.Config, ns string, vpa bool) *Fixture {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	f := &Fixture{Namespace: ns, Usage: map[workload.ContainerKey]workload.Resources{}}
	use := func(kind workload.Kind, name, ctr string, cpu workload.Millicores, mem workload.Bytes) {
		f.Usage[workload.ContainerKey{Workload: f.Key(kind, name), Container: ctr}] = workload.Resources{CPU: cpu, Memory: mem}
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("creating %s: %v", what, err)
		}
	}

	_, err := cs.CoreV1().LimitRanges(ns).Create(ctx, &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "limits"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer,
			Max:  rl("1", "1Gi"), Min: rl("5m", "8Mi"),
			Default: rl("500m", "512Mi"), DefaultRequest: rl("100m", "128Mi"),
			MaxLimitRequestRatio: rl("50", ""),
		}}},
	}, metav1.CreateOptions{})
	must("limitrange", err)
	_, err = cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: q("2"), corev1.ResourceRequestsMemory: q("8Gi")}},
	}, metav1.CreateOptions{})
	must("resourcequota", err)
	// Quota admission refuses pods until the controller has computed the
	// quota's status.
	Eventually(t, 30*time.Second, "the quota's status", func(ctx context.Context) (bool, error) {
		rq, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "compute", metav1.GetOptions{})
		return err == nil && len(rq.Status.Hard) > 0, err
	})

	always := corev1.ContainerRestartPolicyAlways
	web := template("web", map[string]string{
		ContainerUsagePrefix + "cpu.app": "200m", ContainerUsagePrefix + "memory.app": "300Mi",
		ContainerUsagePrefix + "cpu.proxy": "20m", ContainerUsagePrefix + "memory.proxy": "32Mi",
	}, container("app", "100m", "256Mi", "", "512Mi"))
	web.Spec.InitContainers = []corev1.Container{container("migrate", "50m", "64Mi", "", ""), container("proxy", "10m", "32Mi", "", "64Mi")}
	web.Spec.InitContainers[1].RestartPolicy = &always
	use(workload.Deployment, "web", "app", 200, 300*workload.MiB)
	use(workload.Deployment, "web", "proxy", 20, 32*workload.MiB)
	billing := template("billing", usage("300m", "700Mi"), container("app", "100m", "768Mi", "", "1Gi"))
	billing.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "JAVA_TOOL_OPTIONS", Value: "-XX:+UseG1GC -XX:MaxRAMPercentage=75"}}
	use(workload.Deployment, "billing", "app", 300, 700*workload.MiB)
	for _, d := range []struct {
		name     string
		replicas int32
		tmpl     corev1.PodTemplateSpec
	}{
		{"web", 3, web},
		{"hungry", 1, template("hungry", usage("1500m", "200Mi"), container("app", "200m", "128Mi", "1", "512Mi"))},
		{"billing", 2, billing},
	} {
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: d.name, Labels: map[string]string{"app": d.name}},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(d.replicas), Selector: selector(d.name), Template: d.tmpl},
		}, metav1.CreateOptions{})
		must("deployment "+d.name, err)
	}
	use(workload.Deployment, "hungry", "app", 1500, 200*workload.MiB)

	_, err = cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			// min = max: the HPA must not change the replica count
			// under the test's feet.
			MinReplicas: ptr[int32](3), MaxReplicas: 3,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](70)},
			}}},
		},
	}, metav1.CreateOptions{})
	must("hpa", err)

	_, err = cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: map[string]string{"app": "db", workload.TierKey: workload.TierCritical}},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr[int32](1), ServiceName: "db", Selector: selector("db"),
			Template: template("db", usage("100m", "400Mi"), container("postgres", "100m", "512Mi", "", "1Gi"))},
	}, metav1.CreateOptions{})
	must("statefulset", err)
	use(workload.StatefulSet, "db", "postgres", 100, 400*workload.MiB)

	_, err = cs.AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: selector("agent"),
			Template: template("agent", usage("10m", "20Mi"), container("agent", "10m", "32Mi", "", "64Mi"))},
	}, metav1.CreateOptions{})
	must("daemonset", err)
	use(workload.DaemonSet, "agent", "agent", 10, 20*workload.MiB)

	_, err = cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr[int32](1), Selector: selector("legacy"),
			Template: template("legacy", usage("50m", "64Mi"), container("server", "50m", "64Mi", "", "128Mi"))},
	}, metav1.CreateOptions{})
	must("replicaset", err)
	use(workload.ReplicaSet, "legacy", "server", 50, 64*workload.MiB)

	debug := template("debug", usage("5m", "10Mi"), container("shell", "10m", "16Mi", "", "32Mi"))
	_, err = cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Labels: debug.Labels, Annotations: debug.Annotations}, Spec: debug.Spec}, metav1.CreateOptions{})
	must("pod", err)
	use(workload.Pod, "debug", "shell", 5, 10*workload.MiB)

	jobTmpl := func(app string) corev1.PodTemplateSpec {
		tp := template(app, usage("100m", "64Mi"), container(app, "100m", "64Mi", "", "128Mi"))
		tp.Spec.RestartPolicy = corev1.RestartPolicyNever
		delete(tp.Labels, "app") // the Job controller sets its own selector labels
		return tp
	}
	cj, err := cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "report"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: ptr(true),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl("report")}}},
	}, metav1.CreateOptions{})
	must("cronjob", err)
	// The Job a schedule would have made, owned by the CronJob as the
	// CronJob controller does it (waiting for the schedule takes too long).
	_, err = cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "report-29000000", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true),
		}}},
		Spec: batchv1.JobSpec{Template: jobTmpl("report")},
	}, metav1.CreateOptions{})
	must("job of the cronjob", err)
	_, err = cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "backfill"},
		Spec:       batchv1.JobSpec{Template: jobTmpl("backfill")},
	}, metav1.CreateOptions{})
	must("job", err)

	if vpa {
		EnsureVPACRD(t, cfg)
		dc := dynamic.NewForConfigOrDie(cfg)
		_, err := dc.Resource(vpaGVR).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
			"metadata": map[string]any{"name": "db"},
			"spec": map[string]any{
				"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
				"updatePolicy": map[string]any{"updateMode": "Off"},
				"resourcePolicy": map[string]any{"containerPolicies": []any{map[string]any{
					"containerName": "*", "minAllowed": map[string]any{"memory": "600Mi"}, "maxAllowed": map[string]any{"cpu": "2", "memory": "2Gi"},
				}}},
			},
		}}, metav1.CreateOptions{})
		must("vpa", err)
		f.VPA = true
	}
	// web 3, hungry 1, billing 2, db 1, agent one per node, legacy 1, debug 1.
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
	must("node list", err)
	f.RunningPods = 3 + 1 + 2 + 1 + len(nodes.Items) + 1 + 1
	return f
}

// WaitForPods waits until the fixture's long-running pods run and its Job
// pods have completed.
func (f *Fixture) WaitForPods(t testing.TB, cfg *rest.Config) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	Eventually(t, 90*time.Second, fmt.Sprintf("%d pods Running and 2 Succeeded in %s", f.RunningPods, f.Namespace), func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(f.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running, done := 0, 0
		for _, p := range pods.Items {
			switch p.Status.Phase {
			case corev1.PodRunning:
				running++
			case corev1.PodSucceeded:
				done++
			}
		}
		return running == f.RunningPods && done == 2, fmt.Errorf("%d running, %d succeeded", running, done)
	})
}

// WaitForMetrics waits until metrics-server reports every running pod of
// the fixture (about 20-40 s after the pods start).
func (f *Fixture) WaitForMetrics(t testing.TB, cfg *rest.Config) {
	t.Helper()
	mc := metricsclient.NewForConfigOrDie(cfg)
	Eventually(t, 120*time.Second, "PodMetrics of every running pod in "+f.Namespace, func(ctx context.Context) (bool, error) {
		l, err := mc.MetricsV1beta1().PodMetricses(f.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return len(l.Items) >= f.RunningPods, fmt.Errorf("%d of %d pods have metrics", len(l.Items), f.RunningPods)
	})
}

// Deployment is a Deployment of one container, app, on the kwok nodes:
// its requests, the usage kwok emulates for it, and the Deployment's
// annotations.
func Deployment(name string, replicas int32, reqCPU, reqMem, useCPU, useMem string, annotations map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector(name),
			Template: template(name, usage(useCPU, useMem), container("app", reqCPU, reqMem, "", ""))},
	}
}

// WaitForPodMetrics waits until metrics-server reports n pods in ns.
func WaitForPodMetrics(t testing.TB, cfg *rest.Config, ns string, n int) {
	t.Helper()
	(&Fixture{Namespace: ns, RunningPods: n}).WaitForMetrics(t, cfg)
}
