package hubtel_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/hubtel"
	"ventanilla/carriers/internal/carriertest"
	"ventanilla/channels/carrier"
)

const (
	path    = "/ussd/hubtel"
	jsonCT  = "application/json"
	session = "a2f41c9e0d7b4e3f8c61b5d2e9a07c34"
	ghana   = "+233244123456"
)

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func hop(ev carrier.Event, service, input string, seq int) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "hubtel", SessionID: session, Phone: ghana,
		ServiceCode: service, Input: input, Event: ev, Seq: seq, Limit: 182,
	}
}

func ended(status string, seq int) *carrier.Inbound {
	in := hop(carrier.EventEnd, "*714#", "", seq)
	in.EndStatus = status
	return in
}

func post(h *hubtel.Handler, hopper carrier.Hopper, contentType string, body io.Reader) *response {
	rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, path, contentType, body)
	return &response{rec.Code, rec.Header().Get(echo.HeaderContentType), rec.Body.Bytes()}
}

type response struct {
	code        int
	contentType string
	body        []byte
}

func reply(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("reply %q is not a JSON object: %v", body, err)
	}
	return m
}

const screen = "Elija:\n1. Cédula\n2. Turnos"

// suite sends Hubtel's JSON callbacks to a fresh adapter whose gateway
// answers screen; a reply is read as a JSON object and compared whole.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(*testing.T, carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			return hubtel.New(hubtel.Options{}), nil
		},
		Path: path, ContentType: jsonCT, ReplyType: jsonCT,
		Hop:    carrier.Reply{Text: screen},
		Decode: func(t *testing.T, body []byte) any { return reply(t, body) },
	}
}

func TestCallbacks(t *testing.T) {
	continues := map[string]any{"Type": "Response", "Message": screen}
	release := map[string]any{"Type": "Release", "Message": ""}
	carriertest.Run(t, suite(), []carriertest.Case{
		{File: "initiation.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "*714#", "", 1)},
		{File: "initiation_shortcut.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "*714*1*2#", "", 1)},
		{File: "initiation_docs_spelling.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "*714#", "", 1)},
		{File: "initiation_app_service_id.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventBegin, "5f0c2e8a91d34b7c8e6a1d2b3c4f5e60", "", 1)},
		{File: "response.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "*714#", "1", 2)},
		{File: "response_free_text_extra_fields.json", WantStatus: 200, WantReply: continues,
			WantIn: hop(carrier.EventContinue, "*714#", "José Ñukanchik *por favor*", 5)},
		{File: "response_ecuador_number.json", WantStatus: 200, WantReply: continues,
			WantIn: &carrier.Inbound{Channel: "ussd", Carrier: "hubtel", SessionID: "c7e1b2d3a4f5061728394a5b6c7d8e9f",
				Phone: "+593991234567", ServiceCode: "*384#", Input: "2", Seq: 3, Limit: 182}},
		{File: "release.json", WantStatus: 200, WantReply: release, WantIn: ended("Release", 4)},
		{File: "timeout.json", WantStatus: 200, WantReply: release, WantIn: ended("Timeout", 3)},

		{File: "bad_type.json", WantStatus: 400, WantBody: "Type: not one of Initiation, Response, Release, Timeout\n"},
		{File: "bad_sequence_bool.json", WantStatus: 400, WantBody: "Sequence: want a whole number\n"},
		{File: "bad_mobile_number_type.json", WantStatus: 400, WantBody: "Mobile: want a string\n"},
		{File: "bad_missing_session.json", WantStatus: 400, WantBody: "SessionId: missing\n"},
		{File: "bad_control_char.json", WantStatus: 400, WantBody: "Message: contains control characters\n"},
		{File: "bad_duplicate_message.json", WantStatus: 400, WantBody: "message: sent more than once\n"},
		{File: "bad_phone.json", WantStatus: 400, WantBody: "Mobile: not a phone number\n"},
		{File: "bad_truncated.json", WantStatus: 400, WantBody: "body: not valid JSON\n"},
		{File: "bad_not_object.json", WantStatus: 400, WantBody: "body: not a JSON object\n"},
	})
}

// Requests refused before their fields are read.
func TestRefusedRequests(t *testing.T) {
	body := string(carriertest.Testdata(t, "response.json"))
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "form content type", ContentType: "application/x-www-form-urlencoded", Body: body, WantStatus: 415},
		{Name: "no content type", ContentType: "-", Body: body, WantStatus: 415},
		{Name: "charset parameter is fine", ContentType: jsonCT + "; charset=utf-8", Body: body, WantStatus: 200},
		{Name: "over 8 KiB", Body: `{"pad":"` + strings.Repeat("x", 8<<10) + `"}`, WantStatus: 413},
		{Name: "invalid UTF-8", Body: strings.Replace(body, `"1"`, "\"\xff\"", 1), WantStatus: 400},
		{Name: "two JSON values", Body: body + "{}", WantStatus: 400},
		{Name: "empty body", Body: "", WantStatus: 400},
		{Name: "GET", Method: http.MethodGet, Body: body, WantStatus: 405},
	})
}

func TestReplies(t *testing.T) {
	long := strings.Repeat("Línea de texto bastante larga\n", 10) + "98. Más"
	tests := []struct {
		name string
		hop  *carriertest.Hopper
		opts hubtel.Options
		want hubtel.Reply
	}{
		{name: "continue", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}},
			want: hubtel.Reply{Type: "Response", Message: "Elija:\n1. Cédula"}},
		{name: "end", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias & adiós.", End: true}},
			want: hubtel.Reply{Type: "Release", Message: "Gracias & adiós."}},
		{name: "hop error ends with the gateway's localised reply",
			hop:  &carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}},
			want: hubtel.Reply{Type: "Release", Message: "Service unavailable."}},
		{name: "hop error without a reply ends with the fallback",
			hop:  &carriertest.Hopper{Err: errors.New("store down")},
			want: hubtel.Reply{Type: "Release", Message: "Servicio no disponible. Intente más tarde."}},
		{name: "hop panic ends with the fallback", hop: &carriertest.Hopper{Panic: "boom"},
			want: hubtel.Reply{Type: "Release", Message: "Servicio no disponible. Intente más tarde."}},
		{name: "over-long reply loses whole trailing lines", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: long}},
			// 29-rune lines: six make 179 runes, seven would make 209 > 182.
			want: hubtel.Reply{Type: "Response", Message: strings.TrimSuffix(strings.Repeat("Línea de texto bastante larga\n", 6), "\n")}},
		{name: "custom limit", opts: hubtel.Options{Limit: 60},
			hop:  &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			want: hubtel.Reply{Type: "Response", Message: strings.Repeat("ñ", 60)}},
		{name: "limit below the renderer's minimum is raised", opts: hubtel.Options{Limit: 10},
			hop:  &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			want: hubtel.Reply{Type: "Response", Message: strings.Repeat("ñ", 40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(hubtel.New(tt.opts), tt.hop, jsonCT, bytes.NewReader(carriertest.Testdata(t, "response.json")))
			if got.code != http.StatusOK {
				t.Fatalf("status %d, want 200", got.code)
			}
			var r hubtel.Reply
			if err := json.Unmarshal(got.body, &r); err != nil {
				t.Fatal(err)
			}
			if r != tt.want {
				t.Errorf("reply:\n got %+v\nwant %+v", r, tt.want)
			}
			if bytes.Contains(got.body, []byte(`\u0026`)) || bytes.Contains(got.body, []byte("ClientState")) {
				t.Errorf("reply %s escapes HTML or sends ClientState", got.body)
			}
			if limit := max(cmp(tt.opts.Limit, 182), 40); utf8.RuneCountInString(r.Message) > limit {
				t.Errorf("message has %d runes, limit %d", utf8.RuneCountInString(r.Message), limit)
			}
		})
	}
}

