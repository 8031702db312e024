package interop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop"
)

// testPKI is a CA made for one test, with what it signed.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
	dir    string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Ventanilla test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{ca: ca, caKey: key, dir: t.TempDir()}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a certificate for cn; server certificates are for 127.0.0.1.
func (p *testPKI) issue(t *testing.T, cn string, server bool) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := p.write(t, cn+".pem", "CERTIFICATE", der)
	keyFile := p.write(t, cn+"-key.pem", "PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	serverCert, _, _ := pki.issue(t, "ss.example.gob.ec", true)
	_, certFile, keyFile := pki.issue(t, "ventanilla", false)

	pool := x509.NewCertPool()
	pool.AddCert(pki.ca)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"client":"`+r.TLS.PeerCertificates[0].Subject.CommonName+`"}`)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	reg, err := interop.ParseRegistry("services.yaml", []byte(`
services:
  with-cert:
    base_url: ${SS_URL}
    timeout: 8s     # handshakes under -race on a busy machine
    auth:
      type: mtls
      cert_file: ${CERT}
      key_file: ${KEY}
      ca_file: ${CA}
  without-cert:
    base_url: ${SS_URL}
    timeout: 8s
`), env(map[string]string{"SS_URL": srv.URL, "CERT": certFile, "KEY": keyFile, "CA": pki.caFile}))
	if err != nil {
		t.Fatal(err)
	}
	c := interop.NewClient(reg, loopbackClient(t), interop.WithLogger(quiet))

	r := c.Call(context.Background(), "with-cert", nil)
	if r.Outcome != interop.OK || r.Get("client") != "ventanilla" {
		t.Errorf("with a client certificate: %q %v %s", r.Outcome, r.Err, r.Body)
	}
	if r := c.Call(context.Background(), "without-cert", nil); r.Outcome != interop.Error {
		t.Errorf("without one: %q %v", r.Outcome, r.Err)
	}

	t.Run("TLS 1.2 at least", func(t *testing.T) {
		old := httptest.NewUnstartedServer(http.NotFoundHandler())
		old.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}
		old.Config.ErrorLog = log.New(io.Discard, "", 0)
		old.StartTLS()
		defer old.Close()
		reg, err := interop.ParseRegistry("services.yaml", []byte(`
services:
  old:
    base_url: ${URL}
    timeout: 8s
    auth: {type: mtls, cert_file: "${CERT}", key_file: "${KEY}", ca_file: "${CA}"}
`), env(map[string]string{"URL": old.URL, "CERT": certFile, "KEY": keyFile, "CA": pki.caFile}))
		if err != nil {
			t.Fatal(err)
		}
		c := interop.NewClient(reg, loopbackClient(t), interop.WithLogger(quiet))
		r := c.Call(context.Background(), "old", nil)
		if r.Outcome != interop.Error || r.Err == nil || !strings.Contains(r.Err.Error(), "protocol version") {
			t.Errorf("a TLS 1.1 server: %q %v", r.Outcome, r.Err)
		}
	})

	t.Run("files are checked at load", func(t *testing.T) {
		_, err := interop.ParseRegistry("services.yaml", []byte(`
services:
  a:
    base_url: https://127.0.0.1
    auth:
      type: mtls
      cert_file: ${CERT}
      key_file: ${CERT}
      ca_file: ${KEY}
`), env(map[string]string{"CERT": certFile, "KEY": keyFile}))
		want := "services.yaml:7:7: services.a.auth.cert_file: loading the client certificate and key: tls: found a certificate rather than a key in the PEM for the private key"
		if err == nil || err.Error() != want {
			t.Errorf("error:\n  %v\nwant\n  %s", err, want)
		}
		_, err = interop.ParseRegistry("services.yaml", []byte(`
services:
  a:
    base_url: https://127.0.0.1
    auth: {type: mtls, cert_file: "${CERT}", key_file: "${KEY}", ca_file: "${KEY}"}
`), env(map[string]string{"CERT": certFile, "KEY": keyFile}))
		if err == nil || !strings.Contains(err.Error(), "services.a.auth.ca_file: no PEM certificate in ") {
			t.Errorf("a key as CA bundle: %v", err)
		}
	})
}
