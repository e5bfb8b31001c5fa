package kube

import (
	"math"
	"math/big"
	"regexp"
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
	tests := []struct {
		in   string
		want workload.Bytes // 0: not a size
	}{
		{"512m", 512 * workload.MiB},
		{"2G", 2 * workload.GiB},
		{"1024k", workload.MiB},
		{"4096", 4096},
		{"1t", 1 << 40},
		{"0512m", 512 * workload.MiB},
		{"9223372036854775807", math.MaxInt64},
		{"8589934591g", math.MaxInt64 - workload.GiB + 1},
		{"", 0},
		{"m", 0},
		{"0", 0},
		{"-1g", 0},
		{"+512m", 0},
		{" 512m", 0},
		{"1.5g", 0},
		{"12x", 0},
		{"0x100000", 0},
		{"1_000m", 0},
		// Sizes beyond an int64 wrapped into negative or small ones.
		{"99999999999999999g", 0},
		{"9223372036854775807k", 0},
		{"8589934592g", 0},
		{"8388608t", 0},
		{"9223372036854775808", 0},
		{"18446744073709551617", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseJVMSize(tt.in)
			assert.Equal(t, tt.want != 0, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDetectJVMIgnoresSizesBeyondInt64(t *testing.T) {
	c := corev1.Container{Image: "app:1", Command: []string{"java"}, Args: []string{"-Xmx1g", "-Xmx99999999999999999g", "-XX:MaxHeapSize=9223372036854775807k"}}
	assert.Equal(t, &workload.JVM{MaxHeap: workload.GiB}, detectJVM(c))
}

// jvmSizeSyntax is HotSpot's: digits and an optional unit.
var jvmSizeSyntax = regexp.MustCompile(`^[0-9]+[kKmMgGtT]?$`)

// FuzzParseJVMSize checks parseJVMSize against exact arithmetic: a size in
// HotSpot's syntax whose value fits in an int64 and is positive is read as
// that value; anything else is not a size.
func FuzzParseJVMSize(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseJVMSize(s)
		if got < 0 || (!ok && got != 0) {
			t.Fatalf("parseJVMSize(%q) = %d, %v", s, got, ok)
		}
		want, valid := new(big.Int), jvmSizeSyntax.MatchString(s)
		if valid {
			digits, unit := s, byte(0)
			if c := s[len(s)-1]; c < '0' || c > '9' {
				digits, unit = s[:len(s)-1], c|0x20
			}
			want.SetString(digits, 10)
			want.Lsh(want, map[byte]uint{0: 0, 'k': 10, 'm': 20, 'g': 30, 't': 40}[unit])
			valid = want.Sign() > 0 && want.IsInt64()
		}
		if ok != valid || (ok && int64(got) != want.Int64()) {
			t.Fatalf("parseJVMSize(%q) = %d, %v; want %v, %v", s, got, ok, want, valid)
		}
	})
}
