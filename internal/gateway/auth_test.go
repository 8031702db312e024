package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
)

type countingHopper struct{ n int }

func (h *countingHopper) Hop(context.Context, carrier.Inbound) (carrier.Reply, error) {
	h.n++
	return carrier.Reply{Text: "ok"}, nil
}

type pingCarrier struct{}

func (pingCarrier) Name() string { return "ping" }
func (pingCarrier) Mount(r carrier.Router, h carrier.Hopper) {
	r.Add(http.MethodPost, "/ussd/ping", func(c echo.Context) error {
		rep, _ := h.Hop(c.Request().Context(), carrier.Inbound{})
		return c.String(http.StatusOK, rep.Text)
	})
}

func TestCarrierAuth(t *testing.T) {
	cases := []struct {
		name   string
		auth   gateway.Auth
		path   string
		remote string
		user   string
		pass   string
		status int
	}{
		{"no auth", gateway.Auth{}, "/ussd/ping", "203.0.113.5:1234", "", "", 200},
		{"allowed ip", gateway.Auth{AllowIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, "/ussd/ping", "203.0.113.5:1234", "", "", 200},
		{"other ip", gateway.Auth{AllowIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, "/ussd/ping", "198.51.100.7:1234", "", "", 403},
		{"ipv4 in ipv6", gateway.Auth{AllowIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}, "/ussd/ping", "[::ffff:203.0.113.9]:1234", "", "", 200},
		{"basic ok", gateway.Auth{BasicUser: "at", BasicPassword: "s3cret"}, "/ussd/ping", "203.0.113.5:1234", "at", "s3cret", 200},
		{"basic wrong", gateway.Auth{BasicUser: "at", BasicPassword: "s3cret"}, "/ussd/ping", "203.0.113.5:1234", "at", "guess", 401},
		{"basic missing", gateway.Auth{BasicUser: "at", BasicPassword: "s3cret"}, "/ussd/ping", "203.0.113.5:1234", "", "", 401},
		{"token path", gateway.Auth{PathToken: "Zx8_k2"}, "/c/Zx8_k2/ussd/ping", "203.0.113.5:1234", "", "", 200},
		{"token missing", gateway.Auth{PathToken: "Zx8_k2"}, "/ussd/ping", "203.0.113.5:1234", "", "", 404},
		{"token wrong", gateway.Auth{PathToken: "Zx8_k2"}, "/c/guess/ussd/ping", "203.0.113.5:1234", "", "", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := echo.New()
			h := &countingHopper{}
			gateway.Mount(e, pingCarrier{}, c.auth, h)
			req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(""))
			req.RemoteAddr = c.remote
			if c.user != "" || c.pass != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			if (c.status == 200) != (h.n == 1) {
				t.Errorf("hopper called %d times with status %d", h.n, rec.Code)
			}
		})
	}
}
