package hpaobject

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rightsize.dev/rightsize/recommender/hpa"
	"rightsize.dev/rightsize/recommender/workload"
)

func ptr[T any](v T) *T { return &v }

var webKey = workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}

// object is an autoscaling/v2 HPA on shop/Deployment/web with spec.
func object(spec autoscalingv2.HorizontalPodAutoscalerSpec) *autoscalingv2.HorizontalPodAutoscaler {
	spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web-hpa", Namespace: "shop"}, Spec: spec}
}

func resourceMetric(name corev1.ResourceName, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: name, Target: target}}
}

func utilization(u int32) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u}
}

func averageValue(q string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse(q))}
}

func TestFromObject(t *testing.T) {
	tests := []struct {
		name  string
		spec  autoscalingv2.HorizontalPodAutoscalerSpec
		want  workload.HPA
		notes []string
	}{
		{
			name: "minReplicas left out is 1",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 5},
			want: workload.HPA{MinReplicas: 1, MaxReplicas: 5},
		},
		{
			name: "resource metrics, utilization and average value",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: ptr[int32](2), MaxReplicas: 8, Metrics: []autoscalingv2.MetricSpec{
				resourceMetric(corev1.ResourceCPU, utilization(70)),
				resourceMetric(corev1.ResourceMemory, averageValue("512Mi")),
			}},
			want: workload.HPA{MinReplicas: 2, MaxReplicas: 8, Metrics: []workload.MetricTarget{
				{Resource: "cpu", AverageUtilization: 70}, {Resource: "memory", AverageValue: "512Mi"},
			}},
		},
		{
			name: "Pods, Object and External metrics by name",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 8, Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"}, Target: averageValue("1k")}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "requests_per_second"},
					Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(resource.MustParse("10k"))}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue_messages_ready", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "orders"}}},
					Target: averageValue("30")}},
			}},
			want: workload.HPA{MinReplicas: 1, MaxReplicas: 8, Metrics: []workload.MetricTarget{
				{Resource: "http_requests_per_second", AverageValue: "1k"},
				{Resource: "requests_per_second", AverageValue: "10k"},
				{Resource: "queue_messages_ready", AverageValue: "30"},
			}},
			notes: []string{
				`spec.metrics[1]: Object metric "requests_per_second" of "Ingress" "main" is read as a target on its name: the object and selector are not kept; the Value target 10k (a total) is read as an average value`,
				`spec.metrics[2]: External metric "queue_messages_ready" is read as a target on its name: its source type and selector are not kept`,
			},
		},
		{
			name: "ContainerResource metric by resource name",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 4, Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
					Name: corev1.ResourceCPU, Container: "app", Target: utilization(60)}},
			}},
			want:  workload.HPA{MinReplicas: 1, MaxReplicas: 4, Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}},
			notes: []string{`spec.metrics[0]: the cpu target of container "app" is read as one on the pod`},
		},
		{
			name: "nil sources and unknown types are notes, not panics",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 4, Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType},
				{Type: autoscalingv2.PodsMetricSourceType},
				{Type: autoscalingv2.ObjectMetricSourceType},
				{Type: autoscalingv2.ExternalMetricSourceType},
				{Type: autoscalingv2.ContainerResourceMetricSourceType},
				{Type: "Custom"},
				resourceMetric(corev1.ResourceCPU, autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}),
				resourceMetric("ephemeral-storage", utilization(50)),
			}},
			want: workload.HPA{MinReplicas: 1, MaxReplicas: 4},
			notes: []string{
				"spec.metrics[0]: type Resource without its source",
				"spec.metrics[1]: type Pods without its source",
				"spec.metrics[2]: type Object without its source",
				"spec.metrics[3]: type External without its source",
				"spec.metrics[4]: type ContainerResource without its source",
				`spec.metrics[5]: metric type "Custom" is not kept`,
				`spec.metrics[6]: the target on "cpu" has no value`,
				`spec.metrics[7]: the target on resource "ephemeral-storage" is not kept: rightsize sizes cpu and memory`,
			},
		},
		{
			name: "behavior: missing fields take the direction's defaults",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 4, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   &autoscalingv2.HPAScalingRules{},
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: ptr(autoscalingv2.DisabledPolicySelect)},
			}},
			want: workload.HPA{MinReplicas: 1, MaxReplicas: 4, Behavior: workload.Behavior{
				ScaleUp:   &workload.ScalingRules{Policies: workload.DefaultScaleUp.Policies},
				ScaleDown: &workload.ScalingRules{StabilizationWindow: 300 * time.Second, Policies: workload.DefaultScaleDown.Policies, Select: workload.SelectDisabled},
			}},
		},
		{
			name: "behavior as written, one direction, with a tolerance",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 4, Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](600), SelectPolicy: ptr(autoscalingv2.MinChangePolicySelect),
					Tolerance: ptr(resource.MustParse("50m")),
					Policies:  []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 120}}},
			}},
			want: workload.HPA{MinReplicas: 1, MaxReplicas: 4, Behavior: workload.Behavior{
				ScaleDown: &workload.ScalingRules{StabilizationWindow: 600 * time.Second, Select: workload.SelectMin,
					Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 1, Period: 2 * time.Minute}}},
			}},
			notes: []string{"spec.behavior.scaleDown.tolerance 50m is not kept: rightsize assumes the cluster's"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Name, tc.want.Target = "web-hpa", webKey
			tc.want.Unread = tc.notes // the HPA carries its notes along
			got, notes := FromObject(object(tc.spec))
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.notes, notes)
		})
	}
}

