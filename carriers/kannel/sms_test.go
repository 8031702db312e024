package kannel_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const smsPath = "/sms/kannel"

func smsIn(phone, input string) *carrier.Inbound {
	return &carrier.Inbound{Channel: "sms", Carrier: "kannel", Phone: phone, ServiceCode: "4545", Input: input}
}

func TestSMSCalls(t *testing.T) {
	const ec = "+593991234567"
	s := carriertest.Suite{
		New: func(*testing.T, carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			return kannel.NewSMS(kannel.SMSOptions{}), nil
		},
		Path: smsPath, InQuery: true,
		Hop: carrier.Reply{Text: "Recibido"},
	}
	carriertest.Run(t, s, []carriertest.Case{
		{Name: "gsm text", File: "sms_gsm.query", WantStatus: 200, WantIn: smsIn(ec, "Hola mundo")},
		{Name: "utf-8 accents", File: "sms_utf8_accents.query", WantStatus: 200, WantIn: smsIn(ec, "Opción válida, señor")},
		{Name: "ucs-2 decoded from utf-16be", File: "sms_ucs2.query", WantStatus: 200, WantIn: smsIn(ec, "Opción ñandú")},
		{Name: "national number read in the default region", File: "sms_national_number.query", WantStatus: 200, WantIn: smsIn(ec, "1")},
		{Name: "international number without plus", File: "sms_international_without_plus.query", WantStatus: 200, WantIn: smsIn(ec, "1")},
		{Name: "unencoded plus decoded as space", File: "sms_unencoded_plus.query", WantStatus: 200, WantIn: smsIn(ec, "1")},
		{Name: "windows-1252 from alt-charset", File: "sms_windows1252.query", WantStatus: 200, WantIn: smsIn(ec, "Opción")},
		{Name: "line break becomes a space", File: "sms_line_break.query", WantStatus: 200, WantIn: smsIn(ec, "uno dos")},
		{Name: "unknown fields ignored", File: "sms_extra_fields.query", WantStatus: 200, WantIn: smsIn(ec, "2")},
		{Name: "empty text", File: "sms_empty_text.query", WantStatus: 200, WantIn: smsIn(ec, "")},

		{Name: "alphanumeric sender", File: "sms_alphanumeric_sender.query", WantStatus: 400, WantBodyPrefix: "from: not a phone number"},
		{Name: "control character", File: "sms_control_char.query", WantStatus: 400, WantBodyPrefix: "text: contains control"},
		{Name: "invalid utf-8", File: "sms_invalid_utf8.query", WantStatus: 400, WantBodyPrefix: "text: not valid UTF-8"},
		{Name: "8-bit binary", File: "sms_binary.query", WantStatus: 400, WantBodyPrefix: "coding: "},
		{Name: "odd utf-16 length", File: "sms_odd_ucs2.query", WantStatus: 400, WantBodyPrefix: "text: not valid UTF-16"},
		{Name: "unpaired surrogate", File: "sms_unpaired_surrogate.query", WantStatus: 400, WantBodyPrefix: "text: not valid UTF-16"},
		{Name: "unsupported charset", File: "sms_unsupported_charset.query", WantStatus: 400, WantBodyPrefix: "charset: unsupported"},
		{Name: "repeated from", File: "sms_repeated_from.query", WantStatus: 400, WantBodyPrefix: "from: sent more than once"},
		{Name: "missing receiver", File: "sms_missing_to.query", WantStatus: 400, WantBodyPrefix: "to: missing"},
		{Name: "malformed encoding", File: "sms_malformed_encoding.query", WantStatus: 400, WantBodyPrefix: "query: malformed"},
		{Name: "missing sender", Body: "to=4545&text=x", WantStatus: 400, WantBodyPrefix: "from: missing"},
		{Name: "receiver with space", Body: "from=%2B593991234567&to=45+45&text=x", WantStatus: 400, WantBodyPrefix: "to: not printable"},
		{Name: "smsc id too long", Body: "from=%2B593991234567&to=4545&text=x&smsc=" + strings.Repeat("s", 65), WantStatus: 400, WantBodyPrefix: "smsc: longer"},
		{Name: "coding out of range", Body: "from=%2B593991234567&to=4545&text=x&coding=3", WantStatus: 400, WantBodyPrefix: "coding: not 0, 1 or 2"},
		{Name: "text over 1600 characters", Body: "from=%2B593991234567&to=4545&text=" + strings.Repeat("a", 1601), WantStatus: 400, WantBodyPrefix: "text: longer"},
		{Name: "query over 8 KiB", Body: "from=%2B593991234567&to=4545&text=x&pad=" + strings.Repeat("x", 8<<10), WantStatus: 414},
	})
}

