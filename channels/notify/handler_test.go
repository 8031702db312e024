package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/keys"

	"github.com/labstack/echo/v4"

	"github.com/ventanilla-gob/ventanilla/channels/carrier"
	"github.com/ventanilla-gob/ventanilla/channels/notify"
	"github.com/ventanilla-gob/ventanilla/channels/outbound"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

const (
	civilToken = "rc-0123456789abcdef"
	iessToken  = "iess-0123456789abcdef"
	citizen    = "+593991234567"
)

// fakeCarrier records what reaches it; a send waits while hold is set.
type fakeCarrier struct {
	name string
	mu   sync.Mutex
	got  []carrier.Message
	hold chan struct{}
}

func (c *fakeCarrier) Name() string { return c.name }

func (c *fakeCarrier) SendID(ctx context.Context, m carrier.Message) (string, error) {
	if c.hold != nil {
		select {
		case <-c.hold:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, m)
	return "SM" + m.ID, nil
}

func (c *fakeCarrier) Send(ctx context.Context, m carrier.Message) error {
	_, err := c.SendID(ctx, m)
	return err
}

func (c *fakeCarrier) Sent() []carrier.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]carrier.Message(nil), c.got...)
}

type fixture struct {
	e       *echo.Echo
	h       *notify.Handler
	queue   *outbound.Memory
	store   *sessions.Memory
	sms, wa *fakeCarrier
	clock   time.Time
}

func newFixture(t testing.TB, edit ...func(*notify.Options)) *fixture {
	t.Helper()
	f := &fixture{sms: &fakeCarrier{name: "twilio-sms"}, wa: &fakeCarrier{name: "twilio-wa"}, clock: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	q, err := outbound.NewMemory(outbound.Options{
		Senders: map[string]carrier.Sender{"twilio-sms": f.sms, "twilio-wa": f.wa},
		Now:     func() time.Time { return f.clock },
		// As the gateway wires it: outcomes go to the handler.
		Finished: func(ctx context.Context, st outbound.Status) error { return f.h.Finished(ctx, st) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.queue = q
	f.store = sessions.NewMemory(sessions.MemoryOptions{})
	t.Cleanup(func() { _ = f.store.Close() })
	tpl, err := notify.LoadTemplates("testdata/templates.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	opts := notify.Options{
		Queue:     q,
		Store:     f.store,
		Templates: tpl,
		Tokens:    map[string]string{"registro_civil": civilToken, "iess": iessToken},
		Carriers:  map[string]string{"sms": "twilio-sms", "whatsapp": "twilio-wa"},
		IDs:       func() string { n++; return fmt.Sprintf("ntf_test%d", n) },
		Now:       func() time.Time { return f.clock },
	}
	for _, e := range edit {
		e(&opts)
	}
	h, err := notify.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.e = echo.New()
	h.Mount(f.e)
	return f
}

// run sends what the queue holds until the test ends.
func (f *fixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.queue.Run(ctx)
	}()
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = f.queue.Close(cctx)
		cancel()
		<-done
	})
}

type response struct {
	Code     int
	Location string
	Auth     string
	Body     map[string]any
}

func (f *fixture) do(t *testing.T, method, path, token, body string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	r := response{Code: rec.Code, Location: rec.Header().Get(echo.HeaderLocation), Auth: rec.Header().Get(echo.HeaderWWWAuthenticate)}
	if err := json.Unmarshal(rec.Body.Bytes(), &r.Body); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, rec.Code, rec.Body.String())
	}
	return r
}

func (f *fixture) post(t *testing.T, token, body string, header ...string) response {
	t.Helper()
	return f.do(t, http.MethodPost, "/v1/notifications", token, body, header...)
}

func (f *fixture) get(t *testing.T, token, id string) response {
	t.Helper()
	return f.do(t, http.MethodGet, "/v1/notifications/"+id, token, "")
}

const listo = `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "123"}}`

