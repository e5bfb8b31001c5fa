package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"rightsize.dev/rightsize/internal/golden"
	"rightsize.dev/rightsize/recommender/workload"
)

// everyQuery renders every query the collector sends, as TestQueriesGolden
// lists them.
func everyQuery(p promql) []struct{ name, expr string } {
	g := group{namespaces: []string{"shop"}}.matchers(p.n.cadvisorLabels())
	step := 5 * time.Minute
	first := time.Date(2026, 11, 1, 0, 5, 0, 0, time.UTC)
	queries := []struct{ name, expr string }{
		{"discovery (series API match[])", p.podsSelector(g)},
		{"cpu usage (range)", p.cpu(g, step)},
		{"memory usage (range)", p.memory(g, step)},
		{"cpu throttling (range)", p.throttled(g, step)},
		{"requests, limits and restart counts (range, at a 6 h grid)", p.settingsGrid(g)},
		{"requests, limits and restarts of pods between grid points (instant at the chunk's last step)", p.settingsWithin(append(g, anyOf("pod", []string{"report-29891580-x49cl"})), 400*step-time.Millisecond)},
		{"requests step by step, for pods whose settings changed (range)", p.settingsChanges(g, step, first, p.n.Requests, p.n.InitRequests)},
		{"OOM kills, for pods that restarted (range)", p.ooms(g, step)},
		{"pod owners (instant at the last step)", p.podOwners(g, 14*24*time.Hour)},
		{"ReplicaSet owners (instant at the last step)", p.owners(p.n.ReplicaSetOwner, "replicaset", g, []string{"web-7d9f", "api-5c6b"}, 14*24*time.Hour)},
		{"Job owners (instant at the last step)", p.owners(p.n.JobOwner, "job_name", g, []string{"report-29891580"}, 14*24*time.Hour)},
		{"containers (instant at the last step)", p.containers(g)},
		{"init containers (instant at the last step)", p.initContainers(g)},
		{"current requests (instant at the last step)", p.settingsAt(g, p.n.Requests, p.n.InitRequests)},
		{"pod creation times (instant at the last step)", p.podCreated(g)},
		{"profile annotations of the workloads (instant at the last step)", p.profiles(g[:1])},
		{"HPA scale targets (instant at the last step)", p.hpaInfo()},
		{"HPA min replicas (instant at the last step)", p.hpaReplicas(hpaMinReplicas)},
		{"HPA max replicas (instant at the last step)", p.hpaReplicas(hpaMaxReplicas)},
		{"HPA metric targets (instant at the last step)", p.hpaTargets()},
		{"kube-state-metrics v1 HPAs, looked for when there is no info series (instant at the last step)", p.hpaV1()},
	}
	vm := p
	vm.victoria = true
	return append(queries, []struct{ name, expr string }{
		{"VictoriaMetrics: cpu usage (range)", vm.cpu(g, step)},
		{"VictoriaMetrics: cpu throttling (range)", vm.throttled(g, step)},
		{"VictoriaMetrics: requests, limits and restart counts (range, at a 6 h grid)", vm.settingsGrid(g)},
		{"VictoriaMetrics: OOM kills, for pods that restarted (range)", vm.ooms(g, step)},
	}...)
}

func renderQueries(qs []struct{ name, expr string }) []byte {
	var b strings.Builder
	for _, q := range qs {
		b.WriteString("# " + q.name + "\n" + q.expr + "\n\n")
	}
	return []byte(b.String())
}

var (
	groupingRE = regexp.MustCompile(`\b(by|on) \(([^)]*)\)`)
	selectorRE = regexp.MustCompile(`\{[^{}]*\}`)
)

