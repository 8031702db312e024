package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// NewClient returns the client a run needs: up to concurrency HTTP/1.1
// keep-alive connections to one host, timeouts on every stage, no proxy,
// no redirects followed (a redirect is an answer other than 200), no
// compression. Unless remote is set it connects to loopback addresses
// only, so a bench aimed at a real host by mistake fails at once.
func NewClient(concurrency int, timeout time.Duration, remote bool) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !remote {
		dialer.ControlContext = loopbackOnly
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		Protocols:             protocols,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		DisableCompression:    true,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ErrNotLoopback is a connection refused because it would leave the machine.
var ErrNotLoopback = errors.New("not a loopback address")

func loopbackOnly(_ context.Context, _, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: %w (allow remote targets explicitly)", host, ErrNotLoopback)
	}
	return nil
}