func TestCreateRefusesWithTheFieldAtFault(t *testing.T) {
	for _, tc := range []struct {
		name, token, body string
		header            []string
		code              int
		field             string
	}{
		{"no token", "", listo, nil, 401, "Authorization"},
		{"unknown token", "rc-0123456789abcdeX", listo, nil, 401, "Authorization"},
		{"another scheme", "", listo, []string{"Authorization", "Basic " + civilToken}, 401, "Authorization"},
		{"not JSON", civilToken, `to=+593991234567`, nil, 400, "body"},
		{"two JSON values", civilToken, listo + listo, nil, 400, "body"},
		{"an array", civilToken, `[]`, nil, 400, "body"},
		{"unknown field", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "priority": "high"}`, nil, 400, "priority"},
		{"to is not a string", civilToken, `{"to": 593991234567, "template": "tramite_listo"}`, nil, 400, "to"},
		{"no to", civilToken, `{"template": "tramite_listo", "params": {"numero": "1"}}`, nil, 400, "to"},
		{"to without the country", civilToken, `{"to": "0991234567", "template": "tramite_listo", "params": {"numero": "1"}}`, nil, 400, "to"},
		{"to too short", civilToken, `{"to": "+59399123", "template": "tramite_listo", "params": {"numero": "1"}}`, nil, 400, "to"},
		{"to with spaces", civilToken, `{"to": "+593 99 123 4567", "template": "tramite_listo", "params": {"numero": "1"}}`, nil, 400, "to"},
		{"no template", civilToken, `{"to": "+593991234567", "params": {"numero": "1"}}`, nil, 400, "template"},
		{"unknown template", civilToken, `{"to": "+593991234567", "template": "tramite_lsito", "params": {"numero": "1"}}`, nil, 400, "template"},
		{"unsupported channel", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "channel": "fax"}`, nil, 400, "channel"},
		{"channel without a carrier", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "channel": "telegram"}`, nil, 400, "channel"},
		{"unsupported locale", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "locale": "fr"}`, nil, 400, "locale"},
		{"missing param", civilToken, `{"to": "+593991234567", "template": "cita", "params": {"fecha": "3 de marzo"}}`, nil, 400, "params.hora"},
		{"no params", civilToken, `{"to": "+593991234567", "template": "tramite_listo"}`, nil, 400, "params.numero"},
		{"param not a string", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": 123}}`, nil, 400, "params.numero"},
		{"params not an object", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": ["123"]}`, nil, 400, "params"},
		{"param too long", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "` + strings.Repeat("1", 301) + `"}}`, nil, 400, "params.numero"},
		{"param with a newline", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1\n2"}}`, nil, 400, "params.numero"},
		{"text over the SMS limit", civilToken, `{"to": "+593991234567", "template": "aviso", "params": {"texto": "` + strings.Repeat("Atención ✓ ", 27) + `"}}`, nil, 400, "params"},
		{"idempotency key with a space", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "idempotency_key": "a b"}`, nil, 400, "idempotency_key"},
		{"idempotency keys that disagree", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "idempotency_key": "a"}`, []string{"Idempotency-Key", "b"}, 400, "idempotency_key"},
		{"valid_for not a duration", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "valid_for": "mañana"}`, nil, 400, "valid_for"},
		{"valid_for too long", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1"}, "valid_for": "720h"}`, nil, 400, "valid_for"},
		{"body over 16 KiB", civilToken, `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "1", "x": "` + strings.Repeat("x", 16<<10) + `"}}`, nil, 413, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *notify.Options) { o.MaxSegments = 3 })
			r := f.post(t, tc.token, tc.body, tc.header...)
			if r.Code != tc.code || r.Body["field"] != tc.field {
				t.Fatalf("%d %v, want %d naming field %q", r.Code, r.Body, tc.code, tc.field)
			}
			if msg, _ := r.Body["error"].(string); msg == "" {
				t.Errorf("no error message: %v", r.Body)
			}
			if tc.code == 401 && r.Auth == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			if d, _ := f.queue.Depth(context.Background()); d != 0 {
				t.Errorf("a refused request queued %d messages", d)
			}
		})
	}
}

