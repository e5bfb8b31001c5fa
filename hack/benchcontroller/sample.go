package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

var recGVR = schema.GroupVersionResource{Group: "rightsize.dev", Version: "v1alpha1", Resource: "recommendations"}

// row is one sample of the controller.
type row struct {
	t                  time.Duration // since the first sample
	rss                float64       // bytes
	rssAnon, rssFile   float64       // of rss: anonymous memory, and file pages mapped (the binary's own)
	cpu                float64       // seconds of user and system time
	samples            float64
	cycleSum, cycleCnt float64
	heapAlloc, heapSys float64
	checkpointAge      float64
	leader             float64
}

var columns = []string{"seconds", "rss_bytes", "cpu_seconds", "samples_ingested", "cycle_sum_seconds", "cycle_count",
	"heap_alloc_bytes", "heap_sys_bytes", "checkpoint_age_seconds", "leader", "rss_anon_bytes", "rss_file_bytes"}

func (r row) record() []string {
	out := []string{strconv.FormatFloat(r.t.Seconds(), 'f', 1, 64)}
	for _, v := range []float64{r.rss, r.cpu, r.samples, r.cycleSum, r.cycleCnt, r.heapAlloc, r.heapSys, r.checkpointAge, r.leader, r.rssAnon, r.rssFile} {
		out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
	}
	return out
}

// procRSS returns VmRSS of pid in bytes, and its parts RssAnon (the
// heap, stacks and the runtime's own) and RssFile (file pages mapped: the
// binary's text and data, which a kernel that maps file pages in large
// folios brings in whole as soon as any of it runs). RssShmem, the third
// part, is left out: the controller maps no shared memory.
func procRSS(pid int) (rss, anon, file float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	found := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		var into *float64
		switch name {
		case "VmRSS":
			into, found = &rss, true
		case "RssAnon":
			into = &anon
		case "RssFile":
			into = &file
		default:
			continue
		}
		fields := strings.Fields(rest) // "123456 kB"
		if len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, 0, 0, err
		}
		*into = kb * 1024
	}
	if !found {
		return 0, 0, 0, errors.New("no VmRSS")
	}
	return rss, anon, file, nil
}

// procCPU returns utime+stime of pid in seconds.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ")" are
	// state (3), ..., utime (14), stime (15).
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, errors.New("short stat")
	}
	u, err1 := strconv.ParseFloat(fields[11], 64)
	s, err2 := strconv.ParseFloat(fields[12], 64)
	return (u + s) / clockTicks, errors.Join(err1, err2)
}

