package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// With the session Redis stopped, hops answer "Servicio no disponible"
// without sending Redis anything once the breaker has seen it fail (so no
// hop waits for Redis's timeouts), /readyz says the store is down, and
// both recover once Redis is back. With --shared-limits the hop limits,
// counted in the same Redis, fail open at once as well.
func TestHopsFailFastWhileRedisIsDown(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared limits ", shared), func(t *testing.T) {
			hopsFailFastWhileRedisIsDown(t, &config{NearSessions: 1000, RedisBatch: true, SharedLimits: shared, LimitPhone: 30, LimitCarrier: 100_000})
		})
	}
}

func hopsFailFastWhileRedisIsDown(t *testing.T, c *config) {
	addr, stop := redistest.StartServer(t)
	c.RedisURL = "redis://" + addr + "/0"
	srv, a := gatewayLogging(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r, ok := sessions.Unwrap(a.store).(*sessions.Redis)
	if !ok {
		t.Fatalf("the app's store is %T, want Redis behind a breaker", a.store)
	}
	var sent redistest.Commands
	r.Client().AddHook(&sent)
	n := 0
	citizen := func(i int) string {
		n++
		d := &dialer{t: t, url: srv.URL, session: "brk" + strconv.Itoa(n), phone: "+5917100" + strconv.Itoa(1000+i)}
		return d.send("")
	}
	dial := func() string { return citizen(100 + n) }

	// Citizens whose conversations this instance holds copies of: their
	// next dial is first answered from the copy, which says nothing about
	// Redis.
	for i := range 10 {
		expect(t, citizen(i), "CON ")
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Fatalf("readyz with Redis up: %d", code)
	}
	stop()
	for i := range 10 {
		if a.breaker.Open() {
			break
		}
		citizen(i)
	}
	if !a.breaker.Open() {
		t.Fatalf("breaker %s after 10 hops with Redis stopped, want open", a.breaker.State())
	}
	before := sent.N()
	for range 20 {
		expect(t, dial(), "END Servicio no disponible")
	}
	if got := sent.N() - before; got != 0 {
		t.Fatalf("20 hops with the breaker open sent Redis %d commands, want 0: each waited for Redis", got)
	}
	if code, body := get(t, srv.URL+"/readyz"); code != 503 {
		t.Fatalf("readyz with Redis down: %d %q, want 503", code, body)
	}
	if _, body := get(t, srv.URL+"/metrics"); !strings.Contains(body, `ventanilla_store_breaker_state{store="sessions"} 2`) &&
		!strings.Contains(body, `ventanilla_store_breaker_state{store="sessions"} 1`) {
		t.Fatalf("metrics do not show the store's breaker open:\n%s", grep(body, "store_breaker"))
	}

	redistest.StartServerAt(t, addr)
	testutil.WaitFor(t, "the breaker to close once Redis came back", func() bool { return !a.breaker.Open() })
	expect(t, dial(), "CON ")
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Fatalf("readyz after Redis came back: %d", code)
	}
	if _, body := get(t, srv.URL+"/metrics"); !strings.Contains(body, `ventanilla_store_breaker_state{store="sessions"} 0`) {
		t.Fatalf("metrics do not show the store's breaker closed:\n%s", grep(body, "store_breaker"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// BenchmarkHopRedisDown: a whole Africa's Talking hop through the
// product's router while the session Redis is stopped and the breaker
// knows it — what a citizen waits for "Servicio no disponible".
func BenchmarkHopRedisDown(b *testing.B) {
	addr, stop := redistest.StartServer(b)
	a, err := newApp(&config{Root: "inicio", RedisURL: "redis://" + addr + "/0", NearSessions: 1000, RedisBatch: true},
		slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) (string, bool) { return "", false }, registry)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.store.Close(); a.breaker.Close() })
	stop()
	send := func(session string) *httptest.ResponseRecorder {
		form := url.Values{"sessionId": {session}, "serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "networkCode": {"74001"}, "text": {""}}
		req := httptest.NewRequest(http.MethodPost, "/ussd/africastalking", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, req)
		return rec
	}
	for i := 0; !a.breaker.Open(); i++ {
		if i == 10 {
			b.Fatal("breaker still closed after 10 hops with Redis stopped")
		}
		send("open")
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if rec := send("s" + strconv.Itoa(i)); !strings.HasPrefix(rec.Body.String(), "END Servicio no disponible") {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
