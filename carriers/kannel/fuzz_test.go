package kannel_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/carriers/kannel"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

func seed(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no seeds for %s", pattern)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), []byte(nil), false)
	}
	f.Add("from=%2B593991234567&to=4545&coding=2", []byte{0, 'a', 0xd8, 0x3d}, true)
	f.Add("from=%2B1800FLOWERS&to=4545&text=", []byte(nil), false)
	f.Add("from=+593991234567&to=4545&text=%E2%80%AE", []byte("x"), true)
}

// fuzzRoute sends the input through the real route (a GET, or a post-url
// POST when post) and checks that the hopper runs exactly when the call
// is accepted.
func fuzzRoute(t *testing.T, c carrier.Carrier, path, query string, body []byte, post bool) []carrier.Inbound {
	hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "ok"}}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if post {
		req = httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	req.URL.RawQuery = query // may be malformed: that is the point
	rec := httptest.NewRecorder()
	newEcho(c, hop).ServeHTTP(rec, req)
	calls := hop.Calls()
	switch {
	case (rec.Code == http.StatusOK || rec.Code == http.StatusAccepted) && len(calls) == 1:
	case rec.Code >= 400 && rec.Code < 500 && len(calls) == 0 && !strings.HasPrefix(path, "/ussd"):
	case len(calls) == 0 && strings.HasPrefix(path, "/ussd") && endsDialogue(rec):
		// A refused USSD call still closes the dialogue (see
		// TestUSSDRefusedCallsEndTheDialogue).
	default:
		t.Fatalf("status %d with %d hopper calls; body %q", rec.Code, len(calls), rec.Body.String())
	}
	return calls
}

func request(query string, body []byte, post bool) (kannel.Request, bool) {
	v, err := url.ParseQuery(query)
	if err != nil {
		return kannel.Request{}, false
	}
	if post {
		return kannel.Request{Fields: v, HasBody: true, Body: body, BodyCharset: "utf-8"}, true
	}
	return kannel.Request{Fields: v}, true
}

func FuzzParseSMS(f *testing.F) {
	seed(f, "sms_*.query")
	h := kannel.NewSMS(kannel.SMSOptions{})
	f.Fuzz(func(t *testing.T, query string, body []byte, post bool) {
		if req, ok := request(query, body, post); ok {
			if in, err := h.Parse(req); err == nil {
				checkInbound(t, in, "sms")
			}
		}
		for _, in := range fuzzRoute(t, h, "/sms/kannel", query, body, post) {
			checkInbound(t, in, "sms")
		}
	})
}

func FuzzParseUSSD(f *testing.F) {
	seed(f, "ussd_*.query")
	h := kannel.NewUSSD(kannel.USSDOptions{})
	f.Fuzz(func(t *testing.T, query string, body []byte, post bool) {
		if req, ok := request(query, body, post); ok {
			if p, err := h.Parse(req); err == nil {
				checkInbound(t, p.Inbound, "ussd")
				if p.Session != nil && p.Session.Seq > 127 {
					t.Fatalf("sequence %d does not fit 7 bits", p.Session.Seq)
				}
			}
		}
		for _, in := range fuzzRoute(t, h, "/ussd/kannel", query, body, post) {
			checkInbound(t, in, "ussd")
		}
	})
}

// endsDialogue says rec is a final USSD screen (PSSR response, raw or
// decimal as the call's meta-data was) or, for a dialogue the handset
// already left, nothing at all.
func endsDialogue(rec *httptest.ResponseRecorder) bool {
	if rec.Code == http.StatusAccepted {
		return rec.Body.Len() == 0
	}
	meta, err := url.ParseQuery(strings.TrimPrefix(rec.Header().Get("X-Kannel-Meta-Data"), "?smpp?"))
	return rec.Code == http.StatusOK && err == nil && (meta.Get("ussd_service_op") == "\x11" || meta.Get("ussd_service_op") == "17") && rec.Body.Len() > 0
}

// checkInbound holds what every accepted call must satisfy.
func checkInbound(t *testing.T, in carrier.Inbound, channel string) {
	t.Helper()
	if len(in.Phone) < 3 || in.Phone[0] != '+' || strings.Trim(in.Phone[1:], "0123456789") != "" {
		t.Fatalf("accepted phone %q is not E.164", in.Phone)
	}
	if in.ServiceCode == "" || len(in.ServiceCode) > 64 {
		t.Fatalf("accepted receiver %q", in.ServiceCode)
	}
	for _, c := range []byte(in.ServiceCode + in.SessionID) {
		if c <= ' ' || c > '~' {
			t.Fatalf("accepted receiver %q / session %q", in.ServiceCode, in.SessionID)
		}
	}
	if !utf8.ValidString(in.Input) || strings.ContainsFunc(in.Input, unicode.IsControl) {
		t.Fatalf("accepted text %q", in.Input)
	}
	if in.Channel != channel || in.Carrier != "kannel" {
		t.Fatalf("bad constant fields: %+v", in)
	}
	switch channel {
	case "sms":
		if in.SessionID != "" || utf8.RuneCountInString(in.Input) > 1600 || in.Event != carrier.EventContinue {
			t.Fatalf("bad sms inbound: %+v", in)
		}
	case "ussd":
		if !strings.HasPrefix(in.SessionID, in.Phone) || utf8.RuneCountInString(in.Input) > 182 || in.Limit != 182 {
			t.Fatalf("bad ussd inbound: %+v", in)
		}
		if in.Event == carrier.EventEnd && (in.Input != "" || in.EndStatus == "") {
			t.Fatalf("ended session with input or without status: %+v", in)
		}
	}
}
