package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
)

// The turnos booking by SMS, the whole way through real Kannel: each
// message is injected at Kannel's fake SMSC, travels through bearerbox and
// smsbox to the product's router, and the reply comes back out at the fake
// SMSC.
func TestBookingBySMSThroughRealKannel(t *testing.T) {
	srv := gatewayFor(t, &config{Keywords: defaultKeywords, SMSTranslit: true})
	k := kanneltest.Start(t, kanneltest.Options{GetURL: srv.URL + "/sms/kannel?" + kannel.Query})
	const citizen = "+593991000700"
	steps := []struct{ send, want string }{
		{"hola", "Bienvenido a Ventanilla"},
		{"1", "Ventanilla ciudadana"},
		{"1", "Turnos"},
		{"1", "Elija la oficina"},
		{"1", "Elija fecha y hora"},
		{"1", "Escriba su numero de cédula"},
		{"1714307103", "Confirme su turno"},
		{"1", "Turno reservado"},
	}
	for i, s := range steps {
		k.Inject(citizen, "4545", s.send)
		to, text, err := k.Received(15 * time.Second)
		if err != nil {
			t.Fatalf("step %d (%q): %v", i+1, s.send, err)
		}
		if to != citizen || !strings.Contains(text, s.want) {
			t.Fatalf("step %d (%q): got %q to %s, want %q", i+1, s.send, text, to, s.want)
		}
	}
}

