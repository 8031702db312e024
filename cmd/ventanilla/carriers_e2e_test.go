package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/sms"
)

// handset is a citizen's phone talking to the gateway through one
// carrier's protocol: dial opens the session with the dialled code, answer
// sends one answer. Both return the screen as the handset shows it (the
// protocol's envelope stripped) and whether the session ended there.
type handset interface {
	dial(code string) (text string, end bool)
	answer(input string) (text string, end bool)
	// repeat sends the last request again, byte for byte, as a carrier
	// does when the reply was late.
	repeat() (text string, end bool)
}

// handsets speaks every USSD carrier's protocol, by carrier name. This is
// the extension point for a new USSD carrier: once it is in registry,
// TestOneBookingThroughEveryCarrier fails until it has an entry here.
var handsets = map[string]func(t *testing.T, base, session string) handset{
	"africastalking": newATHandset,
	"hubtel":         newHubtelHandset,
	"nalo":           newNaloHandset,
	"generic":        newGenericHandset,
	"kannel-ussd":    newKannelHandset,
}

// The citizen, as each protocol writes the number: E.164 (Africa's
// Talking), international digits without "+" (Hubtel, Nalo), national
// (generic, which allows it). All must normalise to one person.
const (
	citizenE164     = "+593991000100"
	citizenDigits   = "593991000100"
	citizenNational = "0991000100"
)

type screen struct {
	text string
	end  bool
}

// One booking (Español, Turnos, Reservar, first office, first slot,
// cédula, Confirmar, then a skipped satisfaction question), driven through
// every USSD carrier the product serves, shows the citizen the same
// screens on every carrier and ends the session after the confirmation
// everywhere.
//
// Each carrier gets its own gateway and sample back-end (gatewayFor): the
// booking takes the slot, so a shared back-end would show the second
// carrier a different slot list, and a shared store would remember the
// language chosen on the first. The same citizen dials on each; only the
// booking code, which the back-end draws at random, may differ.
func TestOneBookingThroughEveryCarrier(t *testing.T) {
	script := []string{"1", "1", "1", "1", "1", "1714307103", "1", "9"}
	var names []string
	transcripts := map[string][]screen{}
	for _, c := range registry {
		if c.kind != kindUSSD {
			continue
		}
		name := c.name
		if in, err := c.handler(&carrierBuild{entry: &c}); err != nil || !servesUSSD(in.carrier) {
			t.Errorf("carrier %q is listed as USSD but serves no /ussd/ route", name)
		}
		newHandset, ok := handsets[name]
		if !ok {
			t.Errorf("carrier %q serves USSD but carriers_e2e_test.go has no handset for it: add one to handsets", name)
			continue
		}
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			srv := gatewayFor(t, &config{})
			h := newHandset(t, srv.URL, "e2e-"+name)
			text, end := h.dial("*384#")
			got := []screen{{text, end}}
			for i, input := range script {
				if end {
					t.Fatalf("session ended before answer %d (%q): %q", i+1, input, text)
				}
				text, end = h.answer(input)
				got = append(got, screen{text, end})
			}
			transcripts[name] = got

			expect(t, got[0].text, "Bienvenido a Ventanilla")
			expect(t, got[1].text, "Ventanilla ciudadana")
			expect(t, got[len(got)-3].text, "1714307103")
			booked := got[len(got)-2]
			expect(t, booked.text, "Turno reservado")
			if booked.end || codeRE.FindString(booked.text) == "" || !strings.Contains(booked.text, "¿C") {
				t.Errorf("booking screen %q (end %v): want the confirmation with a code, above the satisfaction question", booked.text, booked.end)
			}
			last := got[len(got)-1]
			if !last.end || !strings.HasPrefix(last.text, "Gracias") {
				t.Errorf("last screen %q (end %v): want the thanks that end the session", last.text, last.end)
			}
			// The carrier repeats the final request: the same reply, and
			// the back-end holds one turno for the citizen.
			if text, end := h.repeat(); text != last.text || end != last.end {
				t.Errorf("repeated final request: %q (end %v), want %q (end %v)", text, end, last.text, last.end)
			}
			again := newHandset(t, srv.URL, "e2e-"+name+"-mine")
			again.dial("*384#")
			again.answer("1") // Turnos: the language is remembered
			again.answer("2") // Mis turnos
			if mine, _ := again.answer("1714307103"); !strings.Contains(mine, "1.") || strings.Contains(mine, "2.") {
				t.Errorf("the citizen's turnos after the repeat: %q, want one", mine)
			}
		})
	}
	if len(names) < 2 {
		t.Fatalf("only %q serve USSD: nothing to compare", names)
	}

	ref := names[0]
	want := transcripts[ref]
	for _, name := range names[1:] {
		got := transcripts[name]
		if len(got) != len(want) {
			t.Errorf("%s: %d screens, %s %d", name, len(got), ref, len(want))
			continue
		}
		for i := range want {
			w, g := want[i], got[i]
			w.text, g.text = codeRE.ReplaceAllString(w.text, "T-?"), codeRE.ReplaceAllString(g.text, "T-?")
			// SMPP USSD carries 182 characters only in GSM-7 (80 in UCS-2),
			// so Kannel's adapter writes á í ó ú as a i o u on long screens:
			// an encoding, not a different screen.
			w.text, g.text = sms.Transliterate(w.text), sms.Transliterate(g.text)
			if g != w {
				t.Errorf("screen %d differs:\n%s: %q (end %v)\n%s: %q (end %v)", i, ref, w.text, w.end, name, g.text, g.end)
			}
		}
	}
}