func TestFromObjectNil(t *testing.T) {
	got, notes := FromObject(nil)
	assert.Equal(t, workload.HPA{}, got)
	assert.NotEmpty(t, notes)

	got, notes = FromObject(&autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Rollout", Name: "canary"},
		Behavior:       &autoscalingv2.HorizontalPodAutoscalerBehavior{},
	}})
	assert.Equal(t, workload.HPA{Target: workload.Key{Kind: "Rollout", Name: "canary"}, MinReplicas: 1}, got, "an unknown kind is kept as it is")
	assert.Empty(t, notes)
}

func TestToObject(t *testing.T) {
	h := hpa.Defaults(webKey, false)
	obj := ToObject(h)
	assert.Equal(t, metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"}, obj.TypeMeta)
	assert.Equal(t, metav1.ObjectMeta{Name: "web", Namespace: "shop"}, obj.ObjectMeta, "named after the workload")
	assert.Equal(t, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}, obj.Spec.ScaleTargetRef)
	assert.Equal(t, ptr[int32](3), obj.Spec.MinReplicas)
	assert.Equal(t, int32(20), obj.Spec.MaxReplicas)
	assert.Equal(t, []autoscalingv2.MetricSpec{resourceMetric(corev1.ResourceCPU, utilization(70)), resourceMetric(corev1.ResourceMemory, utilization(80))}, obj.Spec.Metrics)
	require.NotNil(t, obj.Spec.Behavior)
	assert.Equal(t, &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](300), SelectPolicy: ptr(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}}}, obj.Spec.Behavior.ScaleDown)
	assert.NoError(t, Validate(h))

	h.Name, h.Behavior = "custom", workload.Behavior{}
	obj = ToObject(h)
	assert.Equal(t, "custom", obj.Name)
	assert.Nil(t, obj.Spec.Behavior, "no rules set, no behavior")

	h.Behavior.ScaleUp = &workload.ScalingRules{Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 2, Period: time.Minute}}}
	obj = ToObject(h)
	require.NotNil(t, obj.Spec.Behavior)
	assert.Nil(t, obj.Spec.Behavior.ScaleDown, "a nil rule is left out")
	assert.Nil(t, obj.Spec.Behavior.ScaleUp.SelectPolicy, "an empty select is left out")
}

