package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readCert(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, name)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

func TestPKI(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, runPKI([]string{"-dir", dir}, &out))

	ca := readCert(t, dir, caCert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, tc := range []struct {
		cert, host string
	}{{apiserverCert, "127.0.0.1"}, {apiserverCert, "kubernetes.default.svc"}, {servingCert, "127.0.0.1"}, {servingCert, "metrics-server.kube-system.svc"}} {
		c := readCert(t, dir, tc.cert)
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: tc.host, CurrentTime: time.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		assert.NoError(t, err, "%s for %s", tc.cert, tc.host)
	}
	fp := x509.NewCertPool()
	fp.AddCert(readCert(t, dir, frontProxyCACert))
	client := readCert(t, dir, proxyClientCert)
	assert.Equal(t, "front-proxy-client", client.Subject.CommonName, "the name --requestheader-allowed-names expects")
	_, err := client.Verify(x509.VerifyOptions{Roots: fp, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.NoError(t, err)

	token, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	require.NoError(t, err)
	tokens, err := os.ReadFile(filepath.Join(dir, tokensFile))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(token))+",admin,admin,system:masters\n", string(tokens))
	for _, f := range []string{caKey, apiserverKey, servingKey, frontProxyKey, proxyClientKey, saKey, saPub} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}

	// A second run keeps what is there.
	out.Reset()
	require.NoError(t, runPKI([]string{"-dir", dir}, &out))
	assert.Equal(t, "pki: reusing "+dir+"\n", out.String())
	again, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	require.NoError(t, err)
	assert.Equal(t, token, again)
}

func TestRunUsage(t *testing.T) {
	assert.Error(t, run(t.Context(), nil, &bytes.Buffer{}))
	assert.ErrorContains(t, run(t.Context(), []string{"frobnicate"}, &bytes.Buffer{}), `unknown subcommand "frobnicate"`)
	assert.ErrorContains(t, run(t.Context(), []string{"pki"}, &bytes.Buffer{}), "-dir is required")
	assert.ErrorContains(t, run(t.Context(), []string{"bootstrap"}, &bytes.Buffer{}), "are required")
}