// servesUSSD reports whether c mounts a USSD callback.
func servesUSSD(c carrier.Carrier) bool {
	e := echo.New()
	c.Mount(e, noHop{})
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Path, "/ussd/") {
			return true
		}
	}
	return false
}

type noHop struct{}

func (noHop) Hop(context.Context, carrier.Inbound) (carrier.Reply, error) {
	return carrier.Reply{}, nil
}

// checkScreen holds a screen to what every handset can show.
func checkScreen(t *testing.T, carrier, text string) {
	t.Helper()
	if n := utf8.RuneCountInString(text); n > 182 || text == "" {
		t.Fatalf("%s: screen of %d characters: %q", carrier, n, text)
	}
}

// postJSON posts v and decodes the JSON reply into out, refusing fields
// the protocol does not have: a changed envelope must show here.
func postJSON(t *testing.T, url string, v, out any) {
	t.Helper()
	body, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("POST %s: %d %s: %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("POST %s: reply %s: %v", url, raw, err)
	}
}

// Africa's Talking: the form callback with the cumulative text, "CON "/"END ".
type atHandset struct{ d *dialer }

func newATHandset(t *testing.T, base, session string) handset {
	return &atHandset{&dialer{t: t, url: base, session: session, phone: citizenE164}}
}

func (h *atHandset) dial(code string) (string, bool) {
	if code != "*384#" { // dialer always dials *384#
		h.d.t.Fatalf("africastalking handset dials *384#, not %s", code)
	}
	return h.split(h.d.send(""))
}

func (h *atHandset) answer(input string) (string, bool) { return h.split(h.d.send(input)) }

func (h *atHandset) repeat() (string, bool) {
	n := len(h.d.inputs)
	last := h.d.inputs[n-1]
	h.d.inputs = h.d.inputs[:n-1]
	return h.answer(last)
}

func (h *atHandset) split(reply string) (string, bool) {
	checkScreen(h.d.t, "africastalking", reply[4:])
	return reply[4:], strings.HasPrefix(reply, "END ")
}

// Hubtel: JSON with Type Initiation/Response, numbered hops; the reply's
// Type says whether the session goes on.
type hubtelHandset struct {
	t       *testing.T
	url     string
	session string
	seq     int
	last    [2]string // Type and Message of the last request
}

func newHubtelHandset(t *testing.T, base, session string) handset {
	return &hubtelHandset{t: t, url: base + "/ussd/hubtel", session: session}
}

func (h *hubtelHandset) dial(code string) (string, bool) { return h.send("Initiation", code) }

func (h *hubtelHandset) answer(input string) (string, bool) { return h.send("Response", input) }

func (h *hubtelHandset) repeat() (string, bool) {
	h.seq--
	return h.send(h.last[0], h.last[1])
}

func (h *hubtelHandset) send(typ, message string) (string, bool) {
	h.seq++
	h.last = [2]string{typ, message}
	var r struct{ Type, Message, ClientState string }
	postJSON(h.t, h.url, map[string]any{
		"Mobile": citizenDigits, "SessionId": h.session, "ServiceCode": "*384#", "Type": typ,
		"Message": message, "Operator": "claro", "Sequence": h.seq, "ClientState": "",
	}, &r)
	if r.Type != "Response" && r.Type != "Release" {
		h.t.Fatalf("hubtel: reply Type %q", r.Type)
	}
	checkScreen(h.t, "hubtel", r.Message)
	return r.Message, r.Type == "Release"
}

