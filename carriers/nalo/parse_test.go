package nalo_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/nalo"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// FuzzParse feeds arbitrary bodies to the parser and through the real
// route: whatever is accepted must satisfy the documented validation, the
// reply must echo what was accepted, and the hopper must run exactly when
// the request is accepted.
func FuzzParse(f *testing.F) {
	carriertest.Seeds(f, "*.json")
	f.Add([]byte(`{"USERID":"u","MSISDN":"+1800FLOWERS","USERDATA":"\u202e","MSGTYPE":false,"SESSIONID":"x"}`))
	f.Add([]byte(`{"USERID":"u","MSISDN":"233244123456","USERDATA":"#*#","MSGTYPE":true,"SESSIONID":"x","msgtype":null}`))
	h := nalo.New(nalo.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		if in, req, err := h.ParseRequest(body); err == nil {
			checkInbound(t, in)
			if len(req.UserID) > 64 || !utf8.ValidString(req.MSISDN) {
				t.Fatalf("accepted request %+v", req)
			}
		}
		hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, path, jsonCT, bytes.NewReader(body))
		switch calls := hopper.Calls(); {
		case rec.Code == http.StatusOK && len(calls) == 1:
			checkInbound(t, calls[0])
			if r := decode(t, rec.Body.Bytes()); r.Msg != "ok" || !r.MsgType {
				t.Fatalf("reply %+v", r)
			}
		case rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge:
			if len(calls) != 0 {
				t.Fatalf("status %d but hopper called", rec.Code)
			}
		default:
			t.Fatalf("status %d with %d hopper calls", rec.Code, len(calls))
		}
	})
}

func checkInbound(t *testing.T, in carrier.Inbound) {
	t.Helper()
	if in.SessionID == "" || len(in.SessionID) > 128 || !visible(in.SessionID) {
		t.Fatalf("accepted session id %q", in.SessionID)
	}
	if len(in.Phone) < 3 || in.Phone[0] != '+' || strings.Trim(in.Phone[1:], "0123456789") != "" {
		t.Fatalf("accepted phone %q is not E.164", in.Phone)
	}
	if len(in.Input) > 512 || !utf8.ValidString(in.Input) || strings.ContainsFunc(in.Input, unicode.IsControl) ||
		strings.TrimSpace(in.Input) != in.Input {
		t.Fatalf("accepted input %q", in.Input)
	}
	switch in.Event {
	case carrier.EventBegin:
		if in.Input != "" || in.ServiceCode != "" && (in.ServiceCode[len(in.ServiceCode)-1] != '#' || !visible(in.ServiceCode)) {
			t.Fatalf("bad begin: %+v", in)
		}
	case carrier.EventContinue:
		if in.ServiceCode != "" {
			t.Fatalf("continue with a service code: %+v", in)
		}
	default:
		t.Fatalf("event %d", in.Event)
	}
	if in.Channel != "ussd" || in.Carrier != "nalo" || in.Cumulative || in.EndStatus != "" || in.Limit != 182 {
		t.Fatalf("bad constant fields: %+v", in)
	}
}

func visible(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
