package twilio_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func TestNewRequiresSecrets(t *testing.T) {
	for name, opts := range map[string]twilio.Options{
		"no token":       {PublicURL: publicURL},
		"no public URL":  {AuthToken: token},
		"relative URL":   {PublicURL: "/sms/twilio", AuthToken: token},
		"not a http URL": {PublicURL: "ftp://example.com/sms/twilio", AuthToken: token},
	} {
		if _, err := twilio.New(opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// suite posts Twilio's webhooks to a fresh adapter, each signed for the
// configured URL as Twilio signs it.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(t *testing.T, _ carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			return newHandler(t, nil), nil
		},
		Path: "/sms/twilio", ContentType: form,
		Send: func(h http.Handler, method, path, contentType string, body io.Reader) *httptest.ResponseRecorder {
			b, _ := io.ReadAll(body)
			req := httptest.NewRequest(method, path, bytes.NewReader(b))
			req.Header.Set(echo.HeaderContentType, contentType)
			req.Header.Set(twilio.SignatureHeader, sign(token, publicURL, string(b)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		},
		Hop:       carrier.Reply{Text: "Ventanilla ciudadana\n1. Turnos"},
		SeqFromID: true,
	}
}

// Captured webhooks, signed for the configured URL, through the real
// router: what the gateway is handed.
func TestWebhook(t *testing.T) {
	in := func(channel, name, to, input string) *carrier.Inbound {
		return &carrier.Inbound{Channel: channel, Carrier: name, Phone: "+593991234567", ServiceCode: to, Input: input}
	}
	accepted := func(file string, want *carrier.Inbound) carriertest.Case {
		return carriertest.Case{Name: file, File: file, WantStatus: 200, WantIn: want}
	}
	carriertest.Run(t, suite(), []carriertest.Case{
		accepted("sms.form", in("sms", "twilio", "+14155552345", "hola")),
		accepted("sms_messaging_service.form", in("sms", "twilio", "+593987654321", "1")),
		accepted("sms_accented_multiline.form", in("sms", "twilio", "+14155552345", "Quisiera un turno en Cuenca, señor ¿sí?")),
		accepted("sms_unknown_fields.form", in("sms", "twilio", "+14155552345", "2")),
		accepted("mms_media_only.form", in("sms", "twilio", "+14155552345", "")),
		accepted("whatsapp.form", in("chat", "whatsapp", "+14155238886", "Hola")),
		accepted("whatsapp_button_reply.form", in("chat", "whatsapp", "+14155238886", "1")),
		accepted("whatsapp_location.form", in("chat", "whatsapp", "+14155238886", "")),
	})
}

// Malformed webhooks, validly signed, are refused naming the field and
// never reach the gateway.
func TestWebhookRefusesMalformed(t *testing.T) {
	refused := func(file, field string) carriertest.Case {
		return carriertest.Case{Name: file, File: file, WantStatus: 400, WantBody: field + "\n"}
	}
	carriertest.Run(t, suite(), []carriertest.Case{
		refused("bad_from_letters.form", "From: not a phone number"),
		refused("bad_missing_from.form", "From: missing"),
		refused("bad_missing_to.form", "To: missing"),
		refused("bad_missing_message_sid.form", "MessageSid: missing"),
		refused("bad_message_sid.form", "MessageSid: not a Twilio SID"),
		refused("bad_account_sid.form", "AccountSid: not a Twilio SID"),
		refused("bad_control_char.form", "Body: contains control characters"),
		refused("bad_invalid_utf8.form", "Body: not valid UTF-8"),
		refused("bad_repeated_body.form", "Body: sent more than once"),
		refused("bad_mixed_channels.form", "To: not on the sender's channel"),
		refused("bad_unsupported_channel.form", "From: unsupported channel address"),
		refused("bad_malformed_encoding.form", "body: malformed form encoding"),
	})
}

func TestWebhookRefusesOversized(t *testing.T) {
	base := string(carriertest.Testdata(t, "sms.form"))
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "text over 1600 characters", Body: strings.Replace(base, "Body=hola", "Body="+strings.Repeat("a", 1601), 1), WantStatus: 400, WantBody: "Body: longer than 1600 characters\n"},
		{Name: "text of 1600 accented characters", Body: strings.Replace(base, "Body=hola", "Body="+strings.Repeat("%C3%B1", 1600), 1), WantStatus: 200},
		{Name: "body over 16 KiB", Body: base + "&Pad=" + strings.Repeat("x", 16<<10), WantStatus: 413, WantBody: "body: larger than 16 KiB\n"},
	})
}