func scrape(url string) (map[string]*dto.MetricFamily, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the sum over the family's series of their gauge, counter or
// untyped value, or of a histogram's sum (or count with count set).
func value(fams map[string]*dto.MetricFamily, name string, count bool) float64 {
	f := fams[name]
	if f == nil {
		return math.NaN()
	}
	v := 0.0
	for _, m := range f.Metric {
		switch {
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Untyped != nil:
			v += m.Untyped.GetValue()
		case m.Histogram != nil && count:
			v += float64(m.Histogram.GetSampleCount())
		case m.Histogram != nil:
			v += m.Histogram.GetSampleSum()
		}
	}
	return v
}

// clusterProcs are the pids of the cluster's components, from up.sh's
// $CLUSTER_RUN/NAME.pid files.
func clusterProcs(dir string) map[string]int {
	out := map[string]int{}
	if dir == "" {
		return out
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		if pid, err := strconv.Atoi(fields[0]); err == nil {
			out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
		}
	}
	return out
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// slope is the least-squares slope of rss against time, in bytes per second.
func slope(rows []row) float64 {
	var n, st, sy, stt, sty float64
	for _, r := range rows {
		t := r.t.Seconds()
		n++
		st += t
		sy += r.rss
		stt += t * t
		sty += t * r.rss
	}
	d := n*stt - st*st
	if n < 2 || d == 0 {
		return math.NaN()
	}
	return (n*sty - st*sy) / d
}

const mib = 1 << 20

func sample(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "the cluster's kubeconfig")
	pid := fs.Int("pid", 0, "the controller's pid")
	metricsURL := fs.String("metrics", "", "the controller's /metrics URL")
	duration := fs.Duration("duration", 30*time.Minute, "how long to sample")
	every := fs.Duration("every", 10*time.Second, "time between samples")
	csvFile := fs.String("csv", "", "write the samples to this CSV file")
	leaseNS := fs.String("lease-namespace", "rightsize-bench", "the controller's namespace (Lease, checkpoint)")
	recList := fs.String("recommendations", "", "write the names of the Recommendations to this file")
	clusterRun := fs.String("cluster-run", "", "the cluster's run directory (pid files), for its components' CPU")
	steady := fs.Duration("steady", 20*time.Minute, "the RSS slope is fitted over this last part of the run")
	heapURL := fs.String("heap-profile-url", "", "fetch a heap profile from this URL at the end")
	heapFile := fs.String("heap-profile", "", "write the heap profile here")
	_ = fs.Parse(args)
	if *pid == 0 || *metricsURL == "" || *kubeconfig == "" {
		return errors.New("sample: -pid, -metrics and -kubeconfig are required")
	}

	var w *csv.Writer
	if *csvFile != "" {
		f, err := os.Create(*csvFile)
		if err != nil {
			return err
		}
		defer f.Close()
		w = csv.NewWriter(f)
		defer w.Flush()
		_ = w.Write(columns)
	}
	procs := clusterProcs(*clusterRun)
	cpu0 := map[string]float64{}
	for name, p := range procs {
		cpu0[name], _ = procCPU(p)
	}
	load0 := loadavg()
	start := time.Now()
	logf("sampling pid %d every %s for %s; load average %s", *pid, *every, *duration, load0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var rows []row
	tick := time.NewTicker(*every)
	defer tick.Stop()
	lastLog := time.Time{}
	for {
		now := time.Now()
		rss, anon, file, err := procRSS(*pid)
		if err != nil {
			return fmt.Errorf("the controller (pid %d) is gone: %w", *pid, err)
		}
		cpu, _ := procCPU(*pid)
		r := row{t: now.Sub(start), rss: rss, rssAnon: anon, rssFile: file, cpu: cpu}
		fams, err := scrape(*metricsURL)
		if err != nil {
			logf("scrape: %v", err)
			r.samples, r.cycleSum, r.cycleCnt, r.heapAlloc, r.heapSys, r.checkpointAge, r.leader =
				math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		} else {
			r.samples = value(fams, "rightsize_samples_ingested_total", false)
			r.cycleSum = value(fams, "rightsize_cycle_duration_seconds", false)
			r.cycleCnt = value(fams, "rightsize_cycle_duration_seconds", true)
			r.heapAlloc = value(fams, "go_memstats_heap_alloc_bytes", false)
			r.heapSys = value(fams, "go_memstats_heap_sys_bytes", false)
			r.checkpointAge = value(fams, "rightsize_checkpoint_age_seconds", false)
			r.leader = value(fams, "rightsize_leader", false)
		}
		rows = append(rows, r)
		if w != nil {
			_ = w.Write(r.record())
			w.Flush()
		}
		if now.Sub(lastLog) >= time.Minute {
			logf("t=%4.0fs rss %6.1f MiB (anon %6.1f) cpu %6.1f s heap %6.1f MiB samples %.0f cycles %.0f (%.2f s each) checkpoint age %.0f s",
				r.t.Seconds(), r.rss/mib, r.rssAnon/mib, r.cpu, r.heapAlloc/mib, r.samples, r.cycleCnt, r.cycleSum/r.cycleCnt, r.checkpointAge)
			lastLog = now
		}
		if r.t >= *duration {
			break
		}
		select {
		case <-ctx.Done():
			logf("interrupted: summarising %s of samples", r.t.Round(time.Second))
			goto done
		case <-tick.C:
		}
	}
done:
	wall := time.Since(start).Seconds()
	load1 := loadavg()
	clusterCPU := map[string]float64{}
	for name, p := range procs {
		if c, err := procCPU(p); err == nil {
			clusterCPU[name] = (c - cpu0[name]) / wall
		}
	}

	if *heapURL != "" && *heapFile != "" {
		if err := fetch(*heapURL, *heapFile); err != nil {
			logf("heap profile: %v", err)
		} else {
			logf("heap profile written to %s", *heapFile)
		}
	}

	// Cluster side: the Recommendations and the checkpoint.
	cfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	bg := context.Background()
	recs, err := dynamic.NewForConfigOrDie(cfg).Resource(recGVR).List(bg, metav1.ListOptions{})
	nrec := -1
	var recNames []string
	if err != nil {
		logf("listing Recommendations: %v", err)
	} else {
		nrec = len(recs.Items)
		for _, u := range recs.Items {
			recNames = append(recNames, u.GetNamespace()+"/"+u.GetName())
		}
		sort.Strings(recNames)
		if *recList != "" {
			_ = os.WriteFile(*recList, []byte(strings.Join(recNames, "\n")+"\n"), 0o644)
		}
	}
	cms, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps(*leaseNS).List(bg, metav1.ListOptions{})
	var ckBytes, ckParts int
	if err != nil {
		logf("listing ConfigMaps: %v", err)
	} else {
		for _, cm := range cms.Items {
			if !strings.HasPrefix(cm.Name, "rightsize-checkpoint") {
				continue
			}
			ckParts++
			for _, v := range cm.BinaryData {
				ckBytes += len(v)
			}
			for _, v := range cm.Data {
				ckBytes += len(v)
			}
		}
	}

	summarise(os.Stdout, rows, wall, *steady, nrec, recNames, ckBytes, ckParts, load0, load1, clusterCPU)
	return nil
}

func fetch(url, file string) error {
	c := http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func summarise(out io.Writer, rows []row, wall float64, steady time.Duration, nrec int, recNames []string,
	ckBytes, ckParts int, load0, load1 string, clusterCPU map[string]float64) {
	first, last := rows[0], rows[len(rows)-1]
	peak, peakAnon := first, first
	for _, r := range rows {
		if r.rss > peak.rss {
			peak = r
		}
		if r.rssAnon > peakAnon.rssAnon {
			peakAnon = r
		}
	}
	from := last.t - steady
	var tail []row
	for _, r := range rows {
		if r.t >= from {
			tail = append(tail, r)
		}
	}
	span := tail[len(tail)-1].t - tail[0].t
	sl := slope(tail)
	cycles := last.cycleCnt
	meanCycle := last.cycleSum / last.cycleCnt
	// Steady-state CPU: from the first sample at or after 2 minutes (the
	// informers' initial list and the checkpoint read are behind it).
	cores := (last.cpu - first.cpu) / (last.t - first.t).Seconds()
	var warm row
	for _, r := range rows {
		if r.t >= 2*time.Minute {
			warm = r
			break
		}
	}
	steadyCores := math.NaN()
	if warm.t > 0 && last.t > warm.t {
		steadyCores = (last.cpu - warm.cpu) / (last.t - warm.t).Seconds()
	}
	maxHeap := 0.0
	for _, r := range rows {
		maxHeap = max(maxHeap, r.heapAlloc)
	}

	fmt.Fprintf(out, "\n== rightsize controller footprint (%d samples over %s of wall time) ==\n", len(rows), time.Duration(wall*float64(time.Second)).Round(time.Second))
	tw := func(k, v string, a ...any) { fmt.Fprintf(out, "| %-36s | %s |\n", k, fmt.Sprintf(v, a...)) }
	fmt.Fprintf(out, "| %-36s | %s |\n|%s|%s|\n", "measure", "value", strings.Repeat("-", 38), strings.Repeat("-", 50))
	tw("RSS peak", "%.1f MiB (at %s)", peak.rss/mib, peak.t.Round(time.Second))
	tw("RSS final", "%.1f MiB", last.rss/mib)
	tw("RSS slope", "%+.2f MiB per 10 min over the last %s", sl*600/mib, span.Round(time.Second))
	tw("RSS anon peak / final", "%.1f MiB (at %s) / %.1f MiB", peakAnon.rssAnon/mib, peakAnon.t.Round(time.Second), last.rssAnon/mib)
	tw("RSS file final", "%.1f MiB (the binary's pages mapped)", last.rssFile/mib)
	tw("heap alloc final / max", "%.1f / %.1f MiB (heap sys %.1f MiB)", last.heapAlloc/mib, maxHeap/mib, last.heapSys/mib)
	tw("CPU time", "%.1f s", last.cpu)
	tw("cores avg (whole run)", "%.4f", cores)
	tw("cores avg (after 2 min)", "%.4f", steadyCores)
	tw("cycles", "%.0f, mean %.3f s", cycles, meanCycle)
	tw("samples ingested", "%.0f (%.0f per cycle)", last.samples, last.samples/max(cycles, 1))
	tw("Recommendations", "%d", nrec)
	tw("checkpoint", "%d bytes (%.2f MiB) in %d ConfigMaps", ckBytes, float64(ckBytes)/mib, ckParts)
	tw("checkpoint age at end", "%.0f s", last.checkpointAge)
	tw("load average start / end", "%s / %s", load0, load1)
	names := make([]string, 0, len(clusterCPU))
	for n := range clusterCPU {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.3f", n, clusterCPU[n]))
	}
	if len(parts) > 0 {
		tw("cluster cores avg", "%s", strings.Join(parts, ", "))
	}
	if len(recNames) > 0 {
		show := recNames
		if len(show) > 5 {
			show = append(append([]string{}, show[:3]...), "…", show[len(show)-1])
		}
		fmt.Fprintf(out, "Recommendations: %s\n", strings.Join(show, ", "))
	}
}
