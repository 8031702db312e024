package africastalking_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/africastalking"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const path = "/ussd/africastalking"

func TestMain(m *testing.M) {
	// Failure paths log on purpose; keep test output readable. The test
	// that inspects logs installs its own handler.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func post(h *africastalking.Handler, hop carrier.Hopper, method, contentType string, body io.Reader) *httptest.ResponseRecorder {
	e := echo.New()
	h.Mount(e, hop)
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

const form = "application/x-www-form-urlencoded"

func kenya(sessionInput string) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "africastalking",
		SessionID:   "ATUid_8f3c2a9e1b7d4c6a0e5f2b3d9c1a7e40",
		Phone:       "+254711082123",
		ServiceCode: "*384*123#",
		Input:       sessionInput,
		Cumulative:  true,
		Limit:       178,
	}
}

func ecuador(sessionInput string) *carrier.Inbound {
	return &carrier.Inbound{
		Channel: "ussd", Carrier: "africastalking",
		SessionID:   "ATUid_0b6d1e7f9a2c4b8e3d5f1a6c7e9b2d04",
		Phone:       "+593991234567",
		ServiceCode: "*384*2#",
		Input:       sessionInput,
		Cumulative:  true,
		Limit:       178,
	}
}

// suite posts AT's USSD callbacks to a fresh adapter whose gateway answers
// a menu; every answer is plain text that fits the carrier's screen.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(_ *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			opts, _ := c.Options.(africastalking.Options)
			return africastalking.New(opts), func(t *testing.T, r carriertest.Result) {
				if r.Rec.Code != http.StatusOK {
					return
				}
				if got := r.Rec.Body.String(); utf8.RuneCountInString(got) > max(cmpInt(opts.Limit, 182), 44) {
					t.Errorf("reply has %d runes, limit %d", utf8.RuneCountInString(got), max(cmpInt(opts.Limit, 182), 44))
				}
			}
		},
		Path: path, ContentType: form, ReplyType: "text/plain; charset=utf-8",
		Hop: carrier.Reply{Text: "Elija:\n1. Cédula\n2. Turnos"},
	}
}

func TestCallbacks(t *testing.T) {
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "first hop", File: "first_hop.form", WantStatus: 200, WantBodyPrefix: "CON ", WantIn: kenya("")},
		{Name: "second hop", File: "second_hop.form", WantStatus: 200, WantBodyPrefix: "CON ", WantIn: kenya("1")},
		{Name: "third hop carries the whole history", File: "third_hop_phone_answer.form",
			WantStatus: 200, WantBodyPrefix: "CON ", WantIn: kenya("1*2*0912345678")},
		{Name: "field order does not matter", File: "fields_reordered.form",
			WantStatus: 200, WantBodyPrefix: "CON ", WantIn: kenya("1*2")},
		{Name: "national number read in the default region", File: "ecuador_national_number.form",
			WantStatus: 200, WantBodyPrefix: "CON ", WantIn: ecuador("")},
		{Name: "unencoded plus decoded as space", File: "unencoded_plus.form",
			WantStatus: 200, WantBodyPrefix: "CON ", WantIn: ecuador("2")},
		{Name: "unknown fields ignored and accented text kept", File: "extra_fields_accented_text.form",
			WantStatus: 200, WantBodyPrefix: "CON ", WantIn: ecuador("2*José Ñukanchik")},
		{Name: "charset parameter on content type", File: "first_hop.form",
			ContentType: form + "; charset=utf-8", WantStatus: 200, WantBodyPrefix: "CON ", WantIn: kenya("")},

		{Name: "bad phone", File: "bad_phone.form", WantStatus: 400, WantBodyPrefix: "phoneNumber: "},
		{Name: "missing session id", File: "missing_session.form", WantStatus: 400, WantBodyPrefix: "sessionId: missing"},
		{Name: "control character in text", File: "control_char.form", WantStatus: 400, WantBodyPrefix: "text: "},
		{Name: "invalid utf-8 in text", File: "invalid_utf8.form", WantStatus: 400, WantBodyPrefix: "text: "},
		{Name: "repeated session id", File: "repeated_session.form", WantStatus: 400, WantBodyPrefix: "sessionId: "},
		{Name: "malformed encoding", File: "malformed_encoding.form", WantStatus: 400, WantBodyPrefix: "body: "},
		{Name: "session id too long", Body: "sessionId=" + strings.Repeat("a", 129) +
			"&phoneNumber=%2B254711082123&text=", WantStatus: 400, WantBodyPrefix: "sessionId: "},
		{Name: "session id with space", Body: "sessionId=AT+Uid&phoneNumber=%2B254711082123&text=",
			WantStatus: 400, WantBodyPrefix: "sessionId: "},
		{Name: "missing phone", Body: "sessionId=ATUid_1&text=", WantStatus: 400, WantBodyPrefix: "phoneNumber: missing"},
		{Name: "phone too short", Body: "sessionId=ATUid_1&phoneNumber=%2B12&text=", WantStatus: 400, WantBodyPrefix: "phoneNumber: "},
		{Name: "text over 512 bytes", Body: "sessionId=ATUid_1&phoneNumber=%2B254711082123&text=" +
			strings.Repeat("1%2A", 257), WantStatus: 400, WantBodyPrefix: "text: "},
		{Name: "service code with spaces", Body: "sessionId=ATUid_1&phoneNumber=%2B254711082123&serviceCode=%2A384+123%23&text=",
			WantStatus: 400, WantBodyPrefix: "serviceCode: "},
		{Name: "body over 8 KiB", Body: "sessionId=ATUid_1&phoneNumber=%2B254711082123&text=&pad=" +
			strings.Repeat("x", 8<<10), WantStatus: 413},
		{Name: "wrong content type", File: "first_hop.form", ContentType: "application/json", WantStatus: 415},
		{Name: "no content type", File: "first_hop.form", ContentType: "-", WantStatus: 415},
		{Name: "GET", File: "first_hop.form", Method: http.MethodGet, WantStatus: 405},
	})
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestOversizeBodyWithoutContentLength(t *testing.T) {
	hop := &carriertest.Hopper{}
	body := io.MultiReader(strings.NewReader(string(carriertest.Testdata(t, "first_hop.form"))+"&pad="),
		strings.NewReader(strings.Repeat("x", 9<<10)))
	e := echo.New()
	africastalking.New(africastalking.Options{}).Mount(e, hop)
	req := httptest.NewRequest(http.MethodPost, path, body)
	req.ContentLength = -1 // chunked: the limit must hold while reading
	req.Header.Set(echo.HeaderContentType, form)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || len(hop.Calls()) != 0 {
		t.Fatalf("status %d, hopper calls %d; want 413 and none", rec.Code, len(hop.Calls()))
	}
}

