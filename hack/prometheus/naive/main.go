package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"rightsize.dev/rightsize/recommender"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/policy"
	"rightsize.dev/rightsize/recommender/workload"
	"rightsize.dev/rightsize/report"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9090", "Prometheus URL")
	endFlag := flag.String("end", "", "end of the window (RFC 3339; default now)")
	hist := flag.Duration("history", 14*24*time.Hour, "window length")
	conc := flag.Int("concurrency", 4, "queries at once")
	flag.Parse()
	end := time.Now()
	if *endFlag != "" {
		var err error
		if end, err = time.Parse(time.RFC3339, *endFlag); err != nil {
			fmt.Fprintln(os.Stderr, "naive: -end:", err)
			os.Exit(2)
		}
	}
	if err := run(*url, end, *hist, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
}

type countingTransport struct {
	base  http.RoundTripper
	bytes atomic.Int64
	n     atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{resp.Body, &c.bytes}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

type podContainer struct{ ns, pod, container string }

func run(url string, end time.Time, hist time.Duration, conc int) error {
	start := time.Now()
	// Uncompressed, as rightsize asks a server on the same machine: the
	// comparison is of the queries, not of gzip.
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DisableCompression = true
	ct := &countingTransport{base: base}
	client, err := api.NewClient(api.Config{Address: url, RoundTripper: ct})
	if err != nil {
		return err
	}
	a := v1.NewAPI(client)
	ctx := context.Background()
	rng := "[" + model.Duration(hist).String() + "]"

	sets, _, err := a.Series(ctx, []string{`container_memory_working_set_bytes{container!="",container!="POD"}`}, end.Add(-hist), end)
	if err != nil {
		return fmt.Errorf("listing series: %w", err)
	}
	var all []podContainer
	for _, ls := range sets {
		all = append(all, podContainer{string(ls["namespace"]), string(ls["pod"]), string(ls["container"])})
	}
	sort.Slice(all, func(i, j int) bool { return fmt.Sprint(all[i]) < fmt.Sprint(all[j]) })

	owners := map[[2]string][2]string{}
	rsOwners := map[[2]string]string{}
	jobOwners := map[[2]string]string{}
	for _, q := range []struct {
		expr string
		put  func(m model.Metric)
	}{
		{"max by (namespace, pod, owner_kind, owner_name) (last_over_time(kube_pod_owner" + rng + "))", func(m model.Metric) {
			owners[[2]string{string(m["namespace"]), string(m["pod"])}] = [2]string{string(m["owner_kind"]), string(m["owner_name"])}
		}},
		{"max by (namespace, replicaset, owner_name) (last_over_time(kube_replicaset_owner" + rng + "))", func(m model.Metric) {
			rsOwners[[2]string{string(m["namespace"]), string(m["replicaset"])}] = string(m["owner_name"])
		}},
		{`max by (namespace, job_name, owner_name) (last_over_time(kube_job_owner{owner_kind="CronJob"}` + rng + "))", func(m model.Metric) {
			jobOwners[[2]string{string(m["namespace"]), string(m["job_name"])}] = string(m["owner_name"])
		}},
	} {
		v, _, err := a.Query(ctx, q.expr, end)
		if err != nil {
			return fmt.Errorf("reading owners: %w", err)
		}
		for _, s := range v.(model.Vector) {
			q.put(s.Metric)
		}
	}
	keyOf := func(ns, pod string) workload.Key {
		o, ok := owners[[2]string{ns, pod}]
		switch {
		case !ok || o[0] == "<none>":
			return workload.Key{Namespace: ns, Kind: workload.Pod, Name: pod}
		case o[0] == "ReplicaSet" && rsOwners[[2]string{ns, o[1]}] != "":
			return workload.Key{Namespace: ns, Kind: workload.Deployment, Name: rsOwners[[2]string{ns, o[1]}]}
		case o[0] == "Job" && jobOwners[[2]string{ns, o[1]}] != "":
			return workload.Key{Namespace: ns, Kind: workload.CronJob, Name: jobOwners[[2]string{ns, o[1]}]}
		}
		k, _ := workload.ParseKind(o[0])
		return workload.Key{Namespace: ns, Kind: k, Name: o[1]}
	}

	st := history.NewStore()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	jobs := make(chan podContainer)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pc := range jobs {
				sel := fmt.Sprintf(`{__name__=~"container_cpu_usage_seconds_total|container_memory_working_set_bytes|kube_pod_container_resource_requests|kube_pod_container_resource_limits",namespace=%q,pod=%q,container=%q}`, pc.ns, pc.pod, pc.container)
				v, _, err := a.Query(ctx, sel+rng, end)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("reading %s/%s/%s: %w", pc.ns, pc.pod, pc.container, err)
					}
					mu.Unlock()
					continue
				}
				samples := toSamples(pc.pod, v.(model.Matrix))
				key := workload.ContainerKey{Workload: keyOf(pc.ns, pc.pod), Container: pc.container}
				mu.Lock()
				for _, s := range samples {
					st.Add(key, s)
				}
				mu.Unlock()
			}
		}()
	}
	for _, pc := range all {
		jobs <- pc
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	st.Finalize()
	read := time.Since(start)

	r := &recommender.Recommender{Profile: policy.Balanced()}
	plan, err := r.RunOnce(ctx, recommender.Input{Source: url, Store: st})
	if err != nil {
		return err
	}
	if err := report.WritePlan(os.Stdout, plan, report.JSON); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "naive: %d containers, %d samples, %d queries, %.1f MB received; read in %s, planned in %s\n",
		len(all), st.Samples(), ct.n.Load(), float64(ct.bytes.Load())/1e6, read.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return nil
}

