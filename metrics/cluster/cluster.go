package cluster

import (
	"context"
	"fmt"
	"log/slog"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rightsize.dev/rightsize/metrics/kube"
	"rightsize.dev/rightsize/recommender/constraints"
)

// Config says which cluster to read, and which of its workloads.
type Config struct {
	// REST is the client configuration (kubeconfig or service account).
	REST *rest.Config
	// Namespace is read unless AllNamespaces; "" is the default namespace.
	Namespace     string
	AllNamespaces bool
	// Selector is a label selector on workloads (bare pods: on the pod).
	Selector string
	Log      *slog.Logger
}

// Tune returns a copy of cfg fit for discovery: discovery lists a dozen
// kinds at once, and client-go's default of 5 requests a second would
// throttle it for seconds.
func Tune(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "rightsize"
	return cfg
}

// Discover reads the cluster's workloads in scope and the objects that
// bound them; what it could not read comes back as one line each.
func (c Config) Discover(ctx context.Context) (*kube.Inventory, []string, error) {
	if c.REST == nil {
		return nil, nil, fmt.Errorf("no cluster configuration")
	}
	clients, err := c.clients()
	if err != nil {
		return nil, nil, fmt.Errorf("cluster clients: %w", err)
	}
	scope := kube.Options{Namespace: c.Namespace, AllNamespaces: c.AllNamespaces, Selector: c.Selector}
	inv, warns, err := kube.Discover(ctx, clients, scope, c.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %s: %w", c.REST.Host, err)
	}
	lines := make([]string, len(warns))
	for i, w := range warns {
		lines[i] = w.String()
	}
	return inv, lines, nil
}

func (c Config) clients() (kube.Clients, error) {
	typed := rest.CopyConfig(c.REST)
	// Protobuf is smaller on the wire and cheaper to decode than JSON
	// (docs/benchmarks.md has the figures).
	typed.ContentType = "application/vnd.kubernetes.protobuf"
	typed.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	kc, err := kubernetes.NewForConfig(typed)
	if err != nil {
		return kube.Clients{}, err
	}
	dc, err := dynamic.NewForConfig(c.REST)
	if err != nil {
		return kube.Clients{}, err
	}
	return kube.Clients{Kube: kc, Dynamic: dc}, nil
}

// bounds returns the inventory's bounding objects for the pipeline.
func bounds(inv *kube.Inventory) *constraints.Input {
	in := inv.Constraints()
	return &in
}
