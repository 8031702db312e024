package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/sessions"
)

// floodHops sends n first hops from rotating numbers — never answered —
// through the product's router, as one client flooding a carrier's
// callback would, and counts the replies that were not a first screen.
func floodHops(t *testing.T, a *app, from, n int) (refused int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		form := url.Values{"sessionId": {fmt.Sprint("flood", i)}, "serviceCode": {"*384#"},
			"phoneNumber": {fmt.Sprintf("+59398%07d", i)}, "networkCode": {"74001"}, "text": {""}}
		req := httptest.NewRequest(http.MethodPost, "/ussd/africastalking", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, req)
		if !strings.HasPrefix(rec.Body.String(), "CON ") {
			refused++
		}
	}
	return refused
}

// A flood of first hops from rotating numbers, far beyond the memory
// store's cap, does not lock citizens out: a citizen books a turno in the
// middle of it, the flood's first hops keep being answered, and the store
// holds no more than the citizen's records plus the carrier's cap of new
// conversations. The caps are small so the test is quick; the defaults are
// measured in docs/performance.md.
func TestFloodOfFirstHopsDoesNotLockCitizensOut(t *testing.T) {
	const maxRecords, maxNew = 2_000, 500
	srv, a := gatewayLogging(t, &config{MemorySessions: maxRecords, NewSessions: maxNew, LimitPhone: 30},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := a.store.(*sessions.Memory)

	// Five times the store's cap before the citizen dials.
	next := 0
	if refused := floodHops(t, a, next, 5*maxRecords); refused > 0 {
		t.Errorf("%d of the flood's %d first hops were not answered with a first screen", refused, 5*maxRecords)
	}
	next += 5 * maxRecords

	// The citizen books while the flood goes on: between two of their
	// hops, fewer first hops than the carrier's cap (a citizen's first
	// screen is the oldest new conversation once maxNew more arrive).
	between := func() { floodHops(t, a, next, maxNew*4/5); next += maxNew * 4 / 5 }
	d := &dialer{t: t, url: srv.URL, session: "citizen", phone: "+593991000001"}
	steps := []struct{ send, want string }{
		{"", "CON Bienvenido a Ventanilla"},
		{"1", "Ventanilla ciudadana"},
		{"1", ""}, // turnos
		{"1", ""}, // book
		{"1", ""}, // first office
		{"1", ""}, // first slot
		{"1714307103", "1714307103"},
		{"1", "CON Turno reservado"},
		{"9", "END Gracias"}, // the satisfaction question, skipped
	}
	for _, s := range steps {
		expect(t, d.send(s.send), s.want)
		between()
	}

	if n := m.Len(); n > maxNew+10 {
		t.Errorf("after %d flood hops the store holds %d records, want at most the carrier's %d new ones and the citizen's", next, n, maxNew)
	}
	adm := m.Admission()
	if len(adm) != 1 || adm[0].Origin != "africastalking" || adm[0].New > maxNew || adm[0].Evicted == 0 {
		t.Errorf("admission %+v, want africastalking holding at most %d new conversations, the rest evicted", adm, maxNew)
	}
	_, metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		fmt.Sprintf(`ventanilla_sessions_new{carrier="africastalking"} %d`, adm[0].New),
		fmt.Sprintf(`ventanilla_sessions_new_limit{carrier="africastalking"} %d`, maxNew),
		`ventanilla_sessions_new_evicted_total{carrier="africastalking"} `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(metrics, "sessions_new"))
		}
	}
}

// An SMS flood from rotating numbers writes, besides each conversation,
// the channel each number wrote on (kept 400 days): those records must go
// with the conversations that were never answered, or they fill the store
// and lock everyone out.
func TestSMSFloodDoesNotLockCitizensOut(t *testing.T) {
	const maxRecords, maxNew = 2_000, 500
	srv, a := gatewayLogging(t, &config{MemorySessions: maxRecords, NewSessions: maxNew, LimitPhone: 30},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := a.store.(*sessions.Memory)
	unavailable := 0
	for i := range 5 * maxRecords {
		q := url.Values{"from": {fmt.Sprintf("+59398%07d", i)}, "to": {"4545"}, "text": {"TURNO"},
			"coding": {"0"}, "charset": {"UTF-8"}, "smsc": {"claro"}}
		rec := httptest.NewRecorder()
		a.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sms/kannel?"+q.Encode(), nil))
		if strings.Contains(rec.Body.String(), "no disponible") {
			unavailable++
		}
	}
	if unavailable > 0 {
		t.Errorf("%d of the flood's %d first messages got \"Servicio no disponible\"", unavailable, 5*maxRecords)
	}
	d := &dialer{t: t, url: srv.URL, session: "citizen", phone: "+593991000001"}
	expect(t, d.send(""), "CON Bienvenido a Ventanilla")
	expect(t, d.send("1"), "Ventanilla ciudadana")
	if n := m.Len(); n > 2*maxNew+10 {
		t.Errorf("after the SMS flood the store holds %d records, want at most the carrier's %d new conversations and their numbers' channels", n, maxNew)
	}
}
