package kube

import (
	"math"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"rightsize.dev/rightsize/recommender/workload"
)

// detectJVM finds a JVM's heap settings in a container's environment,
// command and args (R16). The JVM reads JAVA_TOOL_OPTIONS and friends
// before its command line and the last occurrence of a flag wins, so the
// environment is scanned first. A container is a JVM when it sets a heap
// flag, runs "java", or uses a well-known JDK image; without flags the
// JVM's default (25 % of the limit) applies. Values from ConfigMaps or
// Secrets are not resolved.
func detectJVM(c corev1.Container) *workload.JVM {
	var jvm workload.JVM
	found := false
	scan := func(s string) {
		for _, tok := range strings.Fields(s) {
			tok = strings.Trim(tok, `"'`)
			if v, ok := strings.CutPrefix(tok, "-Xmx"); ok {
				if b, ok := parseJVMSize(v); ok {
					jvm.MaxHeap, found = b, true
				}
			} else if v, ok := strings.CutPrefix(tok, "-XX:MaxHeapSize="); ok {
				if b, ok := parseJVMSize(v); ok {
					jvm.MaxHeap, found = b, true
				}
			} else if v, ok := strings.CutPrefix(tok, "-XX:MaxRAMPercentage="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f <= 100 {
					jvm.MaxRAMPercentage, found = f, true
				}
			} else if v, ok := strings.CutPrefix(tok, "-XX:MaxRAMFraction="); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					jvm.MaxRAMPercentage, found = 100/float64(n), true
				}
			} else if path.Base(tok) == "java" {
				found = true
			}
		}
	}
	for _, e := range c.Env {
		if jvmOptionsVar(e.Name) {
			scan(e.Value)
		}
	}
	for _, s := range c.Command {
		scan(s)
	}
	for _, s := range c.Args {
		scan(s)
	}
	if !found && !jdkImage(c.Image) {
		return nil
	}
	return &jvm
}

// jvmOptionsVar tells the variables JVM flags are passed in: the JVM's own
// (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS) and the scripts'
// conventions (JAVA_OPTS, CATALINA_OPTS, KAFKA_HEAP_OPTS, ...).
func jvmOptionsVar(name string) bool {
	switch name {
	case "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS":
		return true
	}
	return strings.HasSuffix(name, "_OPTS")
}

func jdkImage(image string) bool {
	repo := image
	if i := strings.LastIndexByte(repo, '/'); i >= 0 {
		repo = repo[i+1:]
	}
	if i := strings.IndexAny(repo, ":@"); i >= 0 {
		repo = repo[:i]
	}
	for _, n := range []string{"openjdk", "eclipse-temurin", "temurin", "amazoncorretto", "corretto", "zulu-openjdk", "ibm-semeru-runtimes", "java"} {
		if repo == n {
			return true
		}
	}
	return false
}

// parseJVMSize reads a HotSpot size: decimal digits with an optional k, m,
// g or t suffix (either case); plain digits are bytes. Like HotSpot it takes
// no sign or space. A size that does not fit in an int64 is rejected, not
// saturated: HotSpot refuses to start with a heap it cannot reserve, so the
// flag sets no heap, and a saturated 8 EiB heap would only make R16 ask for
// an absurd limit.
func parseJVMSize(s string) (workload.Bytes, bool) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = int64(workload.KiB)
		case 'm', 'M':
			mult = int64(workload.MiB)
		case 'g', 'G':
			mult = int64(workload.GiB)
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v > math.MaxInt64/mult {
		return 0, false
	}
	return workload.Bytes(v * mult), true
}
