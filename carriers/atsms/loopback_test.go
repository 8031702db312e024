package atsms_test

import (
	"net/http"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
)

func TestMain(m *testing.M) { carriertest.RunLoopbackOnly(m) }

// The guard itself: a client that would leave loopback is stopped.
func TestGuardRefusesToLeaveLoopback(t *testing.T) {
	var tried []string
	tr := &http.Transport{DialContext: carriertest.LoopbackDialer(nil, func(addr string) { tried = append(tried, addr) })}
	defer tr.CloseIdleConnections()
	for _, u := range []string{"https://api.africastalking.com/", "http://192.0.2.1/", "http://[2001:db8::1]/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
			t.Errorf("%s: reached", u)
		}
	}
	if len(tried) != 3 {
		t.Errorf("leaks reported: %v", tried)
	}
}