// Only a request signed with our token for the configured URL reaches the
// gateway; the request's own Host does not count.
func TestWebhookSignature(t *testing.T) {
	body := string(carriertest.Testdata(t, "sms.form"))
	tests := []struct {
		name, host, sig string
		status          int
	}{
		{"signed for the configured URL", "", sign(token, publicURL, body), 200},
		{"signed with the port Twilio may add", "", sign(token, "https://ventanilla.example.gob.ec:443/sms/twilio", body), 200},
		{"configured URL, whatever Host the proxy passes", "10.0.0.7:8080", sign(token, publicURL, body), 200},
		{"no signature", "", "", 403},
		{"another token", "", sign("fedcba9876543210fedcba9876543210", publicURL, body), 403},
		{"signed for the URL the request's Host makes", "10.0.0.7:8080", sign(token, "http://10.0.0.7:8080/sms/twilio", body), 403},
		{"signed for another path", "", sign(token, "https://ventanilla.example.gob.ec/sms/other", body), 403},
		{"body changed after signing", "", sign(token, publicURL, strings.Replace(body, "Body=hola", "Body=chau", 1)), 403},
		{"garbage", "", "not base64 at all", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
			rec := postHost(router(newHandler(t, nil), hop), tt.host, "/sms/twilio", body, tt.sig)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if calls := len(hop.Calls()); (tt.status == 200) != (calls == 1) {
				t.Errorf("status %d with %d hopper calls", rec.Code, calls)
			}
		})
	}
}

// An unsigned request learns nothing about the fields: 403 comes before
// validation.
func TestUnsignedMalformedIsForbidden(t *testing.T) {
	hop := &carriertest.Hopper{}
	rec := post(router(newHandler(t, nil), hop), "/sms/twilio", string(carriertest.Testdata(t, "bad_from_letters.form")), "")
	if rec.Code != http.StatusForbidden {
		t.Errorf("status %d, want 403", rec.Code)
	}
}

func TestWebhookMediaType(t *testing.T) {
	hop := &carriertest.Hopper{}
	body := string(carriertest.Testdata(t, "sms.form"))
	rec := carriertest.Do(router(newHandler(t, nil), hop), http.MethodPost, "/sms/twilio", "application/json", strings.NewReader(body))
	if rec.Code != http.StatusUnsupportedMediaType || len(hop.Calls()) != 0 {
		t.Errorf("status %d, %d calls", rec.Code, len(hop.Calls()))
	}
}

// Replies go back as TwiML: one <Message>, escaped, or an empty
// <Response/>; WhatsApp replies carry their buttons as numbered lines.
func TestReplyTwiML(t *testing.T) {
	buttons := [][]carrier.Button{{{Label: "Español", Data: "1"}}, {{Label: "English", Data: "2"}}, {{Label: "Atrás", Data: "0"}, {Label: "Inicio", Data: "00"}}}
	tests := []struct {
		name, file string
		reply      carrier.Reply
		err        error
		want       []string
	}{
		{"sms screen", "sms.form", carrier.Reply{Text: "Turnos\n1. Reservar un turno\n0 Atrás"}, nil, []string{"Turnos\n1. Reservar un turno\n0 Atrás"}},
		{"markup is escaped", "sms.form", carrier.Reply{Text: `Código <T&1> "x"`}, nil, []string{`Código <T&1> "x"`}},
		{"control characters are dropped", "sms.form", carrier.Reply{Text: "a\x00b\r\nc"}, nil, []string{"a b\nc"}},
		{"empty reply", "sms.form", carrier.Reply{}, nil, nil},
		{"gateway failure without text", "sms.form", carrier.Reply{}, errors.New("store down"), []string{"Servicio no disponible. Intente más tarde."}},
		{"whatsapp buttons become lines", "whatsapp.form", carrier.Reply{Text: "Bienvenido", Buttons: buttons}, nil, []string{"Bienvenido\n1. Español\n2. English\n0. Atrás\n00. Inicio"}},
		{"sms ignores buttons", "sms.form", carrier.Reply{Text: "Hola", Buttons: buttons}, nil, []string{"Hola"}},
		{"longer than Twilio takes", "sms.form", carrier.Reply{Text: strings.Repeat("línea de texto\n", 200)}, nil, []string{strings.TrimSuffix(strings.Repeat("línea de texto\n", 106), "\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hop := &carriertest.Hopper{Reply: tt.reply, Err: tt.err}
			rec := signed(router(newHandler(t, nil), hop), string(carriertest.Testdata(t, tt.file)))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			got := twiml(t, rec)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("messages\n got %q\nwant %q", got, tt.want)
			}
			if len(tt.want) == 0 && !strings.HasSuffix(strings.TrimSpace(rec.Body.String()), "<Response/>") {
				t.Errorf("empty reply: %s", rec.Body)
			}
		})
	}
}

// A panicking gateway still answers the citizen.
func TestReplyAfterPanic(t *testing.T) {
	hop := &carriertest.Hopper{Panic: "boom"}
	rec := signed(router(newHandler(t, nil), hop), string(carriertest.Testdata(t, "sms.form")))
	if got := twiml(t, rec); rec.Code != 200 || len(got) != 1 || got[0] != "Servicio no disponible. Intente más tarde." {
		t.Errorf("got %d %q", rec.Code, got)
	}
}

