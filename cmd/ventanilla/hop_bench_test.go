package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkHTTPHop: one Africa's Talking hop through the product's router
// (form parsing, number normalisation, the gateway, the memory store,
// rendering), served in-process without the network.
func BenchmarkHTTPHop(b *testing.B) {
	benchHTTPHop(b, &config{Root: "inicio"})
}

func benchHTTPHop(b *testing.B, c *config) {
	hop := httpWalker(b, c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		hop(i)
	}
}

// httpWalker starts the product's router for c and returns a citizen
// who, at each call, takes one hop: Turnos → back → turnos → back…, in a
// new session every 100 hops.
func httpWalker(b *testing.B, c *config) func(i int) {
	a, err := newApp(c, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(k string) (string, bool) {
			switch {
			case k == "VENTANILLA_SAMPLE_URL", strings.HasSuffix(k, "_API_URL"):
				return "http://127.0.0.1:1", true
			case strings.HasSuffix(k, "_API_KEY"):
				return "bench-key", true
			}
			return "", false
		}, registry)
	if err != nil {
		b.Fatal(err)
	}
	send := func(session, text string) *httptest.ResponseRecorder {
		form := url.Values{"sessionId": {session}, "serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "networkCode": {"74001"}, "text": {text}}
		req := httptest.NewRequest(http.MethodPost, "/ussd/africastalking", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, req)
		return rec
	}
	send("warm", "")
	send("warm", "1")
	var session, trail string
	return func(i int) {
		if i%100 == 0 {
			session, trail = "s"+strconv.Itoa(i), "1"
			send(session, "")
			send(session, trail)
		}
		if i%2 == 0 {
			trail += "*0" // back to the services menu
		} else {
			trail += "*1" // turnos
		}
		if rec := send(session, trail); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "CON ") {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