// TestQueriesClusterLabel: with a cluster label every grouping and every
// join keeps it, and with clusters to read every selector matches them;
// take those out and the queries are the ones without the label, byte for
// byte (queries.golden, which TestQueriesGolden keeps too). The queries
// with the label are kept in a golden file of their own.
func TestQueriesClusterLabel(t *testing.T) {
	user, err := ParseSelector(`cluster="prod"`)
	require.NoError(t, err)
	off := promql{n: DefaultNames(), user: user}
	golden.Assert(t, filepath.Join("testdata", "queries.golden"), renderQueries(everyQuery(off)))

	for _, tt := range []struct {
		name     string
		label    string
		clusters []string
		matcher  string
		golden   string
	}{
		{name: "all clusters", label: "k8s_cluster"},
		{name: "two clusters", label: "k8s_cluster", clusters: []string{"west", "east", "west"}, matcher: `k8s_cluster=~"east|west"`, golden: "queries-clusters.golden"},
		{name: "one cluster", label: "k8s_cluster", clusters: []string{"eu-1.prod"}, matcher: `k8s_cluster="eu-1.prod"`},
		{name: "one cluster and series without the label", label: "k8s_cluster", clusters: []string{"arn:aws:eks:eu-west-1:1:cluster/a+b", ""}, matcher: `k8s_cluster=~"|arn:aws:eks:eu-west-1:1:cluster/a\\+b"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			on := off
			on.n.ClusterLabel = tt.label
			on.user = append(append([]Matcher{}, user...), clusterMatchers(on.n.ClusterLabel, tt.clusters)...)
			withLabel := everyQuery(on)
			if tt.golden != "" {
				golden.Assert(t, filepath.Join("testdata", tt.golden), renderQueries(withLabel))
			}
			for i, q := range everyQuery(off) {
				got := withLabel[i].expr
				for _, m := range groupingRE.FindAllStringSubmatch(got, -1) {
					if m[1] == "on" && m[2] == "" {
						continue // on (): the first step alone
					}
					assert.True(t, strings.HasPrefix(m[2], tt.label+", "), "%s: %q does not keep the cluster label", q.name, m[0])
				}
				if tt.matcher != "" {
					for _, sel := range selectorRE.FindAllString(got, -1) {
						assert.Contains(t, sel, tt.matcher, q.name)
					}
				}
				stripped := strings.ReplaceAll(got, tt.label+", ", "")
				if tt.matcher != "" {
					stripped = strings.ReplaceAll(strings.ReplaceAll(stripped, ","+tt.matcher, ""), tt.matcher, "")
				}
				assert.Equal(t, q.expr, stripped, "%s: the same query but for the cluster", q.name)
			}
		})
	}
}

// clusterMatchers is what Collect adds to the user's matchers for the
// clusters to read.
func clusterMatchers(label string, clusters []string) []Matcher {
	if len(clusters) == 0 {
		return nil
	}
	return []Matcher{anyOf(label, uniqueSorted(clusters))}
}

// TestWorkloadOfTwoClusters: two clusters with the same namespace, pod and
// ReplicaSet names, whose ReplicaSets belong to different Deployments,
// resolve each pod in its own cluster; a pod whose owner is known in the
// other cluster only has none.
func TestWorkloadOfTwoClusters(t *testing.T) {
	o := newOwners()
	sample := func(cluster string, obj model.LabelName, name, kind, owner string) *model.Sample {
		m := model.Metric{"namespace": "shop", obj: model.LabelValue(name), "owner_kind": model.LabelValue(kind), "owner_name": model.LabelValue(owner)}
		if cluster != "" {
			m["k8s_cluster"] = model.LabelValue(cluster)
		}
		return &model.Sample{Metric: m, Value: 1}
	}
	pods := objectLabels{"namespace", "pod", "k8s_cluster"}
	skipped := addOwners(o.pods, model.Vector{
		sample("east", "pod", "web-7d9f-abcde", "ReplicaSet", "web-7d9f"),
		sample("west", "pod", "web-7d9f-abcde", "ReplicaSet", "web-7d9f"),
		sample("west", "pod", "db-0", "StatefulSet", "db"),
		sample("", "pod", "web-7d9f-abcde", "<none>", "<none>"),
		sample("\x1b[2J", "pod", "web-7d9f-abcde", "DaemonSet", "evil"),
		sample(strings.Repeat("c", 254), "pod", "web-7d9f-abcde", "DaemonSet", "long"),
		sample("east", "pod", "Not_A_Name", "DaemonSet", "x"),
	}, pods)
	assert.Equal(t, map[string]int{skipClusters: 2, skipNames: 1}, skipped)
	addOwners(o.replicaSets, model.Vector{
		sample("east", "replicaset", "web-7d9f", "Deployment", "web"),
		sample("west", "replicaset", "web-7d9f", "Deployment", "api"),
	}, objectLabels{"namespace", "replicaset", "k8s_cluster"})

	for _, tt := range []struct {
		cluster, pod string
		want         workload.Key
		why          resolution
	}{
		{"east", "web-7d9f-abcde", workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web", Cluster: "east"}, resolved},
		{"west", "web-7d9f-abcde", workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api", Cluster: "west"}, resolved},
		{"", "web-7d9f-abcde", workload.Key{Namespace: "shop", Kind: workload.Pod, Name: "web-7d9f-abcde"}, resolved},
		{"west", "db-0", workload.Key{Namespace: "shop", Kind: workload.StatefulSet, Name: "db", Cluster: "west"}, resolved},
		{"east", "db-0", workload.Key{Namespace: "shop", Kind: workload.Pod, Name: "db-0", Cluster: "east"}, noPodOwner},
	} {
		t.Run(tt.cluster+"/"+tt.pod, func(t *testing.T) {
			got, why := o.workloadOf(nsName{namespace: "shop", name: tt.pod, cluster: tt.cluster})
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.why, why)
		})
	}
}

// TestHPAsOfTwoClusters: same-named HPAs of two clusters are two HPAs,
// each with its own series and a target in its cluster; a series whose
// cluster is no name is counted, not read.
func TestHPAsOfTwoClusters(t *testing.T) {
	in := func(cluster string, s *model.Sample) *model.Sample {
		s.Metric["k8s_cluster"] = model.LabelValue(cluster)
		return s
	}
	a := hpaAnswers{
		info: model.Vector{
			in("west", hpaInfoSample("web", "Deployment", "api")),
			in("east", hpaInfoSample("web", "Deployment", "web")),
			in("\u202e", hpaInfoSample("web", "Deployment", "web")),
		},
		minReplicas: model.Vector{in("east", hpaSample("web", 2))},
		maxReplicas: model.Vector{in("east", hpaSample("web", 5)), in("west", hpaSample("web", 7)), in("\x00", hpaSample("web", 9))},
		targets:     model.Vector{in("west", hpaTargetSample("web", "cpu", "utilization", 60))},
	}
	got, r := a.hpas("namespace", "k8s_cluster")
	assert.Equal(t, []workload.HPA{
		{Name: "web", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web", Cluster: "east"}, MinReplicas: 2, MaxReplicas: 5},
		{Name: "web", Target: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "api", Cluster: "west"}, MinReplicas: 1, MaxReplicas: 7,
			Metrics: []workload.MetricTarget{{Resource: "cpu", AverageUtilization: 60}}},
	}, got)
	assert.Equal(t, map[string]int{skipClusters: 2}, r.skipped)
	assert.Zero(t, r.withoutInfo)
}

// clusterProm serves two clusters, east and west, that hold the same
// namespace, pod and container names (shop, web-7d9f-abcde, app) with
// different usage, owners, templates and HPAs; a pod without the cluster
// label (solo-0); and series whose cluster is no name. It answers every
// query as if it ignored the clusters' matcher, and records the queries
// and listings' selectors.
func clusterProm(t *testing.T) (url string, queries *[]string) {
	t.Helper()
	const pod = `"namespace":"shop","pod":"web-7d9f-abcde"`
	long := strings.Repeat("c", 254)
	in := func(cluster, labels string) string {
		if cluster == "" {
			return "{" + labels + "}"
		}
		c, _ := json.Marshal(cluster)
		return `{"k8s_cluster":` + string(c) + "," + labels + "}"
	}
	var recorded []string
	srv := fakeProm(t, nil, func(w http.ResponseWriter, f fakeRequest) bool {
		recorded = append(recorded, f.form["match[]"]...)
		q := f.form.Get("query")
		if q != "" {
			recorded = append(recorded, q)
		}
		matrix := func(series ...string) string {
			var parts []string
			for _, s := range series {
				labels, value, _ := strings.Cut(s, " ")
				var points []string
				for _, ts := range f.steps() {
					points = append(points, fmt.Sprintf(`[%d,%q]`, ts, value))
				}
				parts = append(parts, fmt.Sprintf(`{"metric":%s,"values":[%s]}`, labels, strings.Join(points, ",")))
			}
			return `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Join(parts, ",") + `]}}`
		}
		body := ""
		switch {
		case strings.HasSuffix(f.path, "/values"):
			body = `{"status":"success","data":["shop"]}`
		case strings.HasSuffix(f.path, "/series"):
			var sets []string
			for _, c := range []string{"east", "west", "", "\u001b[2J", long} {
				p := pod
				if c == "" {
					p = `"namespace":"shop","pod":"solo-0"`
				}
				sets = append(sets, in(c, `"__name__":"container_cpu_usage_seconds_total",`+p+`,"container":"app"`))
			}
			body = `{"status":"success","data":[` + strings.Join(sets, ",") + `]}`
		case f.cpu():
			body = matrix(in("east", pod+`,"container":"app"`)+" 0.25", in("west", pod+`,"container":"app"`)+" 0.75",
				in("", `"namespace":"shop","pod":"solo-0","container":"app"`)+" 0.1", in("\u001b[2J", pod+`,"container":"app"`)+" 9")
		case f.memory():
			body = matrix(in("east", pod+`,"container":"app"`)+" 1048576", in("west", pod+`,"container":"app"`)+" 4194304",
				in("", `"namespace":"shop","pod":"solo-0","container":"app"`)+" 2097152")
		case strings.HasSuffix(f.path, "/query_range") && strings.Contains(q, settingLabel):
			body = matrix(
				in("east", pod+`,"container":"app","resource":"cpu","rightsize_setting":"requests"`)+" 0.5",
				in("west", pod+`,"container":"app","resource":"cpu","rightsize_setting":"requests"`)+" 1",
				in("east", pod+`,"container":"app","rightsize_setting":"restarts"`)+" 0",
				in("west", pod+`,"container":"app","rightsize_setting":"restarts"`)+" 0")
		case strings.HasSuffix(f.path, "/query_range"):
			body = emptyMatrix
		case strings.Contains(q, "kube_pod_owner{"):
			body = vectorAnswer(in("east", pod+`,"owner_kind":"ReplicaSet","owner_name":"web-7d9f"`)+" 1",
				in("west", pod+`,"owner_kind":"ReplicaSet","owner_name":"web-7d9f"`)+" 1",
				in("", `"namespace":"shop","pod":"solo-0","owner_kind":"<none>","owner_name":"<none>"`)+" 1",
				in(long, pod+`,"owner_kind":"DaemonSet","owner_name":"long"`)+" 1")
		case strings.Contains(q, "kube_replicaset_owner{"):
			body = vectorAnswer(in("east", `"namespace":"shop","replicaset":"web-7d9f","owner_kind":"Deployment","owner_name":"web"`)+" 1",
				in("west", `"namespace":"shop","replicaset":"web-7d9f","owner_kind":"Deployment","owner_name":"api"`)+" 1")
		case strings.Contains(q, "kube_pod_container_info{"):
			body = vectorAnswer(in("east", pod+`,"container":"app"`)+" 1", in("west", pod+`,"container":"app"`)+" 1", in("west", pod+`,"container":"log"`)+" 1")
		case strings.HasSuffix(f.path, "/query") && strings.Contains(q, "kube_pod_container_resource_requests") && !strings.Contains(q, settingLabel):
			body = vectorAnswer(in("east", pod+`,"container":"app","resource":"cpu"`)+" 0.5", in("west", pod+`,"container":"app","resource":"cpu"`)+" 1")
		case strings.Contains(q, "kube_pod_created{"):
			body = vectorAnswer(in("east", pod)+" 1000", in("west", pod)+" 2000")
		case strings.Contains(q, hpaInfo+"{"):
			body = vectorAnswer(in("east", `"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"`)+" 1",
				in("west", `"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"api"`)+" 1",
				in("\u001b]0;x\u0007", `"namespace":"shop","horizontalpodautoscaler":"web","scaletargetref_kind":"Deployment","scaletargetref_name":"web"`)+" 1")
		case strings.Contains(q, hpaMaxReplicas+"{"):
			body = vectorAnswer(in("east", `"namespace":"shop","horizontalpodautoscaler":"web"`)+" 5", in("west", `"namespace":"shop","horizontalpodautoscaler":"web"`)+" 7")
		default:
			return false
		}
		io.WriteString(w, body)
		return true
	})
	return srv.URL, &recorded
}