// Twilio retrying a webhook sends the same MessageSid: the hop carries the
// same Seq, which the gateway reads as a retry. Another message does not.
func TestSeqFollowsMessageSid(t *testing.T) {
	h := newHandler(t, nil)
	a, _ := url.ParseQuery(string(carriertest.Testdata(t, "sms.form")))
	b, _ := url.ParseQuery(string(carriertest.Testdata(t, "sms.form")))
	b.Set("MessageSid", "SM0000000000000000000000000000beef")
	inA, err1 := h.ParseInbound(a)
	inA2, err2 := h.ParseInbound(a)
	inB, err3 := h.ParseInbound(b)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if inA.Seq != inA2.Seq || inA.Seq == inB.Seq {
		t.Errorf("seq %d %d %d", inA.Seq, inA2.Seq, inB.Seq)
	}
}

func TestStatusCallback(t *testing.T) {
	const sid = "SM9a1b2c3d4e5f60718293a4b5c6d7e8f9"
	tests := []struct {
		file   string
		status int
		want   [2]string
		text   string
	}{
		{"status/delivered.form", 204, [2]string{sid, "delivered"}, ""},
		{"status/sent_messaging_service.form", 204, [2]string{sid, "sent"}, ""},
		{"status/undelivered_30003.form", 204, [2]string{sid, "undelivered"}, ""},
		{"status/failed_30008.form", 204, [2]string{sid, "failed"}, ""},
		{"status/whatsapp_read.form", 204, [2]string{sid, "read"}, ""},
		{"status/bad_missing_status.form", 400, [2]string{}, "MessageStatus: missing\n"},
		{"status/bad_status_word.form", 400, [2]string{}, "MessageStatus: not a message status\n"},
		{"status/bad_missing_sid.form", 400, [2]string{}, "MessageSid: missing\n"},
		{"status/bad_error_code.form", 400, [2]string{}, "ErrorCode: not an error code\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := &sink{}
			hop := &carriertest.Hopper{}
			body := string(carriertest.Testdata(t, tt.file))
			rec := post(router(newHandler(t, s), hop), "/sms/twilio/status", body, sign(token, statusURL, body))
			if rec.Code != tt.status || rec.Body.String() != tt.text {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.text)
			}
			got := s.got()
			switch {
			case tt.status == 204 && (len(got) != 1 || got[0] != tt.want):
				t.Errorf("sink got %v, want %v", got, tt.want)
			case tt.status != 204 && len(got) != 0:
				t.Errorf("sink called on a refused callback: %v", got)
			}
			if len(hop.Calls()) != 0 {
				t.Error("a status callback reached the gateway")
			}
		})
	}
}

func TestStatusCallbackSignature(t *testing.T) {
	body := string(carriertest.Testdata(t, "status/delivered.form"))
	for name, sig := range map[string]string{
		"none":                    "",
		"signed for the webhook":  sign(token, publicURL, body),
		"another token":           sign("fedcba9876543210fedcba9876543210", statusURL, body),
		"signed for another body": sign(token, statusURL, strings.Replace(body, "delivered", "failed", 2)),
	} {
		t.Run(name, func(t *testing.T) {
			s := &sink{}
			rec := post(router(newHandler(t, s), &carriertest.Hopper{}), "/sms/twilio/status", body, sig)
			if rec.Code != http.StatusForbidden || len(s.got()) != 0 {
				t.Errorf("status %d, sink %v", rec.Code, s.got())
			}
		})
	}
}

func TestStatusCallbackSink(t *testing.T) {
	body := string(carriertest.Testdata(t, "status/delivered.form"))
	sig := sign(token, statusURL, body)
	t.Run("sink fails", func(t *testing.T) {
		s := &sink{err: errors.New("queue down")}
		rec := post(router(newHandler(t, s), &carriertest.Hopper{}), "/sms/twilio/status", body, sig)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("no sink", func(t *testing.T) {
		rec := post(router(newHandler(t, nil), &carriertest.Hopper{}), "/sms/twilio/status", body, sig)
		if rec.Code != http.StatusNoContent {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("status URL configured apart", func(t *testing.T) {
		const other = "https://callbacks.example.gob.ec/twilio/status"
		h, err := twilio.New(twilio.Options{PublicURL: publicURL, StatusURL: other, AuthToken: token, StatusPath: "/twilio/status"})
		if err != nil {
			t.Fatal(err)
		}
		if h.StatusCallbackURL() != other {
			t.Errorf("StatusCallbackURL %q", h.StatusCallbackURL())
		}
		rec := post(router(h, &carriertest.Hopper{}), "/twilio/status", body, sign(token, other, body))
		if rec.Code != http.StatusNoContent {
			t.Errorf("status %d", rec.Code)
		}
	})
}