func TestReplies(t *testing.T) {
	const fallback = "END Servicio no disponible. Intente más tarde."
	long := strings.Repeat("Línea de texto bastante larga\n", 10) + "98. Más"
	says := func(name string, opts africastalking.Options, hop *carriertest.Hopper, want string) carriertest.Case {
		return carriertest.Case{Name: name, File: "second_hop.form", Options: opts, Hopper: hop, WantStatus: 200, WantBody: want}
	}
	var defaults africastalking.Options
	carriertest.Run(t, suite(), []carriertest.Case{
		says("continue", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Cédula"}}, "CON Elija:\n1. Cédula"),
		says("end", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias.", End: true}}, "END Gracias."),
		says("hop error answers the fallback end, not an HTTP error", defaults,
			&carriertest.Hopper{Err: errors.New("store: connection refused")}, fallback),
		says("hop error keeps the gateway's localised reply and ends", defaults,
			&carriertest.Hopper{Err: errors.New("store: connection refused"), Reply: carrier.Reply{Text: "Service unavailable. Please try again later."}},
			"END Service unavailable. Please try again later."),
		says("hop panic answers the same", defaults, &carriertest.Hopper{Panic: "boom"}, fallback),
		// 29-rune lines: five make 149 runes, six would make 179 > 178.
		says("over-long reply loses whole trailing lines", defaults, &carriertest.Hopper{Reply: carrier.Reply{Text: long}},
			"CON "+strings.TrimSuffix(strings.Repeat("Línea de texto bastante larga\n", 5), "\n")),
		says("over-long single line is cut at the limit", defaults,
			&carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}}, "CON "+strings.Repeat("ñ", 178)),
		says("custom limit", africastalking.Options{Limit: 60},
			&carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300), End: true}}, "END "+strings.Repeat("ñ", 56)),
		says("limit below the renderer's minimum is raised", africastalking.Options{Limit: 10},
			&carriertest.Hopper{Reply: carrier.Reply{Text: strings.Repeat("ñ", 300)}}, "CON "+strings.Repeat("ñ", 40)),
	})
}

func cmpInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func TestOptions(t *testing.T) {
	h := africastalking.New(africastalking.Options{Path: "/at", Limit: 160, DefaultRegion: "KE"})
	if h.Name() != "africastalking" {
		t.Errorf("Name() = %q", h.Name())
	}
	e := echo.New()
	hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Hola"}}
	h.Mount(e, hop)
	req := httptest.NewRequest(http.MethodPost, "/at",
		strings.NewReader("sessionId=s1&phoneNumber=0711082123&serviceCode=%2A384%23&text="))
	req.Header.Set(echo.HeaderContentType, form)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 200 || len(hop.Calls()) != 1 {
		t.Fatalf("status %d, calls %d", rec.Code, len(hop.Calls()))
	}
	if in := hop.Calls()[0]; in.Phone != "+254711082123" || in.Limit != 156 {
		t.Errorf("Phone %q Limit %d; want +254711082123 (region KE) and 156", in.Phone, in.Limit)
	}
}

// Failures are logged, but never with the citizen's number or session.
func TestFailureLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	hop := &carriertest.Hopper{Err: errors.New("interop: timeout")}
	post(africastalking.New(africastalking.Options{}), hop, http.MethodPost, form,
		strings.NewReader(string(carriertest.Testdata(t, "third_hop_phone_answer.form"))))
	log := buf.String()
	if !strings.Contains(log, "ussd hop failed") {
		t.Fatalf("failure not logged: %q", log)
	}
	for _, secret := range []string{"254711082123", "0912345678", "ATUid_8f3c"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q: %s", secret, log)
		}
	}
}