func TestNotificationLifecycle(t *testing.T) {
	f := newFixture(t)
	f.sms.hold = make(chan struct{})
	r := f.post(t, civilToken, listo)
	if r.Code != http.StatusAccepted || r.Body["status"] != "queued" || r.Body["id"] != "ntf_test1" {
		t.Fatalf("POST: %d %v, want 202 queued ntf_test1", r.Code, r.Body)
	}
	if r.Location != "/v1/notifications/ntf_test1" {
		t.Errorf("Location %q", r.Location)
	}
	want := func(status string, attempts int) {
		t.Helper()
		var g response
		testutil.WaitFor(t, "status "+status, func() bool {
			g = f.get(t, civilToken, "ntf_test1")
			return g.Code == 200 && g.Body["status"] == status
		})
		if g.Body["attempts"] != float64(attempts) || g.Body["channel"] != "sms" || g.Body["id"] != "ntf_test1" || g.Body["updated"] != "2026-03-02T09:00:00Z" {
			t.Errorf("GET: %v, want %d attempts on sms, updated 2026-03-02T09:00:00Z", g.Body, attempts)
		}
	}
	want("queued", 0)
	f.run(t)
	want("sending", 1)
	close(f.sms.hold)
	want("sent", 1)
	if err := f.queue.MarkDelivered(context.Background(), "SMntf_test1", "delivered"); err != nil {
		t.Fatal(err)
	}
	want("delivered", 1)

	sent := f.sms.Sent()
	wantMsg := carrier.Message{ID: "ntf_test1", Channel: "sms", Carrier: "twilio-sms", To: citizen, Text: "Su trámite 123 está listo para retirar.", Deadline: f.clock.Add(outbound.DefaultValidFor)}
	if len(sent) != 1 || fmt.Sprint(sent[0]) != fmt.Sprint(wantMsg) {
		t.Errorf("carrier got %+v, want %+v", sent, wantMsg)
	}
}

func TestStatusIsOnlyForTheInstitutionThatAsked(t *testing.T) {
	f := newFixture(t)
	if r := f.post(t, civilToken, listo); r.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", r.Code, r.Body)
	}
	for _, tc := range []struct {
		name, token, id string
		code            int
	}{
		{"the institution that asked", civilToken, "ntf_test1", 200},
		{"another institution", iessToken, "ntf_test1", 404},
		{"an unknown id", civilToken, "ntf_nope", 404},
		{"no token", "", "ntf_test1", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(t, tc.token, tc.id)
			if r.Code != tc.code {
				t.Fatalf("GET: %d %v, want %d", r.Code, r.Body, tc.code)
			}
			if tc.code == 404 && r.Body["field"] != "id" {
				t.Errorf("404 naming %v, want id", r.Body["field"])
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	first := f.post(t, civilToken, listo, "Idempotency-Key", "expediente-123")
	if first.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", first.Code, first.Body)
	}
	id := first.Body["id"]
	inBody := `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "123"}, "idempotency_key": "expediente-123"}`
	for _, tc := range []struct {
		name, token, body string
		header            []string
		code              int
		sameID            bool
	}{
		{"the same key in the header", civilToken, listo, []string{"Idempotency-Key", "expediente-123"}, 202, true},
		{"the same key in the body", civilToken, inBody, nil, 202, true},
		{"the same key, spelt in both", civilToken, inBody, []string{"Idempotency-Key", "expediente-123"}, 202, true},
		{"another institution's same key", iessToken, listo, []string{"Idempotency-Key", "expediente-123"}, 202, false},
		{"another key", civilToken, listo, []string{"Idempotency-Key", "expediente-124"}, 202, false},
		{"no key", civilToken, listo, nil, 202, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, tc.token, tc.body, tc.header...)
			if r.Code != tc.code || (r.Body["id"] == id) != tc.sameID {
				t.Fatalf("%d %v; want %d and the first id (%v) %v", r.Code, r.Body, tc.code, id, tc.sameID)
			}
		})
	}
	t.Run("the same key for another notification", func(t *testing.T) {
		other := `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "999"}}`
		r := f.post(t, civilToken, other, "Idempotency-Key", "expediente-123")
		if r.Code != http.StatusUnprocessableEntity || r.Body["field"] != "idempotency_key" {
			t.Fatalf("%d %v, want 422 naming idempotency_key", r.Code, r.Body)
		}
	})
	// Every request has been answered, so every message is queued: once
	// the queue holds none, waiting or in flight, nothing more is sent.
	waitSent(t, f.sms, 4)
	testutil.WaitFor(t, "the queue to empty", func() bool {
		n, err := f.queue.Depth(t.Context())
		return err == nil && n == 0
	})
	count := map[string]int{}
	for _, m := range f.sms.Sent() {
		count[m.ID]++
	}
	if len(f.sms.Sent()) != 4 || count[id.(string)] != 1 {
		t.Errorf("sent %v, want 4 messages and the keyed one once", count)
	}
}