// A notification goes out through real Kannel's sendsms and reaches the
// citizen at the fake SMSC.
func TestNotificationThroughRealKannel(t *testing.T) {
	k := kanneltest.Start(t, kanneltest.Options{GetURL: "http://127.0.0.1:9/sms/kannel?" + kannel.Query})
	dir := t.TempDir()
	templates := dir + "/templates.yaml"
	if err := os.WriteFile(templates, []byte("templates:\n  listo:\n    es: \"Su trámite {{numero}} está listo.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"KANNEL_SENDSMS_URL":       k.SendSMSURL,
		"KANNEL_USERNAME":          k.Username,
		"KANNEL_PASSWORD":          k.Password,
		"KANNEL_SMSC":              k.SMSC,
		"KANNEL_FROM":              "4545",
		"VENTANILLA_NOTIFY_TOKENS": "registro_civil=rc-token-0123456789",
		"VENTANILLA_SAMPLE_URL":    "http://127.0.0.1:9",
	}
	getenv := func(key string) (string, bool) { v, ok := env[key]; return v, ok }
	a, err := newApp(&config{Root: "inicio", NotifyTemplates: templates, SMSTranslit: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	defer a.outbound.close(t.Context())
	srv := httptest.NewServer(a.echo)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/notifications", strings.NewReader(`{"to":"+593991000800","template":"listo","params":{"numero":"77"}}`))
	req.Header.Set("Authorization", "Bearer rc-token-0123456789")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notification: %d", resp.StatusCode)
	}
	to, text, err := k.Received(15 * time.Second)
	if err != nil {
		st, _ := a.outbound.queue.Depth(t.Context())
		t.Fatalf("%v (queue depth %d)", err, st)
	}
	if to != "+593991000800" || text != "Su trámite 77 está listo." && text != "Su tramite 77 esta listo." {
		t.Errorf("received %q to %s", text, to)
	}
}

// kannelPhone is a citizen's handset on an operator's SMPP USSD link,
// reaching the product through real Kannel run from the shipped
// configuration: each message goes from the test SMSC over SMPP to
// bearerbox, the USSD smsbox and /ussd/kannel, and the reply comes back as
// a submit_sm. Every reply must be a USSD message of the citizen's
// dialogue: ussd_service_op 2 (an answer is expected) or 17 (the last
// screen), and its_session_info with the dialogue's session number, the
// end flag set exactly on the last screen. A plain message (Kannel's
// reply-requestfailed for a 4xx) would leave the dialogue open.
type kannelPhone struct {
	t       *testing.T
	k       *kanneltest.Kannel
	phone   string
	session byte
	seq     byte
}

func (p *kannelPhone) send(text string, op byte) (string, bool) {
	p.t.Helper()
	p.seq++
	p.k.SendUSSD(p.phone, "*384#", text, op, []byte{p.session, p.seq << 1})
	m, err := p.k.ReceivedUSSD(15 * time.Second)
	if err != nil {
		p.t.Fatalf("%q: %v", text, err)
	}
	si, ok := m.TLVs[kanneltest.TagITSSessionInfo]
	end := m.Op() == 0x11
	switch {
	case m.Op() != 0x02 && !end:
		p.t.Fatalf("%q: reply %q without a USSD operation (TLVs %v)", text, m.Text, m.TLVs)
	case !ok || len(si) != 2 || si[0] != p.session || si[1]&1 == 1 != end:
		p.t.Fatalf("%q: reply %q (op %#x) with its_session_info %v, want session %d, end flag %v", text, m.Text, m.Op(), si, p.session, end)
	case m.To != strings.TrimPrefix(p.phone, "+") && m.To != p.phone:
		p.t.Fatalf("%q: reply to %s", text, m.To)
	}
	return m.Text, end
}

// dial opens a new dialogue (PSSR indication) with a new session number.
func (p *kannelPhone) dial(code string) (string, bool) {
	p.t.Helper()
	p.session++
	p.seq = 0
	return p.send(code, 0x01)
}

// answer sends a USSR confirm in the open dialogue.
func (p *kannelPhone) answer(input string) (string, bool) {
	p.t.Helper()
	return p.send(input, 0x12)
}

// ussdThroughKannel serves the product with c behind real Kannel's USSD
// smsbox. The handler records every screen it answers, so a test can hold
// what reached the SMSC to what the product said.
func ussdThroughKannel(t *testing.T, c *config) (*kanneltest.Kannel, *screensSent) {
	t.Helper()
	_, a := gatewayLogging(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sent := &screensSent{next: a.echo}
	srv := httptest.NewServer(sent)
	t.Cleanup(srv.Close)
	k := kanneltest.Start(t, kanneltest.Options{
		GetURL:     srv.URL + "/sms/kannel?" + kannel.Query,
		USSDGetURL: srv.URL + "/ussd/kannel?" + kannel.Query,
	})
	return k, sent
}

type screensSent struct {
	next http.Handler
	mu   sync.Mutex
	last string
}

func (s *screensSent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	s.mu.Lock()
	s.last = rec.Body.String()
	s.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (s *screensSent) lastScreen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// A shortcut dialled over SMPP (*384*1*1#: Español, then Turnos) opens the
// step it names, as on every other carrier: Kannel passes what was dialled
// as the PSSR indication's text, while the receiver is the service code.
func TestUSSDShortcutThroughRealKannel(t *testing.T) {
	k, _ := ussdThroughKannel(t, &config{Routes: "*384#=inicio,*384*2#=estado-tramite"})
	p := &kannelPhone{t: t, k: k, phone: "+593991000710"}
	text, end := p.dial("*384*1*1#")
	if end || !strings.HasPrefix(text, "Turnos") {
		t.Errorf("*384*1*1# showed %q (end %v), want the Turnos menu", text, end)
	}
	p = &kannelPhone{t: t, k: k, phone: "+593991000711"}
	text, end = p.dial("*384*2#")
	if end || strings.Contains(text, "Bienvenido") || !strings.Contains(text, "trámite") && !strings.Contains(text, "tramite") {
		t.Errorf("*384*2# (routed to estado-tramite) showed %q (end %v)", text, end)
	}
}

// A citizen whose dialogue dropped mid-trámite and who dials again is
// offered to resume it, whether or not the operator told Kannel that the
// dialogue was released.
func TestUSSDResumeThroughRealKannel(t *testing.T) {
	k, _ := ussdThroughKannel(t, &config{})
	for i, release := range []bool{false, true} {
		t.Run(map[bool]string{false: "dropped silently", true: "released by the operator"}[release], func(t *testing.T) {
			p := &kannelPhone{t: t, k: k, phone: "+59399100072" + strconv.Itoa(i)}
			p.dial("*384#")
			p.answer("1") // Español
			p.answer("1") // Turnos
			office, _ := p.answer("1")
			if !strings.Contains(office, "Elija la oficina") {
				t.Fatalf("booking did not reach the offices: %q", office)
			}
			if release {
				// An abort: Kannel passes it on; nothing goes back.
				p.seq++
				p.k.SendUSSD(p.phone, "*384#", "", 0x81, []byte{p.session, p.seq<<1 | 1})
			}
			text, end := p.dial("*384#")
			if end || !strings.HasPrefix(text, "Tiene un trámite sin terminar") && !strings.HasPrefix(text, "Tiene un tramite sin terminar") {
				t.Fatalf("redial showed %q (end %v), want the resume offer", text, end)
			}
			if again, _ := p.answer("1"); again != office {
				t.Errorf("continuing showed %q, want the offices again %q", again, office)
			}
		})
	}
}

// Every reply to a USSD message is a USSD message of its dialogue (see
// kannelPhone), the refusal of a call the adapter cannot accept included,
// and arrives whole: what the product answered is what reached the SMSC,
// Kichwa's longer screens too.
func TestUSSDRepliesThroughRealKannel(t *testing.T) {
	k, sent := ussdThroughKannel(t, &config{})
	t.Run("a call the adapter refuses still ends the dialogue", func(t *testing.T) {
		p := &kannelPhone{t: t, k: k, phone: "+593991000730"}
		p.session++
		// A network-side operation sent from the handset's side.
		text, end := p.send("1", 0x02)
		if !end || text != "Servicio no disponible. Intente más tarde." {
			t.Errorf("refused call answered %q (end %v)", text, end)
		}
	})
	t.Run("every screen of a Kichwa booking arrives whole", func(t *testing.T) {
		p := &kannelPhone{t: t, k: k, phone: "+593991000731"}
		text, end := p.dial("*384#")
		longest := 0
		for i, input := range []string{"3", "1", "1", "1", "1", "1714307103", "1", "5"} { // booked, then rated
			if text != sent.lastScreen() {
				t.Fatalf("screen %d reached the SMSC as %q, the product said %q", i, text, sent.lastScreen())
			}
			longest = max(longest, utf8.RuneCountInString(text))
			if end {
				t.Fatalf("dialogue ended at screen %d: %q", i, text)
			}
			text, end = p.answer(input)
		}
		if !end || text != sent.lastScreen() {
			t.Errorf("last screen %q (end %v), the product said %q", text, end, sent.lastScreen())
		}
		if longest <= 160 {
			// Kichwa's offices screen is 169: what sms-length = 160 is for.
			t.Errorf("longest screen %d characters: the walk no longer shows a screen over 160", longest)
		}
	})
}
