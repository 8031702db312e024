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

	"github.com/ventanilla-gob/ventanilla/carriers/hubtel"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
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
// answers screen; a reply is read as a JSON object and compared whole,
// has no HTML escapes nor ClientState, and fits the screen.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(_ *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			opts, _ := c.Options.(hubtel.Options)
			return hubtel.New(opts), func(t *testing.T, r carriertest.Result) {
				if r.Rec.Code != http.StatusOK {
					return
				}
				body := r.Rec.Body.Bytes()
				if bytes.Contains(body, []byte(`\u0026`)) || bytes.Contains(body, []byte("ClientState")) {
					t.Errorf("reply %s escapes HTML or sends ClientState", body)
				}
				var rep hubtel.Reply
				if err := json.Unmarshal(body, &rep); err != nil {
					t.Fatal(err)
				}
				if limit := max(cmp(opts.Limit, 182), 40); utf8.RuneCountInString(rep.Message) > limit {
					t.Errorf("message has %d runes, limit %d", utf8.RuneCountInString(rep.Message), limit)
				}
			}
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
	const fallback = "Servicio no disponible. Intente más tarde."
	long := strings.Repeat("Línea de texto bastante larga\n", 10) + "98. Más"
	says := func(name string, opts hubtel.Options, hop *carriertest.Hopper, typ, msg string) carriertest.Case {
		// The reply compared whole: Type and Message, and no ClientState.
		return carriertest.Case{Name: name, File: "response.json", Options: opts, Hopper: hop, WantStatus: 200,
			WantReply: map[string]any{"Type": typ, "Message": msg}}
	}
	var defaults hubtel.Options
	carriertest.Run(t, suite(), []carriertest.Case{
		says("continue", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}}, "Response", "Elija:\n1. Cédula"),
		says("end", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias & adiós.", End: true}}, "Release", "Gracias & adiós."),
		says("hop error ends with the gateway's localised reply", defaults,
			&carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}}, "Release", "Service unavailable."),
		says("hop error without a reply ends with the fallback", defaults, &carriertest.Hopper{Err: errors.New("store down")}, "Release", fallback),
		says("hop panic ends with the fallback", defaults, &carriertest.Hopper{Panic: "boom"}, "Release", fallback),
		// 29-rune lines: six make 179 runes, seven would make 209 > 182.
		says("over-long reply loses whole trailing lines", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: long}},
			"Response", strings.TrimSuffix(strings.Repeat("Línea de texto bastante larga\n", 6), "\n")),
		says("custom limit", hubtel.Options{Limit: 60}, &carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}},
			"Response", strings.Repeat("ñ", 60)),
		says("limit below the renderer's minimum is raised", hubtel.Options{Limit: 10},
			&carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}}, "Response", strings.Repeat("ñ", 40)),
	})
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
