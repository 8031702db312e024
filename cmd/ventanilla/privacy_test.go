package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ventanilla-gob/ventanilla/conversation"
	"github.com/ventanilla-gob/ventanilla/flows"

	"github.com/ventanilla-gob/ventanilla/internal/privacy"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A whole booking, with the debug log on and the audit trail written: the
// logs hold none of the citizen's identifiers, and the audit trail holds a
// pseudonym, never the number or the cédula.
func TestLogsAndAuditHoldNoIdentifiers(t *testing.T) {
	const phone, cedula = "+593991000777", "1714307103"
	key := strings.Repeat("k", 32)
	p, err := privacy.NewPseudonymizer([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(privacy.NewHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}), p))
	dir := t.TempDir()
	c := &config{AuditDir: dir, pseudo: p}
	srv, a := gatewayLogging(t, c, log)

	d := &dialer{t: t, url: srv.URL, session: "privacy", phone: phone}
	for _, in := range []string{"", "1", "1", "1", "1", "1", cedula, "1", "5"} {
		d.send(in)
	}
	// An error path too: a procedure that does not exist.
	d = &dialer{t: t, url: srv.URL, session: "privacy-2", phone: phone}
	for _, in := range []string{"", "2", "99999"} {
		d.send(in)
	}

	out := logs.String()
	if out == "" {
		t.Fatal("no logs at all: the test would prove nothing")
	}
	for _, id := range []string{phone, strings.TrimPrefix(phone, "+"), "0991000777", cedula} {
		if strings.Contains(out, id) {
			t.Errorf("logs contain %q:\n%s", id, out)
		}
	}

	// The audit trail is flushed when its writer closes.
	if err := a.audit.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("audit files: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	for _, id := range []string{phone, strings.TrimPrefix(phone, "+"), cedula} {
		if bytes.Contains(data, []byte(id)) {
			t.Errorf("audit trail contains %q", id)
		}
	}
	kinds := map[string]int{}
	want := p.ID(privacy.KindPhone, phone)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if rec["citizen"] != want {
			t.Errorf("citizen %v, want the pseudonym %s", rec["citizen"], want)
		}
		kinds[rec["kind"].(string)+"/"+rec["outcome"].(string)]++
	}
	for _, k := range []string{"call/ok", "call/not_found", "outcome/completed"} {
		if kinds[k] == 0 {
			t.Errorf("no %s record in %v", k, kinds)
		}
	}
}

// panicOn is a recorder that panics when a conversation calls service,
// with the citizen's number in the panic: a bug whose report would carry
// personal data.
type panicOn struct{ service string }

func (p panicOn) RecordCall(s *conversation.State, _ string, _ int, _, service string, _ flows.Response) {
	if service == p.service {
		panic("recorder broke for " + s.Phone + " on " + service)
	}
}

// jsonLines parses the log as JSON lines: a line in another format (one
// written past the logger the gateway was given) fails the test.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line not in the chosen format (json): %q", line)
			continue
		}
		lines = append(lines, rec)
	}
	return lines
}

// Every carrier's lines go through the gateway's logger: a whole booking
// through each USSD carrier, SMS carrier and Telegram, then a lookup whose
// hop panics with the number in the panic. Each carrier logs its panic
// (stack included) in the chosen format, and no line holds the citizen's
// number or cédula. The adapters used to log to slog's default, which
// the binary never set: neither pseudonymised nor JSON.
func TestEveryCarriersLinesGoThroughThePrivacyHandler(t *testing.T) {
	// SMS conversations are kept by number and channel: the second SMS
	// carrier's citizen has a number of their own.
	const cedula, atPhone = "1714307103", "+593991000200"
	p, err := privacy.NewPseudonymizer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(privacy.NewHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}), p))
	booking := []string{"1", "1", "1", "1", "1", cedula, "1"}

	for _, c := range registry {
		newHandset, ok := handsets[c.name]
		if !ok {
			continue
		}
		srv, a := gatewayLogging(t, &config{pseudo: p}, log)
		a.gateway.Engine.Recorder = panicOn{service: "turnos.mine"}
		h := newHandset(t, srv.URL, "privacy-"+c.name)
		h.dial("*384#")
		for _, in := range booking {
			h.answer(in)
		}
		h = newHandset(t, srv.URL, "privacy-"+c.name+"-mine")
		h.dial("*384#")
		h.answer("1") // Turnos
		h.answer("2") // Mis turnos
		if text, end := h.answer(cedula); !end || text != "Servicio no disponible. Intente más tarde." {
			t.Errorf("%s: the panicking hop showed %q (end %v)", c.name, text, end)
		}
	}

	backend := httptest.NewServer(sample.New(sample.Options{}))
	defer backend.Close()
	phones := newTextPhones(t, log, &config{pseudo: p, Carriers: writeFile(t, "carriers.yaml",
		"carriers:\n  africastalking-sms: {basic_user: at, basic_password_env: AT_CALLBACK_PASSWORD}\n")}, backend.URL)
	phones.app.gateway.Engine.Recorder = panicOn{service: "turnos.mine"}
	for _, in := range append([]string{"TURNO"}, booking[2:]...) {
		phones.twilio(citizenE164, in)
		phones.atSMS(atPhone, in, true)
	}
	for _, in := range []string{"TURNO", "2", cedula} {
		phones.twilio(citizenE164, in)
		phones.atSMS(atPhone, in, true)
	}
	phones.telegram(44, map[string]any{"contact": map[string]any{"phone_number": citizenE164, "first_name": "Ana", "user_id": 44}})
	for _, in := range []string{"TURNO", "2", cedula} {
		phones.telegram(44, map[string]any{"text": in})
	}

	out := logs.String()
	for _, id := range []string{citizenE164, citizenDigits, citizenNational, cedula, atPhone, atPhone[1:]} {
		if strings.Contains(out, id) {
			t.Errorf("logs contain %q", id)
		}
	}
	panicked := map[string]bool{}
	for _, rec := range jsonLines(t, out) {
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "panicked") {
			stack, _ := rec["stack"].(string)
			if !strings.Contains(stack, "panicOn.RecordCall") {
				t.Errorf("panic line without its stack: %v", rec)
			}
			panicked[fmt.Sprint(rec["carrier"], "/", rec["channel"], " ", rec["path"])] = true
		}
	}
	for _, want := range []string{"africastalking/<nil> <nil>", "hubtel/<nil> <nil>", "nalo/<nil> <nil>", "generic/<nil> <nil>",
		"kannel/ussd <nil>", "twilio/<nil> <nil>", "africastalking-sms/<nil> <nil>", "<nil>/<nil> /chat/telegram"} {
		if !panicked[want] {
			t.Errorf("no panic line from %s in the gateway's log (got %v)", want, panicked)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
