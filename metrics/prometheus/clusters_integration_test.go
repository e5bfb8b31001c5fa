package prometheus

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/metrics/prometheus/promtest"
	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
)

// inClusters returns the stores' samples in one store, each store's
// workloads named in the cluster given with it.
func inClusters(parts map[string]*history.Store) *history.Store {
	out := history.NewStore()
	for cluster, st := range parts {
		for _, k := range st.Containers() {
			ck := k
			ck.Workload.Cluster = cluster
			for _, s := range st.Series(k) {
				for i := range s.Len() {
					out.Add(ck, s.At(i))
				}
			}
		}
	}
	out.Finalize()
	return out
}

// recordingTransport carries requests to the server and keeps the
// selectors they send: every query and every listing's match[].
type recordingTransport struct {
	mu        sync.Mutex
	selectors []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	form := url.Values{}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, err
		}
	}
	for k, v := range r.URL.Query() {
		form[k] = append(form[k], v...)
	}
	rt.mu.Lock()
	rt.selectors = append(append(rt.selectors, form["query"]...), form["match[]"]...)
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestIntegrationClusterLabel reads the clusters of the demo TSDB apart by
// their label, with no selector: the demo and the decoy hold the same
// namespace, pod and container names (shop, web's first pod, app), the
// decoy at five times the usage for a day. Each comes back as workloads of
// its own cluster with its own samples and recommendations; --clusters
// has the store leave the others out.
func TestIntegrationClusterLabel(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		srv, csv := demoServer(t, s)
		decoy := promtest.DecoyStore(csv)
		web := workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}
		webIn := func(cluster string) workload.Key { k := web; k.Cluster = cluster; return k }
		options := func(clusters ...string) Options {
			o := demoOptions(srv.URL, csv)
			o.Selector = ""
			o.Names.ClusterLabel = "cluster"
			o.Clusters = clusters
			return o
		}

		t.Run("two clusters of the same names", func(t *testing.T) {
			res, err := Collect(context.Background(), options(promtest.DemoCluster, promtest.DecoyCluster), nil, nil)
			require.NoError(t, err)
			assert.Empty(t, res.Failed)
			assert.Empty(t, res.Warnings)
			assert.Equal(t, []string{promtest.DecoyCluster, promtest.DemoCluster}, res.Clusters)
			assert.Equal(t, 41, res.Series, "the demo's 40 pod containers and the decoy's one")
			assert.Contains(t, res.Summary(), "41 pod containers in 2 clusters")
			requireSameSamples(t, inClusters(map[string]*history.Store{promtest.DemoCluster: csv, promtest.DecoyCluster: decoy}), res.Store)
			for k := range res.Specs {
				assert.Equal(t, promtest.DemoCluster, k.Cluster, "%s: only the demo runs at the end", k)
			}

			p, err := policy.ByName(policy.Names()[0])
			require.NoError(t, err)
			r := &recommender.Recommender{Profile: p}
			want, err := r.RunOnce(context.Background(), recommender.Input{Source: "csv", Store: csv})
			require.NoError(t, err)
			got, err := r.RunOnce(context.Background(), recommender.Input{Source: "prometheus", Store: res.Store, Specs: res.Specs})
			require.NoError(t, err)
			byKey := map[workload.Key]workload.WorkloadPlan{}
			for _, w := range got.Workloads {
				byKey[w.Key] = w
			}
			require.Len(t, got.Workloads, len(want.Workloads)+1, "the demo's workloads and the decoy's web")
			var csvWeb workload.WorkloadPlan
			for _, w := range want.Workloads {
				k := w.Key
				k.Cluster = promtest.DemoCluster
				require.Contains(t, byKey, k, "%s in the demo cluster", w.Key)
				if w.Key == web {
					csvWeb = w
				}
			}
			demoWeb, decoyWeb := byKey[webIn(promtest.DemoCluster)], byKey[webIn(promtest.DecoyCluster)]
			require.Len(t, decoyWeb.Containers, 1)
			require.NotEmpty(t, demoWeb.Containers)
			dc, xc := demoWeb.Containers[0], decoyWeb.Containers[0]
			require.Equal(t, "app", dc.Name)
			require.Equal(t, "app", xc.Name)
			assert.Equal(t, csvWeb.Containers[0].Samples, dc.Samples, "the demo's web as read from the CSV alone")
			assert.InDelta(t, float64(csvWeb.Containers[0].Recommendation.Target.Requests.CPU), float64(dc.Recommendation.Target.Requests.CPU),
				0.04*float64(csvWeb.Containers[0].Recommendation.Target.Requests.CPU)+float64(p.RoundCPU))
			assert.Equal(t, 288, xc.Samples, "the decoy's one day")
			assert.Greater(t, dc.Samples, xc.Samples)
			assert.Greater(t, xc.Recommendation.Target.Requests.CPU, dc.Recommendation.Target.Requests.CPU, "five times the usage")
			assert.Greater(t, xc.Recommendation.Target.Requests.Memory, dc.Recommendation.Target.Requests.Memory, "five times the usage")
		})

		for _, tt := range []struct {
			clusters []string
			matcher  string
		}{
			{[]string{promtest.DecoyCluster}, `cluster="decoy"`},
			{[]string{promtest.DecoyCluster, ""}, `cluster=~"|decoy"`},
		} {
			t.Run("the store reads "+tt.matcher, func(t *testing.T) {
				rt := &recordingTransport{}
				o := options(tt.clusters...)
				o.Transport = rt
				res, err := Collect(context.Background(), o, nil, nil)
				require.NoError(t, err)
				assert.Equal(t, []string{promtest.DecoyCluster}, res.Clusters)
				key := workload.ContainerKey{Workload: webIn(promtest.DecoyCluster), Container: "app"}
				require.Equal(t, []workload.ContainerKey{key}, res.Store.Containers())
				got, want := res.Store.Series(key)[0], decoy.Series(workload.ContainerKey{Workload: web, Container: "app"})[0]
				require.Equal(t, 288, got.Len())
				for i := range got.Len() {
					require.Equal(t, want.Time[i], got.Time[i])
					require.InEpsilon(t, want.CPU[i], got.CPU[i], 1e-5)
				}
				rt.mu.Lock()
				defer rt.mu.Unlock()
				require.NotEmpty(t, rt.selectors)
				for _, sel := range rt.selectors {
					require.Contains(t, sel, tt.matcher)
				}
			})
		}

		t.Run("every cluster, with HPAs", func(t *testing.T) {
			want := promtest.ResizeStore(promtest.ResizeStart)
			_, last := want.Span()
			o := options()
			o.End, o.History = last.Add(time.Second), 3*24*time.Hour
			res, err := Collect(context.Background(), o, nil, nil)
			require.NoError(t, err)
			assert.Equal(t, []string{promtest.DecoyCluster, promtest.DemoCluster, promtest.ResizeCluster}, res.Clusters)
			assert.Contains(t, res.Summary(), " in 3 clusters, ")
			var hpas []workload.HPA
			for _, h := range promtest.ResizeHPAs(promtest.ResizeStart) {
				if h.Until.IsZero() {
					h.HPA.Target.Cluster = promtest.ResizeCluster
					hpas = append(hpas, h.HPA)
				}
			}
			assert.True(t, res.HPAsKnown)
			assert.Equal(t, hpas, res.HPAs, "the resize cluster's, in it")
			app := workload.ContainerKey{Workload: workload.Key{Namespace: "resize", Kind: workload.Deployment, Name: "app", Cluster: promtest.ResizeCluster}, Container: "main"}
			assert.Len(t, history.OOMsFromSeries(res.Store.Series(app), last.Add(time.Second)), 2, "the kills of both pods")
			demoWeb := res.Store.Series(workload.ContainerKey{Workload: webIn(promtest.DemoCluster), Container: "app"})
			decoyWeb := res.Store.Series(workload.ContainerKey{Workload: webIn(promtest.DecoyCluster), Container: "app"})
			require.NotEmpty(t, demoWeb)
			require.Len(t, decoyWeb, 1)
			require.Equal(t, demoWeb[0].Pod, decoyWeb[0].Pod, "the same pod name in both clusters")
			for i := range decoyWeb[0].Len() {
				j := demoWeb[0].Search(decoyWeb[0].Time[i])
				require.Equal(t, demoWeb[0].Time[j], decoyWeb[0].Time[i])
				require.False(t, math.Abs(float64(decoyWeb[0].CPU[i])-5*float64(demoWeb[0].CPU[j])) > 1e-5*float64(decoyWeb[0].CPU[i]), "not merged")
			}
		})
	})
}
