package controller

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"rightsize.dev/rightsize/controller/apply"
	"rightsize.dev/rightsize/metrics/kube/kubetest"
)

// TestIntegrationApplyAPIServerRestart restarts the apiserver, as the
// controller sees it, in the middle of its applies: once right after the
// first pod of an in-place workload took its resize (down 1s, shorter
// than the lease's renew deadline: the leader stays), once right after a
// template apply landed (down 8s: the lease is lost, Run returns, and a
// new process takes over). In both the controller's request was carried
// out and its answer lost. The controller does not crash, the workloads
// end applied once each, every pod at the record's values, and a later
// leader applies nothing again.
func TestIntegrationApplyAPIServerRestart(t *testing.T) {
	kubetest.Kubeconfig(t)
	admin := kubetest.Config(t)
	cs := kubernetes.NewForConfigOrDie(admin)
	kubetest.ApplyCRD(t, admin, crdFile)
	ns := kubetest.Namespace(t, cs, "restart")
	system := kubetest.Namespace(t, cs, "restart-system")
	ctx := context.Background()
	for _, d := range []*appsv1.Deployment{
		kubetest.Deployment("tmpl", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "auto"}),
		kubetest.Deployment("inplace", 2, "500m", "512Mi", "100m", "100Mi", map[string]string{apply.Key: "in-place-only"}),
	} {
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	kubetest.WaitForPodMetrics(t, admin, ns, 4)
	waitAvailable(t, cs, ns, "tmpl")
	waitAvailable(t, cs, ns, "inplace")

	restarter, cfg := kubetest.Restartable(t, admin)
	restarter.RestartAfter(time.Second, func(r *http.Request) bool {
		return r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/namespaces/"+ns+"/pods/inplace-") && strings.HasSuffix(r.URL.Path, "/resize")
	})
	restarter.RestartAfter(8*time.Second, func(r *http.Request) bool {
		return r.Method == http.MethodPatch && r.URL.Path == "/apis/apps/v1/namespaces/"+ns+"/deployments/tmpl"
	})

	// term runs one controller process until done says so or Run returns
	// (the lease lost): it says which, and Run's error.
	term := func(id string, done func(*Controller) bool) (*Controller, bool, error) {
		c := applyTestController(t, cfg, ns, system, id, apply.SwitchOn, true)
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ran := make(chan error, 1)
		go func() { ran <- c.Run(rctx) }()
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case err := <-ran:
				return c, false, err
			case <-deadline:
				cancel()
				return c, false, fmt.Errorf("%s: neither done nor ended in 2 minutes: %w", id, <-ran)
			case <-time.After(200 * time.Millisecond):
				if done(c) {
					cancel()
					return c, true, <-ran
				}
			}
		}
	}
	applies := appliesOf

	// Until both restarts are done and both workloads applied: a term
	// that lost its lease is followed by a new process, as the
	// Deployment's restart would.
	settled := func(*Controller) bool {
		if restarter.Pending() > 0 || restarter.Restarts() < 2 {
			return false
		}
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "tmpl", metav1.GetOptions{})
		return err == nil && d.Annotations[apply.RecordKey] != "" && allPodsCPU(cs, ns, "inplace", "350m")
	}
	lost := 0
	for i := 0; ; i++ {
		require.Less(t, i, 4, "the controller does not settle after the restarts")
		_, done, err := term(fmt.Sprintf("term-%d", i), settled)
		if done {
			require.NoError(t, err)
			break
		}
		require.ErrorIs(t, err, ErrLostLease, "a term ends only by losing its lease")
		lost++
	}
	assert.Equal(t, 1, lost, "the 8s restart loses the lease; the 1s one does not")

	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "tmpl", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), d.Generation, "applied once")
	assert.Equal(t, "350m", d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String())
	rec, err := apply.ParseRecord(d.Annotations[apply.RecordKey])
	require.NoError(t, err)
	assert.EqualValues(t, 350, rec.Containers[0].To.Requests.CPU)
	in, err := cs.AppsV1().Deployments(ns).Get(ctx, "inplace", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "500m", in.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(), "in place: the template stays")
	rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=inplace"})
	require.NoError(t, err)
	assert.Len(t, rss.Items, 1, "in place: no rollout")
	_, err = apply.ParseRecord(in.Annotations[apply.RecordKey])
	require.NoError(t, err, "in place: the record")
	podCPUIn(t, cs, ns, "inplace", "350m")

	// A later leader finds both applied: nothing written again.
	c, done, err := term("after", func(c *Controller) bool {
		return applies(c, "skipped", apply.ReasonCooldown) > 0 && applies(c, "skipped", reasonResizing) > 0
	})
	require.NoError(t, err)
	require.True(t, done)
	assert.Zero(t, applies(c, "applied", apply.ReasonApply))
	assert.Zero(t, applies(c, "applied", reasonInPlace))
	d, err = cs.AppsV1().Deployments(ns).Get(ctx, "tmpl", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), d.Generation)
}

// allPodsCPU says whether every running pod of the Deployment asks cpu of
// its app container.
func allPodsCPU(cs kubernetes.Interface, ns, name, cpu string) bool {
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return false
	}
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != "Running" {
			continue
		}
		n++
		if p.Spec.Containers[0].Resources.Requests.Cpu().String() != cpu {
			return false
		}
	}
	return n > 0
}
