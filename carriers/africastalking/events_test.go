package africastalking_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ventanilla-gob/ventanilla/carriers/africastalking"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
)

const eventsPath = "/ussd/africastalking/events"

func ended(in *carrier.Inbound, status string) *carrier.Inbound {
	out := *in
	out.Event = carrier.EventEnd
	out.EndStatus = status
	out.Input = ""
	out.Cumulative = false
	return &out
}

func TestEvents(t *testing.T) {
	tests := []struct {
		name        string
		file        string // testdata/events file; body used when empty
		body        string
		contentType string // form when empty
		wantStatus  int
		wantBody    string
		wantIn      *carrier.Inbound // nil: the hopper must not be called
	}{
		{name: "success", file: "success.form", wantStatus: 200, wantIn: ended(kenya(""), "Success")},
		{name: "incomplete", file: "incomplete.form", wantStatus: 200, wantIn: ended(ecuador(""), "Incomplete")},
		{name: "failed", file: "failed.form", wantStatus: 200, wantIn: ended(ecuador(""), "Failed")},
		{name: "only some fields, national number", file: "minimal_national_number.form", wantStatus: 200,
			wantIn: func() *carrier.Inbound {
				in := ended(ecuador(""), "Incomplete")
				in.ServiceCode = ""
				return in
			}()},
		{name: "a status not documented yet is passed on", wantStatus: 200,
			body:   "sessionId=ATUid_0b6d1e7f9a2c4b8e3d5f1a6c7e9b2d04&phoneNumber=%2B593991234567&serviceCode=%2A384%2A2%23&status=Aborted",
			wantIn: ended(ecuador(""), "Aborted")},

		{name: "missing status", file: "missing_status.form", wantStatus: 400, wantBody: "status: missing\n"},
		{name: "missing session", file: "missing_session.form", wantStatus: 400, wantBody: "sessionId: missing\n"},
		{name: "repeated status", file: "repeated_status.form", wantStatus: 400, wantBody: "status: sent more than once\n"},
		{name: "status with spaces", wantStatus: 400, wantBody: "status: not a session status\n",
			body: "sessionId=s1&phoneNumber=%2B593991234567&status=Not+Good"},
		{name: "bad phone", wantStatus: 400, wantBody: "phoneNumber: not a phone number\n",
			body: "sessionId=s1&phoneNumber=%2B593ABC&status=Success"},
		{name: "JSON", file: "success.form", contentType: "application/json", wantStatus: 415},
		{name: "over 8 KiB", wantStatus: 413,
			body: "sessionId=s1&phoneNumber=%2B593991234567&status=Success&pad=" + strings.Repeat("x", 8<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.file != "" {
				body = string(carriertest.Testdata(t, "events/"+tt.file))
			}
			// The gateway's reply to an end is ignored: give it one that
			// would show if it leaked into the acknowledgement.
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias.", End: true}}
			e := carriertest.Router(africastalking.New(africastalking.Options{}), hop)
			rec := carriertest.Do(e, http.MethodPost, eventsPath, cmp(tt.contentType, form), strings.NewReader(body))

			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantIn == nil {
				if !strings.HasPrefix(rec.Body.String(), tt.wantBody) {
					t.Errorf("body %q, want prefix %q", rec.Body.String(), tt.wantBody)
				}
				if calls := hop.Calls(); len(calls) != 0 {
					t.Fatalf("hopper called with %+v for a rejected notification", calls[0])
				}
				return
			}
			if rec.Body.Len() != 0 {
				t.Errorf("acknowledgement has a body: %q", rec.Body.String())
			}
			calls := hop.Calls()
			if len(calls) != 1 {
				t.Fatalf("hopper called %d times, want 1", len(calls))
			}
			if calls[0] != *tt.wantIn {
				t.Errorf("Inbound:\n got %+v\nwant %+v", calls[0], *tt.wantIn)
			}
		})
	}
}

// The notification is acknowledged whatever happens to it in the gateway;
// the failure is logged, without the citizen's number.
func TestEventAcknowledgedWhenTheGatewayFails(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)

	for _, hop := range []*carriertest.Hopper{
		{Err: errors.New("store: connection refused")},
		{Panic: "boom"},
	} {
		e := carriertest.Router(africastalking.New(africastalking.Options{}), hop)
		rec := carriertest.Do(e, http.MethodPost, eventsPath, form,
			bytes.NewReader(carriertest.Testdata(t, "events/failed.form")))
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || len(hop.Calls()) != 1 {
			t.Errorf("status %d body %q calls %d; want an empty 200 after one call",
				rec.Code, rec.Body.String(), len(hop.Calls()))
		}
	}
	log := buf.String()
	for _, want := range []string{"ussd hop failed", "ussd hop panicked", "Application response timed out"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q: %s", want, log)
		}
	}
	for _, secret := range []string{"593991234567", "ATUid_0b6d"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

// The events route is separate from the hop route and follows Path.
func TestEventsPathFollowsPath(t *testing.T) {
	hop := &carriertest.Hopper{}
	e := carriertest.Router(africastalking.New(africastalking.Options{Path: "/at"}), hop)
	rec := carriertest.Do(e, http.MethodPost, "/at/events", form,
		strings.NewReader("sessionId=s1&phoneNumber=%2B593991234567&status=Success"))
	if rec.Code != http.StatusOK || len(hop.Calls()) != 1 || hop.Calls()[0].Event != carrier.EventEnd {
		t.Fatalf("status %d calls %+v", rec.Code, hop.Calls())
	}
}

// FuzzParseEvent: whatever the notification parser accepts is an end of a
// well-formed session, and the route calls the hopper exactly when it
// acknowledges.
func FuzzParseEvent(f *testing.F) {
	carriertest.Seeds(f, "events/*.form")
	h := africastalking.New(africastalking.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		if values, err := url.ParseQuery(string(body)); err == nil {
			if in, err := h.ParseEvent(values); err == nil {
				checkEnd(t, in)
			}
		}
		hop := &carriertest.Hopper{}
		rec := carriertest.Do(carriertest.Router(h, hop), http.MethodPost, eventsPath, form, bytes.NewReader(body))
		switch calls := hop.Calls(); {
		case rec.Code == http.StatusOK && len(calls) == 1:
			checkEnd(t, calls[0])
		case rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge:
			if len(calls) != 0 {
				t.Fatalf("status %d but hopper called", rec.Code)
			}
		default:
			t.Fatalf("status %d with %d hopper calls", rec.Code, len(calls))
		}
	})
}

func checkEnd(t *testing.T, in carrier.Inbound) {
	t.Helper()
	if in.Event != carrier.EventEnd || in.EndStatus == "" || len(in.EndStatus) > 32 || in.Input != "" || in.Cumulative {
		t.Fatalf("not a clean end: %+v", in)
	}
	for _, c := range []byte(in.EndStatus) {
		if c <= ' ' || c > '~' {
			t.Fatalf("accepted status %q", in.EndStatus)
		}
	}
	if in.SessionID == "" || in.Carrier != "africastalking" || len(in.Phone) < 3 || in.Phone[0] != '+' {
		t.Fatalf("bad session fields: %+v", in)
	}
}