// TestRoundTrip: FromObject(ToObject(h)) is h, its name filled in, for the
// HPAs rightsize reads and recommends.
func TestRoundTrip(t *testing.T) {
	r11 := hpa.R11()
	tests := []struct {
		name string
		h    workload.HPA
	}{
		{"the rules' defaults", hpa.Defaults(webKey, false)},
		{"critical", hpa.Defaults(workload.Key{Namespace: "db", Kind: workload.StatefulSet, Name: "pg"}, true)},
		{"named, no behavior", workload.HPA{Name: "web-hpa", Target: webKey, MinReplicas: 1, MaxReplicas: 3,
			Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 50}}}},
		{"values and a Pods metric", workload.HPA{Name: "rs", Target: workload.Key{Namespace: "a", Kind: workload.ReplicaSet, Name: "rs"}, MinReplicas: 2, MaxReplicas: 100000,
			Metrics: []workload.MetricTarget{{Resource: "memory", AverageValue: "1536Mi"}, {Resource: "http_requests_per_second", AverageValue: "1k"}}}},
		{"one direction", workload.HPA{Name: "web", Target: webKey, MinReplicas: 3, MaxReplicas: 9,
			Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}}, Behavior: workload.Behavior{ScaleDown: r11.ScaleDown}}},
		{"disabled scale down", workload.HPA{Name: "web", Target: webKey, MinReplicas: 3, MaxReplicas: 9,
			Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 70}},
			Behavior: workload.Behavior{ScaleUp: r11.ScaleUp, ScaleDown: &workload.ScalingRules{StabilizationWindow: time.Hour, Select: workload.SelectDisabled,
				Policies: []workload.ScalingPolicy{{Type: workload.PodsPolicy, Value: 1, Period: 30 * time.Minute}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, Validate(tc.h))
			got, notes := FromObject(ToObject(tc.h))
			want := tc.h
			if want.Name == "" {
				want.Name = want.Target.Name
			}
			assert.Equal(t, want, got)
			assert.Empty(t, notes)
		})
	}
}

func TestValidate(t *testing.T) {
	good := hpa.Defaults(webKey, false)
	tests := []struct {
		name   string
		mutate func(*workload.HPA)
		want   string
	}{
		{"max below min", func(h *workload.HPA) { h.MaxReplicas = 2 }, "spec.maxReplicas 2 is below spec.minReplicas 3"},
		{"too many replicas", func(h *workload.HPA) { h.MaxReplicas = 1 << 40 }, "spec.maxReplicas 2147483647 is above 100000"},
		{"min 0", func(h *workload.HPA) { h.MinReplicas = 0 }, "spec.minReplicas 0 is below 1"},
		{"utilization", func(h *workload.HPA) { h.Metrics[0].AverageUtilization = 1001 }, "spec.metrics[0].resource.target.averageUtilization 1001 is outside 1..1000"},
		{"bad quantity", func(h *workload.HPA) { h.Metrics[1] = workload.MetricTarget{Resource: "memory", AverageValue: "lots"} },
			`metric 1 ("memory"): no utilization (cpu, memory) or average value that parses as a quantity`},
		{"utilization on a Pods metric", func(h *workload.HPA) { h.Metrics[1] = workload.MetricTarget{Resource: "rps", AverageUtilization: 50} }, `metric 1 ("rps")`},
		{"not scalable", func(h *workload.HPA) { h.Target.Kind = workload.DaemonSet }, `spec.scaleTargetRef.kind "DaemonSet": an HPA scales a Deployment, StatefulSet or ReplicaSet`},
		{"crafted name", func(h *workload.HPA) { h.Name = "web\nkind: Secret" }, `metadata.name "web\nkind: Secret" is not valid`},
		{"no namespace", func(h *workload.HPA) { h.Target.Namespace = "" }, "metadata.namespace is missing"},
		{"window", func(h *workload.HPA) { h.Behavior.ScaleDown.StabilizationWindow = 2 * time.Hour },
			"spec.behavior.scaleDown.stabilizationWindowSeconds 7200 is outside 0..3600"},
		{"period", func(h *workload.HPA) { h.Behavior.ScaleUp.Policies[0].Period = time.Hour },
			"spec.behavior.scaleUp.policies[0].periodSeconds 3600 is outside 1..1800"},
		{"policy value", func(h *workload.HPA) { h.Behavior.ScaleUp.Policies[1].Value = 0 }, "spec.behavior.scaleUp.policies[1].value 0 is not positive"},
		{"policy type", func(h *workload.HPA) { h.Behavior.ScaleUp.Policies[1].Type = "Nodes" }, `spec.behavior.scaleUp.policies[1].type "Nodes": want Pods or Percent`},
		{"select", func(h *workload.HPA) { h.Behavior.ScaleUp.Select = "Most" }, `spec.behavior.scaleUp.selectPolicy "Most": want Max, Min or Disabled`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := hpa.Defaults(webKey, false)
			tc.mutate(&h)
			err := Validate(h)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.NoError(t, Validate(good))
}
