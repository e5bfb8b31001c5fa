package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rightsize.dev/rightsize/controller"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender/livestate"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/report/crd/v1alpha1"
)

const crdFile = "../../../deploy/controller/crd/rightsize.dev_recommendations.yaml"

// envControllerArgs makes the test binary a controller process: the
// integration test starts replicas as processes so that it can kill one
// with SIGKILL.
const envControllerArgs = "RIGHTSIZE_TEST_CONTROLLER_ARGS"

func TestControllerProcess(t *testing.T) {
	args := os.Getenv(envControllerArgs)
	if args == "" {
		t.Skip("runs only as a controller replica started by TestIntegrationController")
	}
	var argv []string
	require.NoError(t, json.Unmarshal([]byte(args), &argv))
	os.Exit(Main("rightsize", argv, StdStreams()))
}

// replica is a controller process.
type replica struct {
	id, url string
	cmd     *exec.Cmd
	logs    *lockedBuffer
	done    chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logLines returns the replica's JSON log records with message msg.
func (r *replica) logLines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.logs.String()))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func startReplica(t *testing.T, id string, args ...string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	argv, err := json.Marshal(append([]string{"controller", "--identity", id, "--listen", addr}, args...))
	require.NoError(t, err)
	r := &replica{id: id, url: "http://" + addr, logs: &lockedBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestControllerProcess$", "-test.v=false")
	r.cmd.Env = append(os.Environ(), envControllerArgs+"="+string(argv))
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	require.NoError(t, r.cmd.Start())
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("replica %s logged:\n%s", id, r.logs.String())
		}
	})
	kubetest.Eventually(t, 30*time.Second, "replica "+id+" to serve /readyz", func(ctx context.Context) (bool, error) {
		select {
		case <-r.done:
			return false, fmt.Errorf("exited: %s", r.logs.String())
		default:
		}
		body, code, err := get(ctx, r.url+"/readyz")
		return err == nil && code == http.StatusOK, fmt.Errorf("%d %s %v", code, body, err)
	})
	return r
}