// TestCollectTwoClusters reads two clusters that share namespace, pod and
// container names: usage, settings, owners, templates and HPAs each stay
// in their cluster, a pod without the label is of no named cluster, and
// the series whose cluster is no name are counted.
func TestCollectTwoClusters(t *testing.T) {
	url, queries := clusterProm(t)
	o := fakeOptions(url)
	o.Names.ClusterLabel = "k8s_cluster"
	res, err := Collect(context.Background(), o, nil, nil)
	require.NoError(t, err)

	key := func(kind workload.Kind, name, cluster string) workload.Key {
		return workload.Key{Namespace: "shop", Kind: kind, Name: name, Cluster: cluster}
	}
	solo, web, api := key(workload.Pod, "solo-0", ""), key(workload.Deployment, "web", "east"), key(workload.Deployment, "api", "west")
	assert.Equal(t, []workload.ContainerKey{{Workload: solo, Container: "app"}, {Workload: web, Container: "app"}, {Workload: api, Container: "app"}}, res.Store.Containers())
	for _, tt := range []struct {
		key    workload.Key
		cpu    workload.Cores
		memory workload.Bytes
		req    workload.Millicores
	}{{solo, 0.1, 2 << 20, 0}, {web, 0.25, 1 << 20, 500}, {api, 0.75, 4 << 20, 1000}} {
		series := res.Store.Series(workload.ContainerKey{Workload: tt.key, Container: "app"})
		require.Len(t, series, 1, tt.key.String())
		require.Equal(t, 24, series[0].Len(), tt.key.String())
		for i := range series[0].Len() {
			smp := series[0].At(i)
			require.Equal(t, tt.cpu, smp.CPU, tt.key.String())
			require.Equal(t, tt.memory, smp.Memory, tt.key.String())
			require.Equal(t, tt.req, smp.Settings.Requests.CPU, tt.key.String())
		}
	}
	assert.Equal(t, []string{"", "east", "west"}, res.Clusters)
	assert.Equal(t, 3, res.Series)
	assert.Contains(t, res.Summary(), ": 3 pod containers in 3 clusters, 72 samples")

	assert.Equal(t, map[workload.Key]workload.Spec{
		web: {Key: web, Replicas: 1, Containers: []workload.ContainerSpec{{Name: "app", Settings: workload.Settings{Requests: workload.Resources{CPU: 500}}}}},
		api: {Key: api, Replicas: 1, Containers: []workload.ContainerSpec{{Name: "app", Settings: workload.Settings{Requests: workload.Resources{CPU: 1000}}}, {Name: "log"}}},
	}, res.Specs)
	assert.True(t, res.HPAsKnown)
	assert.Equal(t, []workload.HPA{
		{Name: "web", Target: web, MinReplicas: 1, MaxReplicas: 5},
		{Name: "web", Target: api, MinReplicas: 1, MaxReplicas: 7},
	}, res.HPAs)

	// Two in the listing, an owner series and an HPA series.
	assert.Equal(t, 4, res.Skipped[skipClusters])
	assert.Contains(t, res.Warnings, "4 "+skipClusters)
	for _, w := range res.Warnings {
		safeMessage(t, w)
	}
	for _, q := range *queries {
		for _, m := range groupingRE.FindAllStringSubmatch(q, -1) {
			if m[2] != "" {
				assert.True(t, strings.HasPrefix(m[2], "k8s_cluster, "), "%q in %s", m[0], q)
			}
		}
	}
}