// Nalo: JSON with MSGTYPE true on the first hop; the reply's MSGTYPE true
// keeps the session open, and USERID/MSISDN echo the request's.
type naloHandset struct {
	t       *testing.T
	url     string
	session string
	last    func() (string, bool)
}

func newNaloHandset(t *testing.T, base, session string) handset {
	return &naloHandset{t: t, url: base + "/ussd/nalo", session: session}
}

func (h *naloHandset) dial(code string) (string, bool) { return h.send(code, true) }

func (h *naloHandset) answer(input string) (string, bool) { return h.send(input, false) }

func (h *naloHandset) repeat() (string, bool) { return h.last() }

func (h *naloHandset) send(data string, first bool) (string, bool) {
	h.last = func() (string, bool) { return h.send(data, first) }
	var r struct {
		USERID, MSISDN, MSG string
		MSGTYPE             bool
	}
	postJSON(h.t, h.url, map[string]any{
		"USERID": "NALOTest", "MSISDN": citizenDigits, "USERDATA": data,
		"MSGTYPE": first, "NETWORK": "CLARO", "SESSIONID": h.session,
	}, &r)
	if r.USERID != "NALOTest" || r.MSISDN != citizenDigits {
		h.t.Fatalf("nalo: reply echoes %q %q", r.USERID, r.MSISDN)
	}
	checkScreen(h.t, "nalo", r.MSG)
	return r.MSG, !r.MSGTYPE
}

// generic: Ventanilla's own protocol (carriers/generic/openapi.yaml).
type genericHandset struct {
	t       *testing.T
	url     string
	session string
	last    map[string]any
}

func newGenericHandset(t *testing.T, base, session string) handset {
	return &genericHandset{t: t, url: base + "/ussd/generic", session: session}
}

func (h *genericHandset) dial(code string) (string, bool) {
	return h.send(map[string]any{"event": "begin", "service_code": code})
}

func (h *genericHandset) answer(input string) (string, bool) {
	return h.send(map[string]any{"event": "continue", "input": input})
}

func (h *genericHandset) repeat() (string, bool) { return h.send(h.last) }

func (h *genericHandset) send(req map[string]any) (string, bool) {
	h.last = req
	req["session_id"], req["msisdn"], req["network"] = h.session, citizenNational, "74001"
	var r struct {
		SessionID string `json:"session_id"`
		Text      string `json:"text"`
		End       bool   `json:"end"`
	}
	postJSON(h.t, h.url, req, &r)
	if r.SessionID != h.session {
		h.t.Fatalf("generic: reply for session %q", r.SessionID)
	}
	checkScreen(h.t, "generic", r.Text)
	return r.Text, r.End
}

// kannel: an operator's SMPP USSD gateway through Kannel's smsbox, which
// calls the get-url with the ussd_service_op in the meta-data (decimal
// form): 1 PSSR indication opens, 18 USSR confirm answers; the reply's
// X-Kannel-Meta-Data says 2 (expect an answer) or 17 (final).
type kannelHandset struct {
	t    *testing.T
	url  string
	last func() (string, bool)
}

func newKannelHandset(t *testing.T, base, _ string) handset {
	return &kannelHandset{t: t, url: base + "/ussd/kannel"}
}

func (h *kannelHandset) dial(code string) (string, bool) { return h.send(code, 1) }

func (h *kannelHandset) answer(input string) (string, bool) { return h.send(input, 18) }

func (h *kannelHandset) repeat() (string, bool) { return h.last() }

func (h *kannelHandset) send(text string, op int) (string, bool) {
	h.last = func() (string, bool) { return h.send(text, op) }
	q := "from=" + urlEscape(citizenE164) + "&to=" + urlEscape("*384#") + "&text=" + urlEscape(text) +
		"&coding=0&charset=UTF-8&smsc=movistar&meta=" + urlEscape("?smpp?ussd_service_op="+itoa(op))
	resp, err := http.Get(h.url + "?" + q)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("kannel: status %d: %s", resp.StatusCode, body)
	}
	meta := resp.Header.Get("X-Kannel-Meta-Data")
	checkScreen(h.t, "kannel-ussd", string(body))
	return string(body), strings.Contains(meta, "ussd_service_op=17")
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func itoa(n int) string { return strconv.Itoa(n) }
