package promtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"rightsize.dev/rightsize/metrics/prometheus/openmetrics"
	"rightsize.dev/rightsize/metrics/usagecsv"
	"rightsize.dev/rightsize/metrics/usagecsv/demo"
	"rightsize.dev/rightsize/recommender/history"
	"rightsize.dev/rightsize/recommender/workload"
)

// DemoStep is the demo dataset's sample interval.
const DemoStep = 5 * time.Minute

// The cluster labels of the demo TSDB: the demo data; a decoy that holds
// one of its pods again for one day at five times the usage, so that a
// query that ignores the cluster selector gives different results; and
// ResizeStore's pods.
const (
	DemoCluster   = "demo"
	DecoyCluster  = "decoy"
	ResizeCluster = "resize"
)

// DemoStore loads the embedded demo dataset into a finalized store.
func DemoStore() (*history.Store, error) {
	cr, err := usagecsv.NewReader(demo.Open(), demo.Name)
	if err != nil {
		return nil, err
	}
	st := history.NewStore()
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		st.Add(row.Key, row.Sample)
	}
	st.Finalize()
	return st, nil
}

// DemoEnd is the instant just after the demo's newest sample: collecting
// up to it reads the whole dataset.
func DemoEnd(st *history.Store) time.Time {
	_, last := st.Span()
	return last.Add(time.Second)
}

// DecoyStore is what DemoTSDB holds of the decoy cluster: the first day of
// the first pod of the demo's web workload (st, DemoStore) at five times
// the usage, under the same namespace, pod and container names.
func DecoyStore(st *history.Store) *history.Store {
	out := history.NewStore()
	key := workload.ContainerKey{Workload: workload.Key{Namespace: "shop", Kind: workload.Deployment, Name: "web"}, Container: "app"}
	series := st.Series(key)
	if len(series) == 0 {
		return out
	}
	s := series[0]
	first := s.Time[0]
	for i := range s.Len() {
		if s.Time[i]-first >= (24 * time.Hour).Milliseconds() {
			break
		}
		smp := s.At(i)
		smp.CPU *= 5
		smp.Memory *= 5
		out.Add(key, smp)
	}
	out.Finalize()
	return out
}

// ResizeStore holds pods whose settings change while they run (in-place
// resizes) and that are OOM-killed, at 5-minute steps over two days from
// start: one living throughout, with a CPU request raised, its CPU limit
// removed and an OOM kill; one ending mid-way, resized and OOM-killed in
// its last hours; and a 20-minute CronJob pod killed once.
func ResizeStore(start time.Time) *history.Store {
	st := history.NewStore()
	set := workload.Settings{
		Requests: workload.Resources{CPU: 500, Memory: 512 * workload.MiB},
		Limits:   workload.Resources{CPU: 1000, Memory: workload.GiB},
	}
	add := func(key workload.ContainerKey, pod string, from, to time.Duration, at func(d time.Duration, s *workload.Sample)) {
		for d := from; d < to; d += DemoStep {
			smp := workload.Sample{Time: start.Add(d), Pod: pod, CPU: workload.Cores(0.2 + 0.1*float64(d%(6*time.Hour))/float64(6*time.Hour)), HasCPU: true,
				Memory: 300*workload.MiB + workload.Bytes(d/DemoStep)*workload.KiB, HasMemory: true, Throttled: 0.01, HasThrottled: true, Settings: set}
			at(d, &smp)
			st.Add(key, smp)
		}
	}
	app := workload.ContainerKey{Workload: workload.Key{Namespace: "resize", Kind: workload.Deployment, Name: "app"}, Container: "main"}
	add(app, "app-5d8f9c7b6-steady", 0, 48*time.Hour, func(d time.Duration, s *workload.Sample) {
		if d >= 13*time.Hour+25*time.Minute {
			s.Settings.Requests.CPU = 700
		}
		if d >= 30*time.Hour {
			s.Settings.Limits.CPU = 0
			s.HasThrottled = false
		}
		s.OOMKilled = d == 20*time.Hour+5*time.Minute
	})
	add(app, "app-5d8f9c7b6-late", 0, 23*time.Hour+35*time.Minute, func(d time.Duration, s *workload.Sample) {
		if d >= 22*time.Hour+10*time.Minute {
			s.Settings.Requests.Memory = 640 * workload.MiB
		}
		s.OOMKilled = d == 23*time.Hour
	})
	job := workload.ContainerKey{Workload: workload.Key{Namespace: "resize", Kind: workload.CronJob, Name: "batch"}, Container: "run"}
	add(job, "batch-29891580-x49cl", 40*time.Hour+5*time.Minute, 40*time.Hour+25*time.Minute, func(d time.Duration, s *workload.Sample) {
		s.OOMKilled = d == 40*time.Hour+15*time.Minute
	})
	st.Finalize()
	return st
}