func get(ctx context.Context, url string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// metric returns the value of the sample of /metrics whose line starts
// with prefix (name and labels), or NaN.
func metric(t *testing.T, r *replica, prefix string) (float64, bool) {
	body, _, err := get(context.Background(), r.url+"/metrics")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

func leaseHolder(ctx context.Context, cs kubernetes.Interface, ns string) (string, error) {
	l, err := cs.CoordinationV1().Leases(ns).Get(ctx, "rightsize-controller", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if l.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *l.Spec.HolderIdentity, nil
}

// checkpointSamples reads the checkpoint the way a new leader does and
// counts the samples it holds.
func checkpointSamples(t *testing.T, cs kubernetes.Interface, ns string) (int64, int) {
	state := func() *livestate.State {
		p, err := policy.ByName("vpa") // the replicas' --profile
		require.NoError(t, err)
		st, err := livestate.New(livestate.Options{History: p.History})
		require.NoError(t, err)
		return st
	}
	cp, _, err := (&controller.Checkpoints{ConfigMaps: cs.CoreV1(), Namespace: ns}).Load(context.Background(), func(b []byte) error {
		_, err := state().Restore(b)
		return err
	})
	require.NoError(t, err)
	if cp == nil {
		return 0, 0
	}
	st := state()
	_, err = st.Restore(cp.State)
	require.NoError(t, err)
	return cp.Generation, st.Stats().Samples
}

// TestIntegrationController runs two controller replicas against the local
// cluster: one leads, samples metrics-server and writes a Recommendation per
// workload and the metrics a real Prometheus scrapes; killed with SIGKILL,
// the other takes over within the lease duration from the last checkpoint;
// stopped with SIGTERM, a leader checkpoints before it lets go, and the
// next one resumes with nothing lost.
// controllerCluster is what a controller integration test runs against:
// the test cluster with the CRD, the kwok workloads in ns (their pods
// running) and a namespace system for the Lease and the checkpoint.
type controllerCluster struct {
	kubeconfig string
	cfg        *rest.Config
	cs         kubernetes.Interface
	dc         dynamic.Interface
	ns, system string
	f          *kubetest.Fixture
}

func newControllerCluster(t *testing.T, prefix string) controllerCluster {
	t.Helper()
	c := controllerCluster{kubeconfig: kubetest.Kubeconfig(t), cfg: kubetest.Config(t)}
	c.cs = kubernetes.NewForConfigOrDie(c.cfg)
	c.dc = dynamic.NewForConfigOrDie(c.cfg)
	kubetest.ApplyCRD(t, c.cfg, crdFile)
	c.ns = kubetest.Namespace(t, c.cs, prefix)
	c.system = kubetest.Namespace(t, c.cs, prefix+"-system")
	c.f = kubetest.CreateWorkloads(t, c.cfg, c.ns, false)
	c.f.WaitForPods(t, c.cfg)
	return c
}

func TestIntegrationController(t *testing.T) {
	cl := newControllerCluster(t, "ctl")
	kubeconfig, cfg, cs, dc, ns, system, f := cl.kubeconfig, cl.cfg, cl.cs, cl.dc, cl.ns, cl.system, cl.f
	f.WaitForMetrics(t, cfg)

	const leaseDuration, retry = 6 * time.Second, time.Second
	args := []string{"--kubeconfig", kubeconfig, "-n", ns, "--lease-namespace", system, "--profile", "vpa",
		"--interval", "1s", "--recommend", "3s", "--checkpoint", "3s",
		"--lease-duration", leaseDuration.String(), "--renew-deadline", "4s", "--retry-period", retry.String()}
	a := startReplica(t, "a", args...)
	kubetest.Eventually(t, 30*time.Second, "replica a to lead", func(ctx context.Context) (bool, error) {
		h, err := leaseHolder(ctx, cs, system)
		return h == "a", fmt.Errorf("holder %q: %v", h, err)
	})
	b := startReplica(t, "b", args...)

	// A Recommendation per workload, tracking the emulated usage.
	recs := dc.Resource(v1alpha1.GroupVersionResource).Namespace(ns)
	web := v1alpha1.Name(f.Key("Deployment", "web"))
	var firstGenerated string
	kubetest.Eventually(t, 60*time.Second, "a Recommendation for every workload, web's with a CPU request", func(ctx context.Context) (bool, error) {
		list, err := recs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		if len(list.Items) != 9 {
			return false, fmt.Errorf("%d Recommendations", len(list.Items))
		}
		u, err := recs.Get(ctx, web, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cpu, _, _ := unstructured.NestedString(u.Object, "status", "cpuChange")
		firstGenerated, _, _ = unstructured.NestedString(u.Object, "status", "generated")
		return cpu != "", fmt.Errorf("cpuChange %q", cpu)
	})
	appOf := func(name string) *v1alpha1.ContainerDocument {
		t.Helper()
		u, err := recs.Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err)
		var rec v1alpha1.Recommendation
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &rec))
		assert.Equal(t, "vpa", rec.Status.Profile)
		for i := range rec.Status.Workload.Containers {
			if c := &rec.Status.Workload.Containers[i]; c.Name == "app" {
				require.NotNil(t, c.Recommended, "%s: %v", name, c.Reasons)
				return c
			}
		}
		t.Fatalf("%s: no container app", name)
		return nil
	}
	// billing: vpa's p90 + 15 % of 300m; the histogram's bucket may add
	// up to 5 %.
	billing := appOf(v1alpha1.Name(f.Key("Deployment", "billing")))
	assert.InDelta(t, 345, millicores(t, billing.Recommended.Requests.CPU), 0.1*345, "billing app cpu (reasons %v)", billing.Reasons)
	// web's HPA scales on CPU and minutes of history cannot size the two
	// together: its CPU request stays (R10).
	app := appOf(web)
	assert.Equal(t, 100.0, millicores(t, app.Recommended.Requests.CPU), "web app cpu (reasons %v)", app.Reasons)
	assert.Contains(t, strings.Join(app.Reasons, " "), "kept at the current request: HPA web scales on CPU")

	// Metrics: the leader publishes the plan, the standby does not lead.
	v, ok := metric(t, a, `rightsize_recommendation_cpu_cores{bound="target",container="app",kind="Deployment",namespace="`+ns+`",resource_type="request",workload="billing"}`)
	require.True(t, ok, "the leader exports billing's recommendation")
	assert.InDelta(t, 0.345, v, 0.0345)
	v, _ = metric(t, a, "rightsize_leader ")
	assert.Equal(t, 1.0, v)
	v, ok = metric(t, b, "rightsize_leader ")
	assert.True(t, ok)
	assert.Equal(t, 0.0, v)
	samples, _ := metric(t, a, "rightsize_samples_ingested_total ")
	assert.Positive(t, samples)

	// A real Prometheus scrapes the leader's series.
	prom, _ := promtest.Require(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := promtest.StartWithConfig(ctx, prom, dir, fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rightsize-controller
    honor_labels: true
    static_configs:
      - targets: [%q, %q]
`, strings.TrimPrefix(a.url, "http://"), strings.TrimPrefix(b.url, "http://")))
	require.NoError(t, err)
	defer srv.Stop()
	kubetest.Eventually(t, 30*time.Second, "Prometheus to hold the recommendation and the leader", func(ctx context.Context) (bool, error) {
		q := fmt.Sprintf(`sum(rightsize_leader) + count(rightsize_recommendation_cpu_cores{namespace=%q,workload="web",container="app",bound="target",resource_type="request"})`, ns)
		body, _, err := get(ctx, srv.URL+"/api/v1/query?query="+url.QueryEscape(q))
		return strings.Contains(body, `"2"]`), fmt.Errorf("%s %v", body, err)
	})

	// A checkpoint, then SIGKILL: b takes over within the lease duration
	// and starts from that checkpoint.
	var gen int64
	var kept int
	kubetest.Eventually(t, 30*time.Second, "a checkpoint with samples", func(context.Context) (bool, error) {
		gen, kept = checkpointSamples(t, cs, system)
		return kept > 0, fmt.Errorf("generation %d, %d samples", gen, kept)
	})
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	<-a.done
	kubetest.Eventually(t, 4*leaseDuration, "replica b to lead", func(ctx context.Context) (bool, error) {
		h, err := leaseHolder(ctx, cs, system)
		return h == "b", fmt.Errorf("holder %q: %v", h, err)
	})
	took := time.Since(killed)
	t.Logf("b took over %s after a was killed (lease duration %s)", took.Round(10*time.Millisecond), leaseDuration)
	// The lease was renewed at most a retry period before the kill; b tries
	// every retry period (with jitter); 2 s more for a busy machine.
	assert.Less(t, took, leaseDuration+2*retry+2*time.Second, "b takes over within the lease duration")
	kubetest.Eventually(t, 20*time.Second, "b to restore the checkpoint", func(context.Context) (bool, error) {
		l := b.logLines("restored the checkpoint")
		return len(l) == 1, fmt.Errorf("%d restore lines", len(l))
	})
	restored := b.logLines("restored the checkpoint")[0]
	assert.GreaterOrEqual(t, restored["samples"], float64(kept), "b starts from everything a checkpointed")
	assert.GreaterOrEqual(t, restored["generation"], float64(gen))
	kubetest.Eventually(t, 30*time.Second, "b to update web's Recommendation", func(ctx context.Context) (bool, error) {
		u, err := recs.Get(ctx, web, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		g, _, _ := unstructured.NestedString(u.Object, "status", "generated")
		return g > firstGenerated, fmt.Errorf("generated %s (first %s)", g, firstGenerated)
	})

	// SIGTERM: b checkpoints everything before it lets go of the lease, and
	// c resumes from exactly that.
	time.Sleep(2 * time.Second)
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		t.Fatal("b did not stop on SIGTERM")
	}
	assert.Zero(t, b.cmd.ProcessState.ExitCode(), "a stop on SIGTERM is not an error")
	last := b.logLines("checkpointed")
	require.NotEmpty(t, last)
	final := last[len(last)-1]
	h, err := leaseHolder(context.Background(), cs, system)
	require.NoError(t, err)
	assert.Empty(t, h, "b released the lease")
	c := startReplica(t, "c", args...)
	kubetest.Eventually(t, 20*time.Second, "c to lead and restore the checkpoint", func(context.Context) (bool, error) {
		l := c.logLines("restored the checkpoint")
		return len(l) == 1, fmt.Errorf("%d restore lines", len(l))
	})
	restored = c.logLines("restored the checkpoint")[0]
	assert.Equal(t, final["samples"], restored["samples"], "nothing learned is lost across a restart")

	// A jump in usage moves the recommendation by more than the threshold:
	// an Event on the workload says so. web's app uses 300Mi; now 900Mi.
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	for _, p := range pods.Items {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"900Mi"}}}`, kubetest.ContainerUsagePrefix+"memory.app")
		_, err := cs.CoreV1().Pods(ns).Patch(context.Background(), p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		require.NoError(t, err)
	}
	webObj, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	kubetest.Eventually(t, 60*time.Second, "an Event on Deployment web saying its recommendation changed", func(ctx context.Context) (bool, error) {
		evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Deployment,involvedObject.name=web"})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == controller.ReasonChanged {
				t.Logf("Event %s: %s", e.Reason, e.Message)
				return strings.Contains(e.Message, "app memory request") && e.Source.Component == controller.FieldManager && e.InvolvedObject.UID == webObj.UID,
					fmt.Errorf("message %q, object UID %q (the Deployment's %q)", e.Message, e.InvolvedObject.UID, webObj.UID)
			}
		}
		return false, fmt.Errorf("%d events, none %s", len(evs.Items), controller.ReasonChanged)
	})

	// Workloads that go away lose their Recommendation.
	require.NoError(t, cs.AppsV1().Deployments(ns).Delete(context.Background(), "hungry", metav1.DeleteOptions{}))
	kubetest.Eventually(t, 30*time.Second, "hungry's Recommendation to be removed", func(ctx context.Context) (bool, error) {
		_, err := recs.Get(ctx, v1alpha1.Name(f.Key("Deployment", "hungry")), metav1.GetOptions{})
		return err != nil && strings.Contains(err.Error(), "not found"), err
	})
}
