package controller

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultLeaseNamespace holds the Lease and the checkpoint when neither a
// flag nor $POD_NAMESPACE names a namespace.
const DefaultLeaseNamespace = "rightsize-system"

// LeaseNamespace is namespace, else $POD_NAMESPACE (the downward API), else
// DefaultLeaseNamespace.
func LeaseNamespace(namespace string, getenv func(string) string) string {
	if namespace != "" {
		return namespace
	}
	if ns := getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return DefaultLeaseNamespace
}

// Identity is identity, else this replica's name in the Lease: $POD_NAME
// or the host name, with a random suffix so that a restarted process is
// not taken for the one before it.
func Identity(identity string, getenv func(string) string) string {
	if identity != "" {
		return identity
	}
	id := getenv("POD_NAME")
	if id == "" {
		id, _ = os.Hostname()
	}
	return id + "_" + uuid.NewString()
}

// NewRegistry is a metrics registry with the Go runtime's and the
// process's collectors, for Options.Registry and Serve.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Serve serves /metrics (reg), /healthz and /readyz on listen and runs the
// controller until ctx ends; the endpoints stop after it.
func Serve(ctx context.Context, c *Controller, listen string, reg *prometheus.Registry) error {
	log := c.o.Log
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", c.Healthz)
	mux.HandleFunc("/readyz", c.Readyz)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	log.Info("serving", "address", ln.Addr().String(), "identity", c.o.Identity, "lease", c.o.Namespace+"/"+c.o.LeaseName)

	runErr := c.Run(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if runErr != nil {
		log.Error("controller stopped", "err", runErr)
	}
	return runErr
}
