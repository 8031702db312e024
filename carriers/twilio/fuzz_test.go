package twilio_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/twilio"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{2,14}$`)

// FuzzParseInbound feeds arbitrary bodies to the parser and, signed, through
// the real route: whatever is accepted satisfies the documented checks, and
// the gateway is called exactly when the request is accepted.
func FuzzParseInbound(f *testing.F) {
	carriertest.Seeds(f, "*.form")
	f.Add([]byte("MessageSid=SM00000000000000000000000000000000&AccountSid=AC00000000000000000000000000000000&From=whatsapp:%2B1&To=whatsapp:x&Body=%E2%80%AE"))
	h := newHandler(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		if v, err := url.ParseQuery(string(body)); err == nil {
			if in, err := h.ParseInbound(v); err == nil {
				checkInbound(t, in)
			}
		}
		hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		rec := signed(router(h, hop), string(body))
		calls := hop.Calls()
		switch {
		case rec.Code == http.StatusOK && len(calls) == 1:
			checkInbound(t, calls[0])
		case rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge || rec.Code == http.StatusForbidden:
			if len(calls) != 0 {
				t.Fatalf("status %d but the gateway was called", rec.Code)
			}
		default:
			t.Fatalf("status %d with %d gateway calls", rec.Code, len(calls))
		}
	})
}

func checkInbound(t *testing.T, in carrier.Inbound) {
	t.Helper()
	switch {
	case !e164.MatchString(in.Phone):
		t.Fatalf("accepted phone %q", in.Phone)
	case !(in.Channel == "sms" && in.Carrier == "twilio") && !(in.Channel == "chat" && in.Carrier == "whatsapp"):
		t.Fatalf("channel %q carrier %q", in.Channel, in.Carrier)
	case in.SessionID != "" || in.Seq <= 0:
		t.Fatalf("session %q seq %d", in.SessionID, in.Seq)
	case !utf8.ValidString(in.Input) || utf8.RuneCountInString(in.Input) > twilio.MaxText:
		t.Fatalf("accepted text %q", in.Input)
	case strings.ContainsFunc(in.Input, unicode.IsControl):
		t.Fatalf("control characters reach the engine: %q", in.Input)
	case in.Input != strings.TrimSpace(in.Input):
		t.Fatalf("untrimmed input %q", in.Input)
	case in.ServiceCode == "" || strings.ContainsFunc(in.ServiceCode, func(r rune) bool { return r <= ' ' || r > '~' }):
		t.Fatalf("service code %q", in.ServiceCode)
	}
}

// FuzzParseStatus: accepted callbacks carry a SID and a plain status word.
func FuzzParseStatus(f *testing.F) {
	carriertest.Seeds(f, "status/*.form")
	sid := regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)
	word := regexp.MustCompile(`^[a-z_]{1,32}$`)
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return
		}
		st, err := twilio.ParseStatus(v)
		if err != nil {
			return
		}
		if !sid.MatchString(st.MessageSID) || !word.MatchString(st.State) || strings.Trim(st.ErrorCode, "0123456789") != "" {
			t.Fatalf("accepted %+v", st)
		}
	})
}
