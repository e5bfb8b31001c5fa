package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The file names up.sh passes to the components.
const (
	caCert, caKey                   = "ca.crt", "ca.key"
	apiserverCert, apiserverKey     = "apiserver.crt", "apiserver.key"
	servingCert, servingKey         = "serving.crt", "serving.key"
	frontProxyCACert, frontProxyKey = "front-proxy-ca.crt", "front-proxy-ca.key"
	proxyClientCert, proxyClientKey = "front-proxy-client.crt", "front-proxy-client.key"
	saKey, saPub                    = "sa.key", "sa.pub"
	tokensFile, adminTokenFile      = "tokens.csv", "admin.token"
	pkiDone                         = ".done"
)

func runPKI(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pki", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory to write the PKI into (kept when already complete)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("pki: -dir is required")
	}
	if _, err := os.Stat(filepath.Join(*dir, pkiDone)); err == nil {
		fmt.Fprintln(out, "pki: reusing", *dir)
		return nil
	}
	if err := writePKI(*dir, time.Now()); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	fmt.Fprintln(out, "pki: wrote", *dir)
	return nil
}

// writePKI writes every certificate, key and token the cluster needs. ECDSA
// P-256 keys keep generation instant; every component accepts them.
func writePKI(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	w := pkiWriter{dir: dir, now: now}
	ca, caPriv := w.ca("rightsize-test-ca", caCert, caKey)
	w.leaf(ca, caPriv, "kube-apiserver", apiserverCert, apiserverKey, x509.ExtKeyUsageServerAuth,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)})
	// One serving certificate for kwok's kubelet endpoint and metrics-server:
	// both listen on 127.0.0.1 and are verified against the same CA.
	w.leaf(ca, caPriv, "localhost", servingCert, servingKey, x509.ExtKeyUsageServerAuth,
		[]string{"localhost", "metrics-server.kube-system.svc"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	// The aggregation layer authenticates to metrics-server with a client
	// certificate from a separate CA (the requestheader CA).
	fp, fpPriv := w.ca("front-proxy-ca", frontProxyCACert, frontProxyKey)
	w.leaf(fp, fpPriv, "front-proxy-client", proxyClientCert, proxyClientKey, x509.ExtKeyUsageClientAuth, nil, nil)

	sa := w.key()
	w.writeKey(saKey, sa)
	if w.err == nil {
		der, err := x509.MarshalPKIXPublicKey(sa.Public())
		w.check(err)
		w.write(saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}

	tok := make([]byte, 16)
	_, err := rand.Read(tok)
	w.check(err)
	token := hex.EncodeToString(tok)
	w.write(adminTokenFile, []byte(token+"\n"))
	w.write(tokensFile, []byte(token+",admin,admin,system:masters\n"))
	w.write(pkiDone, nil)
	return w.err
}

// pkiWriter keeps the first error so the steps above read as a list.
type pkiWriter struct {
	dir    string
	now    time.Time
	serial int64
	err    error
}

func (w *pkiWriter) check(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

func (w *pkiWriter) key() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	w.check(err)
	return k
}

func (w *pkiWriter) write(name string, data []byte) {
	if w.err != nil {
		return
	}
	w.check(os.WriteFile(filepath.Join(w.dir, name), data, 0o600))
}

func (w *pkiWriter) writeKey(name string, k *ecdsa.PrivateKey) {
	if w.err != nil {
		return
	}
	der, err := x509.MarshalECPrivateKey(k)
	w.check(err)
	w.write(name, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func (w *pkiWriter) template(cn string) *x509.Certificate {
	w.serial++
	return &x509.Certificate{
		SerialNumber: big.NewInt(w.serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    w.now.Add(-time.Hour),
		NotAfter:     w.now.Add(10 * 365 * 24 * time.Hour),
	}
}

func (w *pkiWriter) sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer, certName string) *x509.Certificate {
	if w.err != nil {
		return nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	w.check(err)
	if w.err != nil {
		return nil
	}
	cert, err := x509.ParseCertificate(der)
	w.check(err)
	w.write(certName, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return cert
}

func (w *pkiWriter) ca(cn, certName, keyName string) (*x509.Certificate, *ecdsa.PrivateKey) {
	k := w.key()
	t := w.template(cn)
	t.IsCA, t.BasicConstraintsValid = true, true
	t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	w.writeKey(keyName, k)
	if w.err != nil {
		return nil, nil
	}
	return w.sign(t, t, k.Public(), k, certName), k
}

func (w *pkiWriter) leaf(ca *x509.Certificate, caPriv *ecdsa.PrivateKey, cn, certName, keyName string, usage x509.ExtKeyUsage, dns []string, ips []net.IP) {
	k := w.key()
	if w.err != nil {
		return
	}
	t := w.template(cn)
	t.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	t.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	t.DNSNames, t.IPAddresses = dns, ips
	w.writeKey(keyName, k)
	w.sign(t, ca, k.Public(), caPriv, certName)
}
