package africastalking_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/africastalking"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

// FuzzParse feeds arbitrary bodies to the form parser and, for bodies that
// parse, through the real route: whatever is accepted must satisfy the
// documented validation, and the hopper must run exactly when the request
// is accepted.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.form"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("sessionId=x&phoneNumber=+1%20202&text=%E2%80%AE")
	f.Add("sessionId=x&phoneNumber=%2B1800FLOWERS&text=")
	h := africastalking.New(africastalking.Options{})
	f.Fuzz(func(t *testing.T, body string) {
		values, err := url.ParseQuery(body)
		if err == nil {
			in, err := h.ParseForm(values)
			if err == nil {
				checkInbound(t, in)
			}
		}
		hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
		rec := post(h, hop, http.MethodPost, form, strings.NewReader(body))
		switch {
		case rec.Code == http.StatusOK && len(hop.Calls()) == 1:
			checkInbound(t, hop.Calls()[0])
		case rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge:
			if len(hop.Calls()) != 0 {
				t.Fatalf("status %d but hopper called", rec.Code)
			}
		default:
			t.Fatalf("status %d with %d hopper calls", rec.Code, len(hop.Calls()))
		}
	})
}

func checkInbound(t *testing.T, in carrier.Inbound) {
	t.Helper()
	if in.SessionID == "" || len(in.SessionID) > 128 {
		t.Fatalf("accepted session id %q", in.SessionID)
	}
	for _, c := range []byte(in.SessionID) {
		if c <= ' ' || c > '~' {
			t.Fatalf("accepted session id %q", in.SessionID)
		}
	}
	if len(in.Phone) < 3 || in.Phone[0] != '+' || strings.Trim(in.Phone[1:], "0123456789") != "" {
		t.Fatalf("accepted phone %q is not E.164", in.Phone)
	}
	if len(in.Input) > 512 || !utf8.ValidString(in.Input) || strings.ContainsFunc(in.Input, unicode.IsControl) {
		t.Fatalf("accepted text %q", in.Input)
	}
	if in.Channel != "ussd" || in.Carrier != "africastalking" || !in.Cumulative || in.Limit != 178 {
		t.Fatalf("bad constant fields: %+v", in)
	}
}