// smsbox's post-url sends the message as the body, the other fields in
// the URL; a form POST carries them all in the body.
func TestSMSPost(t *testing.T) {
	utf16 := string([]byte{0, 'S', 0, 0xED}) // "Sí" in UTF-16BE
	tests := []struct {
		name, query, contentType, body string
		wantStatus                     int
		wantBody                       string
		wantInput                      string
	}{
		{name: "post-url utf-8 body", query: "from=%2B593991234567&to=4545&coding=0&charset=UTF-8",
			contentType: `text/plain; charset="UTF-8"`, body: "Sí, señor", wantStatus: 200, wantInput: "Sí, señor"},
		{name: "post-url utf-16be body", query: "from=%2B593991234567&to=4545&coding=2",
			contentType: `text/plain; charset="UTF-16BE"`, body: utf16, wantStatus: 200, wantInput: "Sí"},
		{name: "post-url body charset wins over the query", query: "from=%2B593991234567&to=4545&coding=0&charset=UTF-16BE",
			contentType: `text/plain; charset=UTF-8`, body: "hola", wantStatus: 200, wantInput: "hola"},
		{name: "form post", contentType: "application/x-www-form-urlencoded",
			body: "from=%2B593991234567&to=4545&text=Hola", wantStatus: 200, wantInput: "Hola"},
		{name: "form field also in the query", query: "from=%2B593991234567", contentType: "application/x-www-form-urlencoded",
			body: "from=%2B593991234567&to=4545&text=Hola", wantStatus: 400, wantBody: "from: sent more than once"},
		{name: "text both in the query and the body", query: "from=%2B593991234567&to=4545&text=a",
			contentType: "text/plain", body: "b", wantStatus: 400, wantBody: "text: sent both"},
		{name: "8-bit post-url body", query: "from=%2B593991234567&to=4545", contentType: "application/octet-stream",
			body: "\x01", wantStatus: 415},
		{name: "no content type", query: "from=%2B593991234567&to=4545", body: "x", wantStatus: 415},
		{name: "body over 8 KiB", query: "from=%2B593991234567&to=4545", contentType: "text/plain",
			body: strings.Repeat("x", 8<<10+1), wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
			rec := call(kannel.NewSMS(kannel.SMSOptions{}), hop, http.MethodPost, smsPath+"?"+tt.query,
				tt.contentType, strings.NewReader(tt.body))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if !strings.HasPrefix(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q, want prefix %q", rec.Body.String(), tt.wantBody)
			}
			calls := hop.Calls()
			if tt.wantStatus != 200 {
				if len(calls) != 0 {
					t.Fatalf("hopper called for a rejected request")
				}
				return
			}
			if len(calls) != 1 || calls[0].Input != tt.wantInput {
				t.Fatalf("calls %+v, want one with Input %q", calls, tt.wantInput)
			}
		})
	}
}

func TestSMSOversizeBodyWithoutContentLength(t *testing.T) {
	hop := &carriertest.Hopper{}
	e := echo.New()
	kannel.NewSMS(kannel.SMSOptions{}).Mount(e, hop)
	body := io.MultiReader(strings.NewReader("x"), strings.NewReader(strings.Repeat("y", 9<<10)))
	req := httptest.NewRequest(http.MethodPost, smsPath+"?from=%2B593991234567&to=4545", body)
	req.ContentLength = -1 // chunked: the limit must hold while reading
	req.Header.Set(echo.HeaderContentType, "text/plain")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || len(hop.Calls()) != 0 {
		t.Fatalf("status %d, hopper calls %d; want 413 and none", rec.Code, len(hop.Calls()))
	}
}

