package atsms_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/atsms"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{2,14}$`)

// FuzzParse feeds arbitrary bodies to the parser and through the real
// route: whatever is accepted satisfies the documented checks, the gateway
// is called exactly when the request is accepted, and then exactly one
// reply is queued, for the sender's number, under the message's key.
func FuzzParse(f *testing.F) {
	carriertest.Seeds(f, "*.form")
	f.Add([]byte("from=%2B1&to=%2A&text=%E2%80%AE&id=%7E"))
	h := newHandler(f, &outbox{})
	f.Fuzz(func(t *testing.T, body []byte) {
		if v, err := url.ParseQuery(string(body)); err == nil {
			if m, err := h.Parse(v); err == nil {
				checkMessage(t, m)
			}
		}
		box := &outbox{}
		hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		rec := carriertest.Do(carriertest.Router(newHandler(t, box), hop), http.MethodPost, "/sms/africastalking", form, strings.NewReader(string(body)))
		calls, queued := hop.Calls(), box.queued()
		switch {
		case rec.Code == http.StatusOK && len(calls) == 1:
			checkInbound(t, calls[0])
			if len(queued) != 1 || queued[0].To != calls[0].Phone || !strings.HasPrefix(queued[0].ID, "africastalking-sms:") {
				t.Fatalf("queued %+v for %+v", queued, calls[0])
			}
		case rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge:
			if len(calls) != 0 || len(queued) != 0 {
				t.Fatalf("status %d but the gateway or the outbox was called", rec.Code)
			}
		default:
			t.Fatalf("status %d with %d gateway calls", rec.Code, len(calls))
		}
	})
}

func checkMessage(t *testing.T, m atsms.Message) {
	t.Helper()
	checkInbound(t, m.Inbound)
	for _, id := range []string{m.ID, m.LinkID} {
		if len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("accepted id %q", id)
		}
	}
	if m.ID == "" {
		t.Fatal("accepted a message without id")
	}
}

func checkInbound(t *testing.T, in carrier.Inbound) {
	t.Helper()
	switch {
	case !e164.MatchString(in.Phone):
		t.Fatalf("accepted phone %q", in.Phone)
	case in.Channel != "sms" || in.Carrier != "africastalking-sms" || in.SessionID != "" || in.Seq <= 0:
		t.Fatalf("inbound %+v", in)
	case !utf8.ValidString(in.Input) || utf8.RuneCountInString(in.Input) > atsms.MaxText:
		t.Fatalf("accepted text %q", in.Input)
	case strings.ContainsFunc(in.Input, unicode.IsControl) || in.Input != strings.TrimSpace(in.Input):
		t.Fatalf("text reaching the engine: %q", in.Input)
	case in.ServiceCode == "" || strings.ContainsFunc(in.ServiceCode, func(r rune) bool { return r <= ' ' || r > '~' }):
		t.Fatalf("service code %q", in.ServiceCode)
	}
}
