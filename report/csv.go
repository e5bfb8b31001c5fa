package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

var csvHeader = []string{
	"namespace", "kind", "workload", "container", "replicas",
	"cpu_request_current", "cpu_request_recommended", "cpu_limit_current", "cpu_limit_recommended",
	"memory_request_current", "memory_request_recommended", "memory_limit_current", "memory_limit_recommended",
	"qos_current", "qos_recommended", "confidence", "reasons",
	"hpa_current", "hpa_recommended",
}

// writeCSV writes one row per container: CPU in cores, memory in bytes, empty
// where unset. A container without a recommendation has empty recommended
// columns and confidence, as the json document omits them.
func writeCSV(w io.Writer, p workload.Plan) error {
	cw := csv.NewWriter(w)
	// A plan of several clusters names each row's first; one of a single
	// cluster keeps the columns it always had.
	clusters := manyClusters(p)
	header := csvHeader
	if clusters {
		header = append([]string{"cluster"}, csvHeader...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, wp := range sortedWorkloads(p) {
		// The workload's HPA, repeated on each of its rows; empty for a
		// workload an HPA cannot scale.
		var hpaCur, hpaRec string
		if a := wp.Autoscaling; a != nil {
			hpaCur, hpaRec = hpaCell(a.Current, "none"), hpaCell(a.Recommended, "keep fixed")
		}
		for _, c := range wp.Containers {
			cur := c.Current
			var rec workload.Settings
			conf := ""
			if hasRecommendation(c) {
				rec = c.Recommended()
				conf = strconv.FormatFloat(c.Recommendation.Confidence, 'f', 2, 64)
			}
			record := []string{
				wp.Key.Namespace, string(wp.Key.Kind), wp.Key.Name, c.Name, strconv.Itoa(wp.Replicas),
				cores(cur.Requests.CPU), cores(rec.Requests.CPU),
				cores(cur.Limits.CPU), cores(rec.Limits.CPU),
				byteCount(cur.Requests.Memory), byteCount(rec.Requests.Memory),
				byteCount(cur.Limits.Memory), byteCount(rec.Limits.Memory),
				string(wp.QoSCurrent), string(wp.QoSRecommended), conf,
				strings.Join(c.Recommendation.Reasons, "; "),
				hpaCur, hpaRec,
			}
			if clusters {
				record = append([]string{wp.Key.Cluster}, record...)
			}
			if err := cw.Write(record); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// manyClusters says whether any workload of the plan names its cluster.
func manyClusters(p workload.Plan) bool {
	for _, wp := range p.Workloads {
		if wp.Key.Cluster != "" {
			return true
		}
	}
	return false
}

// cores renders millicores as a decimal number of cores ("0.25", "2"), empty
// when unset. Integer arithmetic keeps it exact.
func cores(m workload.Millicores) string {
	if m <= 0 {
		return ""
	}
	s := strconv.FormatInt(int64(m)/1000, 10)
	if frac := int64(m) % 1000; frac != 0 {
		s += strings.TrimRight("."+strconv.FormatInt(1000+frac, 10)[1:], "0")
	}
	return s
}

// byteCount renders memory as an integer byte count, empty when unset.
func byteCount(b workload.Bytes) string {
	if b <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(b), 10)
}
