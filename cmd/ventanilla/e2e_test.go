package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ventanilla-gob/ventanilla/internal/redistest"
	"github.com/ventanilla-gob/ventanilla/internal/sample"
	"github.com/ventanilla-gob/ventanilla/internal/testutil"
)

// gatewayFor starts the sample back-end and the gateway with the catalogue
// flows and the carriers of the product, as `ventanilla demo` does.
func gatewayFor(t *testing.T, c *config) *httptest.Server {
	t.Helper()
	srv, _ := gatewayLogging(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return srv
}

// gatewayLogging is gatewayFor with the product's logger; it also returns
// the app, for tests that look inside.
func gatewayLogging(t *testing.T, c *config, log *slog.Logger) (*httptest.Server, *app) {
	t.Helper()
	backend := httptest.NewServer(sample.New(sample.Options{
		Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) },
	}))
	t.Cleanup(backend.Close)
	getenv := func(name string) (string, bool) {
		if name == "VENTANILLA_SAMPLE_URL" {
			return backend.URL, true
		}
		return "", false
	}
	if c.Root == "" {
		c.Root = "inicio"
	}
	a, err := newApp(c, log, getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	srv := httptest.NewServer(a.echo)
	t.Cleanup(srv.Close)
	return srv, a
}

// dialer plays one Africa's Talking USSD session: every hop posts the
// whole input history joined by "*", as Africa's Talking does.
type dialer struct {
	t       *testing.T
	url     string
	session string
	phone   string
	inputs  []string
}

func (d *dialer) send(input string) string {
	d.t.Helper()
	if input != "" || len(d.inputs) > 0 {
		d.inputs = append(d.inputs, input)
	}
	form := url.Values{
		"sessionId":   {d.session},
		"serviceCode": {"*384#"},
		"phoneNumber": {d.phone},
		"networkCode": {"74001"},
		"text":        {strings.Join(d.inputs, "*")},
	}
	resp, err := http.PostForm(d.url+"/ussd/africastalking", form)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	reply := string(body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("status %d: %s", resp.StatusCode, reply)
	}
	if !strings.HasPrefix(reply, "CON ") && !strings.HasPrefix(reply, "END ") {
		d.t.Fatalf("reply without CON/END: %q", reply)
	}
	if n := utf8.RuneCountInString(reply[4:]); n > 182 {
		d.t.Fatalf("screen of %d characters: %q", n, reply)
	}
	return reply
}

func expect(t *testing.T, reply, want string) {
	t.Helper()
	if !strings.Contains(reply, want) {
		t.Fatalf("reply %q does not contain %q", reply, want)
	}
}

var codeRE = regexp.MustCompile(`T-[A-Z0-9]+`)

// On the product's own router and the sample back-end, a citizen books a
// turno, looks it up and cancels it, in each language, through Africa's
// Talking's USSD protocol.
//
// With Redis the sessions go as serve sets them up by default: each
// instance's copies (Near) in front of Redis, the commands batched.
func TestBookLookUpAndCancelInEveryLanguage(t *testing.T) {
	t.Run("memory", func(t *testing.T) { bookLookUpAndCancel(t, &config{}) })
	t.Run("redis", func(t *testing.T) {
		addr := redistest.Start(t).Options().Addr
		bookLookUpAndCancel(t, &config{RedisURL: "redis://" + addr + "/0", NearSessions: 1000, RedisBatch: true})
	})
}