// ResizeHPAs are the HPAs of ResizeStore's cluster, as kube-state-metrics
// exports them from start on: one on the Deployment app with resource and
// custom metric targets, one on a kind of another API group (an Argo
// Rollout, without pods), and one on app deleted after a day, which is gone
// at the end.
func ResizeHPAs(start time.Time) []openmetrics.HPA {
	key := func(kind workload.Kind, name string) workload.Key {
		return workload.Key{Namespace: "resize", Kind: kind, Name: name}
	}
	return []openmetrics.HPA{
		{HPA: workload.HPA{Name: "app", Target: key(workload.Deployment, "app"), MinReplicas: 2, MaxReplicas: 6, Replicas: 3, Metrics: []workload.MetricTarget{
			{Resource: "cpu", AverageUtilization: 70},
			{Resource: "http_requests_per_second", AverageValue: "100"},
			{Resource: "memory", AverageValue: "512Mi"},
		}}},
		{HPA: workload.HPA{Name: "canary", Target: key("Rollout", "canary"), MinReplicas: 1, MaxReplicas: 3, Metrics: []workload.MetricTarget{
			{Resource: "queue_depth", AverageValue: "30"},
		}}},
		{HPA: workload.HPA{Name: "app-before", Target: key(workload.Deployment, "app"), MinReplicas: 1, MaxReplicas: 2}, Until: start.Add(24 * time.Hour)},
	}
}

// ResizeStart is where ResizeStore's data begins in the demo TSDB.
var ResizeStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

var demoTSDB struct {
	once sync.Once
	dir  string
	err  error
}

// DemoTSDB returns a directory with the demo dataset as TSDB blocks
// (cluster="demo", with cAdvisor's pod-level and pause-container series),
// the decoy cluster, and ResizeStore's pods with ResizeHPAs. It is built
// once per test binary; call Cleanup from TestMain to remove it.
func DemoTSDB(t testing.TB) string {
	t.Helper()
	_, promtool := Require(t)
	demoTSDB.once.Do(func() {
		demoTSDB.dir, demoTSDB.err = buildDemoTSDB(promtool)
	})
	if demoTSDB.err != nil {
		t.Fatal(demoTSDB.err)
	}
	return demoTSDB.dir
}

// NewDemoTSDB builds the same TSDB as DemoTSDB in a directory of the
// test's own, removed when the test ends.
func NewDemoTSDB(t testing.TB) string {
	t.Helper()
	_, promtool := Require(t)
	dir := t.TempDir()
	if err := writeDemoTSDB(promtool, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func buildDemoTSDB(promtool string) (string, error) {
	dir, err := os.MkdirTemp("", "rightsize-demo-tsdb-")
	if err != nil {
		return "", err
	}
	if err := writeDemoTSDB(promtool, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func writeDemoTSDB(promtool, dir string) error {
	st, err := DemoStore()
	if err != nil {
		return fmt.Errorf("loading demo data: %w", err)
	}
	// 486 h blocks: the demo's two weeks are read in one pass.
	return Backfill(context.Background(), promtool, dir, 486*time.Hour, func(w io.Writer) error {
		return writeDemo(w, st)
	})
}

// WriteDemo renders what DemoTSDB holds as OpenMetrics text.
func WriteDemo(w io.Writer) error {
	st, err := DemoStore()
	if err != nil {
		return fmt.Errorf("loading demo data: %w", err)
	}
	return writeDemo(w, st)
}

func writeDemo(w io.Writer, st *history.Store) error {
	return openmetrics.Write(w, openmetrics.Options{Step: DemoStep, PodLevel: true},
		openmetrics.Source{Store: st, Labels: map[string]string{"cluster": DemoCluster}},
		openmetrics.Source{Store: DecoyStore(st), Labels: map[string]string{"cluster": DecoyCluster}},
		openmetrics.Source{Store: ResizeStore(ResizeStart), Labels: map[string]string{"cluster": ResizeCluster}, HPAs: ResizeHPAs(ResizeStart)})
}

// Cleanup removes what DemoTSDB and DemoVM built.
func Cleanup() {
	if demoTSDB.dir != "" {
		os.RemoveAll(demoTSDB.dir)
	}
	if demoOM.path != "" {
		os.Remove(demoOM.path)
	}
}
