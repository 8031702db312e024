package kanneltest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/ventanilla-gob/ventanilla/internal/kanneltest"
)

const wait = 10 * time.Second

// echoServer answers every smsbox call with reply(text) and records the
// queries it got.
type echoServer struct {
	mu      sync.Mutex
	queries []url.Values
	reply   func(text string) (body string, header http.Header)
}

func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	text := q.Get("text")
	if q.Get("charset") == "UTF-16BE" {
		u := make([]uint16, len(text)/2)
		for i := range u {
			u[i] = uint16(text[2*i])<<8 | uint16(text[2*i+1])
		}
		text = string(utf16.Decode(u))
	}
	body, h := s.reply(text)
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, body)
}

func (s *echoServer) last() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) == 0 {
		return nil
	}
	return s.queries[len(s.queries)-1]
}

func start(t *testing.T, reply func(string) (string, http.Header)) (*kanneltest.Kannel, *echoServer) {
	t.Helper()
	es := &echoServer{reply: reply}
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	k := kanneltest.Start(t, kanneltest.Options{
		GetURL: srv.URL + "/mo?from=%p&to=%P&text=%b&coding=%c&charset=%C",
	})
	return k, es
}

func TestRoundTrip(t *testing.T) {
	k, es := start(t, func(text string) (string, http.Header) { return "eco: " + text, nil })

	k.Inject("+593991234567", "4545", "hola  mundo")
	to, text, err := k.Received(wait)
	if err != nil {
		t.Fatal(err)
	}
	if to != "+593991234567" || text != "eco: hola  mundo" {
		t.Errorf("got %q to %q", text, to)
	}
	if q := es.last(); q.Get("from") != "+593991234567" || q.Get("to") != "4545" ||
		q.Get("coding") != "0" || q.Get("charset") != "UTF-8" {
		t.Errorf("get-url query %v", q)
	}
}

func TestUCS2AndLineBreaksAndParts(t *testing.T) {
	long := strings.Repeat("Trámite número 12. ", 12) // UCS-2, 228 characters: 4 parts
	replies := map[string]string{
		"uno":  "Elija:\n1. Turno\n2. Cita", // 7-bit: fakesmsc prints three lines
		"dos":  long,
		"tres": "ok",
	}
	k, es := start(t, func(text string) (string, http.Header) {
		r, ok := replies[text]
		if !ok {
			r = "eco: " + text
		}
		h := http.Header{}
		if strings.ContainsAny(r, "áéíóú") {
			h.Set("X-Kannel-Coding", "2")
		}
		return r, h
	})

	k.InjectUCS2("+593991234567", "4545", "Ñandú ¿sí?")
	if _, text, err := k.Received(wait); err != nil || text != "eco: Ñandú ¿sí?" {
		t.Fatalf("UCS-2 MO: %q, %v", text, err)
	}
	if q := es.last(); q.Get("coding") != "2" || q.Get("charset") != "UTF-16BE" {
		t.Errorf("UCS-2 MO query %v", q)
	}

	k.Inject("+593991234567", "4545", "uno")
	if _, text, err := k.Received(wait); err != nil || text != "Elija:\n1. Turno\n2. Cita" {
		t.Fatalf("three lines: %q, %v", text, err)
	}

	k.Inject("+593991234567", "4545", "dos")
	mt, err := k.ReceivedMT(wait)
	if err != nil || mt.Text != long {
		t.Fatalf("concatenated UCS-2: %q, %v", mt.Text, err)
	}

	k.Inject("+593991234567", "4545", "tres")
	if _, text, err := k.Received(wait); err != nil || text != "ok" {
		t.Fatalf("after parts: %q, %v", text, err)
	}
}

func TestSendSMS(t *testing.T) {
	k, _ := start(t, func(string) (string, http.Header) { return "", nil })
	q := url.Values{"username": {k.Username}, "password": {k.Password}, "to": {"+593991234567"},
		"from": {"4545"}, "text": {"Opción válida"}, "coding": {"2"}, "charset": {"UTF-8"}}
	resp, err := http.Get(k.SendSMSURL + "/cgi-bin/sendsms?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sendsms status %d", resp.StatusCode)
	}
	mt, err := k.ReceivedMT(wait)
	if err != nil || mt.To != "+593991234567" || mt.Text != "Opción válida" || mt.Coding != "ucs-2" {
		t.Fatalf("got %+v, %v", mt, err)
	}
	if !strings.Contains(k.AccessLog(), "Sent SMS [SMSC:"+k.SMSC+"]") {
		t.Errorf("access log:\n%s", k.AccessLog())
	}
}

// A USSD message crosses the SMPP link with its TLVs both ways: Kannel
// hands the deliver_sm's ussd_service_op and its_session_info to the USSD
// smsbox in %D, and puts those of the reply's X-Kannel-Meta-Data into the
// submit_sm, as one message of up to 160 octets.
func TestUSSDOverSMPP(t *testing.T) {
	full := strings.Repeat("1234567890", 18) + "ok" // 182 GSM-7 characters: 160 octets
	es := &echoServer{reply: func(text string) (string, http.Header) {
		h := http.Header{}
		h.Set("X-Kannel-Meta-Data", "?smpp?ussd_service_op=%02&its_session_info=%11%04")
		if text == "full" {
			return full, h
		}
		if text == "acento" {
			h.Set("X-Kannel-Coding", "2")
			return "Opción válida", h
		}
		return "eco: " + text, h
	}}
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	k := kanneltest.Start(t, kanneltest.Options{
		GetURL:     srv.URL + "/sms?from=%p&to=%P&text=%b",
		USSDGetURL: srv.URL + "/ussd?from=%p&to=%P&text=%b&coding=%c&charset=%C&smsc=%i&meta=%D",
	})

	for _, tt := range []struct{ send, want string }{
		{"*384*1#", "eco: *384*1#"},
		{"full", full},
		{"acento", "Opción válida"},
	} {
		k.SendUSSD("+593991234567", "*384#", tt.send, 0x01, []byte{0x11, 0x02})
		m, err := k.ReceivedUSSD(wait)
		if err != nil {
			t.Fatalf("%s: %v", tt.send, err)
		}
		if m.Text != tt.want || m.To != "593991234567" && m.To != "+593991234567" {
			t.Errorf("%s: got %q to %s, want %q", tt.send, m.Text, m.To, tt.want)
		}
		if m.Op() != 0x02 || string(m.TLVs[kanneltest.TagITSSessionInfo]) != "\x11\x04" {
			t.Errorf("%s: TLVs %v", tt.send, m.TLVs)
		}
		q := es.last()
		// Kannel 1.4.5 ends the group with "&".
		if strings.TrimSuffix(q.Get("meta"), "&") != "?smpp?ussd_service_op=%01&its_session_info=%11%02" || q.Get("smsc") != "ussd" {
			t.Errorf("%s: the USSD smsbox was called with %v", tt.send, q)
		}
	}
}