func bookLookUpAndCancel(t *testing.T, c *config) {
	srv := gatewayFor(t, c)
	langs := []struct {
		choice, phone                     string
		services, booked, mine, cancelled string
	}{
		{"1", "+593991000001", "Ventanilla ciudadana", "Turno reservado", "Sus turnos", "anulado"},
		{"2", "+593991000002", "Citizen services", "Appointment booked", "Your appointments", "cancelled"},
		{"3", "+593991000003", "Llaktayuk ventanilla", "Turno mañashka", "Kikinpak turnokuna", "anulashka"},
	}
	for _, l := range langs {
		t.Run("language "+l.choice, func(t *testing.T) {
			d := &dialer{t: t, url: srv.URL, session: "book-" + l.choice, phone: l.phone}
			expect(t, d.send(""), "CON Bienvenido a Ventanilla")
			expect(t, d.send(l.choice), l.services)
			d.send("1")                                   // turnos
			d.send("1")                                   // book
			d.send("1")                                   // first office
			d.send("1")                                   // first slot
			expect(t, d.send("1714307103"), "1714307103") // confirmation screen
			booked := d.send("1")
			expect(t, booked, "CON "+l.booked) // above the satisfaction question
			code := codeRE.FindString(booked)
			if code == "" {
				t.Fatalf("no code in %q", booked)
			}
			expect(t, d.send("4"), "END ")

			// Dialling again: the language is remembered, no question asked.
			d = &dialer{t: t, url: srv.URL, session: "lookup-" + l.choice, phone: l.phone}
			expect(t, d.send(""), "CON "+l.services)
			d.send("1")
			d.send("2") // my appointments
			expect(t, d.send("1714307103"), l.mine)
			expect(t, d.send("1"), code)
			d.send("1") // cancel it
			expect(t, d.send("1"), "END ")

			d = &dialer{t: t, url: srv.URL, session: "check-" + l.choice, phone: l.phone}
			d.send("")
			d.send("1")
			d.send("2")
			if reply := d.send("1714307103"); strings.Contains(reply, code) {
				t.Errorf("cancelled %s still listed: %q", code, reply)
			}
		})
	}
}

// A free-text answer containing "*" reaches the flow whole, although
// Africa's Talking joins answers with "*".
func TestStarInsideAnAnswer(t *testing.T) {
	srv := gatewayFor(t, &config{})
	d := &dialer{t: t, url: srv.URL, session: "star", phone: "+593991000009"}
	d.send("")
	d.send("1") // Español
	d.send("3") // buzón
	d.send("2") // suggestion
	expect(t, d.send("Más buses *por favor*"), "Su número de caso")
	expect(t, d.send("5"), "END Gracias.")
}

