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

	"github.com/ventanilla-gob/ventanilla/carriers/atsms"
	"github.com/ventanilla-gob/ventanilla/carriers/internal/carriertest"
	"github.com/ventanilla-gob/ventanilla/channels/carrier"
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

const screen = "Ventanilla ciudadana\n1. Turnos"

// suite posts AT's SMS callbacks to a fresh adapter with its own outbox,
// and checks what every callback owes: no body in the answer, the reply
// queued under a key derived from AT's id, nothing queued when refused.
func suite() carriertest.Suite {
	return carriertest.Suite{
		New: func(t *testing.T, c carriertest.Case) (carrier.Carrier, func(*testing.T, carriertest.Result)) {
			box := &outbox{}
			return newHandler(t, box), func(t *testing.T, r carriertest.Result) {
				if r.Rec.Code != http.StatusOK {
					if len(box.queued()) != 0 {
						t.Error("a refused callback reached the outbox")
					}
					return
				}
				if r.Rec.Body.Len() != 0 {
					t.Errorf("got %d %q, want 200 and no body", r.Rec.Code, r.Rec.Body)
				}
				if c.WantExternalID == "" {
					return
				}
				queued := box.queued()
				want := carrier.Message{ID: "africastalking-sms:" + c.WantExternalID + ":reply", Channel: "sms", Carrier: "africastalking-sms", To: c.WantIn.Phone, Text: screen}
				if len(queued) != 1 || !sameMessage(queued[0], want) {
					t.Errorf("queued %+v\nwant %+v", queued, want)
				}
			}
		},
		Path: "/sms/africastalking", ContentType: form,
		Hop:       carrier.Reply{Text: screen},
		SeqFromID: true,
	}
}

func sms(phone, input string) *carrier.Inbound {
	return &carrier.Inbound{Channel: "sms", Carrier: "africastalking-sms", Phone: phone, ServiceCode: "20880", Input: input}
}

// Captured callbacks through the real router: what the gateway is handed,
// and the reply queued for the Sender under a key derived from AT's id.
func TestCallback(t *testing.T) {
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "incoming.form", File: "incoming.form", WantStatus: 200, WantIn: sms("+593991234567", "hola"), WantExternalID: "6d3a1f0e-2b4c-4e8a-9f1d-3c5b7a9e0d21"},
		{Name: "incoming_premium_linkid.form", File: "incoming_premium_linkid.form", WantStatus: 200, WantIn: sms("+254711082123", "1"), WantExternalID: "7e4b2a1f-3c5d-4f9b-8a2e-4d6c8b0f1e32"},
		{Name: "incoming_national_number.form", File: "incoming_national_number.form", WantStatus: 200, WantIn: sms("+593991234567", "TURNO"), WantExternalID: "8f5c3b2a-4d6e-4a0c-9b3f-5e7d9c1a2f43"},
		{Name: "incoming_accented_multiline.form", File: "incoming_accented_multiline.form", WantStatus: 200, WantIn: sms("+593991234567", "Quisiera un turno en Cuenca, señor"), WantExternalID: "9a6d4c3b-5e7f-4b1d-8c4a-6f8e0d2b3a54"},
		{Name: "incoming_unknown_fields.form", File: "incoming_unknown_fields.form", WantStatus: 200, WantIn: sms("+593991234567", "2"), WantExternalID: "0b7e5d4c-6f8a-4c2e-9d5b-7a9f1e3c4b65"},
		{Name: "incoming_unencoded_plus.form", File: "incoming_unencoded_plus.form", WantStatus: 200, WantIn: sms("+593991234567", "1"), WantExternalID: "1c8f6e5d-7a9b-4d3f-8e6c-8b0a2f4d5c76"},
		{Name: "incoming_empty_text.form", File: "incoming_empty_text.form", WantStatus: 200, WantIn: sms("+593991234567", ""), WantExternalID: "2d9a7f6e-8b0c-4e4a-9f7d-9c1b3a5e6d87"},
	})
}

func sameMessage(a, b carrier.Message) bool {
	return a.ID == b.ID && a.Channel == b.Channel && a.Carrier == b.Carrier && a.To == b.To && a.Text == b.Text && len(a.Buttons) == 0
}

func TestCallbackRefusesMalformed(t *testing.T) {
	refused := func(file, text string) carriertest.Case {
		return carriertest.Case{Name: file, File: file, WantStatus: 400, WantBody: text + "\n"}
	}
	carriertest.Run(t, suite(), []carriertest.Case{
		refused("bad_phone.form", "from: not a phone number"),
		refused("bad_missing_from.form", "from: missing"),
		refused("bad_missing_to.form", "to: missing"),
		refused("bad_missing_text.form", "text: missing"),
		refused("bad_missing_id.form", "id: missing"),
		refused("bad_id_with_space.form", "id: not an id"),
		refused("bad_control_char.form", "text: contains control characters"),
		refused("bad_invalid_utf8.form", "text: not valid UTF-8"),
		refused("bad_repeated_text.form", "text: sent more than once"),
		refused("bad_repeated_id.form", "id: sent more than once"),
		refused("bad_malformed_encoding.form", "body: malformed form encoding"),
		refused("bad_date.form", "date: malformed"),
	})
}

func TestCallbackLimits(t *testing.T) {
	base := string(carriertest.Testdata(t, "incoming.form"))
	carriertest.Run(t, suite(), []carriertest.Case{
		{Name: "text over 1600 characters", Body: strings.Replace(base, "text=hola", "text="+strings.Repeat("a", 1601), 1), WantStatus: 400, WantBody: "text: longer than 1600 characters\n"},
		{Name: "1600 accented characters", Body: strings.Replace(base, "text=hola", "text="+strings.Repeat("%C3%A1", 1600), 1), WantStatus: 200},
		{Name: "body over 16 KiB", Body: base + "&pad=" + strings.Repeat("x", 16<<10), WantStatus: 413, WantBody: "body: larger than 16 KiB\n"},
		{Name: "JSON", ContentType: "application/json", Body: `{"from":"+593991234567"}`, WantStatus: 415, WantBody: "Content-Type: want application/x-www-form-urlencoded\n"},
		{Name: "charset parameter", ContentType: form + "; charset=UTF-8", Body: base, WantStatus: 200},
	})
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
