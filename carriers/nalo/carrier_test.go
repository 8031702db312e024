package nalo_test

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

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/nalo"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const (
	path    = "/ussd/nalo"
	jsonCT  = "application/json"
	session = "16590115252429751"
	ghana   = "+233244123456"
)

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func hop(ev carrier.Event, service, input string) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "nalo", SessionID: session, Phone: ghana,
		ServiceCode: service, Input: input, Event: ev, Limit: 182,
	}
}

// suite sends Nalo's JSON callbacks to a fresh adapter whose gateway
// answers screen; every reply is a screen at most 182 characters long,
// with no HTML escapes.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(_ *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			opts, _ := c.Options.(nalo.Options)
			return nalo.New(opts), func(t *testing.T, r carriertest.Result) {
				if r.Rec.Code != http.StatusOK {
					return
				}
				if strings.Contains(r.Rec.Body.String(), `\u0026`) {
					t.Errorf("reply escapes HTML: %s", r.Rec.Body.String())
				}
				if msg := decode(t, r.Rec.Body.Bytes()).Msg; utf8.RuneCountInString(msg) > 182 {
					t.Errorf("MSG has %d runes", utf8.RuneCountInString(msg))
				}
			}
		},
		Path: path, ContentType: jsonCT, ReplyType: jsonCT,
		Hop:    carrier.Reply{Text: screen},
		Decode: func(t *testing.T, body []byte) any { return decode(t, body) },
	}
}

const screen = "Elija:\n1. Cédula\n2. Turnos"

func TestCallbacks(t *testing.T) {
	continues := nalo.Reply{UserID: "NALOTest", MSISDN: "233244123456", Msg: screen, MsgType: true}
	carriertest.Run(t, suite(), []carriertest.Case{
		{File: "first_hop.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "*920#", "")},
		{File: "first_hop_shortcut.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "*920*1*2#", "")},
		{File: "first_hop_empty_userdata.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "", "")},
		{File: "second_hop.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "", "1")},
		{File: "free_text_extra_fields.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "", "José Ñukanchik *por favor*")},
		{File: "ecuador_number.json", WantStatus: 200,
			WantReply: nalo.Reply{UserID: "NALOTest", MSISDN: "593991234567", Msg: screen, MsgType: true},
			WantIn: &carrier.Inbound{Channel: "ussd", Carrier: "nalo", SessionID: "20261123140541001",
				Phone: "+593991234567", Input: "2", Limit: 182}},

		{File: "bad_msgtype_string.json", WantStatus: 400, WantBody: "MSGTYPE: want true or false\n"},
		{File: "bad_missing_msgtype.json", WantStatus: 400, WantBody: "MSGTYPE: missing\n"},
		{File: "bad_missing_session.json", WantStatus: 400, WantBody: "SESSIONID: missing\n"},
		{File: "bad_msisdn_number_type.json", WantStatus: 400, WantBody: "MSISDN: want a string\n"},
		{File: "bad_phone.json", WantStatus: 400, WantBody: "MSISDN: not a phone number\n"},
		{File: "bad_control_char.json", WantStatus: 400, WantBody: "USERDATA: contains control characters\n"},
		{File: "bad_duplicate_userdata.json", WantStatus: 400, WantBody: "USERDATA: sent more than once\n"},
		{File: "bad_userid.json", WantStatus: 400, WantBody: "USERID: not an account id\n"},
	})
}

// decode reads a reply strictly: exactly the four documented keys, with
// their types.
func decode(t *testing.T, body []byte) nalo.Reply {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	if len(keys) != 4 || keys["USERID"] == nil || keys["MSISDN"] == nil || keys["MSG"] == nil || keys["MSGTYPE"] == nil {
		t.Errorf("reply keys %q, want USERID MSISDN MSG MSGTYPE", body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r nalo.Reply
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return r
}

// Requests refused before their fields are read.
func TestRefusedRequests(t *testing.T) {
	body := string(carriertest.Testdata(t, "second_hop.json"))
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "form content type", ContentType: "application/x-www-form-urlencoded", Body: body, WantStatus: 415},
		{Name: "no content type", ContentType: "-", Body: body, WantStatus: 415},
		{Name: "documented capitalisation of the media type", ContentType: "Application/json", Body: body, WantStatus: 200},
		{Name: "over 8 KiB", Body: `{"pad":"` + strings.Repeat("x", 8<<10) + `"}`, WantStatus: 413},
		{Name: "not JSON", Body: "USERID=NALOTest", WantStatus: 400},
		{Name: "array", Body: "[" + body + "]", WantStatus: 400},
		{Name: "GET", Method: http.MethodGet, Body: body, WantStatus: 405},
	})
}

func TestReplies(t *testing.T) {
	const fallback = "Servicio no disponible. Intente más tarde."
	says := func(name string, hop *carriertest.Hopper, msg string, end bool) carriertest.Case {
		return carriertest.Case{Name: name, File: "second_hop.json", Hopper: hop, WantStatus: 200,
			WantReply: nalo.Reply{UserID: "NALOTest", MSISDN: "233244123456", Msg: msg, MsgType: !end}}
	}
	custom := says("custom limit", &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300), End: true}},
		strings.Repeat("ñ", 60), true)
	custom.Options = nalo.Options{Limit: 60}
	carriertest.Run(t, suite(), []carriertest.Case{
		says("continue", &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}}, "Elija:\n1. Cédula", false),
		says("end", &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias & adiós.", End: true}}, "Gracias & adiós.", true),
		says("hop error ends with the gateway's localised reply",
			&carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}}, "Service unavailable.", true),
		says("hop error without a reply ends with the fallback", &carriertest.Hopper{Err: errors.New("store down")}, fallback, true),
		says("hop panic ends with the fallback", &carriertest.Hopper{Panic: "boom"}, fallback, true),
		says("over-long single line is cut at the limit",
			&carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}}, strings.Repeat("ñ", 182), false),
		custom,
	})
}

