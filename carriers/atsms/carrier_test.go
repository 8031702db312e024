package atsms_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"ventanilla/carriers/atsms"
	"ventanilla/carriers/internal/carriertest"
	"ventanilla/channels/carrier"
)

const form = "application/x-www-form-urlencoded"

// outbox records what the adapter queues, dropping repeated ids as the
// real queue does.
type outbox struct {
	mu   sync.Mutex
	msgs []carrier.Message
	seen map[string]bool
	err  error
}

func (o *outbox) Enqueue(_ context.Context, m carrier.Message) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return "", o.err
	}
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if !o.seen[m.ID] {
		o.seen[m.ID] = true
		o.msgs = append(o.msgs, m)
	}
	return "q-" + m.ID, nil
}

func (o *outbox) queued() []carrier.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]carrier.Message(nil), o.msgs...)
}

func newHandler(t testing.TB, box atsms.Outbox) *atsms.Handler {
	t.Helper()
	h, err := atsms.New(atsms.Options{Outbox: box})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func post(e http.Handler, body string) *httptest.ResponseRecorder {
	return carriertest.Do(e, http.MethodPost, "/sms/africastalking", form, strings.NewReader(body))
}

func TestNewRequiresAnOutbox(t *testing.T) {
	if _, err := atsms.New(atsms.Options{}); err == nil {
		t.Error("accepted without an Outbox")
	}
}

// Captured callbacks through the real router: what the gateway is handed,
// and the reply queued for the Sender under a key derived from AT's id.
func TestCallback(t *testing.T) {
	tests := []struct {
		file string
		want carrier.Inbound
		id   string
	}{
		{"incoming.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: "hola"}, "6d3a1f0e-2b4c-4e8a-9f1d-3c5b7a9e0d21"},
		{"incoming_premium_linkid.form", carrier.Inbound{Phone: "+254711082123", ServiceCode: "20880", Input: "1"}, "7e4b2a1f-3c5d-4f9b-8a2e-4d6c8b0f1e32"},
		{"incoming_national_number.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: "TURNO"}, "8f5c3b2a-4d6e-4a0c-9b3f-5e7d9c1a2f43"},
		{"incoming_accented_multiline.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: "Quisiera un turno en Cuenca, señor"}, "9a6d4c3b-5e7f-4b1d-8c4a-6f8e0d2b3a54"},
		{"incoming_unknown_fields.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: "2"}, "0b7e5d4c-6f8a-4c2e-9d5b-7a9f1e3c4b65"},
		{"incoming_unencoded_plus.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: "1"}, "1c8f6e5d-7a9b-4d3f-8e6c-8b0a2f4d5c76"},
		{"incoming_empty_text.form", carrier.Inbound{Phone: "+593991234567", ServiceCode: "20880", Input: ""}, "2d9a7f6e-8b0c-4e4a-9f7d-9c1b3a5e6d87"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			box := &outbox{}
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "Ventanilla ciudadana\n1. Turnos"}}
			rec := post(carriertest.Router(newHandler(t, box), hop), string(carriertest.Testdata(t, tt.file)))
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
				t.Fatalf("got %d %q, want 200 and no body", rec.Code, rec.Body)
			}
			calls := hop.Calls()
			if len(calls) != 1 {
				t.Fatalf("hopper called %d times", len(calls))
			}
			got := calls[0]
			if got.Seq <= 0 {
				t.Errorf("Seq %d", got.Seq)
			}
			got.Seq = 0
			want := tt.want
			want.Channel, want.Carrier = "sms", "africastalking-sms"
			if got != want {
				t.Errorf("inbound\n got %+v\nwant %+v", got, want)
			}
			queued := box.queued()
			wantMsg := carrier.Message{ID: "africastalking-sms:" + tt.id + ":reply", Channel: "sms", Carrier: "africastalking-sms", To: want.Phone, Text: "Ventanilla ciudadana\n1. Turnos"}
			if len(queued) != 1 || !sameMessage(queued[0], wantMsg) {
				t.Errorf("queued %+v\nwant %+v", queued, wantMsg)
			}
		})
	}
}

func sameMessage(a, b carrier.Message) bool {
	return a.ID == b.ID && a.Channel == b.Channel && a.Carrier == b.Carrier && a.To == b.To && a.Text == b.Text && len(a.Buttons) == 0
}

func TestCallbackRefusesMalformed(t *testing.T) {
	tests := []struct{ file, text string }{
		{"bad_phone.form", "from: not a phone number"},
		{"bad_missing_from.form", "from: missing"},
		{"bad_missing_to.form", "to: missing"},
		{"bad_missing_text.form", "text: missing"},
		{"bad_missing_id.form", "id: missing"},
		{"bad_id_with_space.form", "id: not an id"},
		{"bad_control_char.form", "text: contains control characters"},
		{"bad_invalid_utf8.form", "text: not valid UTF-8"},
		{"bad_repeated_text.form", "text: sent more than once"},
		{"bad_repeated_id.form", "id: sent more than once"},
		{"bad_malformed_encoding.form", "body: malformed form encoding"},
		{"bad_date.form", "date: malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			box := &outbox{}
			hop := &carriertest.Hopper{Reply: carrier.Reply{Text: "x"}}
			rec := post(carriertest.Router(newHandler(t, box), hop), string(carriertest.Testdata(t, tt.file)))
			if rec.Code != http.StatusBadRequest || rec.Body.String() != tt.text+"\n" {
				t.Errorf("got %d %q, want 400 %q", rec.Code, rec.Body, tt.text)
			}
			if len(hop.Calls()) != 0 || len(box.queued()) != 0 {
				t.Error("a refused callback reached the gateway or the outbox")
			}
		})
	}
}

func TestCallbackLimits(t *testing.T) {
	base := string(carriertest.Testdata(t, "incoming.form"))
	tests := []struct {
		name, ct, body string
		status         int
		text           string
	}{
		{"text over 1600 characters", form, strings.Replace(base, "text=hola", "text="+strings.Repeat("a", 1601), 1), 400, "text: longer than 1600 characters\n"},
		{"1600 accented characters", form, strings.Replace(base, "text=hola", "text="+strings.Repeat("%C3%A1", 1600), 1), 200, ""},
		{"body over 16 KiB", form, base + "&pad=" + strings.Repeat("x", 16<<10), 413, "body: larger than 16 KiB\n"},
		{"JSON", "application/json", `{"from":"+593991234567"}`, 415, "Content-Type: want application/x-www-form-urlencoded\n"},
		{"charset parameter", form + "; charset=UTF-8", base, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hop := &carriertest.Hopper{}
			rec := carriertest.Do(carriertest.Router(newHandler(t, &outbox{}), hop), http.MethodPost, "/sms/africastalking", tt.ct, strings.NewReader(tt.body))
			if rec.Code != tt.status || rec.Body.String() != tt.text {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.text)
			}
			if calls := len(hop.Calls()); (tt.status == 200) != (calls == 1) {
				t.Errorf("status %d with %d hopper calls", rec.Code, calls)
			}
		})
	}
}