func TestLocale(t *testing.T) {
	for _, tc := range []struct {
		name, profile, body, want string
	}{
		{"the default", "", listo, "Su trámite 123 está listo para retirar."},
		{"the citizen's choice", "en", listo, "Your application 123 is ready for pickup."},
		{"the request's over the citizen's", "en", `{"to": "+593991234567", "template": "tramite_listo", "params": {"numero": "123"}, "locale": "qu"}`, "123 trámiteka listomi kan."},
		{"es where the template lacks the locale", "qu", `{"to": "+593991234567", "template": "cita", "params": {"fecha": "3 de marzo", "hora": "09:30"}}`, "Su cita es el 3 de marzo a las 09:30."},
		{"a remembered locale that is not supported", "fr", listo, "Su trámite 123 está listo para retirar."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.profile != "" {
				if err := f.store.Set(context.Background(), keys.Profile(citizen), []byte(tc.profile), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if r := f.post(t, civilToken, tc.body); r.Code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", r.Code, r.Body)
			}
			f.run(t)
			waitSent(t, f.sms, 1)
			if got := f.sms.Sent()[0].Text; got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTransliterateKeepsSMSInGSM(t *testing.T) {
	f := newFixture(t, func(o *notify.Options) { o.Transliterate = true })
	if err := f.store.Set(context.Background(), keys.Preference(citizen), []byte("whatsapp"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{listo, strings.Replace(listo, `"to"`, `"channel": "sms", "to"`, 1)} {
		if r := f.post(t, civilToken, body); r.Code != http.StatusAccepted {
			t.Fatalf("POST: %d %v", r.Code, r.Body)
		}
	}
	f.run(t)
	waitSent(t, f.sms, 1)
	waitSent(t, f.wa, 1)
	if got := f.sms.Sent()[0].Text; got != "Su tramite 123 esta listo para retirar." {
		t.Errorf("SMS text %q, want it transliterated", got)
	}
	if got := f.wa.Sent()[0].Text; got != "Su trámite 123 está listo para retirar." {
		t.Errorf("WhatsApp text %q, want it untouched", got)
	}
}

func TestChannel(t *testing.T) {
	for _, tc := range []struct {
		name, pref, channel  string
		wantChannel, carrier string
	}{
		{"auto without a preference is sms", "", "auto", "sms", "twilio-sms"},
		{"auto follows the citizen", "whatsapp", "auto", "whatsapp", "twilio-wa"},
		{"no channel is auto", "whatsapp", "", "whatsapp", "twilio-wa"},
		{"auto skips a channel not available here", "telegram", "auto", "sms", "twilio-sms"},
		{"an explicit channel wins", "whatsapp", "sms", "sms", "twilio-sms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.pref != "" {
				if err := f.store.Set(context.Background(), keys.Preference(citizen), []byte(tc.pref), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			body := listo
			if tc.channel != "" {
				body = strings.Replace(listo, `"to"`, `"channel": "`+tc.channel+`", "to"`, 1)
			}
			r := f.post(t, civilToken, body)
			if r.Code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", r.Code, r.Body)
			}
			if g := f.get(t, civilToken, r.Body["id"].(string)); g.Body["channel"] != tc.wantChannel {
				t.Errorf("GET channel %v, want %s", g.Body["channel"], tc.wantChannel)
			}
			f.run(t)
			c := f.sms
			if tc.carrier == "twilio-wa" {
				c = f.wa
			}
			waitSent(t, c, 1)
			m := c.Sent()[0]
			wantKind := "chat"
			if tc.wantChannel == "sms" {
				wantKind = "sms"
			}
			if m.Carrier != tc.carrier || m.Channel != wantKind {
				t.Errorf("message on %s/%s, want %s/%s", m.Carrier, m.Channel, tc.carrier, wantKind)
			}
		})
	}
}

func TestNewChecksOptions(t *testing.T) {
	tpl, err := notify.ParseTemplates("t.yaml", []byte("templates:\n  a:\n    es: hola\n"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := outbound.NewMemory(outbound.Options{Senders: map[string]carrier.Sender{"x": &fakeCarrier{name: "x"}}})
	good := func() notify.Options {
		return notify.Options{Queue: q, Store: sessions.NewMemory(sessions.MemoryOptions{}), Templates: tpl,
			Tokens: map[string]string{"rc": civilToken}, Carriers: map[string]string{"sms": "x"}}
	}
	for _, tc := range []struct {
		name string
		edit func(*notify.Options)
		want string
	}{
		{"no tokens", func(o *notify.Options) { o.Tokens = nil }, "no institution tokens"},
		{"a short token", func(o *notify.Options) { o.Tokens = map[string]string{"rc": "short"} }, "at least 16"},
		{"an unknown channel", func(o *notify.Options) { o.Carriers = map[string]string{"fax": "x"} }, "unknown channel"},
		{"no queue", func(o *notify.Options) { o.Queue = nil }, "no queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.edit(&o)
			if _, err := notify.New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

func waitSent(t *testing.T, c *fakeCarrier, n int) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("%d messages at %s", n, c.name), func() bool { return len(c.Sent()) >= n })
}

// How long a notification is worth sending: the request's valid_for, else
// the template's, else the queue's default; the status says until when.
func TestValidFor(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, body string
		want       time.Duration
	}{
		{"the queue's default", listo, outbound.DefaultValidFor},
		{"the template's", `{"to": "+593991234567", "template": "cita", "params": {"fecha": "3 de marzo", "hora": "09:30"}}`, 12 * time.Hour},
		{"the request's over the template's", `{"to": "+593991234567", "template": "cita", "params": {"fecha": "3 de marzo", "hora": "09:30"}, "valid_for": "90m"}`, 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, civilToken, tc.body)
			if r.Code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", r.Code, r.Body)
			}
			id, _ := r.Body["id"].(string)
			st, err := f.queue.Status(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if want := f.clock.Add(tc.want); !st.Deadline.Equal(want) {
				t.Errorf("queued with deadline %v, want %v", st.Deadline, want)
			}
			got := f.get(t, civilToken, id)
			if want := f.clock.Add(tc.want).Format(time.RFC3339); got.Body["valid_until"] != want {
				t.Errorf("status valid_until %v, want %s", got.Body["valid_until"], want)
			}
		})
	}
}

type heard struct {
	mu  sync.Mutex
	got []string
}

func (h *heard) Notification(inst, outcome string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, inst+" "+outcome)
}

// The Observer hears each request to send with the institution of the
// token that asked, never one named in the request.
func TestObserverHearsTheTokensInstitution(t *testing.T) {
	o := &heard{}
	f := newFixture(t, func(opts *notify.Options) { opts.Observer = o })
	f.post(t, civilToken, listo)
	f.post(t, iessToken, `{"to": "+593991234567", "template": "no_such", "institution": "transito"}`)
	f.post(t, "not-a-valid-token-at-all", listo)
	want := []string{"registro_civil accepted", "iess refused", " unauthorized"}
	if strings.Join(o.got, ",") != strings.Join(want, ",") {
		t.Errorf("heard %q, want %q", o.got, want)
	}
}