// toSamples turns one container's raw series into samples at the CPU
// counter's timestamps: CPU as the increase since the previous sample over
// the time between them, memory and settings as last seen.
func toSamples(pod string, m model.Matrix) []workload.Sample {
	var cpu, mem []model.SamplePair
	type setting struct {
		pairs []model.SamplePair
		set   func(s *workload.Settings, v float64)
	}
	var settings []setting
	for _, ss := range m {
		res := string(ss.Metric["resource"])
		limit := strings.HasSuffix(string(ss.Metric["__name__"]), "_limits")
		switch {
		case ss.Metric["__name__"] == "container_cpu_usage_seconds_total":
			cpu = ss.Values
		case ss.Metric["__name__"] == "container_memory_working_set_bytes":
			mem = ss.Values
		case res == "cpu" || res == "memory":
			settings = append(settings, setting{ss.Values, func(s *workload.Settings, v float64) {
				r := &s.Requests
				if limit {
					r = &s.Limits
				}
				if res == "cpu" {
					r.CPU = workload.MillicoresOf(workload.Cores(v))
				} else {
					r.Memory = workload.BytesOf(v)
				}
			}})
		}
	}
	out := make([]workload.Sample, 0, len(cpu))
	mi := 0
	si := make([]int, len(settings))
	for i := 1; i < len(cpu); i++ {
		t := cpu[i].Timestamp
		dt := float64(t-cpu[i-1].Timestamp) / 1000
		inc := float64(cpu[i].Value - cpu[i-1].Value)
		if inc < 0 {
			inc = float64(cpu[i].Value) // counter reset
		}
		s := workload.Sample{Time: t.Time().UTC(), Pod: pod, CPU: workload.Cores(inc / dt), HasCPU: dt > 0}
		for mi+1 < len(mem) && mem[mi+1].Timestamp <= t {
			mi++
		}
		if mi < len(mem) && mem[mi].Timestamp <= t && !math.IsNaN(float64(mem[mi].Value)) {
			s.Memory, s.HasMemory = workload.BytesOf(float64(mem[mi].Value)), true
		}
		for k, st := range settings {
			for si[k]+1 < len(st.pairs) && st.pairs[si[k]+1].Timestamp <= t {
				si[k]++
			}
			if p := st.pairs[si[k]]; p.Timestamp <= t {
				st.set(&s.Settings, float64(p.Value))
			}
		}
		out = append(out, s)
	}
	return out
}