func TestOptions(t *testing.T) {
	h := nalo.New(nalo.Options{Path: "/n", Limit: 160, DefaultRegion: "GH"})
	if h.Name() != "nalo" {
		t.Errorf("Name() = %q", h.Name())
	}
	hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "Hola"}}
	rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, "/n", jsonCT,
		strings.NewReader(`{"USERID":"u","MSISDN":"0244123456","USERDATA":"*920#","MSGTYPE":true,"SESSIONID":"s1"}`))
	if rec.Code != 200 || len(hopper.Calls()) != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, len(hopper.Calls()))
	}
	if in := hopper.Calls()[0]; in.Phone != ghana || in.Limit != 160 {
		t.Errorf("Phone %q Limit %d; want %s (national, region GH) and 160", in.Phone, in.Limit, ghana)
	}
	// The reply echoes the number as Nalo sent it, not normalised.
	if r := decode(t, rec.Body.Bytes()); r.MSISDN != "0244123456" || r.UserID != "u" {
		t.Errorf("reply %+v does not echo the request", r)
	}
}

// Failures are logged, but never with the citizen's number, session or answer.
func TestFailureLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	hopper := &carriertest.Hopper{Err: errors.New("interop: timeout")}
	carriertest.Do(carriertest.Router(nalo.New(nalo.Options{}), hopper), http.MethodPost, path, jsonCT,
		bytes.NewReader(carriertest.Testdata(t, "free_text_extra_fields.json")))
	log := buf.String()
	if !strings.Contains(log, "ussd hop failed") || !strings.Contains(log, "carrier=nalo") {
		t.Fatalf("failure not logged: %q", log)
	}
	for _, secret := range []string{"244123456", "Ñukanchik", session} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q: %s", secret, log)
		}
	}
}
