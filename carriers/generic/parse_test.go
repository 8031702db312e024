package generic_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/generic"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// FuzzParse feeds arbitrary bodies to the parser and through the real
// route: whatever is accepted must satisfy openapi.yaml's constraints, the
// reply must have its shape, and the hopper must run exactly when the
// request is accepted.
func FuzzParse(f *testing.F) {
	carriertest.Seeds(f, "*.json")
	f.Add([]byte(`{"session_id":"x","msisdn":"+1800FLOWERS","event":"continue","input":"\u202e"}`))
	f.Add([]byte(`{"session_id":"x","msisdn":"593991234567","event":"end","end_status":" timeout "}`))
	f.Add([]byte(`{"SESSION_ID":"x","msisdn":"593991234567","event":"begin","Event":"end"}`))
	h := generic.New(generic.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		if in, err := h.ParseRequest(body); err == nil {
			checkInbound(t, in)
		}
		hopper := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		rec := carriertest.Do(carriertest.Router(h, hopper), http.MethodPost, path, jsonCT, bytes.NewReader(body))
		switch calls := hopper.Calls(); {
		case rec.Code == http.StatusOK && len(calls) == 1:
			checkInbound(t, calls[0])
			r := decode(t, rec.Body.Bytes())
			if r.SessionID != calls[0].SessionID || r.End != (calls[0].Event == carrier.EventEnd) {
				t.Fatalf("reply %+v to %+v", r, calls[0])
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
	if len(in.ServiceCode) > 64 || !visible(in.ServiceCode) {
		t.Fatalf("accepted service code %q", in.ServiceCode)
	}
	if len(in.Input) > 512 || !utf8.ValidString(in.Input) || strings.ContainsFunc(in.Input, unicode.IsControl) ||
		strings.TrimSpace(in.Input) != in.Input {
		t.Fatalf("accepted input %q", in.Input)
	}
	if in.Input != "" && in.Event != carrier.EventContinue || in.EndStatus != "" && in.Event != carrier.EventEnd {
		t.Fatalf("input or status with the wrong event: %+v", in)
	}
	if len(in.EndStatus) > 32 || !visible(in.EndStatus) {
		t.Fatalf("accepted status %q", in.EndStatus)
	}
	if in.Channel != "ussd" || in.Carrier != "generic" || in.Cumulative || in.Limit != 182 || in.Event > carrier.EventEnd {
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
