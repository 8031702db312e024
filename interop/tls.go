package interop

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// clientTLS loads an mtls client certificate and, when caFile is set, the
// CAs to trust for the server in place of the system's. field names the
// Auth field an error is about.
func clientTLS(certFile, keyFile, caFile string) (cfg *tls.Config, field string, err error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// LoadX509KeyPair does not say which file is wrong; find out so the
		// operator fixes the right line.
		if _, statErr := os.Stat(certFile); statErr != nil {
			return nil, "cert_file", fmt.Errorf("cannot read %s: %w", certFile, unwrapPath(statErr))
		}
		if _, statErr := os.Stat(keyFile); statErr != nil {
			return nil, "key_file", fmt.Errorf("cannot read %s: %w", keyFile, unwrapPath(statErr))
		}
		return nil, "cert_file", fmt.Errorf("loading the client certificate and key: %v", err)
	}
	cfg = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, "ca_file", fmt.Errorf("cannot read %s: %w", caFile, unwrapPath(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "ca_file", fmt.Errorf("no PEM certificate in %s", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, "", nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// httpClientFor returns the http.Client a service's calls go through: base,
// or for mtls a copy of base whose transport presents the service's
// certificate. Copies keep base's dialer, proxy and pool settings; a base
// whose transport is not an *http.Transport cannot carry a certificate, so
// the copy starts from the default transport instead.
func httpClientFor(base *http.Client, s *Service) *http.Client {
	if s.tls == nil {
		return base
	}
	var t *http.Transport
	if bt, ok := base.Transport.(*http.Transport); ok {
		t = bt.Clone()
	} else {
		t = defaultHTTPClient().Transport.(*http.Transport)
	}
	t.TLSClientConfig = s.tls.Clone()
	c := *base
	c.Transport = t
	return &c
}
