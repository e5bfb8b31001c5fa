package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// runProbe makes one GET and succeeds on a 2xx answer; up.sh calls it in a
// loop so that it can also notice a component that exited.
func runProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	url := fs.String("url", "", "URL to GET")
	ca := fs.String("ca", "", "CA bundle to verify an https server with")
	token := fs.String("token", "", "bearer token, or @FILE to read it from FILE")
	insecure := fs.Bool("insecure", false, "do not verify the server certificate (components' own health ports)")
	timeout := fs.Duration("timeout", 2*time.Second, "time limit of the request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("probe: -url is required")
	}
	client, err := httpClient(*ca, *insecure, *timeout)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	tok, err := readToken(*token)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe: %s: %s", *url, resp.Status)
	}
	return nil
}

func httpClient(caFile string, insecure bool, timeout time.Duration) (*http.Client, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // loopback health ports of components with self-signed certificates
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", caFile)
		}
		cfg.RootCAs = pool
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

func readToken(s string) (string, error) {
	if f, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return s, nil
}