// What is queued: the gateway's reply, or its apology; nothing when there
// is nothing to say; and a failing outbox makes the callback fail.
func TestCallbackReplies(t *testing.T) {
	body := string(carriertest.Testdata(t, "incoming.form"))
	tests := []struct {
		name   string
		hop    *carriertest.Hopper
		boxErr error
		status int
		want   []string
	}{
		{"reply", &carriertest.Hopper{Reply: carrier.Reply{Text: "Turnos\n1. Reservar"}}, nil, 200, []string{"Turnos\n1. Reservar"}},
		{"final reply", &carriertest.Hopper{Reply: carrier.Reply{Text: "Gracias.", End: true}}, nil, 200, []string{"Gracias."}},
		{"nothing to say", &carriertest.Hopper{}, nil, 200, nil},
		{"gateway failed without text", &carriertest.Hopper{Err: errors.New("store down")}, nil, 200, []string{"Servicio no disponible. Intente más tarde."}},
		{"gateway panicked", &carriertest.Hopper{Panic: "boom"}, nil, 200, []string{"Servicio no disponible. Intente más tarde."}},
		{"control characters dropped", &carriertest.Hopper{Reply: carrier.Reply{Text: "a\x00b\r\nc"}}, nil, 200, []string{"a b\nc"}},
		{"outbox down", &carriertest.Hopper{Reply: carrier.Reply{Text: "Turnos"}}, errors.New("queue down"), 500, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			box := &outbox{err: tt.boxErr}
			rec := post(carriertest.Router(newHandler(t, box), tt.hop), body)
			if rec.Code != tt.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got []string
			for _, m := range box.queued() {
				got = append(got, m.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("queued %q, want %q", got, tt.want)
			}
		})
	}
}

// A callback AT delivers twice carries the same id: the same Seq (which
// the gateway reads as a retry) and the same reply key (which the outbox
// drops); another message does not.
func TestRepeatedCallback(t *testing.T) {
	h := newHandler(t, &outbox{})
	a, _ := url.ParseQuery(string(carriertest.Testdata(t, "incoming.form")))
	b, _ := url.ParseQuery(string(carriertest.Testdata(t, "incoming.form")))
	b.Set("id", "another-id")
	ma, err1 := h.Parse(a)
	ma2, err2 := h.Parse(a)
	mb, err3 := h.Parse(b)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if ma.Inbound.Seq != ma2.Inbound.Seq || ma.Inbound.Seq == mb.Inbound.Seq {
		t.Errorf("seq %d %d %d", ma.Inbound.Seq, ma2.Inbound.Seq, mb.Inbound.Seq)
	}
	if atsms.ReplyID(ma.ID) != atsms.ReplyID(ma2.ID) || atsms.ReplyID(ma.ID) == atsms.ReplyID(mb.ID) {
		t.Error("reply ids do not follow message ids")
	}
}

func TestCallbackPath(t *testing.T) {
	h, err := atsms.New(atsms.Options{Outbox: &outbox{}, Path: "/sms/at/incoming"})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	hop := &carriertest.Hopper{}
	h.Mount(e, hop)
	rec := carriertest.Do(e, http.MethodPost, "/sms/at/incoming", form, strings.NewReader(string(carriertest.Testdata(t, "incoming.form"))))
	if rec.Code != http.StatusOK || len(hop.Calls()) != 1 {
		t.Errorf("status %d, %d calls", rec.Code, len(hop.Calls()))
	}
}