// Garbled carrier requests get a 4xx and never start a session.
func TestGarbledRequestsAreRefused(t *testing.T) {
	srv := gatewayFor(t, &config{})
	cases := map[string]url.Values{
		"no session id": {"serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "text": {""}},
		"bad phone":     {"sessionId": {"s"}, "serviceCode": {"*384#"}, "phoneNumber": {"not-a-number"}, "text": {""}},
		"control chars": {"sessionId": {"s"}, "serviceCode": {"*384#"}, "phoneNumber": {"+593991234567"}, "text": {"1\x00"}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+"/ussd/africastalking", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
}

// postForm posts a form and returns the status and the body.
func postForm(t *testing.T, url string, form url.Values, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TWILIO_AUTH_TOKEN and VENTANILLA_PUBLIC_URL are all inbound SMS needs:
// replies travel as TwiML in the webhook's answer, no sender involved.
// The webhook used to be mounted only with a sender, answering 404 with
// nothing logged. The start logs the carrier on, and says what is off.
func TestTwilioInboundNeedsOnlyTheTokenAndTheURL(t *testing.T) {
	const token = "twilioauthtoken0123456789abcdef0"
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	mux := &switchHandler{}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	env := map[string]string{"TWILIO_AUTH_TOKEN": token, "VENTANILLA_PUBLIC_URL": srv.URL, "KANNEL_USERNAME": "ventanilla"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	file := writeFile(t, "carriers.yaml", "carriers:\n  africastalking-sms: {budget: 10s}\n")
	a, err := newApp(&config{Root: "inicio", Keywords: defaultKeywords, Carriers: file}, log, getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	mux.set(a.echo)

	form := url.Values{"MessageSid": {"SM" + strings.Repeat("2", 32)}, "AccountSid": {"AC" + strings.Repeat("a", 32)},
		"From": {"+593991000510"}, "To": {"+15005550006"}, "Body": {"TURNO"}, "NumMedia": {"0"}}
	code, body := postForm(t, srv.URL+"/sms/twilio", form, map[string]string{"X-Twilio-Signature": twilioSignature(token, srv.URL+"/sms/twilio", form)})
	if code != http.StatusOK || !strings.Contains(body, "<Message>Turnos") {
		t.Fatalf("signed SMS: %d %s", code, body)
	}
	out := logs.String()
	for _, want := range []string{
		`msg="carrier on" carrier=twilio callback_auth="twilio signature"`,
		`msg="carrier on" carrier=africastalking callback_auth=none`,
		`level=WARN msg="sender off: KANNEL_SENDSMS_URL is not set" carrier=kannel-sms set=KANNEL_USERNAME`,
		`level=WARN msg="carriers file: this carrier is not on, so its settings do nothing; set its credentials (docs/operations.md)" carrier=africastalking-sms`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("start log lacks %s:\n%s", want, out)
		}
	}
}

// textPhones is a gateway with every SMS and chat carrier on (Twilio by
// its webhook, Africa's Talking SMS behind basic auth, Telegram by its
// webhook), the sample back-end at backend, and a handset for each.
type textPhones struct {
	t      *testing.T
	url    string
	app    *app
	token  string
	seq    int
	tgSent *botAPI
}

const twilioTestToken = "twilioauthtoken0123456789abcdef0"

func newTextPhones(t *testing.T, log *slog.Logger, c *config, backend string) *textPhones {
	t.Helper()
	api := &botAPI{}
	tg := httptest.NewServer(api)
	t.Cleanup(tg.Close)
	atAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"SMSMessageData":{"Message":"Sent to 1/1","Recipients":[{"statusCode":101,"number":"+593991000522","status":"Success","cost":"KES 0.8","messageId":"ATXid_1"}]}}`)
	}))
	t.Cleanup(atAPI.Close)
	mux := &switchHandler{}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	env := map[string]string{
		"VENTANILLA_SAMPLE_URL": backend,
		"TWILIO_AUTH_TOKEN":     twilioTestToken, "VENTANILLA_PUBLIC_URL": srv.URL,
		"AT_USERNAME": "ventanilla", "AT_API_KEY": "atkey", "AT_SMS_BASE_URL": atAPI.URL, "AT_CALLBACK_PASSWORD": "at-callback-password",
		"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token", "TELEGRAM_API_ENDPOINT": tg.URL + "/bot%s/%s",
	}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c.Root, c.Keywords = "inicio", defaultKeywords
	a, err := newApp(c, log, getenv, registry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.outbound.close(context.Background()) })
	mux.set(a.echo)
	return &textPhones{t: t, url: srv.URL, app: a, token: twilioTestToken, tgSent: api}
}

// twilio sends an SMS from phone through Twilio's signed webhook.
func (p *textPhones) twilio(phone, text string) (int, string) {
	p.seq++
	form := url.Values{"MessageSid": {"SM" + fmt.Sprintf("%032d", p.seq)}, "AccountSid": {"AC" + strings.Repeat("a", 32)},
		"From": {phone}, "To": {"+15005550006"}, "Body": {text}, "NumMedia": {"0"}}
	return postForm(p.t, p.url+"/sms/twilio", form, map[string]string{"X-Twilio-Signature": twilioSignature(p.token, p.url+"/sms/twilio", form)})
}

// atSMS sends an SMS from phone through Africa's Talking's callback; auth
// adds its basic authentication.
func (p *textPhones) atSMS(phone, text string, auth bool) (int, string) {
	p.seq++
	form := url.Values{"from": {phone}, "to": {"20880"}, "text": {text}, "id": {"at-" + strconv.Itoa(p.seq)}, "date": {"2026-11-23 09:00:05"}, "linkId": {""}}
	header := map[string]string{}
	if auth {
		header["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte("at:at-callback-password"))
	}
	return postForm(p.t, p.url+"/sms/africastalking", form, header)
}

// telegram sends a message (text, or a shared contact) from user.
func (p *textPhones) telegram(user int, msg map[string]any) int {
	p.seq++
	msg["message_id"], msg["date"] = p.seq, 1700000000
	msg["from"] = map[string]any{"id": user, "is_bot": false, "first_name": "Ana", "language_code": "es"}
	msg["chat"] = map[string]any{"id": user, "type": "private"}
	body, _ := json.Marshal(map[string]any{"update_id": 1000 + p.seq, "message": msg})
	req, _ := http.NewRequest(http.MethodPost, p.url+"/chat/telegram", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Every carrier, USSD, SMS and chat, takes one mount path: the budget its
// carriers-file entry sets bounds its hops (it used to be ignored for
// Twilio, Africa's Talking SMS and Telegram), and it is logged on with its
// callback checks. Each budget is too short for a back-end call, which
// the client then does not attempt: the hop logs the call as a timeout and
// the back-end never hears of it; under --hop-budget (30s) the call would
// reach the back-end and time out there instead. Whether the client says
// "no time left for the call" or finds the hop's deadline already past
// depends on how busy the machine is, so the test does not ask which.
func TestEveryCarrierGetsItsBudgetAndAuthentication(t *testing.T) {
	var reached atomic.Int32
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		<-r.Context().Done()
	}))
	defer stuck.Close()
	file := filepath.Join(t.TempDir(), "carriers.yaml")
	os.WriteFile(file, []byte(`carriers:
  africastalking: {budget: 110ms}
  twilio: {budget: 120ms}
  africastalking-sms: {budget: 130ms, basic_user: at, basic_password_env: AT_CALLBACK_PASSWORD}
  telegram: {budget: 140ms}
`), 0o644)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	phones := newTextPhones(t, log, &config{Carriers: file, Budget: 30 * time.Second, Routes: "*384*9#=turnos"}, stuck.URL)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	// budgetHeld waits for the proof that carrier's budget bounded its
	// hops: the back-end call given up as a timeout without reaching the
	// back-end, or, when the machine is so busy that the budget runs out
	// before the hop gets to the call, the hop reported over the
	// carrier's budget.
	calls := func() int {
		return strings.Count(logs.String(), `msg="back-end call" service=turnos.offices call.outcome=timeout`)
	}
	budgetHeld := func(carrier, budget string, callsBefore int) {
		t.Helper()
		testutil.WaitFor(t, carrier+"'s hops ended within its budget", func() bool {
			return calls() > callsBefore ||
				strings.Contains(logs.String(), `msg="hop exceeded its budget" carrier=`+carrier+` budget=`+budget)
		})
		if n := reached.Load(); n != 0 {
			t.Errorf("%s: the back-end call ran under --hop-budget, not the carrier's budget (the back-end got %d requests)", carrier, n)
			reached.Store(0)
		}
	}

	// Africa's Talking USSD: the turnos menu, then "1" calls the back-end.
	before := calls()
	ussd := url.Values{"sessionId": {"b1"}, "serviceCode": {"*384*9#"}, "phoneNumber": {"+593991000520"}, "text": {""}}
	postForm(t, phones.url+"/ussd/africastalking", ussd, nil)
	ussd.Set("text", "1")
	postForm(t, phones.url+"/ussd/africastalking", ussd, nil)
	budgetHeld("africastalking", "110ms", before)
	before = calls()
	phones.twilio("+593991000521", "TURNO")
	phones.twilio("+593991000521", "1")
	budgetHeld("twilio", "120ms", before)
	if code, body := phones.atSMS("+593991000522", "TURNO", false); code != http.StatusUnauthorized {
		t.Errorf("AT SMS without its basic auth: %d %s", code, body)
	}
	before = calls()
	phones.atSMS("+593991000522", "TURNO", true)
	phones.atSMS("+593991000522", "1", true)
	budgetHeld("africastalking-sms", "130ms", before)
	// Turnos needs a verified number on Telegram: the citizen shares it.
	before = calls()
	phones.telegram(43, map[string]any{"contact": map[string]any{"phone_number": "+593991000523", "first_name": "Ana", "user_id": 43}})
	phones.telegram(43, map[string]any{"text": "TURNO"})
	phones.telegram(43, map[string]any{"text": "1"})
	budgetHeld("telegram", "140ms", before)

	out := logs.String()
	for _, want := range []string{
		`msg="carrier on" carrier=africastalking callback_auth=none budget=110ms`,
		`msg="carrier on" carrier=twilio callback_auth="twilio signature" budget=120ms`,
		`msg="carrier on" carrier=africastalking-sms callback_auth=basic budget=130ms`,
		`msg="carrier on" carrier=telegram callback_auth="webhook secret" budget=140ms`,
		`msg="sender on" carrier=africastalking-sms`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}
