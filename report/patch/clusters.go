package patch

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"rightsize.dev/rightsize/recommender/workload"
)

// ClusterDir is the directory, under the patches directory, of one
// cluster's patches when a plan holds several: the cluster's name with
// every character but letters, digits, '.', '_' and '-' made '_' (a name
// such as an EKS ARN holds ':' and '/'). Workloads of no named cluster stay
// in the patches directory itself.
func ClusterDir(cluster string) string {
	if cluster == "" {
		return ""
	}
	b := []byte(cluster)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	s := string(b)
	if strings.Trim(s, ".") == "" {
		s = strings.Repeat("_", len(s)) // never "." or ".."
	}
	return s
}

// ClusterWritten is what WriteClusters wrote into one directory.
type ClusterWritten struct {
	Cluster, Dir     string
	Written, Skipped []string
}

// WriteClusters writes the plan's patches as Write does, one directory per
// cluster (ClusterDir) with its own kustomization.yaml, so that each
// cluster's GitOps overlay takes its own; a plan of one unnamed cluster is
// written into dir itself. Each directory is written all or nothing; two
// clusters whose names map to the same directory are an error before
// anything is written.
func WriteClusters(dir string, p workload.Plan) ([]ClusterWritten, error) {
	byCluster := map[string][]workload.WorkloadPlan{}
	for _, wp := range p.Workloads {
		byCluster[wp.Key.Cluster] = append(byCluster[wp.Key.Cluster], wp)
	}
	clusters := make([]string, 0, len(byCluster))
	for c := range byCluster {
		clusters = append(clusters, c)
	}
	if len(clusters) == 0 {
		clusters = []string{""} // an empty plan: its kustomization.yaml, as Write does
	}
	slices.Sort(clusters)
	owner := map[string]string{}
	for _, c := range clusters {
		d := ClusterDir(c)
		if o, ok := owner[d]; ok {
			return nil, fmt.Errorf("clusters %q and %q would share the patch directory %q", o, c, filepath.Join(dir, d))
		}
		owner[d] = c
	}
	var out []ClusterWritten
	for _, c := range clusters {
		sub := p
		sub.Workloads = byCluster[c]
		d := filepath.Join(dir, ClusterDir(c))
		written, skipped, err := Write(d, sub)
		if err != nil {
			return out, fmt.Errorf("cluster %q: %w", c, err)
		}
		out = append(out, ClusterWritten{Cluster: c, Dir: d, Written: written, Skipped: skipped})
	}
	return out, nil
}
