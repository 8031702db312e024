package carriertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// Tests of code that calls providers reach nothing but loopback. Every
// client they build dials through LoopbackDialer, and RunLoopbackOnly
// replaces http.DefaultTransport for the whole run, so that code falling
// back to it is caught too.

var leaks atomic.Int32

// RunLoopbackOnly is a TestMain body: it runs the tests with
// http.DefaultTransport refusing to leave loopback, and fails the run if
// anything tried.
func RunLoopbackOnly(m *testing.M) {
	http.DefaultTransport = &http.Transport{DialContext: LoopbackDialer(nil, func(addr string) {
		leaks.Add(1)
		fmt.Fprintf(os.Stderr, "a request tried to leave loopback through http.DefaultTransport: %s\n", addr)
	})}
	code := m.Run()
	if leaks.Load() > 0 && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// LoopbackDialer dials routes[addr] instead of addr when the route exists,
// and refuses, reporting to leak, any address that is not a loopback IP.
// Host names are never resolved: a provider's real host name reaches a
// test server only through an explicit route.
func LoopbackDialer(routes map[string]string, leak func(addr string)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := routes[addr]; ok {
			addr = to
		}
		host, _, err := net.SplitHostPort(addr)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
			leak(addr)
			return nil, errors.New("test dialer: refusing to leave loopback for " + addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}

// GuardedClient is the only kind of client a test hands to code under
// test: it fails the test on any attempt to leave loopback, routes the
// given "host:port"s to loopback addresses, and trusts roots for TLS.
func GuardedClient(t testing.TB, routes map[string]string, roots *x509.CertPool) *http.Client {
	t.Helper()
	tr := &http.Transport{
		DialContext: LoopbackDialer(routes, func(addr string) {
			t.Errorf("a request tried to leave loopback: %s", addr)
		}),
		TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: false,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// ProviderServer starts a TLS server on loopback whose certificate is
// valid for hosts, and returns it with a pool trusting that certificate
// and the routes that send hosts' port 443 to it.
func ProviderServer(t testing.TB, h http.Handler, hosts ...string) (*httptest.Server, *x509.CertPool, map[string]string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	routes := make(map[string]string, len(hosts))
	for _, h := range hosts {
		routes[h+":443"] = srv.Listener.Addr().String()
	}
	return srv, roots, routes
}
