package kube

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"rightsize.dev/rightsize/recommender/workload"
)

func TestDetectJVM(t *testing.T) {
	tests := []struct {
		name string
		c    corev1.Container
		want *workload.JVM
	}{
		{name: "not a JVM", c: corev1.Container{Image: "nginx:1.27", Command: []string{"nginx", "-g", "daemon off;"}}},
		{
			name: "MaxRAMPercentage in JAVA_TOOL_OPTIONS",
			c:    corev1.Container{Image: "app:1", Env: []corev1.EnvVar{{Name: "JAVA_TOOL_OPTIONS", Value: "-XX:+UseG1GC -XX:MaxRAMPercentage=75.0"}}},
			want: &workload.JVM{MaxRAMPercentage: 75},
		},
		{
			name: "-Xmx in JAVA_OPTS",
			c:    corev1.Container{Image: "app:1", Env: []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xms256m -Xmx512m"}}},
			want: &workload.JVM{MaxHeap: 512 * workload.MiB},
		},
		{
			name: "args win over the environment",
			c: corev1.Container{Image: "app:1", Env: []corev1.EnvVar{{Name: "JAVA_TOOL_OPTIONS", Value: "-Xmx1g"}},
				Command: []string{"/opt/java/bin/java"}, Args: []string{"-Xmx2G", "-jar", "app.jar"}},
			want: &workload.JVM{MaxHeap: 2 * workload.GiB},
		},
		{
			name: "shell command line",
			c:    corev1.Container{Image: "app:1", Command: []string{"sh", "-c", "exec java -XX:MaxRAMFraction=2 -jar /app.jar"}},
			want: &workload.JVM{MaxRAMPercentage: 50},
		},
		{
			name: "MaxHeapSize in bytes",
			c:    corev1.Container{Image: "app:1", Args: []string{"-XX:MaxHeapSize=1073741824"}},
			want: &workload.JVM{MaxHeap: workload.GiB},
		},
		{name: "java without flags", c: corev1.Container{Image: "app:1", Command: []string{"java", "-jar", "app.jar"}}, want: &workload.JVM{}},
		{name: "JDK image without flags", c: corev1.Container{Image: "docker.io/library/eclipse-temurin:21-jre"}, want: &workload.JVM{}},
		{
			name: "KAFKA_HEAP_OPTS",
			c:    corev1.Container{Image: "kafka:3", Env: []corev1.EnvVar{{Name: "KAFKA_HEAP_OPTS", Value: "-Xmx1G -Xms1G"}}},
			want: &workload.JVM{MaxHeap: workload.GiB},
		},
		{
			name: "bad values are ignored",
			c:    corev1.Container{Image: "app:1", Env: []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xmxlots -XX:MaxRAMPercentage=150"}}},
		},
		{
			name: "unrelated variables are not read",
			c:    corev1.Container{Image: "app:1", Env: []corev1.EnvVar{{Name: "HELP_TEXT", Value: "use -Xmx512m"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, detectJVM(tt.c))
		})
	}
}

func TestParseJVMSize(t *testing.T) {
	for in, want := range map[string]workload.Bytes{"512m": 512 * workload.MiB, "2G": 2 * workload.GiB, "1024k": workload.MiB, "4096": 4096, "1t": 1 << 40} {
		got, ok := parseJVMSize(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "m", "-1g", "1.5g", "12x"} {
		_, ok := parseJVMSize(in)
		assert.False(t, ok, in)
	}
}
