package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/metrics/prometheus/openmetrics"
	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

// TestIntegrationControllerPrometheus runs the controller on a real
// cluster with its usage from a real Prometheus instead of metrics-server:
// billing's pods, as the cluster runs them, hold 600m of CPU in Prometheus
// (metrics-server would say 300m) from two hours ago to twenty minutes
// ahead. The leader backfills an hour, recommends from it, and reads on a
// step at a time; a replica started after it resumes from the checkpoint's
// cursor instead of reading the backfill again.
func TestIntegrationControllerPrometheus(t *testing.T) {
	cl := newControllerCluster(t, "ctlprom")
	kubeconfig, cs, dc, ns, system, f := cl.kubeconfig, cl.cs, cl.dc, cl.ns, cl.system, cl.f

	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=billing"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	const step = 5 * time.Second
	now := time.Now().Truncate(step)
	st := history.NewStore()
	billing := f.Key(workload.Deployment, "billing")
	for at := now.Add(-2 * time.Hour); !at.After(now.Add(20 * time.Minute)); at = at.Add(step) {
		for _, p := range pods.Items {
			st.Add(workload.ContainerKey{Workload: billing, Container: "app"}, workload.Sample{Time: at, Pod: p.Name,
				CPU: 0.6, HasCPU: true, Memory: 500 * workload.MiB, HasMemory: true})
		}
	}
	st.Finalize()
	prom, promtool := promtest.Require(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, promtest.Backfill(ctx, promtool, dir, 24*time.Hour, func(w io.Writer) error {
		return openmetrics.Write(w, openmetrics.Options{Step: step}, openmetrics.Source{Store: st})
	}))
	srv, err := promtest.Start(ctx, prom, dir)
	require.NoError(t, err)
	defer srv.Stop()

	args := []string{"--kubeconfig", kubeconfig, "-n", ns, "--lease-namespace", system, "--profile", "vpa",
		"--interval", "1s", "--recommend", "2s", "--checkpoint", "2s",
		"--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "1s",
		"--prometheus-url", srv.URL, "--prometheus-step", step.String(), "--prometheus-backfill", "1h", "--prometheus-delay", "2s"}
	a := startReplica(t, "a", args...)

	recs := dc.Resource(v1alpha1.GroupVersionResource).Namespace(ns)
	var app *v1alpha1.ContainerDocument
	kubetest.Eventually(t, 60*time.Second, "billing's Recommendation from Prometheus's usage", func(ctx context.Context) (bool, error) {
		u, err := recs.Get(ctx, v1alpha1.Name(billing), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		var rec v1alpha1.Recommendation
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &rec); err != nil {
			return false, err
		}
		for i := range rec.Status.Workload.Containers {
			if c := &rec.Status.Workload.Containers[i]; c.Name == "app" && c.Recommended != nil {
				app = c
				return true, nil
			}
		}
		return false, fmt.Errorf("no recommendation for app yet: %v", unstructuredReasons(u))
	})
	// vpa: p90 + 15 % of 600m; the histogram's bucket may add up to 5 %.
	assert.InDelta(t, 690, millicores(t, app.Recommended.Requests.CPU), 0.1*690, "billing app cpu (reasons %v)", app.Reasons)

	backfill := a.logLines("reading Prometheus from")
	require.Len(t, backfill, 1, "one backfill")
	since, err := time.Parse(time.RFC3339, backfill[0]["since"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, now.Add(-time.Hour), since, 2*step, "the backfill starts --prometheus-backfill ago")
	// A checkpoint; SIGTERM; b resumes at the cursor: it reads no backfill.
	kubetest.Eventually(t, 30*time.Second, "a checkpoint", func(context.Context) (bool, error) {
		return len(a.logLines("checkpointed")) > 0, nil
	})
	var backfilled float64
	for _, c := range a.logLines("cycle") {
		backfilled += c["samples"].(float64)
	}
	perStep := float64(len(pods.Items))
	assert.InDelta(t, 720*perStep, backfilled, 4*perStep, "an hour of billing's app at one sample a step a pod")
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-a.done:
	case <-time.After(20 * time.Second):
		t.Fatal("a did not stop on SIGTERM")
	}
	last := a.logLines("checkpointed")
	final := last[len(last)-1]
	require.NotEmpty(t, a.logLines("cycle"))
	b := startReplica(t, "b", args...)
	kubetest.Eventually(t, 30*time.Second, "b to restore the checkpoint and read new steps", func(context.Context) (bool, error) {
		for _, c := range b.logLines("cycle") {
			if c["samples"].(float64) > 0 {
				return len(b.logLines("restored the checkpoint")) == 1, nil
			}
		}
		return false, nil
	})
	assert.Equal(t, final["samples"], b.logLines("restored the checkpoint")[0]["samples"], "nothing learned is lost")
	assert.Empty(t, b.logLines("reading Prometheus from"), "b reads on from the cursor")
	readUntil := func(r *replica) time.Time {
		cycles := r.logLines("cycle")
		at, err := time.Parse(time.RFC3339, cycles[len(cycles)-1]["read until"].(string))
		require.NoError(t, err)
		return at
	}
	var read float64
	for _, c := range b.logLines("cycle") {
		read += c["samples"].(float64)
	}
	from, until := readUntil(a), readUntil(b)
	assert.Equal(t, perStep*until.Sub(from).Seconds()/step.Seconds(), read,
		"b reads each step after a's last once: %s to %s", from, until)
	if t.Failed() {
		t.Logf("a: %s", strings.Join(logTail(a), "\n"))
	}
}

// unstructuredReasons digs the reasons out of a Recommendation for a
// failure message.
func unstructuredReasons(u *unstructured.Unstructured) any {
	cs, _, _ := unstructured.NestedSlice(u.Object, "status", "workload", "containers")
	return cs
}

// logTail is a replica's last log lines.
func logTail(r *replica) []string {
	lines := strings.Split(r.logs.String(), "\n")
	return lines[max(0, len(lines)-20):]
}