func TestSMSReplies(t *testing.T) {
	const fallback = "Servicio no disponible. Intente más tarde."
	long := strings.Repeat("Su turno es el martes. ", 20)
	tests := []struct {
		name       string
		hop        *carriertest.Hopper
		wantStatus int
		wantBody   string
		wantCoding string
	}{
		{name: "gsm-7 reply", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Elija:\n1. Turno\n2. Cita ñ é ü ¿"}},
			wantStatus: 200, wantBody: "Elija:\n1. Turno\n2. Cita ñ é ü ¿", wantCoding: "0"},
		{name: "accented reply goes as ucs-2", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Opción válida, señor"}},
			wantStatus: 200, wantBody: "Opción válida, señor", wantCoding: "2"},
		{name: "long reply whole: kannel splits it", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: long}},
			wantStatus: 200, wantBody: long, wantCoding: "0"},
		{name: "end flag changes nothing for sms", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias.", End: true}},
			wantStatus: 200, wantBody: "Gracias.", wantCoding: "0"},
		{name: "empty reply sends nothing", hop: &carriertest.Hopper{Reply: carrier.Reply{}}, wantStatus: 202},
		{name: "blank reply sends nothing", hop: &carriertest.Hopper{Reply: carrier.Reply{Text: " \n"}}, wantStatus: 202},
		{name: "hop error answers the fallback, not an HTTP error",
			hop: &carriertest.Hopper{Err: errors.New("store: connection refused")}, wantStatus: 200, wantBody: fallback, wantCoding: "2"},
		{name: "hop error keeps the gateway's localised reply",
			hop:        &carriertest.Hopper{Err: errors.New("store down"), Reply: carrier.Reply{Text: "Service unavailable."}},
			wantStatus: 200, wantBody: "Service unavailable.", wantCoding: "0"},
		{name: "hop panic answers the fallback", hop: &carriertest.Hopper{Panic: "boom"}, wantStatus: 200, wantBody: fallback, wantCoding: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(kannel.NewSMS(kannel.SMSOptions{}), tt.hop, smsPath, string(carriertest.Testdata(t, "sms_gsm.query")))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body:\n got %q\nwant %q", rec.Body.String(), tt.wantBody)
			}
			if got := rec.Header().Get("X-Kannel-Coding"); got != tt.wantCoding {
				t.Errorf("X-Kannel-Coding %q, want %q", got, tt.wantCoding)
			}
			if tt.wantStatus == 200 {
				if ct := rec.Header().Get(echo.HeaderContentType); ct != "text/plain; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if md := rec.Header().Get("X-Kannel-Meta-Data"); md != "" {
					t.Errorf("SMS reply carries meta-data %q", md)
				}
			}
		})
	}
}

func TestSMSOptions(t *testing.T) {
	h := kannel.NewSMS(kannel.SMSOptions{Path: "/k/sms", DefaultRegion: "KE", Limit: 300})
	if h.Name() != "kannel-sms" {
		t.Errorf("Name() = %q", h.Name())
	}
	hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Hola"}}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var rec *httptest.ResponseRecorder
		if method == http.MethodGet {
			rec = get(h, hop, "/k/sms", "from=0711082123&to=4545&text=hi")
		} else {
			rec = call(h, hop, method, "/k/sms", echo.MIMEApplicationForm, strings.NewReader("from=0711082123&to=4545&text=hi"))
		}
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", method, rec.Code)
		}
	}
	for _, in := range hop.Calls() {
		if in.Phone != "+254711082123" || in.Limit != 300 {
			t.Errorf("Phone %q Limit %d; want +254711082123 (region KE) and 300", in.Phone, in.Limit)
		}
	}
	if rec := get(h, hop, smsPath, "from=0711082123&to=4545&text=hi"); rec.Code != http.StatusNotFound {
		t.Errorf("default path still mounted: %d", rec.Code)
	}
}

// Failures are logged, but never with the citizen's number or text.
func TestFailureLogHasNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	hop := &carriertest.Hopper{Err: errors.New("interop: timeout")}
	get(kannel.NewSMS(kannel.SMSOptions{}), hop, smsPath, string(carriertest.Testdata(t, "sms_utf8_accents.query")))
	get(kannel.NewUSSD(kannel.USSDOptions{}), hop, "/ussd/kannel", string(carriertest.Testdata(t, "ussd_answer.query")))
	get(kannel.NewSMS(kannel.SMSOptions{}), hop, smsPath, string(carriertest.Testdata(t, "sms_control_char.query")))
	log := buf.String()
	if !strings.Contains(log, "hop failed") || !strings.Contains(log, "call refused") {
		t.Fatalf("failures not logged: %q", log)
	}
	for _, secret := range []string{"593991234567", "Opci", "señor"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q: %s", secret, log)
		}
	}
}
