package generic_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/generic"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	path    = "/ussd/generic"
	jsonCT  = "application/json"
	session = "8f3c2a9e-1b7d-4c6a-0e5f-2b3d9c1a7e40"
	phone   = "+593991234567"
)

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func hop(ev carrier.Event, service, input string) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "generic", SessionID: session, Phone: phone,
		ServiceCode: service, Input: input, Event: ev, Limit: 182,
	}
}

func ended(status string) *carrier.Inbound {
	in := hop(carrier.EventEnd, "", "")
	in.EndStatus = status
	return in
}

const screen = "Elija:\n1. Cédula\n2. Turnos"

// suite sends the generic protocol's JSON callbacks to a fresh adapter
// whose gateway answers screen; no reply has HTML escapes.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(_ *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			opts, _ := c.Options.(generic.Options)
			return generic.New(opts), func(t *testing.T, r carriertest.Result) {
				if r.Rec.Code == http.StatusOK && strings.Contains(r.Rec.Body.String(), `\u0026`) {
					t.Errorf("reply escapes HTML: %s", r.Rec.Body.String())
				}
			}
		},
		Path: path, ContentType: jsonCT, ReplyType: jsonCT,
		Hop:    carrier.Reply{Text: screen},
		Decode: func(t *testing.T, body []byte) any { return decode(t, body) },
	}
}

func TestCallbacks(t *testing.T) {
	continues := generic.Reply{SessionID: session, Text: screen}
	over := generic.Reply{SessionID: session, End: true}
	carriertest.Run(t, suite(), []carriertest.Case{
		{File: "begin.json", WantStatus: 200, WantReply: continues, WantIn: hop(carrier.EventBegin, "*384#", "")},
		{File: "begin_shortcut.json", WantStatus: 200, WantReply: continues, WantIn: hop(carrier.EventBegin, "*384*1*2#", "")},
		{File: "continue.json", WantStatus: 200, WantReply: continues, WantIn: hop(carrier.EventContinue, "*384#", "1")},
		{File: "continue_free_text_extra_fields.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "", "José Ñukanchik *por favor*")},
		{File: "continue_national_number_empty_input.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "", "")},
		{File: "end.json", WantStatus: 200, WantReply: over, WantIn: ended("user_abort")},
		{File: "end_without_status.json", WantStatus: 200, WantReply: over, WantIn: ended("")},

		{File: "bad_missing_event.json", WantStatus: 400, WantBody: "event: missing\n"},
		{File: "bad_event.json", WantStatus: 400, WantBody: "event: not one of begin, continue, end\n"},
		{File: "bad_input_on_begin.json", WantStatus: 400, WantBody: "input: only with event continue\n"},
		{File: "bad_end_status_on_continue.json", WantStatus: 400, WantBody: "end_status: only with event end\n"},
		{File: "bad_session_number.json", WantStatus: 400, WantBody: "session_id: want a string\n"},
		{File: "bad_input_number.json", WantStatus: 400, WantBody: "input: want a string\n"},
		{File: "bad_phone.json", WantStatus: 400, WantBody: "msisdn: not a phone number\n"},
		{File: "bad_control_char.json", WantStatus: 400, WantBody: "input: contains control characters\n"},
		{File: "bad_duplicate_input.json", WantStatus: 400, WantBody: "input: sent more than once\n"},
	})
}

func decode(t *testing.T, body []byte) generic.Reply {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r generic.Reply
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return r
}

// Requests refused before their fields are read.
func TestRefusedRequests(t *testing.T) {
	body := string(carriertest.Testdata(t, "continue.json"))
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "form content type", ContentType: "application/x-www-form-urlencoded", Body: body, WantStatus: 415},
		{Name: "text content type", ContentType: "text/plain", Body: body, WantStatus: 415},
		{Name: "charset parameter is fine", ContentType: jsonCT + "; charset=utf-8", Body: body, WantStatus: 200},
		{Name: "over 8 KiB", Body: `{"pad":"` + strings.Repeat("x", 8<<10) + `"}`, WantStatus: 413},
		{Name: "null", Body: "null", WantStatus: 400},
		{Name: "trailing garbage", Body: body + "x", WantStatus: 400},
		{Name: "PUT", Method: http.MethodPut, Body: body, WantStatus: 405},
	})
}

func TestReplies(t *testing.T) {
	const fallback = "Servicio no disponible. Intente más tarde."
	says := func(name string, hop *carriertest.Hopper, want generic.Reply) carriertest.Case {
		return carriertest.Case{Name: name, File: "continue.json", Hopper: hop, WantStatus: 200, WantReply: want}
	}
	custom := says("custom limit", &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
		generic.Reply{SessionID: session, Text: strings.Repeat("ñ", 100)})
	custom.Options = generic.Options{Limit: 100}
	carriertest.Run(t, suite(), []carriertest.Case{
		says("continue", &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}},
			generic.Reply{SessionID: session, Text: "Elija:\n1. Cédula"}),
		says("end", &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias & adiós.", End: true}},
			generic.Reply{SessionID: session, Text: "Gracias & adiós.", End: true}),
		says("hop error ends with the gateway's localised reply",
			&carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}},
			generic.Reply{SessionID: session, Text: "Service unavailable.", End: true}),
		says("hop error without a reply ends with the fallback", &carriertest.Hopper{Err: errors.New("store down")},
			generic.Reply{SessionID: session, Text: fallback, End: true}),
		says("hop panic ends with the fallback", &carriertest.Hopper{Panic: "boom"},
			generic.Reply{SessionID: session, Text: fallback, End: true}),
		says("over-long single line is cut at the limit", &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			generic.Reply{SessionID: session, Text: strings.Repeat("ñ", 182)}),
		custom,
	})
}

// An end event is answered with an empty final reply whatever the gateway
// says or does: the session is already over on the aggregator's side.
func TestEndIgnoresTheGatewaysReply(t *testing.T) {
	for _, hopper := range []*carriertest.Hopper{
		{Reply: carrier.Reply{Text: "Bienvenido"}},
		{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}},
		{Panic: "boom"},
	} {
		rec := carriertest.Do(carriertest.Router(generic.New(generic.Options{}), hopper), http.MethodPost, path, jsonCT,
			bytes.NewReader(carriertest.Testdata(t, "end.json")))
		if r := decode(t, rec.Body.Bytes()); rec.Code != 200 || r != (generic.Reply{SessionID: session, End: true}) {
			t.Errorf("status %d reply %+v", rec.Code, r)
		}
	}
}

func TestOptions(t *testing.T) {
	h := generic.New(generic.Options{Path: "/g", Limit: 160, DefaultRegion: "PE"})
	if h.Name() != "generic" {
		t.Errorf("Name() = %q", h.Name())
	}
	hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("x", 200)}}
	rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, "/g", jsonCT,
		strings.NewReader(`{"session_id":"s1","msisdn":"987654321","event":"begin"}`))
	if rec.Code != 200 || len(hopper.Calls()) != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, len(hopper.Calls()))
	}
	if in := hopper.Calls()[0]; in.Phone != "+51987654321" || in.Limit != 160 {
		t.Errorf("Phone %q Limit %d; want +51987654321 (national, region PE) and 160", in.Phone, in.Limit)
	}
	if r := decode(t, rec.Body.Bytes()); utf8.RuneCountInString(r.Text) != 160 {
		t.Errorf("text of %d runes, want 160", utf8.RuneCountInString(r.Text))
	}
}
