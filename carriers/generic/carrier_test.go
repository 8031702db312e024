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

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/generic"
	"ventanilla/carriers/internal/carriertest"
	"ventanilla/channels/carrier"
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

func TestCallbacks(t *testing.T) {
	const screen = "Elija:\n1. Cédula\n2. Turnos"
	continues := generic.Reply{SessionID: session, Text: screen}
	over := generic.Reply{SessionID: session, End: true}
	tests := []struct {
		file       string
		wantStatus int
		wantReply  generic.Reply
		wantErr    string           // the 4xx body, exactly
		wantIn     *carrier.Inbound // nil: the hopper must not be called
	}{
		{file: "begin.json", wantStatus: 200, wantReply: continues, wantIn: hop(carrier.EventBegin, "*384#", "")},
		{file: "begin_shortcut.json", wantStatus: 200, wantReply: continues, wantIn: hop(carrier.EventBegin, "*384*1*2#", "")},
		{file: "continue.json", wantStatus: 200, wantReply: continues, wantIn: hop(carrier.EventContinue, "*384#", "1")},
		{file: "continue_free_text_extra_fields.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventContinue, "", "José Ñukanchik *por favor*")},
		{file: "continue_national_number_empty_input.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventContinue, "", "")},
		{file: "end.json", wantStatus: 200, wantReply: over, wantIn: ended("user_abort")},
		{file: "end_without_status.json", wantStatus: 200, wantReply: over, wantIn: ended("")},

		{file: "bad_missing_event.json", wantStatus: 400, wantErr: "event: missing\n"},
		{file: "bad_event.json", wantStatus: 400, wantErr: "event: not one of begin, continue, end\n"},
		{file: "bad_input_on_begin.json", wantStatus: 400, wantErr: "input: only with event continue\n"},
		{file: "bad_end_status_on_continue.json", wantStatus: 400, wantErr: "end_status: only with event end\n"},
		{file: "bad_session_number.json", wantStatus: 400, wantErr: "session_id: want a string\n"},
		{file: "bad_input_number.json", wantStatus: 400, wantErr: "input: want a string\n"},
		{file: "bad_phone.json", wantStatus: 400, wantErr: "msisdn: not a phone number\n"},
		{file: "bad_control_char.json", wantStatus: 400, wantErr: "input: contains control characters\n"},
		{file: "bad_duplicate_input.json", wantStatus: 400, wantErr: "input: sent more than once\n"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: screen}}
			rec := carriertest.Do(carriertest.Router(generic.New(generic.Options{}), hopper), http.MethodPost, path, jsonCT,
				bytes.NewReader(carriertest.Testdata(t, tt.file)))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			calls := hopper.Calls()
			if tt.wantIn == nil {
				if rec.Body.String() != tt.wantErr {
					t.Errorf("body %q, want %q", rec.Body.String(), tt.wantErr)
				}
				if len(calls) != 0 {
					t.Fatalf("hopper called with %+v for a rejected request", calls[0])
				}
				return
			}
			if ct := rec.Header().Get(echo.HeaderContentType); ct != jsonCT {
				t.Errorf("Content-Type %q", ct)
			}
			if r := decode(t, rec.Body.Bytes()); r != tt.wantReply {
				t.Errorf("reply:\n got %+v\nwant %+v", r, tt.wantReply)
			}
			if len(calls) != 1 {
				t.Fatalf("hopper called %d times, want 1", len(calls))
			}
			if calls[0] != *tt.wantIn {
				t.Errorf("Inbound:\n got %+v\nwant %+v", calls[0], *tt.wantIn)
			}
		})
	}
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
	tests := []struct {
		name, contentType, body string
		method                  string
		want                    int
	}{
		{"form content type", "application/x-www-form-urlencoded", body, http.MethodPost, 415},
		{"text content type", "text/plain", body, http.MethodPost, 415},
		{"charset parameter is fine", jsonCT + "; charset=utf-8", body, http.MethodPost, 200},
		{"over 8 KiB", jsonCT, `{"pad":"` + strings.Repeat("x", 8<<10) + `"}`, http.MethodPost, 413},
		{"null", jsonCT, "null", http.MethodPost, 400},
		{"trailing garbage", jsonCT, body + "x", http.MethodPost, 400},
		{"PUT", jsonCT, body, http.MethodPut, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
			rec := carriertest.Do(carriertest.Router(generic.New(generic.Options{}), hopper), tt.method, path,
				tt.contentType, strings.NewReader(tt.body))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.want, rec.Body.String())
			}
			if n := len(hopper.Calls()); (tt.want == 200) != (n == 1) {
				t.Errorf("status %d with %d hopper calls", rec.Code, n)
			}
		})
	}
}

func TestReplies(t *testing.T) {
	const fallback = "Servicio no disponible. Intente más tarde."
	tests := []struct {
		name string
		hop  *carriertest.Hopper
		opts generic.Options
		want generic.Reply
	}{
		{name: "continue", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}},
			want: generic.Reply{SessionID: session, Text: "Elija:\n1. Cédula"}},
		{name: "end", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias & adiós.", End: true}},
			want: generic.Reply{SessionID: session, Text: "Gracias & adiós.", End: true}},
		{name: "hop error ends with the gateway's localised reply",
			hop:  &carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}},
			want: generic.Reply{SessionID: session, Text: "Service unavailable.", End: true}},
		{name: "hop error without a reply ends with the fallback", hop: &carriertest.Hopper{Err: errors.New("store down")},
			want: generic.Reply{SessionID: session, Text: fallback, End: true}},
		{name: "hop panic ends with the fallback", hop: &carriertest.Hopper{Panic: "boom"},
			want: generic.Reply{SessionID: session, Text: fallback, End: true}},
		{name: "over-long single line is cut at the limit",
			hop:  &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			want: generic.Reply{SessionID: session, Text: strings.Repeat("ñ", 182)}},
		{name: "custom limit", opts: generic.Options{Limit: 100},
			hop:  &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			want: generic.Reply{SessionID: session, Text: strings.Repeat("ñ", 100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := carriertest.Do(carriertest.Router(generic.New(tt.opts), tt.hop), http.MethodPost, path, jsonCT,
				bytes.NewReader(carriertest.Testdata(t, "continue.json")))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if r := decode(t, rec.Body.Bytes()); r != tt.want {
				t.Errorf("reply:\n got %+v\nwant %+v", r, tt.want)
			}
			if strings.Contains(rec.Body.String(), `\u0026`) {
				t.Errorf("reply escapes HTML: %s", rec.Body.String())
			}
		})
	}
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