func cmp(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func TestOptions(t *testing.T) {
	h := hubtel.New(hubtel.Options{Path: "/gh", Limit: 160, DefaultRegion: "GH"})
	if h.Name() != "hubtel" {
		t.Errorf("Name() = %q", h.Name())
	}
	hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "Hola"}}
	rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, "/gh", jsonCT,
		strings.NewReader(`{"Mobile":"0244123456","SessionId":"s1","Type":"Initiation","Message":"*714#"}`))
	if rec.Code != 200 || len(hopper.Calls()) != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, len(hopper.Calls()))
	}
	if in := hopper.Calls()[0]; in.Phone != ghana || in.Limit != 160 {
		t.Errorf("Phone %q Limit %d; want %s (national, region GH) and 160", in.Phone, in.Limit, ghana)
	}
}

// Failures are logged, but never with the citizen's number, session or answer.
func TestFailureLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	hopper := &carriertest.Hopper{Err: errors.New("interop: timeout")}
	post(hubtel.New(hubtel.Options{}), hopper, jsonCT,
		bytes.NewReader(carriertest.Testdata(t, "response_free_text_extra_fields.json")))
	log := buf.String()
	if !strings.Contains(log, "ussd hop failed") || !strings.Contains(log, "carrier=hubtel") {
		t.Fatalf("failure not logged: %q", log)
	}
	for _, secret := range []string{"244123456", "Ñukanchik", session} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q: %s", secret, log)
		}
	}
}

// Sequence is read as a whole number, quoted or not, as Hubtel's SDK and
// its documentation samples send it.
func TestSequence(t *testing.T) {
	for raw, want := range map[string]int{
		`3`: 3, `"3"`: 3, `null`: 0, `"007"`: 7,
		`-1`: -1, `1.5`: -1, `"x"`: -1, `""`: -1, `{}`: -1, `"1e3"`: -1, `1234567890`: -1,
	} {
		hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		body := `{"Mobile":"233244123456","SessionId":"s1","Type":"Response","Message":"1","Sequence":` + raw + `}`
		got := post(hubtel.New(hubtel.Options{}), hopper, jsonCT, strings.NewReader(body))
		switch {
		case want < 0 && (got.code != 400 || string(got.body) != "Sequence: want a whole number\n"):
			t.Errorf("Sequence %s: %d %q, want 400", raw, got.code, got.body)
		case want >= 0 && (got.code != 200 || hopper.Calls()[0].Seq != want):
			t.Errorf("Sequence %s: %d %q, want Seq %d", raw, got.code, got.body, want)
		}
	}
}
