package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// TestIntegrationProfileAnnotations reads the rightsize.dev/profile
// annotation from kube-state-metrics' annotations series in a real
// Prometheus: the demo's data plus kube_deployment_annotations for web
// (reliability) and api (no annotation exported), as kube-state-metrics
// writes them with --metric-annotations-allowlist. The plan sizes web with
// reliability and the rest with the run's profile.
func TestIntegrationProfileAnnotations(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a real Prometheus (skipped with -short)")
	}
	_, promtool := promtest.Require(t)
	st, err := promtest.DemoStore()
	require.NoError(t, err)
	end := promtest.DemoEnd(st)
	dir := t.TempDir()
	err = promtest.Backfill(context.Background(), promtool, dir, 486*time.Hour, func(w io.Writer) error {
		var b bytes.Buffer
		if err := promtest.WriteDemo(&b); err != nil {
			return err
		}
		body := bytes.TrimSuffix(b.Bytes(), []byte("# EOF\n"))
		at := float64(end.Add(-promtest.DemoStep).UnixMilli()) / 1000
		_, err := fmt.Fprintf(w, "%s# TYPE kube_deployment_annotations gauge\n"+
			"kube_deployment_annotations{cluster=%q,namespace=\"shop\",deployment=\"web\",annotation_rightsize_dev_profile=\"reliability\"} 1 %.3f\n"+
			"kube_deployment_annotations{cluster=%q,namespace=\"shop\",deployment=\"api\"} 1 %.3f\n# EOF\n",
			body, promtest.DemoCluster, at, promtest.DemoCluster, at)
		return err
	})
	require.NoError(t, err)
	srv := promtest.Run(t, dir)
	res, err := Collect(context.Background(), demoOptions(srv.URL, st), nil, nil)
	require.NoError(t, err)
	web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
	api := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api"}
	require.Contains(t, res.Specs, web)
	assert.Equal(t, "reliability", res.Specs[web].Annotations[workload.ProfileKey])
	assert.NotContains(t, res.Specs[api].Annotations, workload.ProfileKey)

	plan, err := (&recommender.Recommender{Profile: policy.Balanced()}).RunOnce(context.Background(), recommender.Input{Store: res.Store, Specs: res.Specs})
	require.NoError(t, err)
	for _, w := range plan.Workloads {
		want := "balanced"
		if w.Key == web {
			want = "reliability"
		}
		assert.Equal(t, want, w.Profile, "%s", w.Key)
	}
}