// TestCollectClustersMatcher: the clusters to read are a matcher of every
// selector, the listings' included, so that the store leaves the others
// out; "" stands for series without the label.
func TestCollectClustersMatcher(t *testing.T) {
	for _, tt := range []struct {
		clusters []string
		matcher  string
	}{
		{[]string{"east"}, `k8s_cluster="east"`},
		{[]string{"west", "", "east"}, `k8s_cluster=~"|east|west"`},
	} {
		t.Run(tt.matcher, func(t *testing.T) {
			url, queries := clusterProm(t)
			o := fakeOptions(url)
			o.Names.ClusterLabel = "k8s_cluster"
			o.Clusters = tt.clusters
			_, err := Collect(context.Background(), o, nil, nil)
			require.NoError(t, err)
			require.NotEmpty(t, *queries)
			for _, q := range *queries {
				sels := selectorRE.FindAllString(q, -1)
				require.NotEmpty(t, sels, q)
				for _, sel := range sels {
					assert.Contains(t, sel, tt.matcher, q)
				}
			}
		})
	}
}

// TestClusterLabelOptions checks the cluster label and the clusters among
// the options, and the flag that sets the label.
func TestClusterLabelOptions(t *testing.T) {
	for _, tt := range []struct {
		label    string
		clusters []string
		err      string
	}{
		{label: "cluster"},
		{label: "k8s_cluster", clusters: []string{"a", ""}},
		{clusters: []string{"a"}, err: "clusters to read need the cluster label that tells them apart"},
		{label: "1cluster", err: `cluster label "1cluster" is not a valid label name`},
		{label: "__name__", err: `cluster label "__name__" is a label the queries read already`},
		{label: "__tenant_id__"},
		{label: "clus-ter", err: `cluster label "clus-ter" is not a valid label name`},
		{label: "namespace", err: `cluster label "namespace" is the namespace label already`},
		{label: "container", err: `cluster label "container" is the container label already`},
		{label: "resource", err: `cluster label "resource" is a label the queries read already`},
		{label: settingLabel, err: `cluster label "rightsize_setting" is a label the queries read already`},
	} {
		t.Run(tt.label+fmt.Sprint(tt.clusters), func(t *testing.T) {
			o := Options{URL: "http://p:9090", Clusters: tt.clusters}
			o.Names.ClusterLabel = tt.label
			err := o.Validate()
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tt.err)
			}
		})
	}

	t.Run("flag", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
			err  string
		}{
			{args: nil, want: ""},
			{args: []string{"--prometheus-cluster-label", "cluster"}, want: "cluster"},
			{args: []string{"--prometheus-cluster-label", "exported_namespace", "--prometheus-label", "ksm-namespace=exported_namespace"},
				err: `--prometheus-cluster-label: cluster label "exported_namespace" is the ksm-namespace label already`},
			{args: []string{"--prometheus-cluster-label", "a.b"}, err: `--prometheus-cluster-label: cluster label "a.b" is not a valid label name`},
		} {
			var p Flags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			p.AddFlags(fs)
			p.AddClusterFlag(fs)
			require.NoError(t, fs.Parse(append([]string{"--prometheus-url", "http://p:9090"}, tt.args...)))
			o, err := p.Options()
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				require.EqualError(t, p.Validate(), tt.err)
				continue
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.Names.ClusterLabel)
		}
	})

	t.Run("follower source", func(t *testing.T) {
		f := &Follower{Options: Options{URL: "http://p:9090"}}
		assert.Equal(t, "prometheus http://p:9090 step 5m0s", f.Source())
		f.Options.Names.ClusterLabel = "cluster"
		f.Options.Clusters = []string{"b", "", "a"}
		assert.Equal(t, `prometheus http://p:9090 step 5m0s cluster label cluster clusters ["" "a" "b"]`, f.Source())
	})
}
