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

func TestCallbacks(t *testing.T) {
	continues := map[string]any{"Type": "Response", "Message": "Elija:\n1. Cédula\n2. Turnos"}
	release := map[string]any{"Type": "Release", "Message": ""}
	tests := []struct {
		file       string
		wantStatus int
		wantReply  map[string]any   // the JSON reply, exactly
		wantErr    string           // the 4xx body, exactly
		wantIn     *carrier.Inbound // nil: the hopper must not be called
	}{
		{file: "initiation.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventBegin, "*714#", "", 1)},
		{file: "initiation_shortcut.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventBegin, "*714*1*2#", "", 1)},
		{file: "initiation_docs_spelling.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventBegin, "*714#", "", 1)},
		{file: "initiation_app_service_id.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventBegin, "5f0c2e8a91d34b7c8e6a1d2b3c4f5e60", "", 1)},
		{file: "response.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventContinue, "*714#", "1", 2)},
		{file: "response_free_text_extra_fields.json", wantStatus: 200, wantReply: continues,
			wantIn: hop(carrier.EventContinue, "*714#", "José Ñukanchik *por favor*", 5)},
		{file: "response_ecuador_number.json", wantStatus: 200, wantReply: continues,
			wantIn: &carrier.Inbound{Channel: "ussd", Carrier: "hubtel", SessionID: "c7e1b2d3a4f5061728394a5b6c7d8e9f",
				Phone: "+593991234567", ServiceCode: "*384#", Input: "2", Seq: 3, Limit: 182}},
		{file: "release.json", wantStatus: 200, wantReply: release, wantIn: ended("Release", 4)},
		{file: "timeout.json", wantStatus: 200, wantReply: release, wantIn: ended("Timeout", 3)},

		{file: "bad_type.json", wantStatus: 400, wantErr: "Type: not one of Initiation, Response, Release, Timeout\n"},
		{file: "bad_sequence_bool.json", wantStatus: 400, wantErr: "Sequence: want a whole number\n"},
		{file: "bad_mobile_number_type.json", wantStatus: 400, wantErr: "Mobile: want a string\n"},
		{file: "bad_missing_session.json", wantStatus: 400, wantErr: "SessionId: missing\n"},
		{file: "bad_control_char.json", wantStatus: 400, wantErr: "Message: contains control characters\n"},
		{file: "bad_duplicate_message.json", wantStatus: 400, wantErr: "message: sent more than once\n"},
		{file: "bad_phone.json", wantStatus: 400, wantErr: "Mobile: not a phone number\n"},
		{file: "bad_truncated.json", wantStatus: 400, wantErr: "body: not valid JSON\n"},
		{file: "bad_not_object.json", wantStatus: 400, wantErr: "body: not a JSON object\n"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula\n2. Turnos"}}
			got := post(hubtel.New(hubtel.Options{}), hopper, jsonCT,
				bytes.NewReader(carriertest.Testdata(t, tt.file)))
			if got.code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", got.code, tt.wantStatus, got.body)
			}
			calls := hopper.Calls()
			if tt.wantIn == nil {
				if string(got.body) != tt.wantErr {
					t.Errorf("body %q, want %q", got.body, tt.wantErr)
				}
				if len(calls) != 0 {
					t.Fatalf("hopper called with %+v for a rejected request", calls[0])
				}
				return
			}
			if got.contentType != jsonCT {
				t.Errorf("Content-Type %q", got.contentType)
			}
			if r := reply(t, got.body); !equal(r, tt.wantReply) {
				t.Errorf("reply %v, want %v", r, tt.wantReply)
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

func equal(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Requests refused before their fields are read.
func TestRefusedRequests(t *testing.T) {
	body := string(carriertest.Testdata(t, "response.json"))
	tests := []struct {
		name, contentType, body string
		method                  string
		want                    int
	}{
		{"form content type", "application/x-www-form-urlencoded", body, http.MethodPost, 415},
		{"no content type", "", body, http.MethodPost, 415},
		{"charset parameter is fine", jsonCT + "; charset=utf-8", body, http.MethodPost, 200},
		{"over 8 KiB", jsonCT, `{"pad":"` + strings.Repeat("x", 8<<10) + `"}`, http.MethodPost, 413},
		{"invalid UTF-8", jsonCT, strings.Replace(body, `"1"`, "\"\xff\"", 1), http.MethodPost, 400},
		{"two JSON values", jsonCT, body + "{}", http.MethodPost, 400},
		{"empty body", jsonCT, "", http.MethodPost, 400},
		{"GET", jsonCT, body, http.MethodGet, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
			rec := carriertest.Do(carriertest.Router(hubtel.New(hubtel.Options{}), hopper), tt.method, path,
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
